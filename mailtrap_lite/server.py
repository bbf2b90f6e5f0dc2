"""The composition root: wires store, session log, faults, SMTP listeners and (optionally) the web app together.

:class:`MailServer` runs everything in background threads and is a context manager. It starts without a
readiness race: ``start()`` returns once the listening sockets exist (their real ports known), and raises the
bind error itself when a port is taken. ``stop()`` is idempotent and bounded, so test teardown never hangs.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import logging
import socket
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import fields, replace
from typing import Any

from mailtrap_lite.auth import Authenticator
from mailtrap_lite.config import ServerConfig
from mailtrap_lite.errors import ConfigError
from mailtrap_lite.events import EventBus
from mailtrap_lite.fault_presets import Faults
from mailtrap_lite.faults import FaultEngine, FaultError, parse_chaos
from mailtrap_lite.limits import AIOSMTPD_BACKSTOP_SECONDS, ConnectionCounter, TimeLimits
from mailtrap_lite.loop_watch import LoopWatch
from mailtrap_lite.mailbox import DEFAULT_TIMEOUT, LocalSource, Mailbox
from mailtrap_lite.persistence import SqliteJournal
from mailtrap_lite.sessions import SessionLog
from mailtrap_lite.smtp import CaptureHandler, CaptureSMTP, protocol_factory
from mailtrap_lite.store import MessageStore
from mailtrap_lite.tls import TlsFiles, self_signed

log = logging.getLogger("mailtrap_lite")

_STOP_TIMEOUT = 5.0
_HTTP_STOP_TIMEOUT = 0.25  # requests still running then (a long-poll wait) end later with their daemon threads
_HTTP_BACKLOG = 1024


class MailServer:
    """A running capture server. ``MailServer(smtp_port=0)`` picks a free port; read it from ``.smtp_port``.

    Keyword arguments are :class:`~mailtrap_lite.config.ServerConfig` fields (``http_port=0`` adds the web UI).
    """

    def __init__(self, config: ServerConfig | None = None, **options: Any) -> None:
        known = {f.name for f in fields(ServerConfig)}
        unknown = sorted(set(options) - known)
        if unknown:
            raise TypeError(f"unknown MailServer option(s): {', '.join(unknown)}")
        self.config = replace(config or ServerConfig(), **options)
        self.config.validate()
        self.bus = EventBus()
        self.journal = SqliteJournal(self.config.db) if self.config.db is not None else None
        self.store = MessageStore(
            self.bus, max_messages=self.config.max_messages, journal=self.journal,
            max_total_size=self.config.max_total_size,
        )
        self._restore_messages()
        self.sessions = SessionLog(self.bus, capacity=self.config.session_capacity)
        self.fault_engine = FaultEngine(self.bus, seed=self.config.seed)
        self.faults = Faults(self.fault_engine)
        self._apply_fault_config()
        self.tls: TlsFiles | None = None
        self.smtp_host = self.config.smtp_host
        self.smtp_port = 0
        self.smtps_port: int | None = None
        self.http_port: int | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self.loop_watch = LoopWatch("smtp")  # logs "event loop stalled N ms (smtp)" when the SMTP loop is held up
        self._loop_thread: threading.Thread | None = None
        self._servers: list[asyncio.base_events.Server] = []
        self._live: set[CaptureSMTP] = set()
        self._http: Any = None
        self._started = False
        self._stopped = False
        self._lock = threading.Lock()

    def _apply_fault_config(self) -> None:
        """Start with ``config.faults`` (rule strings) and ``config.chaos``; a bad one raises ConfigError naming
        ``--fault``/``--chaos`` and the rule (the server is not built, so nothing is half-applied)."""
        config, engine = self.config, self.fault_engine
        flag, noun = "--fault", "rule"
        try:
            rules = engine.add_all(config.faults)
            flag, noun = "--chaos", "trigger"
            if config.chaos is not None:
                engine.chaos_enabled = True
                engine.set_chaos(parse_chaos(config.chaos))
        except FaultError as error:
            problem = f"{noun} {error.rule!r}: {error.problem}" if error.rule else error.problem
            raise ConfigError(flag, problem) from None
        if any(r.probability is not None for r in rules) or any(t["Probability"] for t in engine.chaos().values()):
            log.info("probabilistic faults use seed %d (replay a run with --seed)", engine.seed)

    def _restore_messages(self) -> None:
        """In durable mode, load what the file holds (the newest kept when it holds more than the caps allow)."""
        if self.journal is None:
            return
        for stored in self.journal.load():
            self.store.restore(stored.message, stored.read, stored.tags)
        pruned = self.store.enforce_limits()
        if pruned:
            log.info("pruned the %d oldest messages of %s to fit --max-messages/--max-total-size", len(pruned),
                     self.config.db)
        log.info("loaded %d messages from %s", len(self.store), self.config.db)

    # -- lifecycle --------------------------------------------------------------------------------------------

    def __enter__(self) -> MailServer:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def start(self) -> MailServer:
        """Bind the listeners and start serving. Raises ConfigError (naming the flag) when a port is unusable."""
        with self._lock:
            if self._started:
                return self
            self._started = True
        try:
            self._start_smtp()
            if self.config.http_port is not None:
                self._start_http()
        except BaseException:
            self.stop()
            raise
        return self

    def _tls_context(self) -> Any:
        config = self.config
        if config.tls_self_signed:
            self.tls = self_signed()
        elif config.tls_cert is not None and config.tls_key is not None:
            self.tls = TlsFiles(config.tls_cert, config.tls_key)
        else:
            return None
        try:
            return self.tls.server_context()
        except (OSError, ValueError) as error:
            flag = "--tls self-signed" if config.tls_self_signed else "--tls-cert"
            raise ConfigError(flag, f"cannot load certificate: {getattr(error, 'strerror', None) or error}") from None

    def _start_smtp(self) -> None:
        config = self.config
        tls_context = self._tls_context()
        auth_enabled = config.smtp_auth != "off"
        handler = CaptureHandler(
            self.store, self.fault_engine, auth_enabled=auth_enabled, max_recipients=config.max_recipients,
            connections=ConnectionCounter(config.max_connections, config.max_connections_per_ip),
            time_limits=TimeLimits(config.idle_timeout, config.command_timeout, config.data_timeout,
                                   config.data_min_rate),
        )
        options: dict[str, Any] = {
            "hostname": config.hostname,
            "ident": "mailtrap-lite ESMTP",
            "data_size_limit": config.max_message_size or None,
            "enable_SMTPUTF8": True,
            "timeout": AIOSMTPD_BACKSTOP_SECONDS,  # the idle timeout is ours (mailtrap_lite.limits)
            "auth_required": config.smtp_auth == "required",
            "auth_require_tls": not auth_enabled,
            "authenticator": Authenticator(config.smtp_users if config.smtp_auth == "required" else None),
        }
        loop = asyncio.new_event_loop()
        # Large mail is summarised in this loop's executor (CaptureHandler.handle_DATA). One thread: the parse is
        # Python code, so more threads would not summarise faster, only compete with the loop for the interpreter
        # (with six at once, the loop's replies waited 100-300 ms for it). The loop's close() shuts it down.
        loop.set_default_executor(ThreadPoolExecutor(max_workers=1, thread_name_prefix="mailtrap-lite-summary"))
        self._loop = loop
        ready: Future[None] = Future()

        async def bind() -> None:
            plain = protocol_factory(
                handler, self.sessions, self._live, tls_context=tls_context,
                require_starttls=config.require_tls, **options,
            )
            server = await _create_server(loop, plain, config.smtp_host, config.smtp_port, "--smtp")
            self._servers.append(server)
            self.smtp_port = server.sockets[0].getsockname()[1]
            if config.smtps_port is not None:
                implicit = protocol_factory(handler, self.sessions, self._live, implicit_tls=True, **options)
                secure = await _create_server(
                    loop, implicit, config.smtps_host, config.smtps_port, "--smtps", ssl=tls_context
                )
                self._servers.append(secure)
                self.smtps_port = secure.sockets[0].getsockname()[1]

        def run() -> None:
            asyncio.set_event_loop(loop)
            try:
                loop.run_until_complete(bind())
            except BaseException as error:  # reported to start(), which re-raises it in the caller's thread
                loop.close()
                ready.set_exception(error)
                return
            ready.set_result(None)
            self.loop_watch.watch(loop)
            try:
                loop.run_forever()
            finally:
                loop.close()

        self._loop_thread = threading.Thread(target=run, name="mailtrap-lite-smtp", daemon=True)
        self._loop_thread.start()
        ready.result()

    def _start_http(self) -> None:
        from mailtrap_lite.web import create_app
        from mailtrap_lite.web.serving import BoundedWSGIServer, HttpLimits

        config = self.config
        host, port = config.http_host, config.http_port or 0
        # Bind the socket ourselves, so a port in use is a ConfigError naming --http.
        try:
            listener = socket.create_server((host, port), family=_family(host), backlog=_HTTP_BACKLOG)
        except OSError as error:
            raise ConfigError("--http", _bind_problem(error, host, port)) from None
        limits = HttpLimits(
            workers=config.http_workers, max_connections=config.max_http_connections,
            idle_timeout=config.http_idle_timeout, head_timeout=config.http_head_timeout,
            long_lived=config.max_websocket_clients or config.max_http_connections,
        )
        self._http = BoundedWSGIServer(listener, create_app(self), limits)
        self.http_port = self._http.server_address[1]
        self._http.start()

    def stop(self) -> None:
        """Stop listening, answer 421 to connected clients, and wait (bounded) for the threads. Idempotent."""
        with self._lock:
            if self._stopped or not self._started:
                self._stopped = True
                self._close_journal()
                return
            self._stopped = True
        self.loop_watch.report_held()
        if self._http is not None:
            self._http.stop(_HTTP_STOP_TIMEOUT)
        self.store.notify_waiters()
        loop = self._loop
        if loop is not None and not loop.is_closed():
            try:
                asyncio.run_coroutine_threadsafe(self._close_smtp(), loop).result(_STOP_TIMEOUT)
                loop.call_soon_threadsafe(loop.stop)
            except RuntimeError:
                pass  # the loop closed on its own (start-up failed)
            except Exception:
                log.warning("SMTP listeners did not close within %.0fs", _STOP_TIMEOUT)
                loop.call_soon_threadsafe(loop.stop)
        if self._loop_thread is not None:
            self._loop_thread.join(_STOP_TIMEOUT)
        self._close_journal()

    def _close_journal(self) -> None:
        if self.journal is not None:
            self.journal.close()

    async def _close_smtp(self) -> None:
        for server in self._servers:
            server.close()
        for protocol in list(self._live):
            protocol.shutdown()
        for server in self._servers:
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(server.wait_closed(), 2.0)

    # -- addresses --------------------------------------------------------------------------------------------

    @property
    def http_url(self) -> str | None:
        """Base URL of the web UI and API (``None`` when the HTTP side is off)."""
        if self.http_port is None:
            return None
        return f"http://{_url_host(self.config.http_host)}:{self.http_port}"

    @property
    def smtp_url(self) -> str:
        """``smtp://host:port`` of the plain SMTP listener."""
        return f"smtp://{_url_host(self.smtp_host)}:{self.smtp_port}"

    @property
    def running(self) -> bool:
        """True between a successful start() and stop()."""
        return self._started and not self._stopped

    def problems(self, timeout: float = 1.0) -> list[str]:
        """What is not working now, one line per part (empty when all is well): the SMTP event loop must answer
        within ``timeout`` seconds and its listeners be open; the HTTP server must be taking connections."""
        found = []
        loop = self._loop
        if not self.running or loop is None or not loop.is_running():
            found.append("SMTP: not running")
        elif not all(listener.is_serving() for listener in self._servers):
            found.append("SMTP: not listening")
        else:
            answered = threading.Event()
            with contextlib.suppress(RuntimeError):  # the loop closed just now: it will not answer
                loop.call_soon_threadsafe(answered.set)
            if not answered.wait(timeout):
                found.append(f"SMTP: the event loop did not answer within {timeout:g} s")
        if self._http is not None and (problem := self._http.problem()):
            found.append(f"HTTP: {problem}")
        return found

    # -- the reading, waiting and assertion API of the pytest fixture ----------------------------------------

    def mailbox(self, watermark: bool = False, timeout: float = DEFAULT_TIMEOUT) -> Mailbox:
        """A view with the pytest fixture's API: all mail, or with ``watermark`` only mail arriving from now on."""
        return Mailbox(LocalSource(self), watermark=watermark, timeout=timeout)

    def wait_for(self, count: int = 1, timeout: float = DEFAULT_TIMEOUT, **criteria: Any) -> Any:
        """Block until ``count`` messages match ``criteria``; the message (a list when ``count`` > 1)."""
        return self.mailbox().wait_for(count, timeout, **criteria)


async def _create_server(
    loop: asyncio.AbstractEventLoop, factory: Any, host: str, port: int, flag: str, **kwargs: Any
) -> asyncio.base_events.Server:
    try:
        return await loop.create_server(factory, host, port, reuse_address=True, **kwargs)
    except OSError as error:
        raise ConfigError(flag, _bind_problem(error, host, port)) from None


def _bind_problem(error: OSError, host: str, port: int) -> str:
    if error.errno == errno.EADDRINUSE:
        return f"{host}:{port} is already in use"
    if error.errno == errno.EACCES:
        return f"no permission to listen on {host}:{port}"
    if isinstance(error, socket.gaierror) or error.errno == errno.EADDRNOTAVAIL:
        return f"cannot listen on {host!r}: not an address of this machine"
    return f"cannot listen on {host}:{port}: {error.strerror or error}"


def _family(host: str) -> socket.AddressFamily:
    return socket.AF_INET6 if ":" in host else socket.AF_INET


def _url_host(host: str) -> str:
    if host in ("0.0.0.0", ""):
        return "127.0.0.1"
    if host == "::":
        return "[::1]"
    return f"[{host}]" if ":" in host else host
