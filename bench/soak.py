"""``make soak`` / ``python -m bench.soak``: the reliability run behind the README's figures.

The real ``mailtrap-lite`` command runs in a subprocess. Against it, at the same time: ``--senders`` SMTP
connections each deliver ``--messages`` mails (every reply checked), ``--idle`` connections say nothing at all,
``--websockets`` clients read the event stream, and one thread keeps reading the API. Afterwards it checks that
every message was stored exactly once (each Message-ID in exactly one ``new`` event for every websocket client,
every queue id distinct), that the API answered no 500s, that the server's memory stayed bounded by the message
cap, and prints the figures. Exit status 1 when any check fails.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import queue
import re
import smtplib
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import websocket

from bench.loadgen import run_load
from bench.mail import build, on_the_wire

_TEMPLATES = 500
_ADDRESS = re.compile(r"(SMTP on|API on) (\S+)")
_RSS_PERIOD = 0.5  # seconds between memory samples of the server process
_EVENT_WAIT = 120.0  # how long websocket clients may take to receive the last events after the load ends
END_MARKER = "soak-end@example.com"
END_MAIL = f"Message-ID: <{END_MARKER}>\r\nSubject: end of the soak\r\n\r\nthe last message\r\n".encode()


@dataclass
class Figures:
    """What one soak run measured; ``failures`` lists every broken promise (empty = passed)."""

    senders: int
    messages_per_sender: int
    idle_connections: int
    websocket_clients: int
    cap: int
    sent: int = 0
    acknowledged: int = 0
    smtp_errors: int = 0
    stored_events: list[int] = field(default_factory=list)
    events_missing: list[int] = field(default_factory=list)
    events_duplicated: list[int] = field(default_factory=list)
    websocket_clients_dropped: int = 0
    idle_still_open: int = 0
    api_requests: int = 0
    api_500s: int = 0
    api_statuses: dict[str, int] = field(default_factory=dict)
    held_at_end: int = 0
    rss_mb_when_cap_reached: float = 0.0
    rss_mb_peak: float = 0.0
    rss_mb_end: float = 0.0
    seconds: float = 0.0
    failures: list[str] = field(default_factory=list)


class ServerUnderTest:
    """``python -m mailtrap_lite`` on free ports, with the addresses it printed and its memory use."""

    def __init__(self, cap: int, extra: list[str]) -> None:
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "mailtrap_lite",
                "--smtp",
                "127.0.0.1:0",
                "--http",
                "127.0.0.1:0",
                "--max-messages",
                str(cap),
                "-q",
                *extra,
            ],
            stdout=subprocess.PIPE,
            text=True,
        )
        found: dict[str, str] = {}
        assert self.process.stdout is not None
        for line in self.process.stdout:  # the command prints both addresses once it listens
            match = _ADDRESS.search(line)
            if match:
                found[match.group(1)] = match.group(2)
            if len(found) == 2:
                break
        if len(found) != 2:
            raise RuntimeError(f"mailtrap-lite did not start (exit {self.process.wait()})")
        host, port = found["SMTP on"].rsplit(":", 1)
        self.smtp_host, self.smtp_port = host, int(port)
        self.http_url = found["API on"]

    def rss_mb(self) -> float:
        """Resident memory of the server process in MiB."""
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
        return 0.0

    def stop(self) -> None:
        """SIGTERM, then wait for the clean exit."""
        self.process.terminate()
        self.process.wait(30)


def _watch(url: str, connected: Any, results: Any) -> None:
    """A websocket client in its own process (as a browser would be): count the Message-IDs of ``new`` events
    until the end marker arrives, then report (seen, dropped) on ``results``."""
    ws = websocket.create_connection(url.replace("http://", "ws://") + "/api/events")
    connected.set()
    seen: Counter[str] = Counter()
    dropped = False
    try:
        while True:
            frame = json.loads(ws.recv())
            if frame["Type"] == "new":
                if frame["Data"]["MessageID"] == END_MARKER:
                    break
                seen[frame["Data"]["MessageID"]] += 1
    except (websocket.WebSocketException, OSError, ValueError):
        dropped = True  # the server cut us off (or went away) before the end marker
    ws.close()
    results.put((dict(seen), dropped))


class EventWatchers:
    """``count`` websocket clients, each in a spawned process so none competes with the load for a GIL."""

    def __init__(self, url: str, count: int) -> None:
        context = multiprocessing.get_context("spawn")
        self.results = context.Queue()
        self.processes = []
        for _ in range(count):
            connected = context.Event()
            process = context.Process(target=_watch, args=(url, connected, self.results), daemon=True)
            process.start()
            if not connected.wait(60):
                raise RuntimeError("a websocket client could not connect")
            self.processes.append(process)

    def collect(self, timeout: float) -> list[tuple[dict[str, int], bool]]:
        """Each client's (Message-ID counts, dropped) once it saw the end marker; a silent client counts as dropped."""
        collected = []
        for _ in self.processes:
            try:
                collected.append(self.results.get(timeout=timeout))
            except queue.Empty:
                collected.append(({}, True))
        for process in self.processes:
            process.join(5)
            if process.is_alive():
                process.terminate()
        return collected


class ApiReader(threading.Thread):
    """Reads the API the way the UI does, over and over, counting answers by status."""

    PATHS = (
        "/api/v1/messages?limit=50",
        "/api/v1/message/latest",
        "/api/v1/search?query=subject%3Ainvoice",
        "/api/v1/info",
        "/api/v1/tags",
    )

    def __init__(self, url: str) -> None:
        super().__init__(daemon=True)
        self.url = url
        self.statuses: Counter[int] = Counter()
        self.done = threading.Event()

    def run(self) -> None:
        while not self.done.is_set():
            for path in self.PATHS:
                try:
                    with urllib.request.urlopen(self.url + path, timeout=30) as answer:
                        answer.read()
                        self.statuses[answer.status] += 1
                except urllib.error.HTTPError as error:
                    self.statuses[error.code] += 1


class MemorySampler(threading.Thread):
    """Samples the server's RSS until told to stop; remembers the peak."""

    def __init__(self, server: ServerUnderTest) -> None:
        super().__init__(daemon=True)
        self.server = server
        self.peak = 0.0
        self.done = threading.Event()

    def run(self) -> None:
        while not self.done.wait(_RSS_PERIOD):
            self.peak = max(self.peak, self.server.rss_mb())


def wires(count: int) -> tuple[list[bytes], set[str]]:
    """``count`` distinct ~2 KB messages ready for the wire, and their Message-IDs."""
    templates = [build(i) for i in range(_TEMPLATES)]
    messages, ids = [], set()
    for index in range(count):
        template_id = b"<bench-%d@example.com>" % (index % _TEMPLATES)
        message_id = f"soak-{index}@example.com"
        messages.append(on_the_wire(templates[index % _TEMPLATES].replace(template_id, f"<{message_id}>".encode())))
        ids.add(message_id)
    return messages, ids


async def _hold_idle(host: str, port: int, count: int, opened: threading.Event, release: threading.Event) -> int:
    """Open ``count`` connections that read the greeting and then say nothing; returns how many stayed open."""
    streams = []
    for _ in range(count):
        reader, writer = await asyncio.open_connection(host, port)
        greeting = await reader.readline()
        if greeting.startswith(b"220"):
            streams.append((reader, writer))
    opened.set()
    await asyncio.to_thread(release.wait)
    still_open = sum(1 for reader, _ in streams if not reader.at_eof())
    for _, writer in streams:
        writer.close()
    return still_open


def soak(senders: int, messages: int, idle: int, websockets: int, cap: int, extra: list[str]) -> Figures:
    """Run the whole soak once and return its figures (``failures`` says what broke)."""
    figures = Figures(senders, messages, idle, websockets, cap)
    outgoing, sent_ids = wires(senders * messages)
    figures.sent = len(outgoing)
    server = ServerUnderTest(cap, extra)
    idle_opened, release_idle = threading.Event(), threading.Event()
    idle_result: list[int] = []
    idle_thread = threading.Thread(
        target=lambda: idle_result.append(
            asyncio.run(_hold_idle(server.smtp_host, server.smtp_port, idle, idle_opened, release_idle))
        ),
        daemon=True,
    )
    try:
        idle_thread.start()
        if not idle_opened.wait(120):
            raise RuntimeError("could not open the idle connections")
        watchers = EventWatchers(server.http_url, websockets)
        reader, sampler = ApiReader(server.http_url), MemorySampler(server)
        for thread in (reader, sampler):
            thread.start()
        warmup = outgoing[:cap]  # fill the store up to its cap first, then measure memory from there on
        started = time.monotonic()
        first = run_load(server.smtp_host, server.smtp_port, warmup, min(senders, len(warmup)) or 1, False)
        figures.rss_mb_when_cap_reached = server.rss_mb()
        rest = run_load(server.smtp_host, server.smtp_port, outgoing[cap:], senders, False) if outgoing[cap:] else None
        figures.seconds = time.monotonic() - started
        results = [first, *([rest] if rest else [])]
        figures.acknowledged = sum(r.accepted for r in results)
        figures.smtp_errors = sum(len(r.errors) for r in results)
        queue_ids = [queue_id for r in results for queue_id in r.sent_at]
        if len(set(queue_ids)) != figures.acknowledged:
            figures.failures.append("a queue id was given twice")
        with smtplib.SMTP(server.smtp_host, server.smtp_port, timeout=30) as client:  # events arrive in order,
            client.sendmail("soak@example.com", ["end@example.com"], END_MAIL)  # so this one comes last
        seen_by_client = watchers.collect(_EVENT_WAIT)
        reader.done.set()
        sampler.done.set()
        release_idle.set()
        idle_thread.join(60)
        reader.join(60)
        figures.rss_mb_peak = max(sampler.peak, figures.rss_mb_when_cap_reached)
        figures.rss_mb_end = server.rss_mb()
        for seen, dropped in seen_by_client:
            figures.stored_events.append(sum(seen.values()))
            figures.events_missing.append(len(sent_ids - set(seen)))
            figures.events_duplicated.append(sum(n - 1 for n in seen.values() if n > 1))
            figures.websocket_clients_dropped += dropped
        figures.idle_still_open = idle_result[0] if idle_result else 0
        figures.api_statuses = {str(code): n for code, n in sorted(reader.statuses.items())}
        figures.api_requests = sum(reader.statuses.values())
        figures.api_500s = sum(n for code, n in reader.statuses.items() if code >= 500)
        with urllib.request.urlopen(server.http_url + "/api/v1/messages?limit=1", timeout=30) as answer:
            figures.held_at_end = json.load(answer)["total"]
    finally:
        release_idle.set()
        server.stop()
    _judge(figures)
    return figures


