"""CPU traps (issue #15, item 2): messages that used to hold the server for tens to hundreds of seconds are stored
and shown in time linear in their size, and summarising one never holds up other SMTP clients.

The bounds below only catch a freeze (each was 25-293 s before); the figures themselves come from
``python -m bench.hostile_latency``.
"""

from __future__ import annotations

import smtplib
import threading
import time
from collections.abc import Iterator

import poison_mail
import pytest
import websocket
from http_api import Api
from test_hostile_parse_limits import WAIT, deliver, next_new

from mailtrap_lite import MailServer
from mailtrap_lite.raw_view import MAX_SUMMARY_TEXT

FREEZE = 10.0  # seconds: far above what these take now, far below what they took before


@pytest.fixture
def events(server: MailServer) -> Iterator[websocket.WebSocket]:
    """A websocket client on the event stream, as a browser with the UI open: the server builds ``new`` frames."""
    ws = websocket.create_connection((server.http_url or "").replace("http://", "ws://") + "/api/events",
                                     timeout=WAIT)
    ws.recv()  # the stats frame: the client is registered
    yield ws
    ws.close()


def _every_view(server: MailServer, message_id: str) -> dict[str, object]:
    api = Api(server.http_url or "")
    api.json("/api/v1/messages")
    api.json("/api/v1/search?query=victim")
    return dict(api.json(f"/api/v1/message/{message_id}"))


@pytest.mark.timeout(60)
def test_an_html_body_of_200_kb_of_angle_brackets_is_shown_at_once(
    server: MailServer, events: websocket.WebSocket
) -> None:
    started = time.monotonic()
    message_id = deliver(server, poison_mail.angle_flood_html(200_000))
    assert next_new(events)["ID"] == message_id
    detail = _every_view(server, message_id)
    assert time.monotonic() - started < FREEZE  # was 29 s
    assert "ShownAsRaw" not in detail  # within every limit: parsed, and its text is the HTML's
    assert detail["HTML"]


@pytest.mark.timeout(60)
def test_a_folded_subject_of_1_mb_is_shown_raw_and_cut_in_the_list(server: MailServer) -> None:
    started = time.monotonic()
    message_id = deliver(server, poison_mail.folded_subject(1_000_000))
    detail = _every_view(server, message_id)
    assert time.monotonic() - started < FREEZE  # was 25 s
    assert str(detail["ShownAsRaw"]).startswith("header Subject of 1,0")
    subject = Api(server.http_url or "").json("/api/v1/messages")["messages"][0]["Subject"]
    assert len(subject) == MAX_SUMMARY_TEXT and subject.startswith("word word") and subject.endswith("\u2026")


def test_a_long_subject_within_the_limits_is_cut_in_every_list(server: MailServer) -> None:
    words = ["long"] * 2_000  # 10,000 characters: parsed as usual, but one message must not bloat every page
    subject = " ".join(words)
    folded = "\r\n ".join(" ".join(words[at : at + 10]) for at in range(0, len(words), 10))
    with smtplib.SMTP(server.smtp_host, server.smtp_port, timeout=WAIT) as client:
        client.sendmail("a@example.com", ["b@example.com"], f"Subject: {folded}\r\n\r\nbody\r\n".encode())
    item = Api(server.http_url or "").json("/api/v1/messages")["messages"][0]
    assert len(item["Subject"]) == MAX_SUMMARY_TEXT
    assert item["Subject"] == subject[: MAX_SUMMARY_TEXT - 1] + "\u2026"


class _Noops(threading.Thread):
    """Another SMTP client, sending NOOP after NOOP; keeps the longest wait for a reply."""

    def __init__(self, server: MailServer) -> None:
        super().__init__(daemon=True)
        self.client = smtplib.SMTP(server.smtp_host, server.smtp_port, timeout=600)
        self.stop = threading.Event()
        self.longest = 0.0
        self.replies = 0

    def run(self) -> None:
        while not self.stop.is_set():
            started = time.monotonic()
            code, _ = self.client.noop()
            assert code == 250
            self.longest = max(self.longest, time.monotonic() - started)
            self.replies += 1
        self.client.quit()


def _others_wait_while(server: MailServer, events: websocket.WebSocket, raw: bytes) -> tuple[float, float]:
    """Deliver ``raw`` while another client sends NOOPs: (the delivery's seconds, the other's longest wait)."""
    other = _Noops(server)
    other.start()
    started = time.monotonic()
    message_id = deliver(server, raw)
    delivered = time.monotonic() - started
    assert next_new(events)["ID"] == message_id
    other.stop.set()
    other.join(WAIT)
    assert other.replies > 0
    detail = _every_view(server, message_id)
    assert str(detail["ShownAsRaw"]).startswith("more than 1,000 parts")
    return delivered, other.longest


@pytest.mark.timeout(120)
def test_a_message_of_60_000_parts_holds_up_no_other_smtp_client(
    server: MailServer, events: websocket.WebSocket
) -> None:
    delivered, longest = _others_wait_while(server, events, poison_mail.many_parts(60_000))  # 5.6 MiB
    assert delivered < FREEZE  # was about 55 s, all of it on the SMTP loop
    assert longest < FREEZE


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_a_23_mib_message_of_250_000_parts_holds_up_no_other_smtp_client(
    server: MailServer, events: websocket.WebSocket
) -> None:
    delivered, longest = _others_wait_while(server, events, poison_mail.many_parts())
    assert delivered < FREEZE  # was 293 s
    assert longest < FREEZE
