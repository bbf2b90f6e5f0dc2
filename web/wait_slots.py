"""A bound on concurrent long-poll waits: each one holds an HTTP worker for up to its timeout, so at most half the
workers may wait at once and the rest stay free for everything else. Past the bound a wait gets ``503``."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

from flask import current_app

from mailtrap_lite.web.errors import ApiError


class WaitSlots:
    """``limit`` waits at a time."""

    def __init__(self, limit: int) -> None:
        self.limit = max(1, limit)
        self._free = threading.BoundedSemaphore(self.limit)

    @contextmanager
    def hold(self) -> Iterator[None]:
        """Take a slot for the duration of the block; 503 with the reason when none is free."""
        if not self._free.acquire(blocking=False):
            raise ApiError(f"too many requests waiting in /api/v1/wait (limit {self.limit}), try again later", 503)
        try:
            yield
        finally:
            self._free.release()


def wait_slot() -> WaitSlots:
    """This app's wait slots."""
    slots: WaitSlots = current_app.extensions["mailtrap_wait_slots"]
    return slots
