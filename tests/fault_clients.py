"""Real SMTP clients for the fault tests: send once and report what the client saw, as a code or a word."""

from __future__ import annotations

import smtplib
import threading
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import Any

from mail_senders import build_message

from mailtrap_lite import MailServer
from mailtrap_lite.events import Event
from mailtrap_lite.faults import Firing
from mailtrap_lite.sessions import SessionRecord

Outcome = int | str  # the reply code that ended the attempt, or "disconnected" / "timeout"


def try_send(host: str, port: int, to: str = "bob@example.com", sender: str = "alice@example.com",
             timeout: float = 10) -> Outcome:
    """Send one message with smtplib; return 250 on success, the refusing reply code, or what went wrong."""
    try:
        with smtplib.SMTP(host, port, timeout=timeout) as client:
            client.send_message(build_message(to=to, sender=sender))
        return 250
    except smtplib.SMTPRecipientsRefused as error:
        return next(iter(error.recipients.values()))[0]
    except smtplib.SMTPResponseException as error:
        return error.smtp_code
    except smtplib.SMTPServerDisconnected as error:
        return "timeout" if "timed out" in str(error) else "disconnected"  # smtplib wraps its read timeout
    except TimeoutError:
        return "timeout"


def outcomes(server: MailServer, n: int, **kwargs: object) -> list[Outcome]:
    """``n`` consecutive attempts, each on its own connection, as a retrying mailer would make them."""
    return [try_send(server.smtp_host, server.smtp_port, **kwargs) for _ in range(n)]  # type: ignore[arg-type]


@contextmanager
def bus_events(server: MailServer, kind: str, what: str) -> Iterator[Callable[[int, float], list[Any]]]:
    """Collect the data of ``kind`` events as they are published; the yielded ``wait(count, timeout)`` returns
    them once ``count`` have arrived (``what`` names them in the failure message)."""
    seen: list[Any] = []
    condition = threading.Condition()

    def on_event(event: Event) -> None:
        if event.type == kind:
            with condition:
                seen.append(event.data)
                condition.notify_all()

    def wait(count: int = 1, timeout: float = 10) -> list[Any]:
        with condition:
            if not condition.wait_for(lambda: len(seen) >= count, timeout):
                raise AssertionError(f"{len(seen)} of {count} {what} within {timeout}s")
            return list(seen)

    unsubscribe = server.bus.subscribe(on_event)
    try:
        yield wait
    finally:
        unsubscribe()


def finished_sessions(server: MailServer) -> AbstractContextManager[Callable[[int, float], list[SessionRecord]]]:
    """Collect sessions as they close; the yielded ``wait(count, timeout)`` returns once ``count`` have closed."""
    return bus_events(server, "session", "sessions closed")


def fault_firings(server: MailServer) -> AbstractContextManager[Callable[[int, float], list[Firing]]]:
    """Collect fault rules' firings; the yielded ``wait(count, timeout)`` returns once ``count`` rules fired."""
    return bus_events(server, "fired", "fault firings")


class FakeClock:
    """A monotonic clock the test moves by hand, for greylist windows and rate limits without real waiting."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds
