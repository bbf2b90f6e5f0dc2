"""A server under test, in its own process: ``python -m bench.serve ours|sink``.

It prints one JSON line with its ports, then obeys one command per line on stdin, answering one line each:
``count`` (messages held), ``clear``, ``fill N`` (ours only: N messages through ``store.add``), ``quit``.
The sink is the baseline: bare aiosmtpd whose handler appends ``envelope.content`` to a list, started the same
way our server starts its SMTP side (``loop.create_server`` in a thread running its own event loop).
"""

from __future__ import annotations

import asyncio
import json
import sys
import threading
import time
from typing import Any

from aiosmtpd.smtp import SMTP, Envelope, Session

from bench.mail import build
from mailtrap_lite.message import Envelope as MailEnvelope

MAX_MESSAGE_SIZE = 10 * 1024 * 1024


class Sink:
    """The baseline handler: keep the content, answer 250."""

    def __init__(self) -> None:
        self.contents: list[bytes] = []

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        """Append the content and accept."""
        assert isinstance(envelope.content, bytes)
        self.contents.append(envelope.content)
        return "250 OK"


def start_sink() -> tuple[Sink, int]:
    """Run a bare aiosmtpd server on a free port in a background event loop; returns the handler and the port."""
    sink = Sink()
    loop = asyncio.new_event_loop()
    bound: list[int] = []
    ready = threading.Event()

    def run() -> None:
        asyncio.set_event_loop(loop)

        def protocol() -> SMTP:
            return SMTP(sink, hostname="sink", data_size_limit=MAX_MESSAGE_SIZE, enable_SMTPUTF8=True)

        server = loop.run_until_complete(loop.create_server(protocol, "127.0.0.1", 0))
        bound.append(server.sockets[0].getsockname()[1])
        ready.set()
        loop.run_forever()

    threading.Thread(target=run, daemon=True).start()
    ready.wait()
    return sink, bound[0]


def fill(store: Any, count: int, first: int) -> float:
    """Add ``count`` distinct ~2 KB messages through the store's public ingest path; returns seconds taken."""
    templates = [build(i) for i in range(500)]
    envelope = MailEnvelope("bench@example.com", ("inbox@example.org",))
    started = time.perf_counter()
    for index in range(first, first + count):
        store.add(b"X-Bench-Index: %d\r\n" % index + templates[index % len(templates)], envelope)
    return time.perf_counter() - started


def main() -> None:
    """Start the requested server and serve commands until ``quit`` or end of input."""
    store: Any = None
    if sys.argv[1] == "sink":
        sink, port = start_sink()
        held: Any = sink.contents
        print(json.dumps({"smtp_port": port}), flush=True)
    else:
        from mailtrap_lite import MailServer

        server = MailServer(http_port=0, max_messages=0, max_message_size=MAX_MESSAGE_SIZE).start()
        store = held = server.store
        print(json.dumps({"smtp_port": server.smtp_port, "http_port": server.http_port}), flush=True)
    filled = 0
    for line in sys.stdin:
        command, _, argument = line.strip().partition(" ")
        if command == "count":
            print(len(held), flush=True)
        elif command == "clear":
            held.clear()
            print("ok", flush=True)
        elif command == "fill" and store is not None:
            seconds = fill(store, int(argument), filled)
            filled += int(argument)
            print(seconds, flush=True)
        elif command == "quit":
            break
        else:
            print(f"unknown command {command!r}", flush=True)


if __name__ == "__main__":
    main()
