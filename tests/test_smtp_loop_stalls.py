"""A stall of the SMTP event loop (something held it, so every session's replies waited) is logged as one warning
line with its length, and counted, so an operator (and the soak run) can see it happen."""

from __future__ import annotations

import logging
import re
import smtplib
import threading
import time
from collections.abc import Iterator

import pytest

from mailtrap_lite import MailServer

STALL = re.compile(r"event loop stalled (\d+) ms \(smtp(, still held when stopping)?\)")
HELD_AT_STOP = "(smtp, still held when stopping)"


class StallLines(logging.Handler):
    """Collects the stall warnings as they are logged and wakes the test when ``expected`` have arrived."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.lines: list[str] = []
        self.arrived = threading.Condition()
        self.held_at_stop = threading.Event()  # set by the line stop() logs for a loop still held

    def emit(self, record: logging.LogRecord) -> None:
        text = record.getMessage()
        if STALL.fullmatch(text):
            with self.arrived:
                self.lines.append(text)
                self.arrived.notify_all()
            if text.endswith(HELD_AT_STOP):
                self.held_at_stop.set()

    def held_for(self, at_least_ms: int, count: int, timeout: float = 10.0) -> list[int]:
        """Wait until ``count`` stalls of ``at_least_ms`` or longer were logged; their lengths (a loaded machine may
        log shorter ones of its own meanwhile)."""

        def long_ones() -> list[int]:
            lengths = [int(STALL.fullmatch(line).group(1)) for line in self.lines]  # type: ignore[union-attr]
            return [ms for ms in lengths if ms >= at_least_ms]

        with self.arrived:
            self.arrived.wait_for(lambda: len(long_ones()) >= count, timeout)
            return long_ones()


@pytest.fixture
def stall_lines() -> Iterator[StallLines]:
    handler = StallLines()
    logger = logging.getLogger("mailtrap_lite")
    logger.addHandler(handler)
    yield handler
    logger.removeHandler(handler)


def block_smtp_loop(server: MailServer, seconds: float) -> None:
    """Run a blocking call on the server's SMTP event loop (what a parse done on the loop does to it)."""
    loop = server.loop_watch.loop
    assert loop is not None
    loop.call_soon_threadsafe(time.sleep, seconds)


def test_a_held_loop_is_logged_once_with_how_long_it_was_held(stall_lines: StallLines) -> None:
    with MailServer() as server:
        block_smtp_loop(server, 0.4)
        # The timer was due at most one period (50 ms) before the loop was taken, so it ran >= 350 ms late.
        held = stall_lines.held_for(350, 1)
        assert held, "no stall of the held loop was logged"
        assert held[0] < 5000
        assert server.loop_watch.stalls >= 1
        assert server.loop_watch.worst_ms >= 350
        # The watch goes on after a stall: a second one is reported too, and the server still takes mail.
        block_smtp_loop(server, 0.4)
        assert len(stall_lines.held_for(350, 2)) == 2
        with smtplib.SMTP(server.smtp_host, server.smtp_port, timeout=10) as client:
            client.sendmail("a@example.com", ["b@example.com"], b"Subject: after\r\n\r\nstill here\r\n")
        assert len(server.store) == 1


def test_a_loop_still_held_when_the_server_stops_is_reported_by_stop(stall_lines: StallLines) -> None:
    # The timer that reports a stall runs only once the loop is free again; a loop held until shutdown (a parse
    # that never finishes) must still show up in the log.
    server = MailServer().start()
    held_long_enough = threading.Event()

    def hold() -> None:
        time.sleep(0.3)  # the stall itself: the loop is held this long before stop() is called
        held_long_enough.set()
        stall_lines.held_at_stop.wait(10)  # still held, until stop() has reported it

    loop = server.loop_watch.loop
    assert loop is not None
    loop.call_soon_threadsafe(hold)
    assert held_long_enough.wait(10)
    server.stop()
    assert stall_lines.held_at_stop.wait(10), "stop() did not report the loop it found held"
    # A loaded machine may add stalls of its own before this one: look at the line stop() logged.
    held = [line for line in stall_lines.lines if line.endswith(HELD_AT_STOP)]
    assert len(held) == 1
    assert int(STALL.fullmatch(held[0]).group(1)) >= 250  # type: ignore[union-attr]
    # Reported once: not again by the timer when the loop got free before it stopped.
    again = [line for line in stall_lines.lines if not line.endswith(HELD_AT_STOP)
             and int(STALL.fullmatch(line).group(1)) >= 250]  # type: ignore[union-attr]
    assert not again
