"""Bad SMTP input gets the right reply code, the server stays up, and nothing half-received is stored."""

from __future__ import annotations

import smtplib
import socket

import pytest
from mailtools import send

from mailtrap_lite import MailServer


class RawClient:
    """A line-level SMTP client over a plain socket, for input that real clients refuse to send."""

    def __init__(self, server: MailServer) -> None:
        self.sock = socket.create_connection((server.smtp_host, server.smtp_port), timeout=10)
        self.file = self.sock.makefile("rb")
        self.reply()  # greeting

    def reply(self) -> str:
        """Read one (possibly multi-line) reply and return its last line."""
        while True:
            line = self.file.readline().decode("utf-8", "replace").rstrip("\r\n")
            if len(line) < 4 or line[3] != "-":
                return line

    def command(self, data: bytes) -> str:
        self.sock.sendall(data + b"\r\n")
        return self.reply()

    def close(self) -> None:
        self.file.close()
        self.sock.close()


@pytest.fixture
def raw(server: MailServer):  # type: ignore[no-untyped-def]
    client = RawClient(server)
    yield client
    client.close()


def assert_server_still_works(server: MailServer) -> None:
    before = len(server.store)
    send(server)
    assert len(server.store) == before + 1


def test_unknown_command_gets_500(server: MailServer, raw: RawClient) -> None:
    raw.command(b"EHLO client.test")
    assert raw.command(b"FROBNICATE now").startswith("500 5.5.2")
    assert raw.command(b"\x00\xff\xfe junk").startswith("500")
    assert_server_still_works(server)


def test_bad_syntax_gets_501_and_wrong_order_503(server: MailServer, raw: RawClient) -> None:
    raw.command(b"EHLO client.test")
    assert raw.command(b"MAIL a@example.com").startswith("501")
    assert raw.command(b"RCPT TO:<b@example.com>").startswith("503")
    assert raw.command(b"DATA").startswith("503")
    assert raw.command(b"MAIL FROM:<a@example.com> BOGUS=1").startswith(("501", "555"))
    assert_server_still_works(server)


def test_overlong_command_line_gets_500_5_5_2(server: MailServer, raw: RawClient) -> None:
    raw.command(b"EHLO client.test")
    assert raw.command(b"NOOP " + b"x" * 5000).startswith("500 5.5.2")
    assert raw.command(b"NOOP").startswith("250")
    assert_server_still_works(server)


def test_oversize_message_gets_552_and_is_not_stored() -> None:
    with MailServer(max_message_size=10_000) as server:
        with smtplib.SMTP(server.smtp_host, server.smtp_port, timeout=10) as client:
            client.ehlo()
            assert client.esmtp_features["size"] == "10000"
            client.mail("a@example.com")
            client.rcpt("b@example.com")
            code, _ = client.data(b"Subject: big\r\n\r\n" + (b"y" * 76 + b"\r\n") * 200)
            assert code == 552
            client.rset()
            client.sendmail("a@example.com", ["b@example.com"], b"Subject: small\r\n\r\nok\r\n")
        assert [m.subject for m in server.store.snapshot()] == ["small"]


def test_declared_size_over_the_limit_is_refused_at_mail() -> None:
    with MailServer(max_message_size=10_000) as server, smtplib.SMTP(server.smtp_host, server.smtp_port) as client:
        client.ehlo()
        code, _ = client.mail("a@example.com", ["SIZE=20000"])
        assert code == 552


def test_disconnect_mid_data_stores_nothing(server: MailServer, raw: RawClient) -> None:
    raw.command(b"EHLO client.test")
    raw.command(b"MAIL FROM:<a@example.com>")
    raw.command(b"RCPT TO:<b@example.com>")
    assert raw.command(b"DATA").startswith("354")
    raw.sock.sendall(b"Subject: cut off\r\n\r\nhalf a messa")
    raw.close()
    assert_server_still_works(server)
    assert [m.subject for m in server.store.snapshot()] == ["Hello"]


def test_binary_junk_in_headers_is_stored_and_parses(server: MailServer) -> None:
    junk = (
        b"From: \xff\xfe<odd@example.com>\r\nTo: b@example.com\r\nSubject: =?bogus?Q?x?= \x80\x81\r\n"
        b"X-Junk: \x00\x01\x02\r\nContent-Type: multipart/mixed; boundary=\"nope\r\n\r\nno closing boundary\r\n"
    )
    with smtplib.SMTP(server.smtp_host, server.smtp_port, timeout=10) as client:
        client.sendmail("a@example.com", ["b@example.com"], junk)
    stored = server.store.latest()
    assert stored is not None
    assert stored.raw == junk
    assert isinstance(stored.subject, str)
    assert isinstance(stored.text, str)
    assert stored.headers[0][0] == "From"
    assert_server_still_works(server)
