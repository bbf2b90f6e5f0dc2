"""Real SMTP clients for the fault tests: send once and report what the client saw, as a code or a word."""

from __future__ import annotations

import smtplib
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from mail_senders import build_message

from mailtrap_lite import MailServer
from mailtrap_lite.events import Event
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
def finished_sessions(server: MailServer) -> Iterator[Callable[[int, float], list[SessionRecord]]]:
    """Collect sessions as they close; the yielded ``wait(count, timeout)`` returns once ``count`` have closed."""
    closed: list[SessionRecord] = []
    condition = threading.Condition()

    def on_event(event: Event) -> None:
        if event.type == "session":
            with condition:
                closed.append(event.data)
                condition.notify_all()

    def wait(count: int = 1, timeout: float = 10) -> list[SessionRecord]:
        with condition:
            if not condition.wait_for(lambda: len(closed) >= count, timeout):
                raise AssertionError(f"{len(closed)} of {count} sessions closed within {timeout}s")
            return list(closed)

    unsubscribe = server.bus.subscribe(on_event)
    try:
        yield wait
    finally:
        unsubscribe()


def wait_until(predicate: Callable[[], bool], timeout: float = 10, what: str = "condition") -> None:
    """Wait (bounded) for state another thread changes without announcing it, e.g. a rule's ``fired`` counter."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} not reached within {timeout}s")
        time.sleep(0.005)


class FakeClock:
    """A monotonic clock the test moves by hand, for greylist windows and rate limits without real waiting."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds
