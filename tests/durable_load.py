"""A durable-mode server run as the real CLI, and senders that load it until it goes away (shared by the
kill -9 and SIGTERM tests)."""

from __future__ import annotations

import smtplib
import threading
from email.message import EmailMessage
from email.policy import SMTP
from pathlib import Path

from http_api import Api
from mailtools import make_message
from test_cli import RunningCli


class DurableCli(RunningCli):
    """The CLI on a database file, with its API at hand."""

    def __init__(self, db: Path) -> None:
        super().__init__("--smtp", "127.0.0.1:0", "--http", "127.0.0.1:0", "--db", str(db), "-q")
        host, port = self.address("SMTP on").rsplit(":", 1)
        self.smtp_host, self.smtp_port = host, int(port)
        self.api = Api(self.address("web UI and API on"))

    def kill(self) -> None:
        """SIGKILL: no shutdown code runs at all."""
        self.process.kill()
        self.process.wait(10)

    def stored(self) -> dict[str, dict[str, object]]:
        """Every stored message's summary, keyed by Message-ID."""
        listing = self.api.json("/api/v1/messages?limit=0")
        return {m["MessageID"]: m for m in listing["messages"]}


def mail(index: int) -> EmailMessage:
    message = make_message("app@example.com", "user@example.com", f"durable {index}", f"message number {index}")
    message["Message-ID"] = f"<durable-{index}@example.com>"
    return message


def deliver(client: smtplib.SMTP, message: EmailMessage) -> int:
    """One mail transaction; returns the DATA reply code (250 means acknowledged)."""
    client.ehlo_or_helo_if_needed()
    client.mail("app@example.com")
    client.rcpt("user@example.com")
    code, _ = client.data(message.as_bytes(policy=SMTP))
    return code


class LoadSenders:
    """``count`` threads, each delivering numbered messages over one connection until the server goes away.

    ``acked`` collects the Message-IDs answered 250 and ``codes`` every reply code seen, refusals included.
    """

    def __init__(self, cli: DurableCli, count: int) -> None:
        self.cli = cli
        self.acked: list[str] = []
        self.codes: set[int] = set()
        self.lock = threading.Lock()
        self._acked_changed = threading.Condition(self.lock)
        self.threads = [threading.Thread(target=self._send, args=(n,)) for n in range(count)]
        for thread in self.threads:
            thread.start()

    def wait_for_acks(self, count: int, timeout: float = 60) -> bool:
        """Block until ``count`` messages were acknowledged (False on timeout)."""
        with self._acked_changed:
            return self._acked_changed.wait_for(lambda: len(self.acked) >= count, timeout)

    def join(self, timeout: float = 15) -> None:
        """Wait for every sender to notice that the server is gone."""
        for thread in self.threads:
            thread.join(timeout)

    def _send(self, number: int) -> None:
        index = number * 1_000_000
        try:
            with smtplib.SMTP(self.cli.smtp_host, self.cli.smtp_port, timeout=10) as client:
                while True:
                    index += 1
                    message = mail(index)
                    code = deliver(client, message)
                    with self._acked_changed:
                        self.codes.add(code)
                        if code == 250:
                            self.acked.append(message["Message-ID"].strip("<>"))
                            self._acked_changed.notify_all()
        except smtplib.SMTPResponseException as error:  # MAIL/RCPT/DATA refused
            with self.lock:
                self.codes.add(error.smtp_code)
        except smtplib.SMTPRecipientsRefused as error:
            with self.lock:
                self.codes.update(code for code, _ in error.recipients.values())
        except (smtplib.SMTPServerDisconnected, OSError):
            pass  # cut off mid-transaction: that message was not acknowledged
