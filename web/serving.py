"""The HTTP server of the UI, the API and the websocket: a bounded server on werkzeug's public API.

werkzeug's ``make_server(threaded=True)`` gives every connection a thread for as long as it stays open, so idle
sockets cost a thread each, without bound and without a timeout. Here one thread (``mailtrap-lite-http``) watches
every connection that is not being served, with a selector: it accepts (past ``max_connections`` a client gets a
plain ``503`` and is closed), reads request heads without blocking, closes a connection that stays idle longer than
``idle_timeout`` and answers ``408`` to one whose head is not complete ``head_timeout`` after its first byte (a
slow-loris client never gets a thread). A complete head goes to a fixed pool of ``workers`` threads that run it
through werkzeug's request handler (``http_request.py``) and hand a kept-alive connection back to the watcher. A
websocket upgrade gets a thread of its own instead, at most ``long_lived`` of them, so event streams never take the
pool's workers.
"""

from __future__ import annotations

import contextlib
import errno
import heapq
import itertools
import logging
import queue
import selectors
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from werkzeug.serving import BaseWSGIServer

from mailtrap_lite.web.http_request import OneRequestHandler

log = logging.getLogger(__name__)

MAX_HEAD = 65536  # a request line and headers larger than this get 431
_RECV_SIZE = 65536
_ACCEPT_BURST = 64  # connections accepted in a row before the others get a look
_ACCEPT_PAUSE = 0.1  # out of file descriptors: stop accepting for this long (the backlog holds the clients)
_LINGER_SECONDS = 2.0  # a refused client may still be sending its request: read it, so it sees our answer
_MAX_LINGERING = 256
_WARN_INTERVAL = 10.0  # seconds between two log lines about the same kind of refusal
_OUT_OF_DESCRIPTORS = (errno.EMFILE, errno.ENFILE, errno.ENOBUFS, errno.ENOMEM)
_LISTENER, _WAKE = object(), object()


@dataclass(frozen=True)
class HttpLimits:
    """How much the HTTP side may take on at once (0 for ``max_connections`` or ``long_lived`` = no limit)."""

    workers: int = 32
    max_connections: int = 1000
    idle_timeout: float = 60.0
    head_timeout: float = 10.0
    long_lived: int = 100
    io_timeout: float = 30.0  # a worker waits this long for each piece of a body or for the client to take the answer
    # and a body must arrive within head_timeout plus its length at http_request.MIN_BODY_RATE


class _Connection:
    """A client connection and what has been read from it so far."""

    __slots__ = ("address", "counted", "deadline", "head_length", "lingering", "received", "sock", "timeout")

    def __init__(self, sock: socket.socket, address: Any, lingering: bool = False) -> None:
        self.sock = sock
        self.address = address
        self.received = bytearray()
        self.head_length = 0
        self.timeout: float | None = None  # for each socket operation while a request is served (None: block)
        self.deadline = 0.0
        self.lingering = lingering  # refused: read and dropped until the client closes or the deadline passes
        self.counted = not lingering  # counts against max_connections


class _WarnEvery:
    """One warning per kind of trouble per ``_WARN_INTERVAL``, with the number of times it happened meanwhile."""

    def __init__(self) -> None:
        self._last: dict[str, tuple[float, int]] = {}

    def warn(self, kind: str, message: str, *args: Any) -> None:
        now = time.monotonic()
        last, count = self._last.get(kind, (-_WARN_INTERVAL, 0))
        if now - last < _WARN_INTERVAL:
            self._last[kind] = (last, count + 1)
            return
        self._last[kind] = (now, 0)
        suffix = f" ({count} more like it in the last {_WARN_INTERVAL:.0f} s)" if count else ""
        log.warning(message + suffix, *args)


class _WorkerPool:
    """At most ``size`` threads running ``work`` on submitted jobs; threads start only when jobs wait for one."""

    def __init__(self, size: int, work: Callable[[Any], None], name: str) -> None:
        self._size = max(1, size)
        self._work = work
        self._name = name
        self._jobs: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._threads: list[threading.Thread] = []
        self._queued = 0
        self._idle = 0

    def submit(self, job: Any) -> None:
        """Queue ``job``; it runs as soon as a worker is free."""
        with self._lock:
            self._queued += 1
            if self._queued > self._idle and len(self._threads) < self._size:
                thread = threading.Thread(target=self._run, name=self._name, daemon=True)
                self._threads.append(thread)
                thread.start()
        self._jobs.put(job)

    def _run(self) -> None:
        while True:
            with self._lock:
                self._idle += 1
            job = self._jobs.get()
            with self._lock:
                self._idle -= 1
                self._queued -= 1
            if job is None:
                return
            self._work(job)

    @property
    def thread_count(self) -> int:
        """How many worker threads exist now (never more than the pool's size)."""
        return len(self._threads)

    def stop(self, deadline: float) -> None:
        """Let every worker finish its job and end; wait for them until ``deadline`` (monotonic time)."""
        with self._lock:
            threads = list(self._threads)
            self._queued += len(threads)
        for _ in threads:
            self._jobs.put(None)
        for thread in threads:
            thread.join(max(0.0, deadline - time.monotonic()))


class BoundedWSGIServer(BaseWSGIServer):
    """Serves a WSGI app on an already bound ``listener`` within ``limits``; :meth:`start` and :meth:`stop` it."""

    multithread = True

    def __init__(self, listener: socket.socket, app: Any, limits: HttpLimits) -> None:
        host, port = listener.getsockname()[:2]
        super().__init__(host, port, app, handler=OneRequestHandler, fd=listener.fileno())
        listener.close()  # werkzeug serves a duplicate of its descriptor
        self.socket.setblocking(False)
        self.limits = limits
        self._selector = selectors.DefaultSelector()
        self._wake_reader, self._wake_writer = socket.socketpair()
        self._wake_reader.setblocking(False)
        self._wake_writer.setblocking(False)
        self._returned: queue.SimpleQueue[_Connection] = queue.SimpleQueue()
        self._deadlines: list[tuple[float, int, _Connection]] = []
        self._order = itertools.count()
        self._watched: set[_Connection] = set()
        self._lock = threading.Lock()
        self._busy: set[_Connection] = set()  # being served by a worker or a long-lived thread
        self._open = 0  # counted connections: watched or busy
        self._long_lived = 0
        self._lingering = 0
        self._accept_paused_until: float | None = None
        self._warnings = _WarnEvery()
        self._pool = _WorkerPool(limits.workers, self._serve, "mailtrap-lite-http-worker")
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    # -- running ----------------------------------------------------------------------------------------------

    def start(self) -> None:
        """Start watching the listener in the ``mailtrap-lite-http`` thread."""
        self._selector.register(self.socket, selectors.EVENT_READ, _LISTENER)
        self._selector.register(self._wake_reader, selectors.EVENT_READ, _WAKE)
        self._thread = threading.Thread(target=self._watch_all, name="mailtrap-lite-http", daemon=True)
        self._thread.start()

    def stop(self, timeout: float) -> None:
        """Stop accepting, close idle connections, cut the ones being served and wait (at most ``timeout``)."""
        deadline = time.monotonic() + timeout
        self._stopping.set()
        self._wake()
        if self._thread is not None:
            self._thread.join(timeout)
        else:
            self.server_close()
            self._selector.close()
            self._wake_reader.close()
        self._wake_writer.close()  # a late _wake() from a worker then fails quietly
        with self._lock:
            busy = list(self._busy)
        for connection in busy:  # frees workers blocked on a socket (a slow body, a websocket)
            with contextlib.suppress(OSError):
                connection.sock.shutdown(socket.SHUT_RDWR)
        self._pool.stop(deadline)

    def problem(self) -> str | None:
        """Why the server cannot take new connections now, or None when it can (``/readyz`` reports it)."""
        if self._thread is None or not self._thread.is_alive():
            return "the HTTP connection thread is not running"
        if self._accept_paused_until is not None:
            return "out of file descriptors: new HTTP connections wait"
        return None

    @property
    def open_connections(self) -> int:
        """Connections counted against ``max_connections`` now."""
        return self._open

    def _watch_all(self) -> None:
        try:
            while not self._stopping.is_set():
                try:
                    self._turn()
                except Exception:  # one bad connection must not end the server
                    log.exception("HTTP connection watcher failed; carrying on")
                    self._stopping.wait(_ACCEPT_PAUSE)
        finally:
            for connection in list(self._watched):
                self._close(connection)
            self._selector.close()
            self.server_close()
            self._wake_reader.close()

    def _turn(self) -> None:
        now = time.monotonic()
        paused = self._accept_paused_until
        if paused is not None and now >= paused:
            self._accept_paused_until = None
            self._selector.register(self.socket, selectors.EVENT_READ, _LISTENER)
        timeout = 1.0
        if self._deadlines:
            timeout = min(timeout, max(0.0, self._deadlines[0][0] - now))
        if self._accept_paused_until is not None:
            timeout = min(timeout, max(0.0, self._accept_paused_until - now))
        for key, _ in self._selector.select(timeout):
            if key.data is _LISTENER:
                self._accept()
            elif key.data is _WAKE:
                self._take_back()
            else:
                self._receive(key.data)
        self._expire(time.monotonic())

    def _wake(self) -> None:
        with contextlib.suppress(OSError):
            self._wake_writer.send(b"x")

    # -- connections the watcher holds ------------------------------------------------------------------------

    def _accept(self) -> None:
        limit = self.limits.max_connections
        for _ in range(_ACCEPT_BURST):
            try:
                sock, address = self.socket.accept()
            except (BlockingIOError, InterruptedError):
                return
            except OSError as error:
                if error.errno in _OUT_OF_DESCRIPTORS:
                    self._warnings.warn("descriptors", "cannot accept HTTP connections: %s", error.strerror)
                    self._selector.unregister(self.socket)
                    self._accept_paused_until = time.monotonic() + _ACCEPT_PAUSE
                    return
                continue  # the client gave up while waiting in the backlog
            sock.setblocking(False)
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            with self._lock:
                full = bool(limit) and self._open >= limit
                if not full:
                    self._open += 1
            if full:
                self._warnings.warn("full", "refused an HTTP connection from %s: %d connections open (limit %d, "
                                    "--max-http-connections)", address[0], limit, limit)
                self._linger(sock, address, _plain(503, f"too many connections (limit {limit}), try again later\n"))
                continue
            connection = _Connection(sock, address)
            self._watch(connection, time.monotonic() + self.limits.idle_timeout)

    def _watch(self, connection: _Connection, deadline: float) -> None:
        self._selector.register(connection.sock, selectors.EVENT_READ, connection)
        self._watched.add(connection)
        self._set_deadline(connection, deadline)

    def _set_deadline(self, connection: _Connection, deadline: float) -> None:
        connection.deadline = deadline
        heapq.heappush(self._deadlines, (deadline, next(self._order), connection))
        if len(self._deadlines) > 64 and len(self._deadlines) > 4 * len(self._watched):  # drop stale entries
            self._deadlines = [entry for entry in self._deadlines if self._current(entry)]
            heapq.heapify(self._deadlines)

    def _current(self, entry: tuple[float, int, _Connection]) -> bool:
        return entry[2] in self._watched and entry[2].deadline == entry[0]

    def _unwatch(self, connection: _Connection) -> None:
        self._watched.discard(connection)
        with contextlib.suppress(KeyError, ValueError):
            self._selector.unregister(connection.sock)

    def _receive(self, connection: _Connection) -> None:
        try:
            data = connection.sock.recv(_RECV_SIZE)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            data = b""
        if not data:
            self._close(connection)
            return
        if connection.lingering:
            return
        if not connection.received:  # the first byte of a request: its head has head_timeout from now
            data = data.lstrip(b"\r\n")  # a stray CRLF after the previous request's body is no request
            if not data:
                return
            self._set_deadline(connection, time.monotonic() + self.limits.head_timeout)
        connection.received += data
        self._dispatch_if_complete(connection)

    def _dispatch_if_complete(self, connection: _Connection) -> None:
        end = _head_end(connection.received)
        if end < 0:
            if len(connection.received) > MAX_HEAD:
                self._refuse(connection, _plain(431, f"request head larger than {MAX_HEAD} bytes\n"))
            return
        connection.head_length = end
        self._unwatch(connection)
        with self._lock:
            self._busy.add(connection)
        if not _is_upgrade(bytes(connection.received[:end])):
            self._pool.submit(connection)
            return
        limit = self.limits.long_lived
        with self._lock:
            full = bool(limit) and self._long_lived >= limit
            if not full:
                self._long_lived += 1
        if full:
            self._warnings.warn("websockets", "refused a websocket connection from %s: %d open (limit %d, "
                                "--max-websocket-clients)", connection.address[0], limit, limit)
            self._refuse(connection, _plain(503, f"too many websocket clients (limit {limit}), try again later\n"))
            return
        threading.Thread(target=self._serve_long_lived, args=(connection,), name="mailtrap-lite-websocket",
                         daemon=True).start()

    def _take_back(self) -> None:
        """Kept-alive connections the workers are done with: watch them for the client's next request."""
        with contextlib.suppress(OSError):
            while self._wake_reader.recv(4096):
                pass
        now = time.monotonic()
        while True:
            try:
                connection = self._returned.get_nowait()
            except queue.Empty:
                return
            with self._lock:
                self._busy.discard(connection)
            if self._stopping.is_set():
                self._close(connection)
                continue
            connection.sock.setblocking(False)
            pending = bool(connection.received)  # the client already sent (part of) its next request
            self._watch(connection, now + (self.limits.head_timeout if pending else self.limits.idle_timeout))
            if pending:
                self._dispatch_if_complete(connection)

    def _expire(self, now: float) -> None:
        while self._deadlines and self._deadlines[0][0] <= now:
            entry = heapq.heappop(self._deadlines)
            if not self._current(entry):
                continue
            connection = entry[2]
            if connection.received and not connection.lingering:
                self._warnings.warn("slow head", "HTTP client %s did not send its request head within %.0f s",
                                    connection.address[0], self.limits.head_timeout)
                self._refuse(connection, _plain(
                    408, f"request head not received within {self.limits.head_timeout:g} seconds\n"))
            else:
                self._close(connection)  # idle (or a refused client that kept quiet): just close

    def _refuse(self, connection: _Connection, answer: bytes) -> None:
        """Answer ``answer`` and close, reading what the client still sends so that it sees the answer."""
        self._close(connection, keep_socket=True)
        self._linger(connection.sock, connection.address, answer)

    def _linger(self, sock: socket.socket, address: Any, answer: bytes) -> None:
        with contextlib.suppress(OSError):
            sock.setblocking(False)
            sock.send(answer)
            sock.shutdown(socket.SHUT_WR)
        if self._lingering >= _MAX_LINGERING or self._stopping.is_set():
            sock.close()
            return
        self._lingering += 1
        self._watch(_Connection(sock, address, lingering=True), time.monotonic() + _LINGER_SECONDS)

    def _close(self, connection: _Connection, keep_socket: bool = False) -> None:
        """Forget ``connection`` (and close its socket unless ``keep_socket``); any thread may call it once."""
        if connection in self._watched:
            self._unwatch(connection)
        with self._lock:
            self._busy.discard(connection)
            if connection.counted:
                connection.counted = False
                self._open -= 1
        if connection.lingering:
            self._lingering -= 1
        if not keep_socket:
            connection.sock.close()

    # -- the threads that serve requests ----------------------------------------------------------------------

    def _serve(self, connection: _Connection) -> None:
        """A worker: one request, then the connection goes back to the watcher or is closed."""
        keep = False
        try:
            connection.timeout = self.limits.io_timeout
            connection.sock.settimeout(connection.timeout)
            handler = OneRequestHandler(connection, connection.address, self)  # type: ignore[arg-type]
            keep = handler.keeps_alive() and not self._stopping.is_set()
            connection.received = bytearray(handler.reader.leftover()) if keep else bytearray()
        except Exception:  # werkzeug answers the app's own errors; this is anything else
            log.exception("HTTP request from %s failed", connection.address[0])
        if keep:
            self._returned.put(connection)
            self._wake()
        else:
            self._close(connection)

    def _serve_long_lived(self, connection: _Connection) -> None:
        """A websocket's own thread: the request runs as long as the connection stays open."""
        try:
            connection.timeout = None
            connection.sock.settimeout(None)
            OneRequestHandler(connection, connection.address, self)  # type: ignore[arg-type]
        except Exception:
            log.exception("websocket connection from %s failed", connection.address[0])
        finally:
            with self._lock:
                self._long_lived -= 1
            self._close(connection)


def _head_end(received: bytearray) -> int:
    """The length of the request head in ``received`` (up to its empty line), or -1 while it is incomplete."""
    ends = [found + len(mark) for mark in (b"\r\n\r\n", b"\n\n") if (found := received.find(mark)) >= 0]
    return min(ends) if ends else -1


def _is_upgrade(head: bytes) -> bool:
    """True for a websocket handshake: such a request holds its thread as long as the connection is open."""
    for line in head.split(b"\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"upgrade" and b"websocket" in value.lower():
            return True
    return False


def _plain(status: int, reason: str) -> bytes:
    """A complete ``text/plain`` response that closes the connection (the server's own refusals)."""
    body = reason.encode()
    phrase = {408: "Request Timeout", 431: "Request Header Fields Too Large", 503: "Service Unavailable"}[status]
    retry = "Retry-After: 1\r\n" if status == 503 else ""
    return (f"HTTP/1.1 {status} {phrase}\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: {len(body)}\r\n"
            f"Content-Security-Policy: default-src 'none'\r\nX-Content-Type-Options: nosniff\r\n{retry}"
            "Connection: close\r\n\r\n").encode() + body
