"""One HTTP request on a connection the bounded server (``serving.py``) hands to a worker.

The request runs through werkzeug's public :class:`~werkzeug.serving.WSGIRequestHandler`, so Flask and flask-sock
see exactly the environ they see under werkzeug (``werkzeug.socket`` included, which is how simple-websocket takes
the connection over). Two things differ: the handler serves one request and returns (the server decides what happens
to the connection next), and it keeps the connection alive when that is safe. werkzeug answers every request with
``Connection: close`` because ``http.server`` cannot tell where a request's body ends; here :class:`RequestReader`
lets the handler read the head and exactly ``Content-Length`` bytes of body and keeps whatever came after for the
next request, so the connection can be kept when the request was HTTP/1.1, its body had a length and was read to the
end, and the response was framed (``Content-Length`` or chunked).
"""

from __future__ import annotations

import socket
import time
from typing import Any

from werkzeug.serving import WSGIRequestHandler

_RECV_SIZE = 65536
_RECV_MAX = 1048576
_SEND_SIZE = 262144  # each sendall piece gets the socket's whole timeout, so a slow reader is cut per piece
MIN_BODY_RATE = 16384  # bytes per second a request body must keep up on average (after the head's grace period)


class RequestReader:
    """The request's bytes: the head the server already read, then at most the body's length from the socket.

    Reading past the allowance answers end-of-file, so nothing (werkzeug's drain after a response included) can
    eat the next request of a kept-alive connection; :meth:`leftover` hands those bytes back to the server.
    The body must arrive within ``grace`` seconds plus its length at ``MIN_BODY_RATE`` (a chunked one: plus what has
    arrived so far at that rate), so a client trickling a body in (slow POST) holds a worker for a bounded time;
    past that, reading raises TimeoutError.
    """

    def __init__(
        self, sock: socket.socket, received: bytes, head_length: int, grace: float, timeout: float | None
    ) -> None:
        self._sock = sock
        self._buffer = bytearray(received)
        self._allowed = head_length  # bytes this request may still consume
        self._unbounded = False  # a chunked body: read until the client closes, never keep the connection
        self._timeout = timeout
        self._deadline = time.monotonic() + grace
        self.closed = False

    def allow(self, length: int) -> None:
        """The head is parsed and says the body has ``length`` bytes."""
        self._allowed += length
        self._deadline += length / MIN_BODY_RATE

    def allow_until_close(self) -> None:
        """The body has no length (chunked): it may take anything the connection sends."""
        self._unbounded = True

    def _fill(self, wanted: int) -> bool:
        """Receive more (at most one recv); False at end of input or when the allowance is used up."""
        if not self._unbounded and len(self._buffer) >= self._allowed:
            return False
        left = self._deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError("the request body arrived too slowly")
        self._sock.settimeout(left if self._timeout is None else min(self._timeout, left))
        data = self._sock.recv(min(max(wanted, _RECV_SIZE), _RECV_MAX))
        self._buffer += data
        if self._unbounded:  # a chunked body earns its time as it arrives
            self._deadline += len(data) / MIN_BODY_RATE
        return bool(data)

    def _available(self) -> int:
        return len(self._buffer) if self._unbounded else min(len(self._buffer), self._allowed)

    def _take(self, size: int) -> bytes:
        data = bytes(self._buffer[:size])
        del self._buffer[:size]
        if not self._unbounded:
            self._allowed -= size
        return data

    def read(self, size: int | None = -1) -> bytes:
        """Up to ``size`` bytes (all that is allowed when negative); ``b""`` at the end of the request."""
        if size is None or size < 0:
            while self._fill(_RECV_SIZE):
                pass
            return self._take(self._available())
        if not self._available():
            self._fill(size)
        return self._take(min(size, self._available()))

    def readinto(self, target: Any) -> int:
        """Fill ``target`` with what :meth:`read` would return for its length."""
        data = self.read(len(target))
        target[: len(data)] = data
        return len(data)

    def readline(self, size: int | None = -1) -> bytes:
        """One line including its ``\\n`` (at most ``size`` bytes when that is given)."""
        limit = size if size is not None and size >= 0 else None
        while True:
            available = self._available()
            end = self._buffer.find(b"\n", 0, available)
            if end >= 0:
                available = end + 1
            if end >= 0 or (limit is not None and available >= limit) or not self._fill(_RECV_SIZE):
                return self._take(available if limit is None else min(available, limit))

    def readable(self) -> bool:
        """A readable stream (WSGI's input)."""
        return True

    def close(self) -> None:
        """Nothing to release: the server owns the socket."""
        self.closed = True

    def body_finished(self) -> bool:
        """Drop what is left of the body if it has already arrived; True when the request was read to its end."""
        if self._unbounded:
            return False
        self._take(min(self._allowed, len(self._buffer)))
        return self._allowed == 0

    def leftover(self) -> bytes:
        """What the client sent after this request (the start of its next one)."""
        return bytes(self._buffer)


class SocketWriter:
    """Writes straight to the socket (no buffering), in pieces so the socket timeout bounds each one."""

    def __init__(self, sock: socket.socket, timeout: float | None) -> None:
        self._sock = sock
        self._timeout = timeout
        self.closed = False

    def write(self, data: bytes) -> int:
        """Send all of ``data``."""
        self._sock.settimeout(self._timeout)
        view = memoryview(data)
        for start in range(0, len(view), _SEND_SIZE):
            self._sock.sendall(view[start:start + _SEND_SIZE])
        return len(data)

    def flush(self) -> None:
        """Nothing is buffered."""

    def close(self) -> None:
        """The server owns the socket."""
        self.closed = True


class OneRequestHandler(WSGIRequestHandler):
    """werkzeug's request handler, for exactly one request on a connection the server owns.

    Constructed with a connection object that has ``sock``, ``received`` (bytes already read), ``head_length`` and
    ``timeout`` (None: block, for a websocket); the server has ``limits`` (``head_timeout``, ``io_timeout``).
    Afterwards :meth:`keeps_alive` says whether the connection may serve another request, starting with
    ``reader.leftover()``.
    """

    protocol_version = "HTTP/1.1"

    def setup(self) -> None:
        """Read from what the server collected, write to the socket."""
        connection = self.request
        self.connection = connection.sock
        limits = self.server.limits  # type: ignore[attr-defined]
        self.reader = RequestReader(connection.sock, connection.received, connection.head_length,
                                    grace=limits.head_timeout, timeout=connection.timeout)
        self.rfile = self.reader  # type: ignore[assignment]
        self.wfile = SocketWriter(connection.sock, connection.timeout)  # type: ignore[assignment]
        # simple-websocket closes the socket when a websocket ends, while werkzeug still finishes the request on it;
        # an open file object keeps the descriptor valid until then, as werkzeug's own makefile() does
        self._descriptor_hold = connection.sock.makefile("rb", buffering=0)
        self._parsed = False  # the head parsed and the body's length is known
        self._persistent = False  # the response went out without "Connection: close"
        self._framed = False  # the response says where it ends

    def handle(self) -> None:
        """One request; a client that vanishes or stalls just ends it."""
        try:
            self.handle_one_request()
        except (ConnectionError, TimeoutError):
            self.close_connection = True

    def finish(self) -> None:
        """The server decides what becomes of the socket."""
        self._descriptor_hold.close()

    def parse_request(self) -> bool:
        """http.server's parsing, then tell the reader how long the body is (400 for a length that is not one)."""
        if not super().parse_request():
            return False
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            self.reader.allow_until_close()
            self.close_connection = True
        else:
            lengths = {value.strip() for value in self.headers.get_all("Content-Length") or ["0"]}
            length = lengths.pop() if len(lengths) == 1 else ""
            if not length.isdigit():
                self.send_error(400, "Bad Content-Length")
                return False
            self.reader.allow(int(length))
        self._parsed = True
        return True

    def send_header(self, keyword: str, value: str) -> None:
        """As http.server, except that werkzeug's ``Connection: close`` is left out when the connection can stay."""
        name = keyword.lower()
        if name in ("content-length", "transfer-encoding"):
            self._framed = True
        if name == "connection" and value.lower() == "close" and self._parsed and self._framed \
                and not self.close_connection and self.request_version >= "HTTP/1.1":
            self._persistent = True
            return
        super().send_header(keyword, value)

    def keeps_alive(self) -> bool:
        """True when the connection may serve the client's next request."""
        return self._persistent and not self.close_connection and self.reader.body_finished()
