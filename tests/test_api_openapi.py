"""``/api/v1/openapi.json`` describes every route the app serves, no more and no less, and is a well-formed
OpenAPI 3 document (every reference resolves, every path parameter is declared)."""

from __future__ import annotations

import re
from typing import Any

from http_api import Api

from mailtrap_lite import MailServer

METHODS = {"get", "put", "post", "delete", "patch"}


def _live_routes(server: MailServer) -> set[tuple[str, str]]:
    from mailtrap_lite.web import create_app

    app = create_app(server)
    routes = set()
    for rule in app.url_map.iter_rules():
        if rule.endpoint.endswith("static"):
            continue
        path = re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule.rule)
        routes |= {(path, method.lower()) for method in rule.methods or () if method.lower() in METHODS}
    return routes


def _documented(document: dict[str, Any]) -> set[tuple[str, str]]:
    return {(path, method) for path, item in document["paths"].items() for method in item if method in METHODS}


def test_the_document_lists_exactly_the_live_routes(server: MailServer) -> None:
    document = Api(server.http_url or "").json("/api/v1/openapi.json")
    live, documented = _live_routes(server), _documented(document)
    assert live - documented == set(), "routes missing from openapi.json"
    assert documented - live == set(), "openapi.json documents routes that do not exist"


def test_the_document_is_well_formed_openapi_3(server: MailServer) -> None:
    document = Api(server.http_url or "").json("/api/v1/openapi.json")
    assert document["openapi"].startswith("3.")
    assert document["info"]["title"] and document["info"]["version"]
    schemas = document["components"]["schemas"]
    text = str(document)
    for name in re.findall(r"#/components/schemas/(\w+)", text):
        assert name in schemas, f"dangling $ref to {name}"
    for path, item in document["paths"].items():
        assert path.startswith("/")
        for method, operation in item.items():
            assert operation["responses"], (path, method)
            for status in operation["responses"]:
                assert re.fullmatch(r"[1-5]\d\d", status), (path, method, status)
            declared = {p["name"] for p in operation["parameters"] if p["in"] == "path"}
            assert declared == set(re.findall(r"{(\w+)}", path)), (path, method)
            for parameter in operation["parameters"]:
                assert parameter["in"] in ("path", "query", "header") and "schema" in parameter
                assert parameter["in"] != "path" or parameter["required"] is True
