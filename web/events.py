"""The live event stream ``GET /api/events``: Mailpit's websocket frames plus our ``session`` and ``faults``.

Bus subscribers run inside the publisher (often the SMTP thread), so ours only appends the event to an inbox.
When the publisher is the SMTP event loop, a ``new`` or ``session`` frame is built on that loop just after the SMTP
reply has gone out (building it in another thread cost twice as much: the two threads fought over the interpreter lock).
One dispatcher thread per app drains every pending event at each wake-up, builds the frames nobody built yet (once,
not once per client; a frame the SMTP loop is about to build it waits for rather than build itself), in the order
the changes happened, and hands the whole batch to every client's bounded queue with one lock and one wake-up per
client; each connection's own thread takes everything queued and writes it to the socket in one go. Under load the
dispatcher wakes at most once per ``_BATCH_GAP``, so a burst of mail costs a few thread wake-ups instead of two per
message. A client that falls more than ``BACKLOG`` frames behind is dropped, so a slow or vanished reader never
holds up SMTP or other readers. One event whose frame cannot be built, or one batch a client's connection refuses,
is logged (once per kind of failure) and skipped: the dispatcher and every other client go on.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import queue
import socket
import threading
import time
from collections import deque
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from flask import Blueprint, Response, current_app
from flask_sock import Sock
from wsproto.events import TextMessage

from mailtrap_lite import __version__
from mailtrap_lite.events import Event
from mailtrap_lite.store import MessageStore
from mailtrap_lite.web.errors import text_response
from mailtrap_lite.web.serialize import session, summary

if TYPE_CHECKING:
    from mailtrap_lite.server import MailServer

log = logging.getLogger(__name__)

BACKLOG = 256  # as Mailpit: a client this far behind is dropped (it reconnects and reloads)
STATS_INTERVAL = 0.25
_IDLE_CHECK = 1.0  # how often idle loops notice that the server stopped
_STORE_CHANGES = {"new", "update", "delete", "truncate", "prune"}
_BUILT_ON_THE_LOOP = ("new", "session")  # the SMTP side publishes these, one per message and one per connection
_DRAIN_LIMIT = 10_000
_BATCH_GAP = 0.02  # under load, the dispatcher wakes at most this often (seconds): events wait at most this long
_LOOP_BUILD_WAIT = 0.05  # how long the dispatcher waits for a frame the SMTP loop is about to build before building it
_encode = json.JSONEncoder(separators=(",", ":")).encode  # compact frames, one encoder for all

events = Blueprint("events", __name__)
sock = Sock()


class _FailureLog:
    """Logs each kind of failure once, with its traceback, then only counts it: one bad event repeated a thousand
    times is one log line, not a flood. The kinds are few (where it failed, what type of event, which exception)."""

    _MAX_KINDS = 1000

    def __init__(self) -> None:
        self._counts: dict[str, int] = {}
        self._lock = threading.Lock()

    def report(self, where: str, error: BaseException) -> None:
        """Record that ``where`` failed with ``error``; the first time for this kind, log it."""
        kind = f"{where}: {type(error).__name__}"
        with self._lock:
            first = kind not in self._counts
            if first and len(self._counts) >= self._MAX_KINDS:
                return
            self._counts[kind] = self._counts.get(kind, 0) + 1
        if first:
            log.error("%s failed (%s: %s); skipped, the event stream goes on (logged once per kind)",
                      where, type(error).__name__, error, exc_info=error)


class _Client:
    """One websocket connection's outgoing frames; ``abort`` cuts the connection without waiting for it.

    As with a bounded queue, the frames waiting here count as "behind": more than ``backlog`` of them and
    :meth:`offer` refuses (the hub then drops the client). The batch the sender has taken and is writing (at most
    ``backlog`` frames) is handed to the socket like the single frame the per-frame sender had in hand.
    """

    def __init__(self, backlog: int, abort: Callable[[], None]) -> None:
        self.backlog = backlog
        self.frames: deque[str] = deque()
        self.ready = threading.Condition(threading.Lock())
        self.abort = abort
        self.dropped = False

    def offer(self, frames: list[str]) -> bool:
        """Queue ``frames`` (all or none) and wake the sender once; False if that would exceed the backlog."""
        with self.ready:
            if len(self.frames) + len(frames) > self.backlog:
                return False
            self.frames.extend(frames)
            self.ready.notify()
        return True

    def take(self, timeout: float) -> list[str]:
        """Everything queued, oldest first (waiting up to ``timeout`` for something)."""
        with self.ready:
            if not self.frames:
                self.ready.wait(timeout)
            batch = list(self.frames)
            self.frames.clear()
        return batch


class EventHub:
    """Turns bus events into frames and fans them out to connected websocket clients."""

    def __init__(self, server: MailServer, backlog: int = BACKLOG) -> None:
        self.server = server
        self.backlog = backlog
        self._clients: set[_Client] = set()
        self._lock = threading.Lock()
        self._inbox: queue.SimpleQueue[_Pending] = queue.SimpleQueue()
        self._loop_built = threading.Condition(threading.Lock())  # signalled when the loop built an awaited frame
        self._awaiting_loop = False  # the dispatcher is waiting for the loop to build a frame
        self._dispatcher: threading.Thread | None = None
        self.failures = _FailureLog()
        server.bus.subscribe(self._on_event)
        with self._lock:
            self._ensure_dispatcher()

    def _on_event(self, event: Event) -> None:
        """Runs in the publishing thread: never blocks, builds nothing when nobody listens.

        On an asyncio loop (the SMTP side), a ``new`` or ``session`` event's frame is built by that loop right after
        its current step, that is once the SMTP reply has been written: there it costs about half what it costs in the
        dispatcher thread, which would compete with the SMTP thread for the interpreter lock at every step."""
        if not self._clients or event.type not in _PAYLOADS:  # no clients, or an event with no frame ("fired")
            return
        pending = _Pending(event)
        if event.type in _BUILT_ON_THE_LOOP:
            try:
                loop = asyncio.get_running_loop()
            except RuntimeError:  # published from an HTTP thread: the dispatcher builds it
                pass
            else:
                pending.on_loop = True
                loop.call_soon(self._build_on_loop, pending)
        self._inbox.put(pending)

    def _build(self, pending: _Pending) -> None:
        if pending.frame or pending.failed:
            return
        event = pending.event
        try:
            pending.frame = _encode({"Type": event.type, "Data": _PAYLOADS[event.type](event.data, self.server.store)})
        except Exception as error:  # a payload the serializer cannot take: no frame, and the stream goes on
            pending.failed = True
            self.failures.report(f"building a {event.type!r} event frame", error)

    def _build_on_loop(self, pending: _Pending) -> None:
        self._build(pending)
        if self._awaiting_loop:  # read after the frame was set: see _await_loop
            with self._loop_built:
                self._loop_built.notify()

    def _await_loop(self, pending: _Pending) -> None:
        """Give the SMTP loop a moment to build ``pending``'s frame (it runs right after the loop's current step)
        instead of building it here, where it would cost twice as much and hold up the loop meanwhile."""
        with self._loop_built:
            self._awaiting_loop = True  # set before the frame is looked at: see _build_on_loop
            self._loop_built.wait_for(lambda: pending.frame or pending.failed, timeout=_LOOP_BUILD_WAIT)
            self._awaiting_loop = False

    def connect(self, abort: Callable[[], None]) -> _Client:
        """Register a new connection; it first gets a ``stats`` frame."""
        client = _Client(self.backlog, abort)
        client.offer([self._stats_frame()])
        with self._lock:
            self._clients.add(client)
            self._ensure_dispatcher()
        return client

    def _ensure_dispatcher(self) -> None:
        """Start the dispatcher thread unless it runs (it ends when the server stops). Call with the lock held."""
        if self._dispatcher is None or not self._dispatcher.is_alive():
            self._dispatcher = threading.Thread(target=self._dispatch, name="mailtrap-lite-events", daemon=True)
            self._dispatcher.start()

    @property
    def dispatcher_alive(self) -> bool:
        """True while the thread that turns events into frames runs (``/readyz`` reports it)."""
        return self._dispatcher is not None and self._dispatcher.is_alive()

    @property
    def client_count(self) -> int:
        """How many websocket clients are connected now."""
        return len(self._clients)

    def disconnect(self, client: _Client) -> None:
        """Forget a connection."""
        with self._lock:
            self._clients.discard(client)

    def _broadcast(self, frames: list[str]) -> None:
        """Offer the same frame strings, in order, to every client: one lock and one wake-up per client."""
        if not frames:
            return
        with self._lock:
            clients = list(self._clients)
        for client in clients:
            if not client.offer(frames):
                log.warning("dropping a websocket client that is %d events behind", self.backlog)
                client.dropped = True
                self.disconnect(client)
                client.abort()

    def _dispatch(self) -> None:
        last_stats = 0.0
        stats_due: float | None = None
        while self.server.running:
            try:
                last_stats, stats_due = self._dispatch_once(last_stats, stats_due)
            except Exception as error:  # a bug here must not end live events for everyone
                self.failures.report("the event dispatcher", error)
                time.sleep(_BATCH_GAP)  # not a wait for anything: keeps a repeating failure from spinning

    def _dispatch_once(self, last_stats: float, stats_due: float | None) -> tuple[float, float | None]:
        """Take the waiting events, build their frames and broadcast them; the stats timing goes in and out."""
        inbox = self._inbox
        wait = _IDLE_CHECK if stats_due is None else max(0.0, stats_due - time.monotonic())
        try:
            pending = [inbox.get(timeout=wait)]
        except queue.Empty:
            pending = []
        while pending and len(pending) < _DRAIN_LIMIT:  # take what else is already waiting
            try:
                pending.append(inbox.get_nowait())
            except queue.Empty:
                break
        frames: list[str] = []
        for waiting in pending:
            if waiting.on_loop and not waiting.frame:
                self._await_loop(waiting)
            self._build(waiting)  # if nobody has yet (from an HTTP thread, or the loop was held up)
            if waiting.failed:
                continue
            frames.append(waiting.frame)
            if waiting.event.type in _STORE_CHANGES and stats_due is None:
                stats_due = max(time.monotonic(), last_stats + STATS_INTERVAL)
        if stats_due is not None and time.monotonic() >= stats_due:
            frames.append(self._stats_frame())
            last_stats, stats_due = time.monotonic(), None
        self._broadcast(frames)
        if pending:  # busy: let events gather for a moment rather than waking for each one
            time.sleep(_BATCH_GAP)
        return last_stats, stats_due

    def _stats_frame(self) -> str:
        store = self.server.store
        return _encode({"Type": "stats", "Data": {"Total": len(store), "Unread": store.unread,
                                                  "Version": f"v{__version__}"}})


# The Data of each event type that has a frame, from the event's payload and the store.
_PAYLOADS: dict[str, Callable[[Any, MessageStore], Any]] = {
    "new": summary,
    "update": lambda changes, store: dict(changes),
    "delete": lambda message_id, store: {"ID": message_id},
    "truncate": lambda _, store: None,
    "prune": lambda _, store: None,
    "session": lambda record, store: session(record),
    "faults": lambda rules, store: [rule.to_dict() for rule in rules],
}


class _Pending:
    """An event on its way to the clients, and its frame once built (by the SMTP loop or the dispatcher)."""

    __slots__ = ("event", "failed", "frame", "on_loop")

    def __init__(self, event: Event) -> None:
        self.event = event
        self.frame = ""  # not built yet (a built frame is never empty)
        self.on_loop = False  # an SMTP event loop will build the frame
        self.failed = False  # building the frame raised: there is none to send


def hub() -> EventHub:
    """This app's hub."""
    found: EventHub = current_app.extensions["mailtrap_events"]
    return found


