"""The SMTP side: an aiosmtpd protocol subclass and handler that record transcripts, apply fault rules and store.

Only aiosmtpd's public surface is used: the ``SMTP`` constructor options, ``smtp_<VERB>`` overrides (aiosmtpd's
documented way to change a command), ``push()``, ``handle_<VERB>`` hooks, and the asyncio protocol methods
``connection_made``/``data_received``/``connection_lost``. Protocol and handler also define ``__dir__`` (Python's
own hook), which aiosmtpd reads on every connection to find commands, hooks and AUTH mechanisms.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import warnings
from collections.abc import Callable, Iterable
from typing import Any

from aiosmtpd.smtp import SMTP
from aiosmtpd.smtp import Envelope as SmtpEnvelope
from aiosmtpd.smtp import Session as SmtpSession

from mailtrap_lite import replies
from mailtrap_lite.errors import OverBudgetError, StorageError
from mailtrap_lite.faults import FaultContext, FaultEngine, Firing
from mailtrap_lite.ids import new_id
from mailtrap_lite.limits import ClientClock, ConnectionCounter, Phase, TimeLimits
from mailtrap_lite.message import Envelope, SmtpFacts, Summary, summarise, summary_is_quick
from mailtrap_lite.sessions import SessionLog, SessionRecord
from mailtrap_lite.smtp_data import smtp_data
from mailtrap_lite.smtp_paths import read_mail_options, read_path
from mailtrap_lite.store import MessageStore
from mailtrap_lite.timestamps import local_time

log = logging.getLogger("mailtrap_lite.smtp")


class _DropDeliberateAuthWarning(logging.Filter):
    """aiosmtpd logs a warning per connection when AUTH is required without TLS; here that is on purpose."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith("auth_required == True but auth_require_tls == False")


logging.getLogger("mail.log").addFilter(_DropDeliberateAuthWarning())

_CAPABILITIES = ("8BITMIME", "SMTPUTF8", "PIPELINING", "ENHANCEDSTATUSCODES")
_HELP_ATTRIBUTES = ("__smtp_syntax__", "__smtp_syntax_extended__", "__smtp_syntax_when__")

_Command = Callable[..., Any]


def same_help_as(original: _Command) -> Callable[[_Command], _Command]:
    """Give an overriding ``smtp_<VERB>`` the HELP text aiosmtpd's own command declares (``HELP`` lists only
    commands that carry it)."""

    def copy(override: _Command) -> _Command:
        for name in _HELP_ATTRIBUTES:
            if hasattr(original, name):
                setattr(override, name, getattr(original, name))
        return override

    return copy


_NAMES_STARTING: dict[tuple[type, tuple[str, ...]], tuple[str, ...]] = {}


def _names_starting(cls: type, prefixes: tuple[str, ...]) -> tuple[str, ...]:
    """The attribute names of ``cls`` that start with one of ``prefixes`` (worked out once per class)."""
    names = _NAMES_STARTING.get((cls, prefixes))
    if names is None:
        names = _NAMES_STARTING[cls, prefixes] = tuple(sorted(n for n in dir(cls) if n.startswith(prefixes)))
    return names


