"""The soak's regular senders: an ordinary app's mail, small messages at a steady pace, every reply timed.

They run in a process of their own (``multiprocessing`` spawn), so nothing else the soak does competes with them
for an interpreter lock and every latency they see is the server's.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from typing import Any

from bench.mail import build
from bench.smtp_client import Conversation, Delivery, Refused

SOURCE = "127.0.0.1"  # the app's address; hostile clients come from other loopback addresses
_TEMPLATES = 200


@dataclass
class SenderResults:
    """What the regular senders achieved: deliveries, every reply's latency in seconds, and what went wrong."""

    deliveries: list[Delivery] = field(default_factory=list)
    latencies: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


async def _sender(
    host: str, port: int, number: int, templates: list[tuple[int, bytes]], interval: float, until: float,
    timeout: float, results: SenderResults,
) -> None:
    next_at, sent = time.monotonic(), 0
    conversation: Conversation | None = None
    while time.monotonic() < until:
        next_at += interval
        index, template = templates[sent % len(templates)]
        raw = template.replace(b"<bench-%d@example.com>" % index, b"<regular-%d-%d@soak.example>" % (number, sent))
        sent += 1
        try:
            if conversation is None:
                conversation = await Conversation.open(host, port, SOURCE, timeout)
            results.deliveries.append(await conversation.deliver(raw, "regular"))
        except (Refused, OSError, asyncio.TimeoutError) as error:
            results.errors.append(f"{type(error).__name__}: {error}")
            if isinstance(error, asyncio.TimeoutError):
                results.latencies.append(timeout)  # no reply within the timeout: at least that long
            if conversation is not None:
                results.latencies.extend(conversation.latencies)
                conversation.close()
                conversation = None
        await asyncio.sleep(max(0.0, next_at - time.monotonic()))
    if conversation is not None:
        results.latencies.extend(conversation.latencies)
        conversation.close()


def run_senders(host: str, port: int, count: int, rate: float, seconds: float, timeout: float, out: Any) -> None:
    """``count`` connections sending ``rate`` messages a second in all for ``seconds``; puts SenderResults on
    ``out`` (a multiprocessing queue)."""
    results = SenderResults()
    templates = [(i, build(i)) for i in range(_TEMPLATES)]
    until = time.monotonic() + seconds

    async def main() -> None:
        await asyncio.gather(
            *(_sender(host, port, n, templates[n::count], count / rate, until, timeout, results) for n in range(count))
        )

    asyncio.run(main())
    out.put(results)
