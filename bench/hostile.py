"""The soak's hostile clients, all at once in one process of their own: poison senders (each poison message of
``tests/poison_mail.py`` several times), huge-message senders (near ``--max-message-size``), slow-loris SMTP
sockets (silent, trickling a command a byte a second, trickling DATA a byte a second), slow HTTP sockets (idle and
trickling a request) and a websocket client that never reads.

Each kind of attacker connects from a loopback address of its own (127.0.1.x and up), as an attacker on another
host would, so a per-client-address limit hits them and not the regular senders on 127.0.0.1.
"""

from __future__ import annotations

import asyncio
import base64
import itertools
import os
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from bench.mail import build
from bench.smtp_client import Conversation, Delivery, Refused
from tests import poison_mail

POISONS: dict[str, Callable[[], bytes]] = {
    "nested comments": poison_mail.nested_comments_from,
    "deep multipart": poison_mail.deep_multipart,
    "angle flood": poison_mail.angle_flood_html,
    "many parts": poison_mail.many_parts,
    "folded subject": poison_mail.folded_subject,
}
_LORIS_SOURCE = "127.0.3.1"
_SLOW_HTTP_SOURCE = "127.0.4.1"
_TRICKLE_PERIOD = 1.0  # one byte a second
_CONNECT_TIMEOUT = 10.0


@dataclass(frozen=True)
class HostilePlan:
    """How much hostility: repeats of each poison, huge messages (and their size), slow sockets."""

    poison_repeats: int
    huge_messages: int
    huge_size: int
    huge_senders: int
    slow_smtp: int
    slow_http: int


@dataclass
class SlowSockets:
    """Outcomes of one kind of slow socket: refused (at connect, or a greeting other than 220), no greeting, cut
    off by the server (and after how many seconds), or held to the end."""

    outcomes: Counter[str] = field(default_factory=Counter)
    cut_after: list[float] = field(default_factory=list)

    def summary(self) -> dict[str, str]:
        """Each outcome's count; the cut-off one with the shortest and longest time to the cut."""
        found = {outcome: str(count) for outcome, count in sorted(self.outcomes.items())}
        if self.cut_after:
            found["cut off"] += f" (after {min(self.cut_after):.0f}-{max(self.cut_after):.0f} s)"
        return found


@dataclass
class HostileResults:
    """What the hostile clients saw."""

    deliveries: list[Delivery] = field(default_factory=list)
    refused: Counter[str] = field(default_factory=Counter)  # "kind: code"
    unanswered: Counter[str] = field(default_factory=Counter)  # kind: no reply in time or connection lost
    slow_smtp: SlowSockets = field(default_factory=SlowSockets)
    slow_http: SlowSockets = field(default_factory=SlowSockets)
    silent_websocket: str = ""


def huge_message(size: int) -> bytes:
    """A message of about ``size`` bytes on the wire: a base64 attachment of random bytes (as mail with a big file
    attachment is); ``<bench-0@example.com>`` is its Message-ID, to be replaced per copy."""
    return build(0, attachment_bytes=int(size * 57 / 78) - 4096)


async def _send_each(
    host: str, port: int, source: str, kind: str, raws: Any, until: float, timeout: float,
    results: HostileResults, live: Any,
) -> None:
    """Deliver each of ``raws`` on a fresh connection from ``source`` until ``until``; note what happened."""
    for raw in raws:
        if time.monotonic() >= until:
            return
        conversation = None
        try:
            conversation = await Conversation.open(host, port, source, timeout)
            delivery = await conversation.deliver(raw, kind.replace(" ", "-"))
            results.deliveries.append(delivery)
            if live is not None:
                live.put(delivery.queue_id)
        except Refused as refusal:
            if refusal.code:
                results.refused[f"{kind}: {refusal.code}"] += 1
            else:
                results.unanswered[kind] += 1
        except (OSError, asyncio.TimeoutError):
            results.unanswered[kind] += 1
        finally:
            if conversation is not None:
                conversation.close()


async def _until_closed(reader: asyncio.StreamReader) -> None:
    while await reader.read(65536):
        pass


