"""The soak's readers: API readers that browse the way the UI does (poison messages included), and a websocket
client that reads every event and keeps the order of the ``new`` ones."""

from __future__ import annotations

import json
import queue
import random
import socket
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections import Counter
from typing import Any

from bench.watch import connect, frames

API_TIMEOUT = 30.0


class ApiReader(threading.Thread):
    """Reads lists, searches and every view of messages (regular ones and poison ones, as the UI would when a user
    clicks them) over and over, counting answers by status; a request with no answer within ``API_TIMEOUT`` counts
    as status 0."""

    def __init__(self, url: str, poison_ids: list[str], seed: int) -> None:
        super().__init__(daemon=True)
        self.url = url
        self.poison_ids = poison_ids  # filled by the soak as poison messages are acknowledged
        self.random = random.Random(seed)
        self.statuses: Counter[int] = Counter()
        self.failed: Counter[str] = Counter()  # "status path" of the 5xx answers, to say which views broke
        self.worst = 0.0
        self.done = threading.Event()

    def get(self, path: str, message_id: str = "") -> bytes:
        """One GET; its body ("" unless 200). Counts the status and keeps the worst time; a 5xx is noted by its
        path (``message_id`` shown as ``{ID}``)."""
        started = time.monotonic()
        status, body = 0, b""
        try:
            with urllib.request.urlopen(self.url + path, timeout=API_TIMEOUT) as answer:
                body = answer.read()
                status = answer.status
        except urllib.error.HTTPError as error:
            status = error.code
        except (OSError, ValueError):
            status = 0
        self.worst = max(self.worst, time.monotonic() - started)
        self.statuses[status] += 1
        if status >= 500:
            route = path.split("?")[0].replace(message_id, "{ID}") if message_id else path.split("?")[0]
            self.failed[f"{status} {route}"] += 1
        return body if status == 200 else b""

    def browse(self, message_id: str) -> None:
        """Every view of one message, and its first attachment."""
        base = f"/api/v1/message/{message_id}"
        found = self.get(base, message_id)
        for path in (f"{base}/headers", f"{base}/raw", f"/view/{message_id}.html", f"/view/{message_id}.txt"):
            self.get(path, message_id)
        if found:
            attachments = json.loads(found).get("Attachments") or []
            if attachments:
                self.get(f"{base}/part/{urllib.parse.quote(attachments[0]['PartID'])}", message_id)

    def run(self) -> None:
        while not self.done.is_set():
            listing = self.get("/api/v1/messages?limit=50")
            self.get("/api/v1/search?query=" + urllib.parse.quote("subject:invoice"))
            self.get("/api/v1/message/latest")
            listed = json.loads(listing)["messages"] if listing else []
            if listed:
                self.browse(self.random.choice(listed)["ID"])
            if self.poison_ids:
                self.browse(self.random.choice(self.poison_ids))


class _Patient:
    """A socket whose ``recv`` waits for data until ``stop`` is set (then it reads as closed); ``sendall`` answers
    the server's pings."""

    def __init__(self, sock: socket.socket, stop: Any) -> None:
        self.sock, self.stop = sock, stop
        sock.settimeout(0.5)
        self.sendall = sock.sendall

    def recv(self, size: int) -> bytes:
        while True:
            try:
                return self.sock.recv(size)
            except TimeoutError:
                if self.stop.is_set():
                    return b""


def watch_events(url: str, end_marker: str, connected: Any, stop: Any, out: Any) -> None:
    """A websocket client in its own process: reads every frame until the ``new`` event of ``end_marker`` (a
    Message-ID) or until ``stop`` is set, then puts (ids of ``new`` events in order, prune frames, whether the end
    was seen, how the stream ended if the end was not seen) on ``out``."""
    sock, rest = connect(url.replace("http://", "ws://") + "/api/events")
    connected.set()
    started = time.monotonic()
    order: list[str] = []
    prunes = 0
    seen_end = False
    ended = "closed by the server"
    try:
        for payload in frames(_Patient(sock, stop), rest):  # type: ignore[arg-type]
            frame = json.loads(payload)
            if frame["Type"] == "prune":
                prunes += 1
            elif frame["Type"] == "new":
                if frame["Data"].get("MessageID") == end_marker:
                    seen_end = True
                    break
                order.append(frame["Data"]["ID"])
    except (OSError, ValueError) as error:  # the server cut us off, or sent what is not a frame of ours
        ended = f"{type(error).__name__}: {error}"
    if stop.is_set():
        ended = "stopped waiting for the end marker"
    sock.close()
    out.put((order, prunes, seen_end, "" if seen_end else f"{ended}, {time.monotonic() - started:.0f} s in"))


def drain(source: Any, into: list[str], done: threading.Event) -> threading.Thread:
    """A thread that moves ids from a multiprocessing queue into ``into`` until ``done``."""

    def run() -> None:
        while not done.is_set():
            try:
                into.append(source.get(timeout=0.5))
            except queue.Empty:
                continue

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread
