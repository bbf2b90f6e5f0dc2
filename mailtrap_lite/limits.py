"""Per-connection limits that aiosmtpd does not enforce the way we want: time limits and connection counts.

aiosmtpd's own timer restarts only on a valid command and closes the socket without a word. Ours says ``421``
first and watches three things with one timer per connection:

- idle: no byte at all for ``idle_timeout`` seconds;
- a command line that started arriving must be complete within ``command_timeout`` seconds, so a client that
  trickles one byte a second (a "slow loris") cannot hold a connection by never finishing its line;
- DATA content must arrive at ``data_min_rate`` bytes a second or more, measured over each ``data_timeout``
  seconds, so a large upload over a slow link works while a trickle does not.

And :class:`ConnectionCounter` caps concurrent connections in total and per client address.
"""

from __future__ import annotations

import asyncio
import ipaddress
import math
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from mailtrap_lite import replies

# aiosmtpd insists on a timer of its own; this one is only a backstop far behind ours.
AIOSMTPD_BACKSTOP_SECONDS = 7 * 24 * 3600.0

DEFAULT_COMMAND_TIMEOUT = 30.0
DEFAULT_DATA_TIMEOUT = 30.0
DEFAULT_DATA_MIN_RATE = 1024
DEFAULT_MAX_CONNECTIONS_PER_IP = 50

# What the connection is doing when the timer looks: waiting for a command line, receiving DATA content, or
# waiting for the server itself (the content has arrived and is being stored; a fault may delay the reply).
Phase = Literal["command", "data", "busy"]


@dataclass(frozen=True)
class TimeLimits:
    """The time limits of one SMTP connection; 0 turns a limit off."""

    idle_timeout: float = 300.0
    command_timeout: float = DEFAULT_COMMAND_TIMEOUT
    data_timeout: float = DEFAULT_DATA_TIMEOUT
    data_min_rate: int = DEFAULT_DATA_MIN_RATE

    @property
    def enabled(self) -> bool:
        """True when any limit is on (else no timer is needed at all)."""
        return bool(self.idle_timeout or self.command_timeout or (self.data_timeout and self.data_min_rate))


class ClientClock:
    """Enforces :class:`TimeLimits` on one connection with a single timer, answering ``421 4.4.2`` on expiry.

    The protocol reports each chunk it receives (:meth:`received`, :meth:`command_bytes`), which only records
    numbers; the timer wakes at the next moment a limit could expire, asks ``phase()`` what the connection is
    doing, and re-arms itself. Nothing is rescheduled per chunk or per command, so the cost per message is flat.
    """

    def __init__(
        self,
        loop: asyncio.AbstractEventLoop,
        limits: TimeLimits,
        phase: Callable[[], Phase],
        on_expiry: Callable[[str], None],
    ) -> None:
        self._loop = loop
        self._limits = limits
        self._phase = phase
        self._on_expiry = on_expiry
        now = loop.time()
        self._last = now
        self._received = 0
        self._line_since: float | None = None  # when the command line still incomplete began to arrive
        self._window: tuple[float, int] | None = None  # (start, bytes received by then) of the DATA rate window
        polls = [t for t in (limits.command_timeout, limits.data_timeout if limits.data_min_rate else 0) if t > 0]
        self._poll = min(polls, default=math.inf)  # how often to look while no deadline is known
        self._handle: asyncio.TimerHandle | None = None
        self._arm(now, self._next_check(now, "command"))

    def received(self, size: int) -> None:
        """Note that ``size`` bytes arrived now (any bytes: commands or DATA content)."""
        self._last = self._loop.time()
        self._received += size

    def command_bytes(self, completed: bool, incomplete: bool) -> None:
        """Outside DATA: the chunk just noted ``completed`` one or more lines and/or left one ``incomplete``."""
        if not incomplete:
            self._line_since = None
        elif completed or self._line_since is None:
            self._line_since = self._last

    def cancel(self) -> None:
        """Stop watching (the connection ended)."""
        if self._handle is not None:
            self._handle.cancel()
            self._handle = None

    def _arm(self, now: float, at: float) -> None:
        self._handle = self._loop.call_later(at - now, self._check) if at < math.inf else None

    def _check(self) -> None:
        self._handle = None
        now, phase = self._loop.time(), self._phase()
        expired = self._expired(now, phase)
        if expired is not None:
            self._on_expiry(expired)
            return
        self._arm(now, self._next_check(now, phase))

    def _expired(self, now: float, phase: Phase) -> str | None:
        """The reply for a limit that has run out, else None (and the DATA window moves on when it is full)."""
        limits = self._limits
        if limits.idle_timeout and now - self._last >= limits.idle_timeout:
            return replies.IDLE_TIMEOUT
        if phase != "command":
            self._line_since = None  # partial lines of content are no command
        elif (limits.command_timeout and self._line_since is not None
              and now - self._line_since >= limits.command_timeout):
            return replies.command_too_slow(limits.command_timeout)
        if phase != "data" or not (limits.data_min_rate and limits.data_timeout):
            self._window = None
        elif self._window is None:
            self._window = (now, self._received)
        else:
            start, count = self._window
            if now - start >= limits.data_timeout:
                if self._received - count < limits.data_min_rate * (now - start):
                    return replies.data_too_slow(limits.data_min_rate, limits.data_timeout)
                self._window = (now, self._received)
        return None

    def _next_check(self, now: float, phase: Phase) -> float:
        limits = self._limits
        at = self._last + limits.idle_timeout if limits.idle_timeout else math.inf
        if self._window is not None:
            return min(at, self._window[0] + limits.data_timeout)
        if phase == "command" and self._line_since is not None and limits.command_timeout:
            return min(at, self._line_since + limits.command_timeout)
        return min(at, now + self._poll)  # a line or DATA may start at any moment: look again within a poll


def is_loopback(host: str) -> bool:
    """True for a loopback address (``127.0.0.0/8``, ``::1``, or IPv4 loopback mapped into IPv6)."""
    try:
        address = ipaddress.ip_address(host.partition("%")[0])
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return address.is_loopback


class ConnectionCounter:
    """Admits a connection unless the server (``max_total``) or its client address (``max_per_address``) is at
    its cap; 0 means no cap. ``max_per_address=None`` is the default policy: ``DEFAULT_MAX_CONNECTIONS_PER_IP``
    for remote clients, none for loopback ones (tests and local apps open many connections from 127.0.0.1, and a
    local process needs no per-address cap to hurt the machine). Used on the event loop's thread only."""

    def __init__(self, max_total: int, max_per_address: int | None) -> None:
        self.max_total = max_total
        self.max_per_address = max_per_address
        self.total = 0
        self._by_address: Counter[str] = Counter()

    def admit(self, address: str) -> str | None:
        """Count the connection in and return None, or return the ``421`` refusal (and count nothing)."""
        if self.max_total and self.total >= self.max_total:
            return replies.TOO_MANY_CONNECTIONS
        cap = self.max_per_address
        if cap is None:
            cap = 0 if is_loopback(address) else DEFAULT_MAX_CONNECTIONS_PER_IP
        if cap and self._by_address[address] >= cap:
            return replies.TOO_MANY_CONNECTIONS_FROM_ADDRESS
        self.total += 1
        self._by_address[address] += 1
        return None

    def release(self, address: str) -> None:
        """An admitted connection ended."""
        self.total -= 1
        left = self._by_address[address] - 1
        if left > 0:
            self._by_address[address] = left
        else:
            del self._by_address[address]
