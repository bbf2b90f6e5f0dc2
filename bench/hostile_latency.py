"""How long a normal sender waits for SMTP replies while a hostile one delivers poison messages (issue #15).

Starts the real ``mailtrap-lite`` command with a websocket client attached (so ``new`` frames are built, as with
a browser open), has one normal sender deliver small messages on one connection without pause, timing every
reply, and meanwhile delivers each poison message of ``tests/poison_mail.py`` from a second connection, one after
the other. For each it prints how long the hostile delivery took, the normal sender's worst reply latency during
it, and whether the API still answers (list, search, the message itself). ``--scale`` shrinks the poison sizes.

    python -m bench.hostile_latency [--scale 0.1]
"""

from __future__ import annotations

import argparse
import smtplib
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path

import websocket

from bench.mail import on_the_wire
from bench.soak import ServerUnderTest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
import poison_mail  # the builders live with the tests, which send them too

NORMAL = (
    b"From: normal@example.com\r\nTo: qa@example.com\r\nSubject: normal\r\nMessage-ID: <normal@example.com>\r\n"
    b"\r\nA small ordinary message.\r\n"
)


class NormalSender(threading.Thread):
    """Delivers small messages on one connection without pause and keeps the latency of every reply."""

    def __init__(self, host: str, port: int) -> None:
        super().__init__(daemon=True)
        self.client = smtplib.SMTP(host, port, timeout=600)
        self.client.ehlo()
        self.stop = threading.Event()
        self.replies: list[tuple[float, float]] = []  # (when the reply came, how long it took)
        self.lock = threading.Lock()

    def _timed(self, command: Callable[[], tuple[int, bytes]]) -> None:
        started = time.perf_counter()
        code, _ = command()
        now = time.perf_counter()
        if code >= 400:
            raise RuntimeError(f"the normal sender got {code}")
        with self.lock:
            self.replies.append((now, now - started))

    def run(self) -> None:
        client = self.client
        while not self.stop.is_set():
            self._timed(lambda: client.mail("normal@example.com"))
            self._timed(lambda: client.rcpt("qa@example.com"))
            self._timed(lambda: client.data(NORMAL))
        client.quit()

    def worst_between(self, start: float, end: float) -> tuple[float, int]:
        """The longest reply that arrived in [start, end] (or was still awaited at ``end``), and how many came."""
        with self.lock:
            inside = [took for at, took in self.replies if start <= at <= end]
            last = self.replies[-1][0] if self.replies else start
        waiting = end - last  # a reply still outstanding at the end counts too
        return max([*inside, waiting]), len(inside)


def _drain_events(url: str, stop: threading.Event) -> None:
    ws = websocket.create_connection(url.replace("http://", "ws://") + "/api/events", timeout=1)
    while not stop.is_set():
        try:
            ws.recv()
        except websocket.WebSocketTimeoutException:
            continue
        except (websocket.WebSocketException, OSError):  # the server went away at the end of the run
            return
    ws.close()


def _status(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=600) as response:
            response.read()
            return int(response.status)
    except urllib.error.HTTPError as error:
        return error.code


def _deliver(host: str, port: int, wire: bytes) -> str:
    """Send ``wire`` (the content as ``on_the_wire`` makes it) on a connection of its own; the id the server stored
    it under. Not with ``smtplib``'s ``data()``: its dot-stuffing is one regex over the whole message, which held
    this process, and so the normal sender's timing in it, for 190 ms on 23 MiB (it is done before timing here)."""
    with smtplib.SMTP(host, port, timeout=900) as hostile:
        hostile.ehlo()
        hostile.mail("poison@example.com")
        hostile.rcpt("victim@example.com")
        code, reply = hostile.docmd("DATA")
        if code == 354:
            hostile.send(wire)
            code, reply = hostile.getreply()
    if code != 250:
        raise RuntimeError(f"the poison message got {code} {reply!r}")
    return reply.decode().rsplit(" ", 1)[-1]


def _poisons(scale: float) -> list[tuple[str, bytes]]:
    return [
        ("nested comments (500)", poison_mail.nested_comments_from(max(40, int(500 * scale)))),
        ("deep multipart (900)", poison_mail.deep_multipart(max(110, int(900 * scale)))),
        ("200 KB of '<'", poison_mail.angle_flood_html(int(200_000 * scale))),
        ("1 MB folded subject", poison_mail.folded_subject(int(1_000_000 * scale))),
        ("250k parts", poison_mail.many_parts(int(250_000 * scale))),
        ("(control: plain, as big)", _plain(len(poison_mail.many_parts(int(250_000 * scale))))),
    ]


def _plain(size: int) -> bytes:
    """An ordinary plain-text message of about ``size`` bytes: what receiving that much costs without poison."""
    line = b"An ordinary line of an ordinary long message, nothing hostile in it at all.\r\n"
    return NORMAL.replace(b"Subject: normal", b"Subject: big plain") + line * (size // len(line))


def run(scale: float) -> list[dict[str, object]]:
    """Deliver each poison message beside the normal sender; one row of figures per poison."""
    server = ServerUnderTest([])
    stop = threading.Event()
    watcher = threading.Thread(target=_drain_events, args=(server.http_url, stop), daemon=True)
    watcher.start()
    normal = NormalSender(server.smtp_host, server.smtp_port)
    normal.start()
    rows: list[dict[str, object]] = []
    try:
        time.sleep(1.0)  # let the normal sender settle, so its baseline is in the figures
        baseline, _ = normal.worst_between(0, time.perf_counter())
        rows.append({"poison": "(none: baseline)", "size_mb": 0.0, "delivery_s": 0.0,
                     "worst_normal_ms": baseline * 1e3})
        for name, raw in _poisons(scale):
            wire = on_the_wire(raw)
            started = time.perf_counter()
            stored = _deliver(server.smtp_host, server.smtp_port, wire)
            ended = time.perf_counter()
            worst, replies = normal.worst_between(started, ended)
            api = [_status(server.http_url + path) for path in
                   ("/api/v1/messages", "/api/v1/search?query=normal", f"/api/v1/message/{stored}")]
            rows.append({"poison": name, "size_mb": len(raw) / 2**20, "delivery_s": ended - started,
                         "worst_normal_ms": worst * 1e3, "normal_replies": replies, "api": api})
    finally:
        normal.stop.set()
        normal.join(60)
        stop.set()
        server.stop()
    return rows


def main(argv: list[str] | None = None) -> int:
    """Print one line per poison message."""
    parser = argparse.ArgumentParser(prog="python -m bench.hostile_latency", description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", type=float, default=1.0, help="poison sizes relative to issue #15's (default 1)")
    args = parser.parse_args(argv)
    print(f"{'poison':24} {'MiB':>6} {'delivery s':>10} {'worst normal reply ms':>22}  API statuses")
    for row in run(args.scale):
        print(f"{row['poison']:24} {row['size_mb']:6.2f} {row['delivery_s']:10.2f} {row['worst_normal_ms']:22.1f}"
              f"  {row.get('api', '')}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
