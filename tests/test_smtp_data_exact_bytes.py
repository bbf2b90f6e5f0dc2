"""DATA keeps the exact bytes: 8-bit and UTF-8 content, bare LF and bare CR, large attachments, nothing rewritten."""

from __future__ import annotations

import smtplib
from collections.abc import Iterator
from email.message import EmailMessage

import pytest

from mailtrap_lite import MailServer


@pytest.fixture
def server() -> Iterator[MailServer]:
    with MailServer() as running:
        yield running


def stored_raw(server: MailServer) -> bytes:
    message = server.store.latest()
    assert message is not None
    return message.raw


def test_bare_lf_and_bare_cr_are_stored_exactly_as_sent(server: MailServer) -> None:
    content = b"Subject: mixed endings\r\n\r\nunix line\nold mac line\rwindows line\r\n"
    with smtplib.SMTP(server.smtp_host, server.smtp_port, timeout=10) as client:
        client.ehlo()
        client.mail("a@example.com")
        client.rcpt("b@example.com")
        assert client.docmd("DATA")[0] == 354
        client.send(content + b".\r\n")  # smtplib.data() would rewrite the bare endings; send them raw
        assert client.getreply()[0] == 250
    assert stored_raw(server) == content


def test_8bit_content_is_stored_byte_for_byte(server: MailServer) -> None:
    content = b"Subject: 8bit\r\nContent-Type: text/plain; charset=latin-1\r\n\r\nna\xefve caf\xe9 \x00\xff\r\n"
    with smtplib.SMTP(server.smtp_host, server.smtp_port, timeout=10) as client:
        client.sendmail("a@example.com", ["b@example.com"], content, mail_options=["BODY=8BITMIME"])
    assert stored_raw(server) == content


def test_smtputf8_addresses_and_headers_arrive_intact(server: MailServer) -> None:
    message = EmailMessage()
    message["From"] = "jörg@exämple.com"
    message["To"] = "zoë@exämple.com"
    message["Subject"] = "Grüße ✉"
    message.set_content("Schöne Grüße")
    with smtplib.SMTP(server.smtp_host, server.smtp_port, timeout=10) as client:
        client.send_message(message, mail_options=["SMTPUTF8"])
    stored = server.store.latest()
    assert stored is not None
    assert stored.envelope.sender == "jörg@exämple.com"
    assert stored.envelope.recipients == ("zoë@exämple.com",)
    assert stored.subject == "Grüße ✉"
    assert "Schöne Grüße" in stored.text


def test_a_100_kb_attachment_is_stored_and_decodes_to_the_same_bytes(server: MailServer) -> None:
    payload = bytes(range(256)) * 400
    message = EmailMessage()
    message["From"] = "a@example.com"
    message["To"] = "b@example.com"
    message["Subject"] = "report"
    message.set_content("see attached")
    message.add_attachment(payload, maintype="application", subtype="octet-stream", filename="report.bin")
    content = message.as_bytes(policy=message.policy.clone(linesep="\r\n"))
    with smtplib.SMTP(server.smtp_host, server.smtp_port, timeout=10) as client:
        client.sendmail("a@example.com", ["b@example.com"], content)
    stored = server.store.latest()
    assert stored is not None
    assert stored.raw == content
    assert [(part.filename, part.content) for part in stored.attachments] == [("report.bin", payload)]
