"""Event-loop stall watch: a timer on the loop that notices when it runs late, because something held the loop.

One SMTP event loop serves every client, so anything slow run on it (a parse, a blocking call) delays every other
session's replies. The watch is a timer that fires every ``period``; when it fires ``threshold`` or more late, the
loop was held that long, and it logs one warning line (``event loop stalled 230 ms (smtp)``) and counts it. The
lateness is a lower bound of the stall (it may have begun up to one period before the timer was due). At the
default 50 ms period it costs about twenty timer callbacks a second, so it is always on.
"""

from __future__ import annotations

import asyncio
import logging

log = logging.getLogger("mailtrap_lite.loop")

DEFAULT_PERIOD = 0.05
STALL_THRESHOLD = 0.1


class LoopWatch:
    """Watches one event loop for stalls; ``stalls`` counts them and ``worst_ms`` is the longest seen."""

    def __init__(self, name: str, period: float = DEFAULT_PERIOD, threshold: float = STALL_THRESHOLD) -> None:
        self.name = name
        self.period = period
        self.threshold = threshold
        self.loop: asyncio.AbstractEventLoop | None = None
        self.stalls = 0
        self.worst_ms = 0.0
        self._due = 0.0
        self._reported_due = -1.0  # the due time of a stall already reported by report_held()

    def watch(self, loop: asyncio.AbstractEventLoop) -> None:
        """Start watching ``loop``; call it from the loop's own thread (e.g. just before ``run_forever``)."""
        self.loop = loop
        self._arm(loop)

    def _arm(self, loop: asyncio.AbstractEventLoop) -> None:
        self._due = loop.time() + self.period
        loop.call_at(self._due, self._tick, loop)

    def _tick(self, loop: asyncio.AbstractEventLoop) -> None:
        late = loop.time() - self._due
        if late >= self.threshold and self._due != self._reported_due:
            self._record(late, self.name)
        self._arm(loop)

    def report_held(self) -> None:
        """Log a stall still going on now. A loop held until the server stops never runs the timer that would
        report it, so ``stop()`` asks here first (safe from any thread)."""
        if self.loop is not None:
            late = self.loop.time() - self._due
            if late >= self.threshold:
                self._reported_due = self._due
                self._record(late, f"{self.name}, still held when stopping")

    def _record(self, late: float, where: str) -> None:
        late_ms = late * 1000
        self.stalls += 1
        self.worst_ms = max(self.worst_ms, late_ms)
        log.warning("event loop stalled %.0f ms (%s)", late_ms, where)
