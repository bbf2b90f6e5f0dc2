"""A client that goes away in the middle of DATA stores nothing, and the server keeps serving everyone else."""

from __future__ import annotations

import smtplib
import threading
from collections.abc import Iterator

import pytest

from mailtrap_lite import MailServer
from mailtrap_lite.events import Event


@pytest.fixture
def server() -> Iterator[MailServer]:
    with MailServer() as running:
        yield running


def closed_sessions(server: MailServer) -> threading.Event:
    """An event set as soon as any SMTP session on ``server`` has ended."""
    ended = threading.Event()

    def on_event(event: Event) -> None:
        if event.type == "session":
            ended.set()

    server.bus.subscribe(on_event)
    return ended


@pytest.mark.parametrize(
    "partial",
    [
        b"Subject: cut off\r\n\r\nhalf a message",  # mid-line
        b"Subject: cut off\r\n\r\nall lines complete\r\n",  # right before the end marker
        b"Subject: cut off\r\n\r\n" + b"A" * 76 * 2000,  # mid-way through a large body
    ],
)
def test_a_client_dropping_mid_data_stores_nothing(server: MailServer, partial: bytes) -> None:
    ended = closed_sessions(server)
    client = smtplib.SMTP(server.smtp_host, server.smtp_port, timeout=10)
    client.ehlo()
    client.mail("a@example.com")
    client.rcpt("b@example.com")
    assert client.docmd("DATA")[0] == 354
    client.send(partial)
    client.close()
    assert ended.wait(10), "the server did not notice the client leaving"
    assert len(server.store) == 0
    with smtplib.SMTP(server.smtp_host, server.smtp_port, timeout=10) as other:
        other.sendmail("c@example.com", ["d@example.com"], b"Subject: whole\r\n\r\nfine\r\n")
    assert [m.subject for m in server.store.snapshot()] == ["whole"]
