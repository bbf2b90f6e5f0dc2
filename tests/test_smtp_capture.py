"""Mail sent over real SMTP is stored byte-exact, with its envelope, and parsed into the right fields."""

from __future__ import annotations

import asyncio
import smtplib
from collections.abc import Callable
from email.message import EmailMessage
from email.utils import make_msgid

import aiosmtplib
import pytest

from mailtrap_lite import MailServer

PNG = bytes.fromhex("89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c4890000000d4944415478da63f8ff")


def plain() -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = "Alice <alice@example.com>"
    msg["To"] = "Bob <bob@example.com>"
    msg["Subject"] = "Plain hello"
    msg["Message-ID"] = "<plain-1@example.com>"
    msg.set_content("Hello Bob,\nsee https://example.com/welcome?x=1.\n")
    return msg


def alternative() -> EmailMessage:
    msg = plain()
    msg.replace_header("Subject", "Alternative hello")
    msg.add_alternative('<p>Hello <a href="https://example.com/html-link">Bob</a></p>', subtype="html")
    return msg


def with_attachment() -> EmailMessage:
    msg = alternative()
    msg.replace_header("Subject", "Report attached")
    msg.add_attachment(b"a,b\n1,2\n", maintype="text", subtype="csv", filename="report.csv")
    return msg


def inline_image() -> EmailMessage:
    msg = plain()
    msg.replace_header("Subject", "Logo inside")
    cid = make_msgid(domain="example.com")
    msg.add_alternative(f'<p>Logo: <img src="cid:{cid[1:-1]}"></p>', subtype="html")
    html_part = msg.get_payload()[1]
    html_part.add_related(PNG, maintype="image", subtype="png", cid=cid, filename="logo.png", disposition="inline")
    return msg


def utf8() -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = "Zoë <zoë@exämple.com>"
    msg["To"] = "Jürgen <jürgen@exämple.com>"
    msg["Subject"] = "Grüße aus Köln ✉"
    msg.set_content("Schöne Grüße — ça va? 日本語")
    return msg


def eight_bit() -> EmailMessage:
    msg = plain()
    msg.replace_header("Subject", "Eight bit body")
    msg.set_content("Café crème, naïve façade", cte="8bit")
    return msg


MESSAGES: dict[str, Callable[[], EmailMessage]] = {
    "plain": plain,
    "alternative": alternative,
    "attachment": with_attachment,
    "inline-image": inline_image,
    "utf8": utf8,
    "8bit": eight_bit,
}


def wire_bytes(msg: EmailMessage) -> bytes:
    """The bytes a client puts on the wire for ``msg`` (CRLF line ends), before dot-stuffing."""
    return msg.as_bytes(policy=msg.policy.clone(linesep="\r\n", utf8=True))


def utf8_options(sender: str, recipients: list[str]) -> list[str]:
    """MAIL options a client must send for internationalised addresses."""
    return ["SMTPUTF8"] if not (sender + "".join(recipients)).isascii() else []


def send_smtplib(server: MailServer, sender: str, recipients: list[str], data: bytes) -> None:
    with smtplib.SMTP(server.smtp_host, server.smtp_port, timeout=10) as client:
        client.sendmail(sender, recipients, data, mail_options=utf8_options(sender, recipients))


def send_aiosmtplib(server: MailServer, sender: str, recipients: list[str], data: bytes) -> None:
    async def go() -> None:
        await aiosmtplib.send(data, sender=sender, recipients=recipients, hostname=server.smtp_host,
                              port=server.smtp_port, timeout=10, mail_options=utf8_options(sender, recipients))

    asyncio.run(go())


CLIENTS = {"smtplib": send_smtplib, "aiosmtplib": send_aiosmtplib}


@pytest.mark.parametrize("client", CLIENTS)
@pytest.mark.parametrize("kind", MESSAGES)
def test_message_is_stored_byte_exact_with_envelope(server: MailServer, client: str, kind: str) -> None:
    msg = MESSAGES[kind]()
    data = wire_bytes(msg)
    sender = msg["From"].addresses[0].addr_spec
    recipients = [msg["To"].addresses[0].addr_spec, "hidden@example.net"]

    CLIENTS[client](server, sender, recipients, data)

    stored = server.store.latest()
    assert stored is not None
    assert stored.raw == data
    assert stored.envelope.sender == sender
    assert stored.envelope.recipients == tuple(recipients)
    assert stored.subject == str(msg["Subject"])
    assert stored.to[0].address == recipients[0]
    assert [b.address for b in stored.bcc] == ["hidden@example.net"]
    assert stored.smtp.peer.startswith("127.0.0.1:")
    assert stored.smtp.helo


def test_parsed_view_of_a_message_with_attachment(server: MailServer) -> None:
    send_smtplib(server, "alice@example.com", ["bob@example.com"], wire_bytes(with_attachment()))
    stored = server.store.latest()
    assert stored is not None
    assert stored.from_.name == "Alice" and stored.from_.address == "alice@example.com"
    assert stored.message_id == "plain-1@example.com"
    assert "see https://example.com/welcome" in stored.text
    assert '<a href="https://example.com/html-link">' in stored.html
    assert [(a.filename, a.content_type, a.content) for a in stored.attachments] == [
        ("report.csv", "text/csv", b"a,b\n1,2\n")
    ]
    assert stored.links == ("https://example.com/html-link", "https://example.com/welcome?x=1")
    assert stored.email["Subject"] == "Report attached"


def test_inline_image_is_an_inline_part_with_its_content_id(server: MailServer) -> None:
    send_smtplib(server, "alice@example.com", ["bob@example.com"], wire_bytes(inline_image()))
    stored = server.store.latest()
    assert stored is not None
    assert stored.attachments == ()
    (logo,) = stored.inline
    assert logo.filename == "logo.png" and logo.content_type == "image/png" and logo.content == PNG
    assert f"cid:{logo.content_id}" in stored.html


def test_utf8_headers_are_decoded(server: MailServer) -> None:
    msg = utf8()
    send_smtplib(server, "zoë@exämple.com", ["jürgen@exämple.com"], wire_bytes(msg))
    stored = server.store.latest()
    assert stored is not None
    assert stored.subject == "Grüße aus Köln ✉"
    assert stored.from_.address == "zoë@exämple.com"
    assert stored.envelope.recipients == ("jürgen@exämple.com",)
    assert "日本語" in stored.text


def test_data_reply_names_the_stored_id(server: MailServer) -> None:
    with smtplib.SMTP(server.smtp_host, server.smtp_port, timeout=10) as client:
        client.ehlo()
        client.mail("a@example.com")
        client.rcpt("b@example.com")
        code, reply = client.data(b"Subject: id\r\n\r\nbody\r\n")
    assert code == 250
    text = reply.decode()
    assert text.startswith("2.0.0 Ok: queued as ")
    assert server.store.get(text.rsplit(" ", 1)[1]) is not None


def test_ehlo_advertises_the_extensions(server: MailServer) -> None:
    with smtplib.SMTP(server.smtp_host, server.smtp_port, timeout=10) as client:
        client.ehlo()
        features = client.esmtp_features
    for name in ("size", "8bitmime", "smtputf8", "pipelining", "enhancedstatuscodes"):
        assert name in features, features
    assert features["size"] == str(25 * 1024 * 1024)
    assert "auth" not in features and "starttls" not in features


def test_stored_message_cannot_be_changed(server: MailServer) -> None:
    send_smtplib(server, "a@example.com", ["b@example.com"], b"Subject: x\r\n\r\nbody\r\n")
    stored = server.store.latest()
    assert stored is not None
    with pytest.raises(AttributeError):
        stored.raw = b"changed"  # type: ignore[misc]
    copy = stored.email
    copy.replace_header("Subject", "changed")
    assert stored.subject == "x"
