"""STARTTLS command injection (CVE-2011-0411 style) does not work: whatever a client sends in plaintext after
``STARTTLS`` and before the TLS handshake is dropped, not executed and not logged as a command, so the
transaction that follows over TLS loses nothing. A second STARTTLS inside TLS gets ``503 5.5.1``."""

from __future__ import annotations

import smtplib
import socket
import ssl
from collections.abc import Iterator

import pytest

from mailtrap_lite import MailServer

RECIPIENTS = ["ann@example.com", "bob@example.com", "cid@example.com"]


@pytest.fixture(scope="module")
def server() -> Iterator[MailServer]:
    """A server offering STARTTLS on its plain port and implicit TLS on another."""
    with MailServer(tls_self_signed=True, smtps_port=0) as running:
        yield running


class LineClient:
    """A raw SMTP client over a socket that can be upgraded to TLS in place."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.file = sock.makefile("rb")

    def reply(self) -> str:
        """One whole reply (the last line of a multi-line one)."""
        while True:
            line = self.file.readline().decode()
            assert line, "the server closed the connection"
            if line[3:4] != "-":
                return line.rstrip("\r\n")

    def send(self, data: bytes) -> None:
        """Write bytes as they are, in one call (so they travel in one segment)."""
        self.sock.sendall(data)

    def command(self, line: str) -> str:
        """Send one command line and read its reply."""
        self.send(line.encode() + b"\r\n")
        return self.reply()

    def upgrade(self, context: ssl.SSLContext) -> None:
        """Run the TLS handshake on the same socket."""
        self.file.close()
        self.sock = context.wrap_socket(self.sock, server_hostname="localhost")
        self.file = self.sock.makefile("rb")

    def close(self) -> None:
        """Close the connection."""
        self.file.close()
        self.sock.close()


def deliver_over_tls(server: MailServer, injected: bytes) -> tuple[LineClient, str]:
    """Connect, send ``STARTTLS`` with ``injected`` behind it in one write, finish TLS and deliver one message to
    every recipient; returns the client (still connected) and the DATA reply."""
    assert server.tls is not None
    client = LineClient(socket.create_connection(("localhost", server.smtp_port), timeout=10))
    assert client.reply().startswith("220")
    assert client.command("EHLO client.example").startswith("250")
    client.send(b"STARTTLS\r\n" + injected)
    assert client.reply().startswith("220")
    client.upgrade(server.tls.client_context())
    assert client.command("EHLO client.example").startswith("250")
    assert client.command("MAIL FROM:<app@example.com>").startswith("250")
    for recipient in RECIPIENTS:
        assert client.command(f"RCPT TO:<{recipient}>").startswith("250"), recipient
    assert client.command("DATA").startswith("354")
    return client, client.command("Subject: after starttls\r\n\r\nhello\r\n.")


@pytest.mark.parametrize("injected", [
    b"RSET\r\n",
    b"MAIL FROM:<attacker@evil.example>\r\n",
    b"MAIL FROM:<attacker@evil.example>\r\nRCPT TO:<loot@evil.example>\r\n",
    b"RSET\r\nMAIL FROM:<half",
])
def test_plaintext_after_starttls_is_dropped_and_the_tls_transaction_is_whole(
    server: MailServer, injected: bytes
) -> None:
    client, reply = deliver_over_tls(server, injected)
    try:
        assert reply.startswith("250")
        message_id = reply.rsplit(" ", 1)[-1]
        stored = server.store.get(message_id)
        assert stored is not None
        assert stored.envelope.sender == "app@example.com"
        assert list(stored.envelope.recipients) == RECIPIENTS
        assert stored.smtp.tls is True
    finally:
        client.close()
    record = server.sessions.get(stored.smtp.session_id)
    assert record is not None
    (attempt,) = record.attempts
    assert attempt.sender == "app@example.com"
    assert list(attempt.recipients) == RECIPIENTS
    assert attempt.message_id == message_id
    commands = [line.text for line in record.lines if line.direction == "C"]
    injected_lines = [line.decode() for line in injected.split(b"\r\n") if line]
    for line in injected_lines:
        assert line not in commands  # not logged as a command the server ran
    assert [text for text in commands if text.startswith("(discarded")]  # shown as dropped


def test_smtplib_still_works_after_an_injection_attempt_on_another_connection(server: MailServer) -> None:
    client, _ = deliver_over_tls(server, b"RSET\r\n")
    client.close()
    assert server.tls is not None
    with smtplib.SMTP("localhost", server.smtp_port, timeout=10) as smtp:
        smtp.starttls(context=server.tls.client_context())
        assert smtp.sendmail("app@example.com", RECIPIENTS, b"Subject: plain\r\n\r\nhi\r\n") == {}


def test_a_second_starttls_inside_tls_gets_503(server: MailServer) -> None:
    assert server.tls is not None
    with smtplib.SMTP("localhost", server.smtp_port, timeout=10) as smtp:
        smtp.starttls(context=server.tls.client_context())
        smtp.ehlo()
        code, text = smtp.docmd("STARTTLS")
        assert (code, text[:5]) == (503, b"5.5.1")
        # the session is unharmed: mail still goes through over the first TLS layer
        assert smtp.sendmail("app@example.com", ["bob@example.com"], b"Subject: still ok\r\n\r\nhi\r\n") == {}


def test_starttls_on_the_implicit_tls_port_gets_503(server: MailServer) -> None:
    assert server.tls is not None and server.smtps_port
    with smtplib.SMTP_SSL("localhost", server.smtps_port, context=server.tls.client_context(), timeout=10) as smtp:
        smtp.ehlo()
        code, text = smtp.docmd("STARTTLS")
        assert (code, text[:5]) == (503, b"5.5.1")
        assert smtp.sendmail("app@example.com", ["bob@example.com"], b"Subject: still ok\r\n\r\nhi\r\n") == {}


def test_a_refused_starttls_leaves_the_commands_behind_it_to_run(server: MailServer) -> None:
    client = LineClient(socket.create_connection(("localhost", server.smtp_port), timeout=10))
    try:
        assert client.reply().startswith("220")
        assert client.command("EHLO client.example").startswith("250")
        client.send(b"STARTTLS now\r\nMAIL FROM:<app@example.com>\r\n")  # 501: no TLS, so MAIL runs
        assert client.reply().startswith("501")
        assert client.reply().startswith("250")
        assert client.command("RCPT TO:<bob@example.com>").startswith("250")
        assert client.command("DATA").startswith("354")
        assert client.command("Subject: refused starttls\r\n\r\nSTARTTLS\r\n.").startswith("250")
        assert client.command("RSET").startswith("250")
    finally:
        client.close()
    (stored,) = [m for m in server.store.snapshot() if m.subject == "refused starttls"]
    record = server.sessions.get(stored.smtp.session_id)
    assert record is not None
    commands = [line.text for line in record.lines if line.direction == "C"]
    assert "MAIL FROM:<app@example.com>" in commands and "RSET" in commands
    assert not [text for text in commands if text.startswith("(discarded")]
