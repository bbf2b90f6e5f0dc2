"""A view on a capture server for one test (or one script): read, wait for and assert on mail, inject faults.

A :class:`Mailbox` shows only what arrived after its watermark (``since_seq`` for messages, ``since_attempt`` for
SMTP attempts), so one long-running server serves many isolated tests. It reads through a :class:`MailSource`:
:class:`LocalSource` for a server in this process, ``mailtrap_lite.remote.RemoteSource`` for one reached over HTTP.
Every failure raises :class:`~mailtrap_lite.errors.MailAssertionError` carrying the report of
:mod:`mailtrap_lite.report`; ``__tracebackhide__`` makes pytest point at the test's line, not at ours.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from mailtrap_lite.criteria import Criteria, Tags
from mailtrap_lite.errors import MailAssertionError
from mailtrap_lite.fault_presets import FaultBackend, Faults
from mailtrap_lite.faults import Rule
from mailtrap_lite.message import Message, Predicate
from mailtrap_lite.report import render
from mailtrap_lite.tls import TlsFiles

if TYPE_CHECKING:
    from mailtrap_lite.server import MailServer

DEFAULT_TIMEOUT = 5.0


@dataclass(frozen=True)
class SmtpAttempt:
    """One SMTP transaction as the client experienced it, with the stored message when there is one."""

    sender: str | None
    recipients: tuple[str, ...]
    rejected_recipients: tuple[tuple[str, int], ...]
    reply_code: int | None
    reply_text: str
    fault: str | None
    message: Message | None = field(default=None, repr=False)

    @property
    def accepted(self) -> bool:
        """True when the server accepted the message (final reply 2xx)."""
        return self.reply_code is not None and 200 <= self.reply_code < 300


class MailSource(Protocol):
    """What a Mailbox reads: messages and attempts numbered in arrival order, waits, tags and fault rules."""

    host: str
    port: int
    smtps_port: int | None
    http_url: str | None
    tls: TlsFiles | None
    credentials: tuple[str, str] | None

    def last_seq(self) -> int: ...
    def last_attempt_seq(self) -> int: ...
    def messages_since(self, seq: int) -> list[Message]: ...
    def wait_for(
        self, predicate: Predicate, count: int, timeout: float, since_seq: int
    ) -> tuple[list[Message], bool]: ...
    def on_new_message(self, callback: Callable[[], None]) -> Callable[[], None]: ...
    def attempts_since(self, seq: int) -> list[SmtpAttempt]: ...
    def tags_of(self, message: Message) -> Tags: ...
    def fault_backend(self) -> FaultBackend: ...


class LocalSource:
    """A :class:`MailSource` over a :class:`~mailtrap_lite.server.MailServer` running in this process."""

    def __init__(self, server: MailServer) -> None:
        self.server = server
        self.host = server.smtp_host
        self.port = server.smtp_port
        self.smtps_port = server.smtps_port
        self.http_url = server.http_url
        self.tls = server.tls
        users = server.config.smtp_users if server.config.smtp_auth == "required" else None
        self.credentials = next(iter(users.items())) if users else None

    def last_seq(self) -> int:
        """The newest message's sequence number."""
        return self.server.store.last_seq

    def last_attempt_seq(self) -> int:
        """The newest SMTP attempt's number."""
        return self.server.sessions.last_attempt_seq

    def messages_since(self, seq: int) -> list[Message]:
        """Messages stored after ``seq``, oldest first."""
        return self.server.store.since(seq)

    def wait_for(self, predicate: Predicate, count: int, timeout: float, since_seq: int) -> tuple[list[Message], bool]:
        """Block on the store's condition until ``count`` messages after ``since_seq`` match."""
        return self.server.store.wait_for(predicate, count, timeout, since_seq)

    def on_new_message(self, callback: Callable[[], None]) -> Callable[[], None]:
        """Call ``callback`` (in the SMTP thread) whenever a message is stored; returns the unsubscribe function."""

        def listener(event: Any) -> None:
            if event.type == "new":
                callback()

        return self.server.bus.subscribe(listener)

    def attempts_since(self, seq: int) -> list[SmtpAttempt]:
        """Finished SMTP transactions that started after ``seq``, each linked to its stored message."""
        store = self.server.store
        return [
            SmtpAttempt(
                sender=a.sender,
                recipients=tuple(a.recipients),
                rejected_recipients=tuple(a.rejected_recipients),
                reply_code=a.reply_code,
                reply_text=a.reply_text,
                fault=a.fault,
                message=store.get(a.message_id) if a.message_id else None,
            )
            for a in self.server.sessions.attempts(seq)
        ]

    def tags_of(self, message: Message) -> Tags:
        """The message's current tags."""
        return self.server.store.tags_of(message.id)

    def fault_backend(self) -> FaultBackend:
        """The server's fault engine."""
        return self.server.fault_engine


class _TestFaults:
    """The fault backend one mailbox sees: it remembers the rules it added, so they can be checked and removed."""

    def __init__(self, backend: FaultBackend) -> None:
        self._backend = backend
        self._added: list[str] = []

    def add(self, rule: Rule) -> Rule:
        """Add the rule to the server and remember it as this view's."""
        added = self._backend.add(rule)
        self._added.append(added.id)
        return added

    def remove(self, rule_id: str) -> bool:
        """Remove one rule from the server."""
        return self._backend.remove(rule_id)

    def clear(self) -> None:
        """Remove the rules this view added (other tests' or workers' rules stay)."""
        for rule_id in self._added:
            self._backend.remove(rule_id)
        self._added.clear()

    def rules(self) -> list[Rule]:
        """This view's rules still on the server, with their counters."""
        if not self._added:  # spares a remote server a request per test
            return []
        return [r for r in self._backend.rules() if r.id in self._added]


@dataclass
class Expectation:
    """What an ``expect()`` block waited for; filled in when the block ends."""

    messages: list[Message] = field(default_factory=list)

    @property
    def message(self) -> Message:
        """The first expected message."""
        return self.messages[0]


class Mailbox:
    """The messages, attempts and fault rules of one test, on a shared server."""

    def __init__(self, source: MailSource, *, watermark: bool = True, timeout: float = DEFAULT_TIMEOUT) -> None:
        self.source = source
        self.timeout = timeout
        self._since = source.last_seq() if watermark else 0
        self._since_attempt = source.last_attempt_seq() if watermark else 0
        self.faults = Faults(_TestFaults(source.fault_backend()))
        self._token = uuid.uuid4().hex[:12]

    # -- where to send ----------------------------------------------------------------------------------------

    @property
    def host(self) -> str:
        """The SMTP host to point the application at."""
        return self.source.host

    @property
    def port(self) -> int:
        """The SMTP port to point the application at."""
        return self.source.port

    @property
    def smtps_port(self) -> int | None:
        """The implicit-TLS (SMTPS) port, when the server has one (``mailtrap_tls`` turns it on)."""
        return self.source.smtps_port

    @property
    def smtp_url(self) -> str:
        """``smtp://host:port``."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"smtp://{host}:{self.port}"

    @property
    def http_url(self) -> str | None:
        """The web UI and API base URL, when the server runs one."""
        return self.source.http_url

    @property
    def tls(self) -> TlsFiles | None:
        """The server's certificate files (``tls.client_context()``, ``tls.ca_path``), when TLS is on."""
        return self.source.tls

    def address(self, name: str = "user", domain: str = "example.com") -> str:
        """A recipient unique to this view, ``name+<token>@domain``: criteria and fault rules that name it ignore
        mail other tests send, even from other xdist workers sharing a remote server."""
        return f"{name}+{self._token}@{domain}"

    def env(self) -> dict[str, str]:
        """Environment variables that point common mail settings at this server (for apps in subprocesses)."""
        host, port = self.host, str(self.port)
        return {
            "SMTP_HOST": host,
            "SMTP_PORT": port,
            "EMAIL_HOST": host,
            "EMAIL_PORT": port,
            "MAIL_SERVER": host,
            "MAIL_PORT": port,
        }

    def django_settings(self) -> dict[str, Any]:
        """Django settings that send real SMTP to this server (apply with pytest-django's ``settings``)."""
        user, password = self.source.credentials or ("", "")
        return {
            "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "EMAIL_HOST": self.host,
            "EMAIL_PORT": self.port,
            "EMAIL_HOST_USER": user,
            "EMAIL_HOST_PASSWORD": password,
            "EMAIL_USE_TLS": False,
            "EMAIL_USE_SSL": False,
            "EMAIL_TIMEOUT": 10,
        }

    def flask_mail_config(self) -> dict[str, Any]:
        """Flask-Mail settings for this server; ``MAIL_SUPPRESS_SEND=False`` so ``TESTING=True`` still sends."""
        user, password = self.source.credentials or (None, None)
        return {
            "MAIL_SERVER": self.host,
            "MAIL_PORT": self.port,
            "MAIL_USE_TLS": False,
            "MAIL_USE_SSL": False,
            "MAIL_USERNAME": user,
            "MAIL_PASSWORD": password,
            "MAIL_SUPPRESS_SEND": False,
        }

    # -- reading ----------------------------------------------------------------------------------------------

    @property
    def messages(self) -> list[Message]:
        """This view's messages, oldest first."""
        return self.source.messages_since(self._since)

    def __len__(self) -> int:
        return len(self.messages)

    def __iter__(self) -> Iterator[Message]:
        return iter(self.messages)

    def filter(self, **criteria: Any) -> list[Message]:
        """The messages matching every criterion, oldest first."""
        return self._matching(Criteria(**criteria), self.messages)

    @property
    def latest(self) -> Message:
        """The newest message; fails with the report when there is none."""
        __tracebackhide__ = True
        messages = self.messages
        if not messages:
            raise self._failure("mailtrap: no message was captured in this test.", Criteria(), messages)
        return messages[-1]

    @property
    def attempts(self) -> list[SmtpAttempt]:
        """This view's SMTP transactions in the order they started, rejected ones included."""
        return self.source.attempts_since(self._since_attempt)

    # -- waiting ----------------------------------------------------------------------------------------------

    def wait_for(self, count: int = 1, timeout: float | None = None, **criteria: Any) -> Any:
        """Block until ``count`` matching messages are here; the message (a list when ``count`` > 1).

        Wakes the moment mail is stored (no sleeping, no polling); on timeout fails with the report.
        """
        __tracebackhide__ = True
        return _one_or_list(self._wait(Criteria(**criteria), count, timeout, self._since), count)

    async def wait_for_async(self, count: int = 1, timeout: float | None = None, **criteria: Any) -> Any:
        """``wait_for`` for asyncio code: the event loop keeps running while the mail is awaited."""
        __tracebackhide__ = True
        wanted = Criteria(**criteria)
        seconds = self.timeout if timeout is None else timeout
        loop = asyncio.get_running_loop()
        arrived = asyncio.Event()

        def wake() -> None:  # runs in the thread that stored the message
            loop.call_soon_threadsafe(arrived.set)

        unsubscribe = await asyncio.to_thread(self.source.on_new_message, wake)  # a remote source connects here
        deadline = loop.time() + seconds
        try:
            while True:
                arrived.clear()
                found = await asyncio.to_thread(lambda: self._matching(wanted, self.messages))  # may be HTTP
                remaining = deadline - loop.time()
                if len(found) >= count or remaining <= 0:
                    break
                try:
                    await asyncio.wait_for(arrived.wait(), remaining)
                except asyncio.TimeoutError:
                    continue
        finally:
            unsubscribe()
        if len(found) < count:
            raise self._timeout(wanted, count, seconds, self.messages)
        return _one_or_list(found[:count], count)

    @contextmanager
    def expect(self, count: int = 1, timeout: float | None = None, **criteria: Any) -> Iterator[Expectation]:
        """Wait, when the block ends, for ``count`` matching messages sent inside it (e.g. by a background job)."""
        __tracebackhide__ = True
        wanted = Criteria(**criteria)
        since = self.source.last_seq()
        expectation = Expectation()
        yield expectation
        expectation.messages = self._wait(wanted, count, timeout, since)

    def _wait(self, wanted: Criteria, count: int, timeout: float | None, since: int) -> list[Message]:
        __tracebackhide__ = True
        seconds = self.timeout if timeout is None else timeout
        found, reached = self.source.wait_for(self._predicate(wanted), count, seconds, since)
        if not reached:
            raise self._timeout(wanted, count, seconds, self.source.messages_since(since))
        return found[:count]

    # -- asserting --------------------------------------------------------------------------------------------

    def assert_sent(self, count: int | None = None, **criteria: Any) -> list[Message]:
        """Fail with the report unless exactly ``count`` (default: at least one) messages match; return them."""
        __tracebackhide__ = True
        wanted = Criteria(**criteria)
        messages = self.messages
        found = self._matching(wanted, messages)
        if (count is None and found) or len(found) == count:
            return found
        expected = "at least 1 message" if count is None else _plural(count, "message")
        raise self._failure(
            f"mailtrap: expected {expected} matching {wanted}, found {len(found)}.", wanted, messages
        )

    def assert_not_sent(self, within: float = 0, **criteria: Any) -> None:
        """Fail with the report if a matching message is here, or arrives within ``within`` seconds."""
        __tracebackhide__ = True
        wanted = Criteria(**criteria)
        if within > 0:
            found, _ = self.source.wait_for(self._predicate(wanted), 1, within, self._since)
        else:
            found = self.filter(**criteria)
        if found:
            window = f" within {within}s" if within > 0 else ""
            raise self._failure(
                f"mailtrap: expected no message matching {wanted}{window}, found {len(found)}.",
                wanted,
                self.messages,
            )

    def check(self) -> None:
        """Fail with the report if a one-shot fault rule added here never fired (run by the fixture's teardown)."""
        __tracebackhide__ = True
        unfired = self.faults.unfired()
        if unfired:
            listed = "; ".join(f"{rule.id} ({rule.describe()})" for rule in unfired)
            raise self._failure(
                f"mailtrap: fault rule(s) added in this test never fired: {listed}. "
                "The test did not exercise the failure it set up.",
                Criteria(),
                self.messages,
            )

    def summary(self) -> str:
        """The report of what this view captured and which attempts were refused (shown when a test fails)."""
        return render(
            "mailtrap: what this test captured", Criteria(), self.messages, self.attempts, self.source.tags_of,
            self.http_url,
        )

    def close(self) -> None:
        """Remove the fault rules added through this view."""
        self.faults.clear()

    # -- the report -------------------------------------------------------------------------------------------

    def _predicate(self, wanted: Criteria) -> Predicate:
        return lambda message: wanted.matches(message, self.source.tags_of(message))

    def _matching(self, wanted: Criteria, messages: list[Message]) -> list[Message]:
        return [m for m in messages if wanted.matches(m, self.source.tags_of(m))]

    def _timeout(self, wanted: Criteria, count: int, seconds: float, messages: list[Message]) -> MailAssertionError:
        found = len(self._matching(wanted, messages))
        return self._failure(
            f"mailtrap: waited {seconds:g}s for {_plural(count, 'message')} matching {wanted}; {found} arrived.",
            wanted,
            messages,
        )

    def _failure(self, headline: str, wanted: Criteria, messages: list[Message]) -> MailAssertionError:
        report = render(headline, wanted, messages, self.attempts, self.source.tags_of, self.http_url)
        return MailAssertionError(report)


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def _one_or_list(messages: list[Message], count: int) -> Any:
    return messages[0] if count == 1 else messages
