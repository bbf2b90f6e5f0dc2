"""Helpers the tests share for building and sending mail with real clients."""

from __future__ import annotations

import smtplib
from email.message import EmailMessage

from mailtrap_lite import MailServer


def make_message(
    sender: str = "alice@example.com",
    to: str = "bob@example.com",
    subject: str = "Hello",
    text: str = "Hello Bob",
) -> EmailMessage:
    """A small plain-text message."""
    message = EmailMessage()
    message["From"] = sender
    message["To"] = to
    message["Subject"] = subject
    message.set_content(text)
    return message


def send(server: MailServer, message: EmailMessage | None = None, **kwargs: object) -> None:
    """Send ``message`` (or a default one) over real SMTP with smtplib."""
    with smtplib.SMTP(server.smtp_host, server.smtp_port, timeout=10) as client:
        client.send_message(message or make_message(), **kwargs)  # type: ignore[arg-type]