async def _slow_socket(
    host: str, port: int, source: str, script: tuple[bytes, bytes], smtp: bool, until: float, sockets: SlowSockets
) -> None:
    """Connect (and, for SMTP, read the greeting), send the script's opening at once, then one byte of its trickle
    (repeated) a second until ``until``; an empty trickle says nothing. Notes the outcome in ``sockets``."""
    opening, trickle = script
    try:
        reader, writer = await asyncio.wait_for(
            asyncio.open_connection(host, port, local_addr=(source, 0)), _CONNECT_TIMEOUT
        )
    except (OSError, asyncio.TimeoutError):
        sockets.outcomes["refused"] += 1
        return
    opened = time.monotonic()
    closed: asyncio.Future[None] | None = None
    held = False
    try:
        if smtp:
            greeting = await asyncio.wait_for(reader.readline(), _CONNECT_TIMEOUT)
            if not greeting.startswith(b"220"):
                sockets.outcomes["refused"] += 1
                return
        closed = asyncio.ensure_future(_until_closed(reader))
        writer.write(opening)
        for byte in itertools.cycle([trickle[i : i + 1] for i in range(len(trickle))] or [b""]):
            await asyncio.wait({closed}, timeout=min(_TRICKLE_PERIOD, max(0.0, until - time.monotonic())))
            if closed.done() or time.monotonic() >= until:
                break
            writer.write(byte)
        held = not closed.done()
    except asyncio.TimeoutError:
        sockets.outcomes["no greeting"] += 1
        return
    except OSError:
        pass  # the server reset the connection
    finally:
        if closed is not None:
            closed.cancel()
        writer.close()
    sockets.outcomes["held" if held else "cut off"] += 1
    if not held:
        sockets.cut_after.append(time.monotonic() - opened)


async def _silent_websocket(host: str, port: int, until: float) -> str:
    """A websocket client of ``/api/events`` that never reads; at the end, whether the server dropped it."""
    try:
        reader, writer = await asyncio.open_connection(host, port)
        key = base64.b64encode(os.urandom(16)).decode()
        writer.write(
            f"GET /api/events HTTP/1.1\r\nHost: {host}:{port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n".encode()
        )
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), _CONNECT_TIMEOUT)
    except (OSError, asyncio.TimeoutError, asyncio.IncompleteReadError) as error:
        return f"could not connect ({type(error).__name__})"
    if not head.startswith(b"HTTP/1.1 101"):
        return "refused: " + head.split(b"\r\n", 1)[0].decode(errors="replace")
    await asyncio.sleep(max(0.0, until - time.monotonic()))  # never read: the server's buffers fill up
    try:
        while await asyncio.wait_for(reader.read(1 << 20), 2.0):
            pass
        return "dropped by the server"
    except asyncio.TimeoutError:
        return "still connected"
    except OSError:
        return "dropped by the server"
    finally:
        writer.close()


async def _hostile(
    host: str, port: int, http_port: int, plan: HostilePlan, until: float, timeout: float, live: Any
) -> HostileResults:
    results = HostileResults()
    tasks = []
    for number, (kind, make) in enumerate(POISONS.items(), 1):
        raws = itertools.repeat(make(), plan.poison_repeats)
        tasks.append(_send_each(host, port, f"127.0.1.{number}", kind, raws, until, timeout, results, live))
    huge = huge_message(plan.huge_size)
    copies = (huge.replace(b"<bench-0@example.com>", b"<huge-%d@soak.example>" % n) for n in range(plan.huge_messages))
    for number in range(1, plan.huge_senders + 1):  # the senders share one generator of copies
        tasks.append(_send_each(host, port, f"127.0.2.{number}", "huge", copies, until, timeout, results, None))
    smtp_scripts = [
        (b"", b""),
        (b"", b"EHLO loris.example\r\n" + b"NOOP\r\n" * 1000),
        (b"EHLO loris.example\r\nMAIL FROM:<loris@soak.example>\r\nRCPT TO:<x@soak.example>\r\nDATA\r\n",
         b"Subject: slow\r\n\r\n" + b"x" * 100_000),
    ]
    for number in range(plan.slow_smtp):
        script = smtp_scripts[number % len(smtp_scripts)]
        tasks.append(_slow_socket(host, port, _LORIS_SOURCE, script, True, until, results.slow_smtp))
    http_scripts = [(b"", b""), (b"", b"GET /api/v1/messages HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: " + b"a" * 100_000)]
    for number in range(plan.slow_http):
        script = http_scripts[number % len(http_scripts)]
        tasks.append(_slow_socket(host, http_port, _SLOW_HTTP_SOURCE, script, False, until, results.slow_http))

    async def watch_silently() -> None:
        results.silent_websocket = await _silent_websocket(host, http_port, until)

    await asyncio.gather(*tasks, watch_silently())
    return results


def run_hostile(
    host: str, port: int, http_port: int, plan: HostilePlan, seconds: float, timeout: float, live: Any, out: Any
) -> None:
    """Every hostile client at once for ``seconds`` (replies awaited up to ``timeout``); puts the queue id of each
    acknowledged poison message on ``live`` as it comes, and HostileResults on ``out`` at the end."""
    until = time.monotonic() + seconds
    out.put(asyncio.run(_hostile(host, port, http_port, plan, until, timeout, live)))
