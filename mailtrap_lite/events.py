"""A tiny publish/subscribe bus: the store, the session log and the fault rules announce changes here.

Subscribers are plain callables run synchronously in the publishing thread, so they must be quick and must not
block (the websocket layer, for example, only drops the event into per-client queues). A subscriber that raises
is logged and skipped; it never breaks the publisher (an SMTP session must not fail because a reader did).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Event:
    """One change: ``type`` is a Mailpit websocket type (``new``, ``update``, ``delete``, ``truncate``, ``prune``)
    or one of ours (``session``, ``faults``, and ``fired`` when a fault rule fires, which has no websocket frame);
    ``data`` is the payload object (a Message, ids, a session, a firing...)."""

    type: str
    data: Any = None


Subscriber = Callable[[Event], None]


class EventBus:
    """Fan-out of :class:`Event` objects to subscribers, safe to use from any thread."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._subscribers: tuple[Subscriber, ...] = ()

    def subscribe(self, subscriber: Subscriber) -> Callable[[], None]:
        """Register ``subscriber`` and return a function that unregisters it."""
        with self._lock:
            self._subscribers = (*self._subscribers, subscriber)

        def unsubscribe() -> None:
            with self._lock:
                self._subscribers = tuple(s for s in self._subscribers if s is not subscriber)

        return unsubscribe

    @property
    def has_subscribers(self) -> bool:
        """True when someone listens, so publishers can skip building payloads nobody reads."""
        return bool(self._subscribers)

    def publish(self, event: Event) -> None:
        """Deliver ``event`` to every subscriber in registration order."""
        for subscriber in self._subscribers:
            try:
                subscriber(event)
            except Exception:  # a broken reader must never break ingest
                log.exception("event subscriber %r failed on %s", subscriber, event.type)