class CaptureHandler:
    """aiosmtpd handler: accepts any envelope (unless a fault or limit says no) and stores the message."""

    def __init__(
        self,
        store: MessageStore,
        faults: FaultEngine,
        *,
        auth_enabled: bool,
        max_recipients: int,
        connections: ConnectionCounter | None = None,
        time_limits: TimeLimits | None = None,
    ) -> None:
        self.store = store
        self.faults = faults
        self.offers_auth = auth_enabled  # not ``auth_...``: aiosmtpd takes handler attributes named so for mechanisms
        self.max_recipients = max_recipients
        self.connections = connections or ConnectionCounter(0, 0)
        self.time_limits = time_limits or TimeLimits(0, 0, 0, 0)

    def __dir__(self) -> Iterable[str]:
        """The hooks and AUTH mechanisms, which aiosmtpd looks up with ``dir()`` for every connection."""
        return _names_starting(type(self), ("handle_", "auth_"))

    async def handle_EHLO(
        self, server: CaptureSMTP, session: SmtpSession, envelope: SmtpEnvelope, hostname: str, responses: list[str]
    ) -> list[str]:
        """Advertise our capabilities; hide AUTH when authentication is off."""
        session.host_name = hostname
        lines = [r[4:] for r in responses]
        if not self.offers_auth:
            lines = [line for line in lines if not line.startswith("AUTH")]
        for capability in _CAPABILITIES:
            if capability not in lines:
                lines.insert(len(lines) - 1, capability)
        return [f"250-{line}" for line in lines[:-1]] + [f"250 {lines[-1]}"]

    async def handle_MAIL(
        self, server: CaptureSMTP, session: SmtpSession, envelope: SmtpEnvelope, address: str, options: list[str]
    ) -> str:
        """Accept the sender unless a ``mail`` fault fires."""
        status = await server.run_faults("mail", sender=address)
        if status:
            return status
        envelope.mail_from = address
        envelope.mail_options.extend(options)
        return replies.MAIL_OK

    async def handle_RCPT(
        self, server: CaptureSMTP, session: SmtpSession, envelope: SmtpEnvelope, address: str, options: list[str]
    ) -> str:
        """Accept the recipient unless a ``rcpt`` fault fires or the recipient limit is reached."""
        status = await server.run_faults("rcpt", recipient=address)
        if status:
            return status
        if self.max_recipients and len(envelope.rcpt_tos) >= self.max_recipients:
            return replies.TOO_MANY_RECIPIENTS
        envelope.rcpt_tos.append(address)
        envelope.rcpt_options.extend(options)
        return replies.RCPT_OK

    async def handle_DATA(self, server: CaptureSMTP, session: SmtpSession, envelope: SmtpEnvelope) -> str:
        """Store the message (unless a ``data_end`` fault fires) and answer with its id."""
        raw = envelope.original_content or b""
        server.record.data_finished(len(raw))
        status = await server.run_faults("data_end")
        if status:
            return status
        if server.closing:  # the server is stopping: the 250 could not reach the client, so keep nothing
            return replies.SHUTTING_DOWN
        facts = SmtpFacts(
            peer=server.peer,
            helo=session.host_name or "",
            tls=server.uses_tls,
            auth_user=_auth_user(session),
            session_id=server.record.id,
        )
        mail_envelope = Envelope(envelope.mail_from or "", tuple(envelope.rcpt_tos))
        received_at = local_time()
        summary: Summary | None = None
        if not summary_is_quick(raw):
            # Large or multipart mail is summarised in a worker thread (the loop's executor, one thread: see
            # MailServer._start_smtp): only this client waits for it, every other session on the loop keeps getting
            # its replies (the loop then reads the summary ready-made).
            summary = await asyncio.to_thread(summarise, raw, mail_envelope, received_at)
            if server.closing:
                return replies.SHUTTING_DOWN
        try:
            message = self.store.add(
                raw,
                mail_envelope,
                facts,
                received_at=received_at,
                on_stored=lambda stored: server.record.message_stored(stored.id),
                summary=summary,
            )
        except StorageError as error:  # nothing is acknowledged that is not stored
            log.error("could not store a message from %s: %s", server.peer, error)
            return replies.INSUFFICIENT_STORAGE if error.full else replies.STORAGE_FAILED
        except OverBudgetError as error:
            log.warning("refused a message from %s: %s", server.peer, error)
            return replies.over_budget(error.size, error.budget)
        return replies.queued(message.id)


# aiosmtpd reads the EHLO hook's signature on every connection (to tell its old four-argument form from the new
# one), about 35 us each time; a precomputed ``__signature__`` (PEP 362) answers at once.
CaptureHandler.handle_EHLO.__signature__ = inspect.signature(CaptureHandler.handle_EHLO)  # type: ignore[attr-defined]


def _auth_user(session: SmtpSession) -> str:
    """The login name of a successful AUTH ("" when the client did not authenticate)."""
    data = session.auth_data
    login = getattr(data, "login", None)
    if isinstance(login, bytes):
        return login.decode("utf-8", "replace")
    return ""


