"""``--ui-auth``: HTTP Basic auth guards the UI, the API and the websocket (``/livez`` and ``/readyz`` stay open);
browsers on other origins cannot change anything; every response carries a Content-Security-Policy."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import websocket
from http_api import Api

from mailtrap_lite import MailServer


@pytest.fixture
def guarded() -> Iterator[MailServer]:
    """A server that wants user ``qa`` with password ``s3cret``."""
    with MailServer(http_port=0, ui_auth={"qa": "s3cret"}) as server:
        yield server


@pytest.mark.parametrize("path", ["/", "/api/v1/messages", "/api/v1/info", "/api/v1/openapi.json"])
def test_requests_without_valid_credentials_get_401(guarded: MailServer, path: str) -> None:
    for api in (Api(guarded.http_url or ""), Api(guarded.http_url or "", "qa", "wrong"),
                Api(guarded.http_url or "", "nobody", "s3cret")):
        answer = api.get(path)
        assert (answer.status, answer.text) == (401, "Unauthorized.\n")
        assert answer.headers["WWW-Authenticate"] == 'Basic realm="Login"'


def test_the_right_credentials_open_everything(guarded: MailServer) -> None:
    api = Api(guarded.http_url or "", "qa", "s3cret")
    assert api.get("/api/v1/messages").status == 200
    assert api.get("/").status == 200


def test_health_probes_stay_open(guarded: MailServer) -> None:
    for path in ("/livez", "/readyz"):
        assert Api(guarded.http_url or "").get(path).text == "ok"


def test_the_websocket_needs_credentials_too(guarded: MailServer) -> None:
    url = (guarded.http_url or "").replace("http://", "ws://") + "/api/events"
    with pytest.raises(websocket.WebSocketBadStatusException) as refused:
        websocket.create_connection(url, timeout=10)
    assert refused.value.status_code == 401
    ws = websocket.create_connection(url, timeout=10, header=["Authorization: " + (Api(
        "", "qa", "s3cret").auth or "")])
    assert '"stats"' in ws.recv()
    ws.close()


def test_a_foreign_origin_cannot_change_anything(server: MailServer) -> None:
    api = Api(server.http_url or "")
    answer = api.request("DELETE", "/api/v1/messages", headers={"Origin": "http://evil.example"})
    assert (answer.status, answer.text) == (403, "Blocked due to CORS violation")
    same_site = api.request("DELETE", "/api/v1/messages", headers={"Origin": server.http_url or ""})
    assert same_site.status == 200
    url = (server.http_url or "").replace("http://", "ws://") + "/api/events"
    with pytest.raises(websocket.WebSocketBadStatusException):
        websocket.create_connection(url, timeout=10, origin="http://evil.example")


def test_origins_listed_in_api_cors_are_allowed() -> None:
    with MailServer(http_port=0, api_cors=["http://app.example:3000"]) as server:
        api = Api(server.http_url or "")
        answer = api.request("DELETE", "/api/v1/messages", headers={"Origin": "http://app.example:3000"})
        assert answer.status == 200
        assert answer.headers["Access-Control-Allow-Origin"] == "http://app.example:3000"
        assert api.request("OPTIONS", "/api/v1/messages", headers={"Origin": "http://app.example:3000"}).status == 200


@pytest.mark.parametrize("path", ["/", "/api/v1/messages", "/api/v1/message/nope", "/livez"])
def test_every_response_has_a_content_security_policy(server: MailServer, path: str) -> None:
    answer = Api(server.http_url or "").get(path)
    assert "default-src" in answer.headers["Content-Security-Policy"]
    assert answer.headers["X-Content-Type-Options"] == "nosniff"
