"""Per-connection limits that aiosmtpd does not enforce the way we want: the idle timeout.

aiosmtpd's own timer restarts only on a valid command and closes the socket without a word. Ours restarts on
every byte the client sends (so a slow upload of a large DATA is not "idle") and says ``421 4.4.2`` first.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

# aiosmtpd insists on a timer of its own; this one is only a backstop far behind ours.
AIOSMTPD_BACKSTOP_SECONDS = 7 * 24 * 3600.0


class IdleTimer:
    """Calls ``on_idle`` once no activity was noted for ``seconds``.

    ``touch()`` is called for every chunk the client sends, so it only records the time; the single timer
    re-arms itself for the remainder when it finds recent activity instead of being rescheduled per chunk.
    """

    def __init__(self, loop: asyncio.AbstractEventLoop, seconds: float, on_idle: Callable[[], None]) -> None:
        self._loop = loop
        self._seconds = seconds
        self._on_idle = on_idle
        self._last = loop.time()
        self._handle: asyncio.TimerHandle | None = loop.call_later(seconds, self._check)

    def touch(self) -> None:
        """Note activity now."""
        self._last = self._loop.time()

    def cancel(self) -> None:
        """Stop watching (the connection ended)."""
        if self._handle is not None:
            self._handle.cancel()
            self._handle = None

    def _check(self) -> None:
        remaining = self._last + self._seconds - self._loop.time()
        if remaining > 0:
            self._handle = self._loop.call_later(remaining, self._check)
            return
        self._handle = None
        self._on_idle()
