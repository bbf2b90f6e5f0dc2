"""Poison messages (issue #15, item 1): mail past a parse limit is kept byte for byte and "shown as raw" with the
reason, and every other call keeps working while it is stored: the list, search, the long-poll wait and the
websocket (whose broadcaster used to die on the RecursionError), also after a restart with ``--db``.
"""

from __future__ import annotations

import json
import smtplib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import poison_mail
import pytest
import websocket
from http_api import Api
from mailtools import make_message

from mailtrap_lite import MailServer

WAIT = 30

POISONS: dict[str, tuple[Callable[[], bytes], str]] = {
    "500 nested comments in From": (poison_mail.nested_comments_from, "comments nested 500 deep, limit 32"),
    "a multipart nested 900 deep": (poison_mail.deep_multipart, "nested 900 deep, limit 100"),
    "a multipart nested 3,000 deep": (lambda: poison_mail.deep_multipart(3_000), "more than 1,000 parts, limit"),
    "1,500 parts": (lambda: poison_mail.many_parts(1_500), "more than 1,000 parts, limit 1,000"),
    "a 100 KB folded Subject": (lambda: poison_mail.folded_subject(100_000), "header Subject of "),
}


def deliver(server: MailServer, raw: bytes) -> str:
    """Send ``raw`` over real SMTP; the id the server acknowledged it under."""
    with smtplib.SMTP(server.smtp_host, server.smtp_port, timeout=WAIT) as client:
        client.ehlo()
        client.mail("poison@example.com")
        client.rcpt("victim@example.com")
        code, reply = client.data(raw)
    assert code == 250, reply
    return reply.decode().rsplit(" ", 1)[-1]


def send_normal(server: MailServer, subject: str) -> None:
    """An ordinary message over real SMTP."""
    with smtplib.SMTP(server.smtp_host, server.smtp_port, timeout=WAIT) as client:
        client.send_message(make_message(subject=subject, text="nothing special"))


def next_new(ws: websocket.WebSocket) -> dict[str, Any]:
    """The payload of the next ``new`` frame."""
    while True:
        frame = json.loads(ws.recv())
        if frame["Type"] == "new":
            return dict(frame["Data"])


@pytest.fixture
def events(server: MailServer) -> Iterator[websocket.WebSocket]:
    """A websocket client on the server's event stream."""
    ws = websocket.create_connection((server.http_url or "").replace("http://", "ws://") + "/api/events",
                                     timeout=WAIT)
    assert json.loads(ws.recv())["Type"] == "stats"  # the first frame: from here on, every change arrives
    yield ws
    ws.close()


@pytest.mark.timeout(120)
@pytest.mark.parametrize("name", list(POISONS))
def test_a_poison_message_is_shown_raw_and_every_other_call_keeps_working(
    name: str, server: MailServer, events: websocket.WebSocket
) -> None:
    build, reason = POISONS[name]
    raw = build()
    poison_id = deliver(server, raw)
    assert next_new(events)["ID"] == poison_id  # the broadcaster built the poison's frame...
    send_normal(server, "after the poison")
    assert next_new(events)["Subject"] == "after the poison"  # ...and lives on for the next message

    api = Api(server.http_url or "")
    listed = api.json("/api/v1/messages")
    assert [m["ID"] for m in listed["messages"]][1] == poison_id
    assert api.search("after") == ["after the poison"]
    assert api.search("victim@example.com") == [listed["messages"][1]["Subject"]]  # the poison, found by its To
    waited = api.get("/api/v1/wait?query=subject:after&count=1&timeout=5")
    assert waited.status == 200, waited.text

    detail = api.json(f"/api/v1/message/{poison_id}")
    assert detail["ShownAsRaw"].startswith(reason)
    assert detail["Attachments"] == [] and detail["Inline"] == []
    assert detail["Text"] == raw.decode().replace("\r\n", "\n")  # the text view is the source
    assert api.get(f"/api/v1/message/{poison_id}/raw").body == raw  # kept byte for byte
    assert api.get(f"/api/v1/message/{poison_id}/headers").status == 200


def test_the_readable_headers_of_a_raw_message_still_make_its_summary(server: MailServer) -> None:
    poison_id = deliver(server, poison_mail.deep_multipart())
    item = Api(server.http_url or "").json("/api/v1/messages")["messages"][0]
    assert item["ID"] == poison_id
    assert item["Subject"] == "deep multipart"
    assert item["From"] == {"Name": "Poison", "Address": "poison@example.com"}
    assert item["To"] == [{"Name": "", "Address": "victim@example.com"}]


def test_mail_within_the_limits_is_parsed_as_usual(server: MailServer) -> None:
    nested_id = deliver(server, poison_mail.deep_multipart(100))  # the deepest nesting allowed
    send_normal(server, "ordinary")
    api = Api(server.http_url or "")
    nested = api.json(f"/api/v1/message/{nested_id}")
    assert "ShownAsRaw" not in nested
    assert nested["Text"] == "the bottom"
    ordinary = api.json(f"/api/v1/message/{api.json('/api/v1/messages')['messages'][0]['ID']}")
    assert "ShownAsRaw" not in ordinary  # Mailpit's shape, key for key


@pytest.mark.timeout(120)
def test_a_stored_poison_message_survives_a_restart_with_db(tmp_path: Path) -> None:
    path = tmp_path / "mail.db"
    raws = [poison_mail.nested_comments_from(), poison_mail.deep_multipart()]
    with MailServer(http_port=0, db=path) as first:
        ids = [deliver(first, raw) for raw in raws]
    with MailServer(http_port=0, db=path) as again:
        api = Api(again.http_url or "")
        assert [m["ID"] for m in api.json("/api/v1/messages")["messages"]] == ids[::-1]
        assert len(api.search("victim@example.com")) == 2
        for message_id, raw in zip(ids, raws, strict=True):
            assert api.json(f"/api/v1/message/{message_id}")["ShownAsRaw"]
            assert api.get(f"/api/v1/message/{message_id}/raw").body == raw
        send_normal(again, "after the restart")
        assert api.search("restart") == ["after the restart"]
