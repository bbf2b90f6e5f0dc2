"""The benchmarks' websocket client (``bench.watch``, which the soak's reader shares) answers the server's pings and
keeps reading. The server pings every 25 s (simple-websocket closes a connection whose ping goes unanswered); the
client used to take the ping for an event (the soak's reader stopped at the first one, 25 s into every run, and the
soak reported about 200 ``new`` events missing) and never sent a pong.

The peer here is wsproto's server side, the protocol engine our server runs on, so the pong is checked by a real
websocket implementation; it sends the next event only once the pong has arrived."""

from __future__ import annotations

import json
import queue
import socket
import subprocess
import sys
import threading
from pathlib import Path

from wsproto import ConnectionType, WSConnection
from wsproto.events import AcceptConnection, Event, Ping, Pong, Request, TextMessage

ROOT = Path(__file__).resolve().parent.parent
WAIT = 10.0  # generous: a shared machine; every wait ends as soon as its frame arrives
PING_PAYLOAD = b"are you there"
EVENT = '{"Type":"new","Data":{"ID":"after-the-ping","MessageID":"after@example.com"}}'


def _until(conn: socket.socket, ws: WSConnection, wanted: type[Event]) -> Event:
    """Read from ``conn`` until wsproto sees an event of type ``wanted``; answer the handshake on the way."""
    while True:
        data = conn.recv(4096)
        assert data, "the client closed the connection"
        ws.receive_data(data)
        for event in ws.events():
            if isinstance(event, Request):
                conn.sendall(ws.send(AcceptConnection()))
            if isinstance(event, wanted):
                return event


def _pinging_peer(listener: socket.socket, pongs: queue.SimpleQueue[bytes], finished: threading.Event) -> None:
    """Accept one websocket client, ping it, and send it a ``new`` event once it has answered with a pong."""
    conn, _ = listener.accept()
    with conn:
        conn.settimeout(WAIT)
        ws = WSConnection(ConnectionType.SERVER)
        _until(conn, ws, Request)
        conn.sendall(ws.send(Ping(PING_PAYLOAD)))
        pong = _until(conn, ws, Pong)
        assert isinstance(pong, Pong)
        pongs.put(bytes(pong.payload))
        conn.sendall(ws.send(TextMessage(EVENT)))
        finished.wait(WAIT)  # the client reads the event before the connection ends


def test_the_bench_websocket_client_answers_a_ping_and_reads_on() -> None:
    pongs: queue.SimpleQueue[bytes] = queue.SimpleQueue()
    finished = threading.Event()
    with socket.create_server(("127.0.0.1", 0)) as listener:
        peer = threading.Thread(target=_pinging_peer, args=(listener, pongs, finished), daemon=True)
        peer.start()
        port = listener.getsockname()[1]
        watcher = subprocess.Popen(
            [sys.executable, "-m", "bench.watch", f"ws://127.0.0.1:{port}/api/events"],
            cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
        )
        try:
            assert watcher.stdin is not None and watcher.stdout is not None
            assert watcher.stdout.readline().strip() == "ready"
            watcher.stdin.write("stop 1\n")
            watcher.stdin.flush()
            arrivals = json.loads(watcher.stdout.readline())
        finally:
            finished.set()
            watcher.wait(WAIT)
        peer.join(WAIT)
    assert list(arrivals) == ["after-the-ping"]  # the event sent once the ping was answered
    assert pongs.get_nowait() == PING_PAYLOAD