class CaptureSMTP(SMTP):
    """aiosmtpd's SMTP with transcripts, fault stages, enhanced status codes and a clean shutdown."""

    def __init__(
        self,
        handler: CaptureHandler,
        *,
        sessions: SessionLog,
        live: set[CaptureSMTP],
        implicit_tls: bool = False,
        **kwargs: Any,
    ) -> None:
        if kwargs.get("auth_required") and not kwargs.get("auth_require_tls", True):
            with warnings.catch_warnings():
                # Required AUTH without required TLS is deliberate here (a test server; clients must just work).
                warnings.filterwarnings("ignore", "Requiring AUTH while not requiring TLS", UserWarning)
                super().__init__(handler, **kwargs)
        else:
            super().__init__(handler, **kwargs)
        self.capture = handler
        self.sessions = sessions
        self.live = live
        self.implicit_tls = implicit_tls
        self.record: SessionRecord = sessions.start(new_id(), "")
        self.peer = ""
        self._greeted = False
        self._line_buffer = b""
        self._esmtp_codes = False
        self._continued: list[str] = []  # lines of a multi-line reply waiting for its last line
        self._refusal: str | None = None  # replaces the greeting when a connection limit is reached
        self._address: str | None = None  # the client's address, while it holds a connection slot
        self._clock: ClientClock | None = None
        # Lines that followed STARTTLS in plaintext: dropped once it is answered 220 (they were sent before the
        # handshake, so anyone on the path could have written them), noted as usual when it is refused.
        self._after_starttls: list[bytes] | None = None

    def __dir__(self) -> Iterable[str]:
        """The SMTP commands and AUTH mechanisms: what aiosmtpd looks for in ``dir()`` of each new connection.

        It walks the whole ``dir()`` of the protocol twice per connection to find them (reading every attribute on
        the way); over this class that was the largest single cost of a one-message connection (260 us, now 90)."""
        return _names_starting(type(self), ("smtp_", "auth_"))

    # -- connection lifecycle ---------------------------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        """Start the transcript on the first connection (not on the STARTTLS re-wrap)."""
        if not self.peer:
            peername = transport.get_extra_info("peername")
            self.peer = f"{peername[0]}:{peername[1]}" if isinstance(peername, tuple) else str(peername or "")
            self.record.peer = self.peer
            self.record.tls = self.implicit_tls
            address = peername[0] if isinstance(peername, tuple) else self.peer
            self._refusal = self.capture.connections.admit(address)
            if self._refusal is None:
                self._address = address
                self.live.add(self)
            else:
                log.info("refused a connection from %s: %s", self.peer, self._refusal[4:])
            limits = self.capture.time_limits
            if limits.enabled:
                self._clock = ClientClock(asyncio.get_running_loop(), limits, self._phase, self._time_is_up)
        else:
            self.record.tls = True
        super().connection_made(transport)

    def connection_lost(self, error: Exception | None) -> None:
        """Close the transcript; a transaction cut off mid-DATA stores nothing."""
        self.live.discard(self)
        if self._address is not None:
            self.capture.connections.release(self._address)
            self._address = None
        if self._clock is not None:
            self._clock.cancel()
        self.record.close()
        super().connection_lost(error)

    def data_received(self, data: bytes) -> None:
        """Feed aiosmtpd, and copy command lines (never message content) into the transcript."""
        if self._clock is not None:
            self._clock.received(len(data))
        if not self.record.in_data:
            self._note_lines(data)
        super().data_received(data)

    def _note_lines(self, data: bytes) -> None:
        buffered = self._line_buffer + data
        *lines, rest = buffered.split(b"\n")
        self._line_buffer = rest[-1024:]
        if self._clock is not None:
            self._clock.command_bytes(bool(lines), bool(rest))
        self._note(lines)

    def _note(self, lines: list[bytes]) -> None:
        record = self.record
        for index, line in enumerate(lines):
            if self._after_starttls is not None:
                self._after_starttls.extend(lines[index:])
                return
            verb = record.client_line(line.rstrip(b"\r").decode("utf-8", "replace"))
            if record.in_data:
                self._line_buffer = b""
                return
            if verb == "STARTTLS":
                self._after_starttls = []

    def _settle_after_starttls(self, reply: str) -> None:
        """STARTTLS was answered: on ``220`` what followed it in plaintext is dropped (aiosmtpd empties its
        buffer at the handshake, so none of it runs) and shown as such; on a refusal it is read as usual."""
        held, self._after_starttls = self._after_starttls or [], None
        if reply.startswith("220"):
            held.append(self._line_buffer)
            self._line_buffer = b""
            if self._clock is not None:  # a dropped half line is no command the client is still sending
                self._clock.command_bytes(completed=False, incomplete=False)
            for line in held:
                if line.strip():
                    self.record.discarded_line(line.rstrip(b"\r").decode("utf-8", "replace"))
        else:
            self._note(held)

    @property
    def closing(self) -> bool:
        """True once the connection is being closed (by the client, the idle timer or the server stopping)."""
        return self.transport is None or self.transport.is_closing()

    @property
    def uses_tls(self) -> bool:
        """True when the session is encrypted (implicit TLS or after STARTTLS)."""
        return self.record.tls

    def shutdown(self) -> None:
        """Tell the client the service is going away and close the connection (used on server stop).

        A transaction in the middle of DATA is aborted: the client never gets a 250, so nothing half-received is
        stored, and the 421 is not written into the middle of its upload."""
        self._close_with(None if self.record.in_data else replies.SHUTTING_DOWN)

    def _phase(self) -> Phase:
        """What the connection is doing, for the time limits (see :class:`~mailtrap_lite.limits.ClientClock`)."""
        record = self.record
        if not record.in_data:
            return "command"
        return "data" if record.receiving_data else "busy"

    def _time_is_up(self, reply: str) -> None:
        log.info("closing the connection from %s: %s", self.peer, reply[4:])
        self._close_with(reply)

    def _close_with(self, reply: str | None) -> None:
        transport = self.transport
        if transport is not None and not transport.is_closing():
            if reply is not None:
                self.record.server_reply(reply)
                transport.write(reply.encode() + b"\r\n")  # type: ignore[attr-defined]
            transport.close()

    # -- replies ----------------------------------------------------------------------------------------------

    async def push(self, status: str | bytes) -> None:
        """Send a reply: the connect-stage fault runs before the greeting, and replies gain enhanced codes.

        A fault reply instead of the greeting, and any 421, close the connection once sent (RFC 5321 4.2.2: 421
        means the service is closing the transmission channel).
        """
        text = status.decode("utf-8", "replace") if isinstance(status, bytes) else status
        close = False
        if not self._greeted:
            self._greeted = True
            fault_reply = self._refusal or await self.run_faults("connect")
            if fault_reply:
                text, close = fault_reply, True
        if self._esmtp_codes:
            text = replies.with_enhanced_code(text)
        await self._send(text)
        if (close or text.startswith("421")) and self.transport is not None:
            self.transport.close()

    async def _send(self, text: str) -> None:
        answered = self.record.server_reply(text)
        if answered == "STARTTLS" and self._after_starttls is not None:
            self._settle_after_starttls(text)
        if text[3:4] == "-":  # a multi-line reply leaves in one write with its last line: one send, not one per line
            self._continued.append(text)
            return
        if self._continued:
            text = "\r\n".join([*self._continued, text])
            self._continued.clear()
        await super().push(text)

    # -- fault stages that aiosmtpd has no handler hook for ---------------------------------------------------

    @same_help_as(SMTP.smtp_EHLO)
    async def smtp_EHLO(self, hostname: str) -> None:
        """EHLO, after the ``ehlo`` fault stage."""
        self.record.set_helo(hostname)
        if await self._reply_fault("ehlo"):
            return
        self._esmtp_codes = False  # the EHLO response itself carries no enhanced codes
        await super().smtp_EHLO(hostname)
        self._esmtp_codes = bool(hostname)

    @same_help_as(SMTP.smtp_HELO)
    async def smtp_HELO(self, hostname: str) -> None:
        """HELO, after the ``ehlo`` fault stage."""
        self.record.set_helo(hostname)
        if await self._reply_fault("ehlo"):
            return
        await super().smtp_HELO(hostname)

    @same_help_as(SMTP.smtp_AUTH)
    async def smtp_AUTH(self, arg: str) -> None:
        """AUTH, after the ``auth`` fault stage; the authenticated user goes into the transcript."""
        if await self._reply_fault("auth"):
            return
        await super().smtp_AUTH(arg)
        if self.session is not None and self.session.authenticated:
            self.record.auth_user = _auth_user(self.session)

    @same_help_as(SMTP.smtp_STARTTLS)
    async def smtp_STARTTLS(self, arg: str) -> None:
        """STARTTLS; inside TLS (after STARTTLS, or on the implicit-TLS port) it is refused with ``503 5.5.1``."""
        if self.uses_tls:
            await self.push(replies.TLS_ALREADY_ACTIVE)
            return
        await super().smtp_STARTTLS(arg)

    @same_help_as(SMTP.smtp_DATA)
    async def smtp_DATA(self, arg: str) -> None:
        """DATA, after the ``data`` fault stage (``data_end`` runs once the content has arrived)."""
        if self.envelope is not None and self.envelope.rcpt_tos and not arg and await self._reply_fault("data"):
            return
        await smtp_data(self, arg)  # aiosmtpd's DATA, reading the content in bulk instead of line by line

    @same_help_as(SMTP.smtp_MAIL)
    async def smtp_MAIL(self, arg: str | None) -> None:
        """MAIL FROM: the everyday form (``FROM:<a@b>`` with simple options) is read here, quickly; anything else,
        and every error reply, is aiosmtpd's own command."""
        if await self.check_helo_needed() or await self.check_auth_needed("MAIL"):
            return
        session, envelope = self.session, self.envelope
        path = read_path(arg, "FROM:")
        options = None
        if path is not None:
            limit = self.data_size_limit or 0
            options = read_mail_options(path[1], smtputf8_enabled=self.enable_SMTPUTF8, size_limit=limit)
        if (path is None or options is None or session is None or envelope is None or envelope.mail_from
                or (options[0] and not session.extended_smtp)):
            await super().smtp_MAIL(arg)
            return
        mail_options, envelope.smtp_utf8 = options
        await self.push(await self.capture.handle_MAIL(self, session, envelope, path[0], mail_options))

    @same_help_as(SMTP.smtp_RCPT)
    async def smtp_RCPT(self, arg: str | None) -> None:
        """RCPT TO: an everyday ``TO:<a@b>`` without options is read here, quickly; anything else, and every error
        reply, is aiosmtpd's own command."""
        if await self.check_helo_needed() or await self.check_auth_needed("RCPT"):
            return
        session, envelope = self.session, self.envelope
        path = read_path(arg, "TO:")
        if path is None or path[1] or session is None or envelope is None or not envelope.mail_from:
            await super().smtp_RCPT(arg)
            return
        await self.push(await self.capture.handle_RCPT(self, session, envelope, path[0], []))

    async def _reply_fault(self, stage: str) -> bool:
        status = await self.run_faults(stage)
        if status:
            await self.push(status)
            return True
        return False

    async def run_faults(self, stage: str, sender: str | None = None, recipient: str | None = None) -> str | None:
        """Check the rules for ``stage`` and act: return a reply to send, or None to carry on normally.

        ``delay`` sleeps and carries on; ``hang`` never returns (the connection's end cancels it);
        ``disconnect`` closes the socket without a reply.
        """
        if not self.capture.faults.armed:
            return None
        envelope = self.envelope
        context = FaultContext(
            stage=stage,
            session_id=self.record.id,
            peer=self.peer,
            sender=sender if sender is not None else (envelope.mail_from if envelope else None),
            recipient=recipient,
            recipients=tuple(envelope.rcpt_tos) if envelope else (),
        )
        firing = self.capture.faults.check(context)
        if firing is None:
            return None
        return await self._act(firing)

    async def _act(self, firing: Firing) -> str | None:
        """Record the firing, then do it. Delays and hangs are awaits in this session's own task, so every other
        session is served at full speed meanwhile."""
        self.record.fault_fired(firing.rule_id, firing.description)
        action = firing.action
        if action.kind == "reply":
            return action.line
        if action.kind == "delay":
            await asyncio.sleep(action.seconds)
            return None
        if action.kind == "disconnect" and self.transport is not None:
            self.transport.abort()  # type: ignore[attr-defined]
        await asyncio.get_running_loop().create_future()  # hang: the connection's end cancels this
        return None


def protocol_factory(
    handler: CaptureHandler,
    sessions: SessionLog,
    live: set[CaptureSMTP],
    implicit_tls: bool = False,
    **smtp_options: Any,
) -> Callable[[], CaptureSMTP]:
    """A factory for ``loop.create_server`` that builds one :class:`CaptureSMTP` per connection."""

    def build() -> CaptureSMTP:
        # The running loop, passed in: else aiosmtpd looks it up for every connection under warnings.catch_warnings()
        loop = asyncio.get_running_loop()
        return CaptureSMTP(handler, sessions=sessions, live=live, implicit_tls=implicit_tls, loop=loop, **smtp_options)

    return build
