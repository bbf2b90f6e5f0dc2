"""Email a report, retrying temporary SMTP failures with exponential backoff and giving up on permanent ones.

    SMTP_HOST=127.0.0.1 SMTP_PORT=1025 python send_report.py ops@example.com report.txt

Temporary failures are 4xx replies (to MAIL, RCPT or DATA), a dropped connection and a server that stops
answering (the socket timeout). A 5xx reply is permanent: retrying would only annoy the server.
"""

from __future__ import annotations

import argparse
import os
import smtplib
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path


@dataclass(frozen=True)
class Backoff:
    """How often to try and how long to wait in between: ``first_delay``, then multiplied by ``factor``."""

    attempts: int = 5
    first_delay: float = 1.0
    factor: float = 2.0

    def delays(self) -> Iterator[float]:
        """The pauses before the second, third, ... attempt."""
        delay = self.first_delay
        for _ in range(self.attempts - 1):
            yield delay
            delay *= self.factor


DEFAULT_BACKOFF = Backoff()


class DeliveryFailed(Exception):
    """The report was not delivered: refused permanently, or still failing after the last attempt."""

    def __init__(self, reason: str, code: int | None, tries: int) -> None:
        super().__init__(f"{reason} after {tries} attempt(s)")
        self.code = code
        self.tries = tries

    @property
    def permanent(self) -> bool:
        """True when the server refused with a 5xx reply."""
        return self.code is not None and self.code >= 500


def build_report(recipient: str, body: str, sender: str = "reports@example.com") -> EmailMessage:
    """The report mail: plain text, one recipient."""
    message = EmailMessage()
    message["From"] = sender
    message["To"] = recipient
    message["Subject"] = "Daily report"
    message.set_content(body)
    return message


def send_report(
    message: EmailMessage,
    host: str,
    port: int,
    backoff: Backoff = DEFAULT_BACKOFF,
    timeout: float = 30.0,
    sleep: Callable[[float], None] = time.sleep,
) -> int:
    """Send ``message``, retrying temporary failures as ``backoff`` says; returns how many attempts it took."""
    delays = backoff.delays()
    tries = 0
    while True:
        tries += 1
        try:
            with smtplib.SMTP(host, port, timeout=timeout) as client:
                client.send_message(message)
            return tries
        except (smtplib.SMTPServerDisconnected, TimeoutError, ConnectionError) as error:
            code, reason = None, f"connection failed ({type(error).__name__})"
        except smtplib.SMTPRecipientsRefused as error:
            code = max(code for code, _ in error.recipients.values())
            reason = f"recipients refused with {code}"
        except smtplib.SMTPResponseException as error:
            code, reason = error.smtp_code, f"refused with {error.smtp_code}"
        if code is not None and code >= 500:
            raise DeliveryFailed(reason, code, tries)
        delay = next(delays, None)
        if delay is None:
            raise DeliveryFailed(reason, code, tries)
        sleep(delay)


def main(argv: list[str] | None = None) -> int:
    """Command line: send the file's text to the recipient; exit 1 (with the reason) if delivery failed."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("recipient")
    parser.add_argument("report", type=Path)
    args = parser.parse_args(argv)
    host, port = os.environ.get("SMTP_HOST", "127.0.0.1"), int(os.environ.get("SMTP_PORT", "1025"))
    try:
        tries = send_report(build_report(args.recipient, args.report.read_text()), host, port)
    except DeliveryFailed as failure:
        print(f"send_report: not delivered: {failure}", file=sys.stderr)
        return 1
    print(f"send_report: delivered after {tries} attempt(s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
