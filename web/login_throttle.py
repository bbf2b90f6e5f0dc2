"""Slowing down password guessing on ``--ui-auth``: per client address, a bounded record of failed logins.

After ``limit`` failures within ``window`` seconds an address is refused (the caller answers 429 with
``Retry-After``) until the oldest of those failures is ``window`` old; nothing waits, so no worker thread is held.
A correct login clears the address's record; other addresses are never affected.
"""

from __future__ import annotations

import math
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable

MAX_TRACKED_CLIENTS = 10_000


class LoginThrottle:
    """Failed logins per client address (at most :data:`MAX_TRACKED_CLIENTS`, least recently seen dropped first)."""

    def __init__(self, limit: int, window: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.limit = limit
        self.window = window
        self._clock = clock
        self._failures: OrderedDict[str, deque[float]] = OrderedDict()
        self._lock = threading.Lock()

    def retry_after(self, address: str) -> int:
        """Whole seconds until ``address`` may try again; 0 when it may try now."""
        with self._lock:
            failures = self._failures.get(address)
            if failures is None or len(failures) < self.limit:
                return 0
            remaining = failures[0] + self.window - self._clock()
        return math.ceil(remaining) if remaining > 0 else 0

    def failed(self, address: str) -> bool:
        """Record a failed login; True when this failure is the one that makes ``address`` wait."""
        with self._lock:
            failures = self._failures.pop(address, None) or deque(maxlen=self.limit)
            self._failures[address] = failures  # now the most recently seen
            failures.append(self._clock())
            while len(self._failures) > MAX_TRACKED_CLIENTS:
                self._failures.popitem(last=False)
            return len(failures) == self.limit and failures[-1] - failures[0] < self.window

    def succeeded(self, address: str) -> None:
        """A correct login: forget the address's failures."""
        with self._lock:
            self._failures.pop(address, None)