def _judge(figures: Figures) -> None:
    """Turn the figures into the list of broken promises."""
    failures = figures.failures
    if figures.acknowledged != figures.sent or figures.smtp_errors:
        failures.append(
            f"{figures.sent - figures.acknowledged} messages not acknowledged, {figures.smtp_errors} SMTP errors"
        )
    if any(figures.events_missing) or any(figures.events_duplicated) or figures.websocket_clients_dropped:
        failures.append("a websocket client missed, repeated or was dropped from events")
    if figures.api_500s:
        failures.append(f"{figures.api_500s} API answers were 5xx")
    if figures.held_at_end != min(figures.cap or figures.sent + 1, figures.sent + 1):  # + 1: the end marker
        failures.append(f"the store holds {figures.held_at_end} messages, expected the cap")
    if figures.idle_still_open != figures.idle_connections:
        failures.append(f"only {figures.idle_still_open} of {figures.idle_connections} idle connections stayed open")
    # Bounded by the cap: once the store is full, memory may settle but must not keep growing with the traffic.
    if figures.rss_mb_peak > figures.rss_mb_when_cap_reached * 1.5 + 64:
        failures.append(
            f"memory grew from {figures.rss_mb_when_cap_reached:.0f} MiB at the cap to {figures.rss_mb_peak:.0f} MiB"
        )


def table(figures: Figures) -> str:
    """The figures as a Markdown table (what the README's reliability section quotes)."""
    rows = [
        ("SMTP senders x messages each", f"{figures.senders} x {figures.messages_per_sender}"),
        (
            "idle connections held open",
            f"{figures.idle_connections} (still open at the end: {figures.idle_still_open})",
        ),
        ("websocket clients", str(figures.websocket_clients)),
        ("messages sent", str(figures.sent)),
        ("acknowledged with 250", str(figures.acknowledged)),
        ("lost (sent - acknowledged, SMTP errors)", f"{figures.sent - figures.acknowledged}, {figures.smtp_errors}"),
        ("`new` events per websocket client", ", ".join(map(str, figures.stored_events))),
        (
            "Message-IDs missing / duplicated per client",
            ", ".join(f"{m}/{d}" for m, d in zip(figures.events_missing, figures.events_duplicated, strict=True)),
        ),
        ("websocket clients dropped", str(figures.websocket_clients_dropped)),
        ("API requests during the run (500s)", f"{figures.api_requests} ({figures.api_500s})"),
        ("messages held at the end (cap)", f"{figures.held_at_end} ({figures.cap})"),
        (
            "server RSS at cap / peak / end",
            f"{figures.rss_mb_when_cap_reached:.0f} / {figures.rss_mb_peak:.0f} / {figures.rss_mb_end:.0f} MiB",
        ),
        ("wall time", f"{figures.seconds:.1f} s"),
        ("result", "PASS" if not figures.failures else "FAIL: " + "; ".join(figures.failures)),
    ]
    return "\n".join(["| figure | value |", "|---|---|", *(f"| {name} | {value} |" for name, value in rows)])


def main(argv: list[str] | None = None) -> int:
    """Parse the flags, run, print the table (or JSON), exit 1 on any failure."""
    parser = argparse.ArgumentParser(prog="python -m bench.soak", description=__doc__.splitlines()[0])
    parser.add_argument("--senders", type=int, default=50)
    parser.add_argument("--messages", type=int, default=2000, help="messages per sender")
    parser.add_argument("--idle", type=int, default=300, help="idle SMTP connections held open throughout")
    parser.add_argument("--websockets", type=int, default=2)
    parser.add_argument("--cap", type=int, default=1000, help="the server's --max-messages")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    parser.add_argument("server_flags", nargs="*", help="more mailtrap-lite flags, after --")
    args = parser.parse_args(argv)
    figures = soak(args.senders, args.messages, args.idle, args.websockets, args.cap, args.server_flags)
    print(json.dumps(asdict(figures)) if args.json else table(figures), flush=True)
    return 1 if figures.failures else 0


if __name__ == "__main__":
    sys.exit(main())
