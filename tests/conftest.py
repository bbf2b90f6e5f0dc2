"""Shared fixtures for the test suite: real servers on ephemeral ports, real clients."""

from __future__ import annotations

import smtplib
from collections.abc import Iterator
from email.message import EmailMessage

import pytest

from mailtrap_lite import MailServer


@pytest.fixture
def server() -> Iterator[MailServer]:
    """A fresh capture server with SMTP and HTTP on free loopback ports."""
    with MailServer(http_port=0) as running:
        yield running


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