def _writer(ws: Any) -> Callable[[list[str]], None]:
    """How to write a batch of text frames to ``ws``: encoded by its wsproto connection (which applies
    permessage-deflate when negotiated) and written to the socket at once; ``ws.send`` per frame if this
    simple-websocket does not expose the connection and socket."""
    connection, raw = getattr(ws, "ws", None), getattr(ws, "sock", None)
    if connection is None or raw is None or not hasattr(raw, "sendall"):
        def send_each(frames: list[str]) -> None:
            for frame in frames:
                ws.send(frame)
        return send_each

    def send_all(frames: list[str]) -> None:
        raw.sendall(b"".join([connection.send(TextMessage(data=frame)) for frame in frames]))

    return send_all


def _send_each(write: Callable[[list[str]], None], frames: list[str], failures: _FailureLog) -> bool:
    """Send ``frames`` one at a time, skipping any that fail; False when none could be sent (the connection is
    broken: the client is done)."""
    sent = False
    for frame in frames:
        try:
            write([frame])
        except OSError:
            return False
        except Exception as error:
            failures.report("sending to a websocket client", error)
        else:
            sent = True
    return sent


def _shutdown(ws: Any) -> None:
    """Cut a connection at the socket, which also frees a thread blocked sending to it."""
    with contextlib.suppress(OSError):
        ws.sock.shutdown(socket.SHUT_RDWR)


@events.before_request
def refuse_over_the_limit() -> Response | None:
    """Past ``--max-websocket-clients``, a new client gets a 503 with the reason instead of a connection."""
    limit = hub().server.config.max_websocket_clients
    if limit and hub().client_count >= limit:
        return text_response(f"too many websocket clients (limit {limit}), try again later\n", 503)
    return None


@sock.route("/api/events", bp=events)
def event_stream(ws: Any) -> None:
    """Send frames to one websocket client until it leaves, falls too far behind, or the server stops."""
    events_hub = hub()
    write = _writer(ws)
    client = events_hub.connect(lambda: _shutdown(ws))
    try:
        while ws.connected and events_hub.server.running and not client.dropped:
            frames = client.take(_IDLE_CHECK)
            if not frames:
                continue
            if not ws.connected:
                break
            try:
                write(frames)
            except OSError:  # the client vanished, or was cut off for falling behind: nothing left to send to
                break
            except Exception as error:  # one frame its connection refuses: send the others one by one
                events_hub.failures.report("sending to a websocket client", error)
                if not _send_each(write, frames, events_hub.failures):
                    break
    finally:
        events_hub.disconnect(client)
