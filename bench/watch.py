"""A websocket client of ``/api/events`` in its own process: ``python -m bench.watch WS_URL``.

Prints ``ready`` once connected, notes when each ``new`` event arrives (``time.monotonic``, which all processes
on the machine share), and on ``stop N`` waits until N events have arrived (at most ``GRACE`` seconds, or until
the server closes the connection), then prints ``{message id: arrival time}`` as one JSON line.

The client shares the machine's two cores with the server and the load generator, so it is kept lean: a plain
socket, the opening handshake written out, and frames read with no more work than finding each ``new`` event's
message id (a general-purpose client that decodes every frame as JSON used about as much CPU per message as the
server's whole event stream, and the benchmark would have measured that instead).
"""

from __future__ import annotations

import base64
import json
import os
import socket
import sys
import threading
import time
from collections.abc import Iterator
from urllib.parse import urlsplit

GRACE = 10.0
_NEW_EVENT = b'{"Type":"new","Data":{"ID":"'
_CLOSE, _PING, _PONG = 0x8, 0x9, 0xA  # control frame opcodes


def connect(url: str) -> tuple[socket.socket, bytes]:
    """Open a websocket connection to ``url`` (``ws://host:port/path``); the socket after the 101, and whatever
    arrived after the handshake."""
    parts = urlsplit(url)
    sock = socket.create_connection((parts.hostname or "127.0.0.1", parts.port or 80), timeout=30)
    key = base64.b64encode(os.urandom(16)).decode()
    sock.sendall(
        f"GET {parts.path} HTTP/1.1\r\nHost: {parts.netloc}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n".encode()
    )
    response = b""
    while b"\r\n\r\n" not in response:
        chunk = sock.recv(4096)
        if not chunk:
            raise ConnectionError("the server closed the connection during the handshake")
        response += chunk
    head, _, rest = response.partition(b"\r\n\r\n")
    if not head.startswith(b"HTTP/1.1 101"):
        raise ConnectionError(f"no websocket upgrade: {head.splitlines()[0]!r}")
    sock.settimeout(None)
    return sock, rest


def _pong(ping_payload: bytes) -> bytes:
    """The pong frame that answers a ping carrying ``ping_payload`` (at most 125 bytes); masked, as every frame a
    client sends must be."""
    mask = os.urandom(4)
    masked = bytes(byte ^ mask[index % 4] for index, byte in enumerate(ping_payload))
    return bytes([0x80 | _PONG, 0x80 | len(ping_payload)]) + mask + masked


def frames(sock: socket.socket, buffer: bytes) -> Iterator[bytes]:
    """The payload of each data frame the server sends (servers do not mask), until it closes the connection.

    A ping is answered with a pong and, like a pong, not yielded: the server pings every 25 s and closes a
    connection that leaves a ping unanswered until the next one."""
    while True:
        offset = 0
        while len(buffer) - offset >= 2:
            length, start = buffer[offset + 1] & 0x7F, offset + 2
            if length == 126:
                length, start = int.from_bytes(buffer[start : start + 2], "big"), start + 2
            elif length == 127:
                length, start = int.from_bytes(buffer[start : start + 8], "big"), start + 8
            if len(buffer) < start + length:
                break
            opcode, payload = buffer[offset] & 0x0F, buffer[start : start + length]
            offset = start + length
            if opcode == _CLOSE:
                return
            if opcode == _PING:
                sock.sendall(_pong(payload))
            elif opcode != _PONG:
                yield payload
        chunk = sock.recv(65536)
        if not chunk:
            return
        buffer = buffer[offset:] + chunk


def main() -> None:
    """Watch until told to stop, then report arrival times."""
    sock, received = connect(sys.argv[1])
    arrivals: dict[str, float] = {}
    changed = threading.Condition()
    closed = threading.Event()

    def receive() -> None:
        try:
            for payload in frames(sock, received):
                if payload.startswith(_NEW_EVENT):
                    arrived = time.monotonic()
                    start = len(_NEW_EVENT)
                    message_id = payload[start : payload.index(b'"', start)].decode()
                    with changed:
                        arrivals[message_id] = arrived
                        changed.notify_all()
        except OSError:
            pass
        with changed:
            closed.set()
            changed.notify_all()

    threading.Thread(target=receive, daemon=True).start()
    print("ready", flush=True)
    expected = int(sys.stdin.readline().split()[-1])
    with changed:
        changed.wait_for(lambda: len(arrivals) >= expected or closed.is_set(), timeout=GRACE)
        print(json.dumps(arrivals), flush=True)
    sock.close()


if __name__ == "__main__":
    main()
