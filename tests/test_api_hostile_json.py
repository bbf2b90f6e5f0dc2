"""Every endpoint that reads a JSON body answers 400 with a reason, never 500, whatever the body holds: nesting
100,000 deep (which exhausts Python's JSON parser), numbers no field can hold, ``NaN``, bytes that are not UTF-8.
The routes are read from our OpenAPI document, so a new JSON endpoint is covered without touching this test."""

from __future__ import annotations

import json
import smtplib
from collections.abc import Iterator

import pytest
from http_api import Api

from mailtrap_lite import MailServer
from mailtrap_lite.web.openapi import document

HOSTILE_BODIES = {
    "100,000 [": (b"[" * 100_000, "nests deeper than"),
    "100,000 objects": (b'{"a":' * 100_000, "nests deeper than"),
    "valid, 40 deep": (b'{"IDs": ' + b"[" * 40 + b"]" * 40 + b"}", "nests deeper than 32 levels"),
    "400-digit integer": (b'{"IDs": 1' + b"0" * 400 + b"}", "out of range"),
    "integer over int64": (b'{"IDs": 9223372036854775808}', "out of range"),
    "1e999": (b'{"IDs": 1e999}', "out of range"),
    "-1e400": (b'{"IDs": -1e400}', "out of range"),
    "NaN": (b'{"IDs": NaN}', "NaN is not a JSON value"),
    "-Infinity": (b'{"IDs": -Infinity}', "-Infinity is not a JSON value"),
    "latin-1": (b'{"Name": "caf\xe9"}', "not UTF-8: byte 0xe9 at offset 13"),
    "UTF-16": ('{"Name": "x"}'.encode("utf-16"), "not UTF-8"),
    "junk": (b"\xff\x00\xfe" * 10, "not UTF-8: byte 0xff at offset 0"),
}
# Mailpit deletes every message when it cannot decode the body of DELETE /messages, and clients rely on it
UNREADABLE_BODY_MEANS_ALL = {("delete", "/api/v1/messages")}
JSON_OPERATIONS = sorted(
    (method, path)
    for path, item in document()["paths"].items()
    for method, operation in item.items()
    if "requestBody" in operation and (method, path) not in UNREADABLE_BODY_MEANS_ALL
)


@pytest.fixture(scope="module")
def server() -> Iterator[MailServer]:
    """A server with chaos on, a relay configured and one tagged message, so every JSON route gets to its body."""
    with MailServer() as relay, MailServer(http_port=0, chaos="Sender:451:0",
                                           relay=f"smtp://127.0.0.1:{relay.smtp_port}") as running:
        with smtplib.SMTP(running.smtp_host, running.smtp_port, timeout=10) as client:
            client.sendmail("a@example.com", ["b@example.com"], b"Subject: hi\r\n\r\nbody\r\n")
        message = running.store.latest()
        assert message is not None
        api = Api(running.http_url or "")
        assert api.request("PUT", "/api/v1/tags", {"IDs": [message.id], "Tags": ["urgent"]}).status == 200
        yield running


def url_of(server: MailServer, path: str) -> str:
    message = server.store.latest()
    assert message is not None
    return path.replace("{message_id}", message.id).replace("{tag}", "urgent")


def test_the_walk_covers_every_json_endpoint() -> None:
    assert JSON_OPERATIONS == [
        ("post", "/api/v1/faults"), ("post", "/api/v1/message/{message_id}/release"), ("post", "/api/v1/send"),
        ("put", "/api/v1/chaos"), ("put", "/api/v1/messages"), ("put", "/api/v1/tags"),
        ("put", "/api/v1/tags/{tag}"),
    ]


@pytest.mark.parametrize("body", list(HOSTILE_BODIES))
@pytest.mark.parametrize(("method", "path"), JSON_OPERATIONS)
def test_a_hostile_body_gets_400_with_the_reason(server: MailServer, method: str, path: str, body: str) -> None:
    raw, reason = HOSTILE_BODIES[body]
    api = Api(server.http_url or "")
    answer = api.request(method.upper(), url_of(server, path), raw=raw,
                         headers={"Content-Type": "application/json"})
    assert answer.status == 400, answer.text[:300]
    text = json.loads(answer.body)["Error"] if path == "/api/v1/send" else answer.text
    assert reason in text
    assert api.get("/api/v1/info").status == 200
    assert len(server.store) == 1 and server.store.all_tags() == ["urgent"]


def test_a_deep_body_on_delete_still_deletes_everything_as_in_mailpit() -> None:
    with MailServer(http_port=0) as server:
        with smtplib.SMTP(server.smtp_host, server.smtp_port, timeout=10) as client:
            client.sendmail("a@example.com", ["b@example.com"], b"Subject: hi\r\n\r\nbody\r\n")
        answer = Api(server.http_url or "").request("DELETE", "/api/v1/messages", raw=b"[" * 100_000)
        assert (answer.status, answer.text) == (200, "ok")
        assert len(server.store) == 0


def test_ordinary_numbers_and_nesting_still_work(server: MailServer) -> None:
    api = Api(server.http_url or "")
    with_bom = b"\xef\xbb\xbf" + json.dumps({"IDs": [], "Tags": ["urgent"]}).encode()  # as some Windows tools send
    assert api.request("PUT", "/api/v1/tags", raw=with_bom).status == 200
    rule = api.request("POST", "/api/v1/faults", {"stage": "data", "code": 451, "times": 2, "probability": 0.5})
    assert rule.status == 200, rule.text
    assert (rule.json()["times"], rule.json()["probability"]) == (2, 0.5)
    assert api.request("DELETE", "/api/v1/faults").status == 200
    chaos = api.request("PUT", "/api/v1/chaos", {"Sender": {"ErrorCode": 451, "Probability": 0.0}})
    assert chaos.status == 200, chaos.text
