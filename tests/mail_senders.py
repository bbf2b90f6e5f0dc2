"""Real SMTP senders for the plugin tests: a plain one and one that retries the way production mailers do."""

from __future__ import annotations

import smtplib
import time
from email.message import EmailMessage

from mailtools import make_message


def build_message(
    to: str = "bob@example.com",
    subject: str = "Hello",
    text: str = "Hello Bob",
    sender: str = "alice@example.com",
    html: str | None = None,
    attachment: tuple[str, bytes] | None = None,
    headers: dict[str, str] | None = None,
) -> EmailMessage:
    """The suite's small message, plus: ``html`` adds an alternative part, ``attachment`` a (filename, bytes) file,
    ``headers`` more header fields."""
    message = make_message(sender=sender, to=to, subject=subject, text=text)
    for name, value in (headers or {}).items():
        message[name] = value
    if html is not None:
        message.add_alternative(html, subtype="html")
    if attachment is not None:
        filename, content = attachment
        message.add_attachment(content, maintype="application", subtype="octet-stream", filename=filename)
    return message


def send_mail(host: str, port: int, message: EmailMessage | None = None, **envelope: object) -> None:
    """Send one message over real SMTP (``envelope`` goes to ``send_message``: from_addr, to_addrs)."""
    with smtplib.SMTP(host, port, timeout=10) as client:
        client.send_message(message or build_message(), **envelope)  # type: ignore[arg-type]


def send_with_retries(
    host: str,
    port: int,
    message: EmailMessage | None = None,
    attempts: int = 5,
    timeout: float = 10,
    backoff: float = 0,
) -> int:
    """Send, retrying on temporary failures (4xx replies, timeouts, dropped connections) like a real mailer.

    ``backoff`` is the pause before each retry: the sender's retry policy, which greylisting tests exercise.
    Returns how many tries it took; re-raises the last error when every try failed or a failure is permanent.
    """
    for attempt in range(1, attempts + 1):
        if attempt > 1 and backoff:
            time.sleep(backoff)
        try:
            with smtplib.SMTP(host, port, timeout=timeout) as client:
                client.send_message(message or build_message())
            return attempt
        except smtplib.SMTPResponseException as error:
            if not 400 <= error.smtp_code < 500 or attempt == attempts:
                raise
        except smtplib.SMTPRecipientsRefused as error:
            codes = [code for code, _ in error.recipients.values()]
            if any(code >= 500 for code in codes) or attempt == attempts:
                raise
        except (smtplib.SMTPServerDisconnected, TimeoutError, ConnectionError):
            if attempt == attempts:
                raise
    raise ValueError(f"attempts must be at least 1, got {attempts}")
