"""No input a client can send makes the API answer 500: every documented operation (read from our own OpenAPI
document, so new routes are covered automatically) is driven with generated ids, query values and bodies."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import pytest
from http_api import Api
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from mailtools import make_message, send

from mailtrap_lite import MailServer
from mailtrap_lite.web.openapi import document

OPERATIONS = sorted(
    (path, method, operation)
    for path, item in document()["paths"].items()
    for method, operation in item.items()
    if path != "/api/events"  # a websocket: covered by the events tests
)

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4),
    max_leaves=12,
)
KEYS = ["IDs", "ids", "Read", "Search", "Tags", "Name", "To", "From", "Email", "Subject", "Text", "HTML",
        "Attachments", "Content", "Headers", "stage", "code", "action", "rule", "times", "Sender", "Probability"]
mailpit_like_objects = st.dictionaries(st.sampled_from(KEYS), json_values, max_size=5)
bodies = st.one_of(
    st.none(),
    mailpit_like_objects.map(lambda value: json.dumps(value).encode()),
    json_values.map(lambda value: json.dumps(value).encode()),
    st.binary(max_size=60),
)
awkward_text = st.text(max_size=20) | st.sampled_from(["\ud800", "a\r\nb", "\x00", "é", "=?utf-8?q?x?=", " "])
addresses = st.fixed_dictionaries({"Email": awkward_text | st.just("x@example.com"), "Name": awkward_text})
send_fields = {
    "To": st.lists(addresses, max_size=2), "Cc": st.lists(addresses, max_size=2), "Bcc": st.lists(awkward_text),
    "ReplyTo": st.lists(addresses, max_size=1), "Subject": awkward_text, "Text": awkward_text, "HTML": awkward_text,
    "Tags": st.lists(awkward_text, max_size=2), "Headers": st.dictionaries(awkward_text, awkward_text, max_size=2),
    "Attachments": st.lists(st.fixed_dictionaries({
        "Content": st.sampled_from(["aGk=", "data:text/plain;base64,aGk=", "!!"]), "Filename": awkward_text,
        "ContentType": awkward_text | st.just("image/png"), "ContentID": awkward_text}), max_size=2),
}
# a valid sender gets a request past the first check, so the rest of the message is really built
send_bodies = st.fixed_dictionaries({"From": st.just({"Email": "app@example.com"})}, optional=send_fields).map(
    lambda value: json.dumps(value).encode())
query_values = st.one_of(
    st.text(max_size=25), st.integers(min_value=-(10**20), max_value=10**20).map(str),
    st.sampled_from(["latest", "is:read", "from:", "-", '"', "after:2024-13-45", "larger:1e9M", "tag:", "1e308"]),
)


@pytest.fixture(scope="module")
def api() -> Iterator[Api]:
    """A server with a few messages (one with an attachment) so real ids and parts exist too."""
    with MailServer(http_port=0) as server:
        attached = make_message(subject="with attachment")
        attached.add_attachment(b"data", "application", "octet-stream", filename="a.bin")
        send(server, attached)
        send(server, make_message())
        yield Api(server.http_url or "")


def _path_value(api: Api, name: str, data: st.DataObject) -> str:
    real = [m["ID"] for m in api.json("/api/v1/messages")["messages"]] if name == "message_id" else []
    value = data.draw(st.sampled_from(["latest", "1", "2", *real]) | st.text(min_size=1, max_size=30), name)
    return quote(value, safe="")


@pytest.mark.parametrize(("path", "method", "operation"), OPERATIONS, ids=[f"{m} {p}" for p, m, _ in OPERATIONS])
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                 HealthCheck.too_slow])
@given(data=st.data())
def test_generated_input_never_causes_a_500(
    api: Api, path: str, method: str, operation: dict[str, Any], data: st.DataObject
) -> None:
    url = path
    params = []
    for parameter in operation["parameters"]:
        name = parameter["name"]
        if parameter["in"] == "path":
            url = url.replace("{" + name + "}", _path_value(api, name, data))
        elif data.draw(st.booleans(), f"send {name}"):
            value = data.draw(query_values, name)
            if path == "/api/v1/wait" and name == "timeout":
                value = data.draw(st.sampled_from(["0", "0.01", "-1", "abc", "1e999", "nan"]), name)
            params.append(f"{name}={quote(value, safe='')}")
    if path == "/api/v1/wait" and not any(p.startswith("timeout=") for p in params):
        params.append("timeout=0")
    body = data.draw(bodies, "body") if method in ("put", "post", "delete") else None
    if path == "/api/v1/send" and data.draw(st.booleans(), "well-formed sender"):
        body = data.draw(send_bodies, "send body")
    answer = api.request(method.upper(), url + ("?" + "&".join(params) if params else ""), raw=body,
                         headers={"Content-Type": "application/json"} if body is not None else None)
    assert answer.status < 500, (method, url, params, body, answer.status, answer.text[:500])
