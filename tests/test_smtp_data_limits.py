"""DATA limits: too big (552) and too-long lines (500) are refused after the whole message is drained, and the
connection stays usable for the next message."""

from __future__ import annotations

import smtplib
from collections.abc import Iterator

import pytest

from mailtrap_lite import MailServer

SIZE_LIMIT = 10_000


@pytest.fixture
def server() -> Iterator[MailServer]:
    with MailServer(max_message_size=SIZE_LIMIT) as running:
        yield running


def send_raw(client: smtplib.SMTP, content: bytes) -> tuple[int, bytes]:
    """Run one mail transaction with ``content`` sent as is (it must already be dot-stuffed and end with CRLF)."""
    client.ehlo_or_helo_if_needed()
    client.mail("a@example.com")
    client.rcpt("b@example.com")
    assert client.docmd("DATA")[0] == 354
    client.send(content + b".\r\n")
    return client.getreply()


def body_of(size: int) -> bytes:
    line = b"x" * 76 + b"\r\n"
    return b"Subject: big\r\n\r\n" + line * (size // len(line) + 1)


def test_a_message_over_the_size_limit_gets_552_and_the_next_message_is_stored(server: MailServer) -> None:
    with smtplib.SMTP(server.smtp_host, server.smtp_port, timeout=10) as client:
        code, text = send_raw(client, body_of(SIZE_LIMIT * 3))
        assert (code, text[:5]) == (552, b"5.3.4")
        assert send_raw(client, b"Subject: small\r\n\r\nfits\r\n")[0] == 250
    assert [m.subject for m in server.store.snapshot()] == ["small"]


def test_a_message_exactly_at_the_size_limit_is_stored(server: MailServer) -> None:
    content = body_of(SIZE_LIMIT)[:SIZE_LIMIT - 2] + b"\r\n"
    with smtplib.SMTP(server.smtp_host, server.smtp_port, timeout=10) as client:
        assert send_raw(client, content)[0] == 250
    stored = server.store.latest()
    assert stored is not None
    assert stored.size == SIZE_LIMIT


def test_a_line_longer_than_aiosmtpds_limit_gets_500_and_the_connection_goes_on(server: MailServer) -> None:
    with smtplib.SMTP(server.smtp_host, server.smtp_port, timeout=10) as client:
        code, text = send_raw(client, b"Subject: long\r\n\r\n" + b"y" * 1000 + b"\r\n")
        assert (code, text[:5]) == (500, b"5.5.2")
        assert send_raw(client, b"Subject: after\r\n\r\n" + b"y" * 999 + b"\r\n")[0] == 250
    assert [m.subject for m in server.store.snapshot()] == ["after"]


def test_bare_line_feeds_do_not_end_a_line_so_they_count_towards_its_length(server: MailServer) -> None:
    long_with_bare_lf = (b"z" * 99 + b"\n") * 11  # 1100 bytes before the first CRLF
    with smtplib.SMTP(server.smtp_host, server.smtp_port, timeout=10) as client:
        assert send_raw(client, b"Subject: lf\r\n\r\n" + long_with_bare_lf + b"\r\n")[0] == 500
    assert len(server.store) == 0
