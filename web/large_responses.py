"""A bound on the memory that answers built from large messages hold at once.

The JSON of a message, and its text and HTML views, are new copies of its bodies: about twice their length (the
text, then its encoded bytes) until the client has read the answer, 47 MiB for the JSON of a 23 MiB message shown as
raw. With up to ``http_workers`` such answers at once, a few readers of huge mail could hold hundreds of MiB
whatever ``--max-total-size`` says. So an answer that copies ``LARGE_BODY_CHARS`` or more of body first reserves
twice that from ``IN_FLIGHT_BYTES``, and gives it back once the answer is sent (or the client went away). A request
that finds the reserve taken waits up to ``WAIT_SECONDS`` for it, then gets ``503`` with the reason. One answer
always goes through when nothing else is in flight, however large (``--max-message-size`` may be above the reserve).
A message with a large attachment and a short text costs nothing here: its JSON lists the attachment, not its bytes.

The raw source and part downloads are not counted: they send the stored bytes themselves, without a copy.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from flask import Response, current_app

from mailtrap_lite.web.errors import ApiError

LARGE_BODY_CHARS = 1024 * 1024
IN_FLIGHT_BYTES = 128 * 1024 * 1024
WAIT_SECONDS = 10.0


class InFlightBytes:
    """At most ``limit`` bytes reserved at once (a single reservation of any size when none is held)."""

    def __init__(self, limit: int, wait_seconds: float) -> None:
        self.limit = limit
        self.wait_seconds = wait_seconds
        self.held = 0
        self._changed = threading.Condition()

    def reserve(self, cost: int) -> Callable[[], None]:
        """Reserve ``cost`` bytes, waiting up to ``wait_seconds``; returns the function that gives them back.
        Raises a 503 ApiError when they could not be reserved in time."""
        deadline = time.monotonic() + self.wait_seconds
        with self._changed:
            while self.held and self.held + cost > self.limit:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise ApiError(
                        f"too many large messages being sent at once ({self.held // 2**20} MiB of answers in flight, "
                        f"limit {self.limit // 2**20} MiB), try again later", 503,
                    )
                self._changed.wait(left)
            self.held += cost
        released = threading.Event()

        def release() -> None:
            if released.is_set():
                return
            released.set()
            with self._changed:
                self.held -= cost
                self._changed.notify_all()

        return release


def built_within_budget(body_chars: int, build: Callable[[], Response]) -> Response:
    """``build()``'s answer, which copies ``body_chars`` characters of a message's bodies; when that is large, built
    only once twice as many bytes are reserved, and the reservation given back when the answer has been sent."""
    if body_chars < LARGE_BODY_CHARS:
        return build()
    budget: InFlightBytes = current_app.extensions["mailtrap_large_responses"]
    release = budget.reserve(2 * body_chars)
    try:
        response = build()
    except BaseException:
        release()
        raise
    response.call_on_close(release)
    return response
