"""``make soak`` / ``python -m bench.soak``: the reliability run behind the README's figures (issue #15).

The real ``mailtrap-lite`` command runs in a subprocess. Against it, all at the same time: regular senders deliver
small messages at a steady pace and time every reply (their own process); hostile clients send poison messages and
huge ones and hold slow-loris SMTP and HTTP sockets (another process, ``bench.hostile``); API readers browse every
view, poison messages included; one websocket client reads every event (its own process) and one never reads.

Then it accounts for every message acknowledged with 250: stored at the end, pruned by the documented caps
(``--max-messages``, ``--max-total-size``: the oldest go first), or lost. A missing message counts as pruned only
if no message still stored was acknowledged before it was sent (pruning oldest-first cannot take a newer message
and leave an older one); otherwise it is lost. It prints the worst reply latency the regular senders saw, peak
memory against the budget, HTTP 500s and the event-loop stalls the server logged, and exits 1 when a check fails.

The memory allowed is the server's RSS at the start, twice the ``--max-total-size`` budget (stored mail plus what
its caches may hold) and six maximum-size messages (those being received and those being read at once). On a
mailtrap-lite without ``--max-total-size`` the same allowance is checked, and the table says it was not enforced.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import queue
import smtplib
import statistics
import sys
import threading
import time
import urllib.error
import urllib.request
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from bench.hostile import HostilePlan, HostileResults, run_hostile
from bench.readers import API_TIMEOUT, ApiReader, drain, watch_events
from bench.senders import SenderResults, run_senders
from bench.smtp_client import Delivery
from bench.soak_server import ServerUnderTest, supported_flags

MiB = 1024 * 1024
MAX_MESSAGE_SIZE = 25 * MiB  # the default; the biggest poison message (250k parts, ~23 MiB) must fit
END_MARKER = "soak-end@soak.example"
_RSS_PERIOD = 0.25
_EVENT_WAIT = 30.0  # how long the end marker may take to be accepted, and to reach the websocket client


@dataclass(frozen=True)
class Preset:
    """One size of run."""

    seconds: float
    senders: int
    rate: float  # regular messages per second, all senders together
    readers: int
    cap: int
    budget_mb: int
    hostile: HostilePlan | None


QUICK = Preset(30, 4, 40, 2, 1000, 64, HostilePlan(2, 8, int(MAX_MESSAGE_SIZE * 0.9), 2, 30, 30))
FULL = Preset(240, 8, 80, 3, 1000, 128, HostilePlan(4, 24, int(MAX_MESSAGE_SIZE * 0.9), 2, 150, 100))


@dataclass
class Limits:
    """The pass marks for timing (0 = not checked, as in the test suite, where the machine's load decides)."""

    p99_ms: float = 100.0
    worst_ms: float = 1000.0
    stall_ms: float = 1000.0
    pace: float = 0.9  # the share of their paced messages the regular senders must get acknowledged


@dataclass
class Figures:
    """What one soak run measured; ``failures`` lists every broken promise (empty = passed)."""

    preset: str
    seconds: float
    cap: int
    budget_mb: int
    budget_enforced: bool  # False: this mailtrap-lite has no --max-total-size
    senders: int = 0
    rate: float = 0.0
    regular_acknowledged: int = 0
    regular_errors: int = 0
    regular_error_samples: list[str] = field(default_factory=list)
    latency_ms: dict[str, float] = field(default_factory=dict)  # p50, p99, worst, replies
    hostile_planned: str = ""
    hostile_acknowledged: dict[str, int] = field(default_factory=dict)  # by kind
    hostile_refused: dict[str, int] = field(default_factory=dict)  # "kind: code"
    hostile_unanswered: dict[str, int] = field(default_factory=dict)
    slow_smtp: dict[str, str] = field(default_factory=dict)  # outcome: count (cut off: and after how long)
    slow_http: dict[str, str] = field(default_factory=dict)
    silent_websocket: str = ""
    acknowledged: int = 0
    stored: int = 0
    pruned: int = 0
    lost: int = 0
    held_at_end: int = 0
    counted_by: str = ""  # "list", or "raw" when the list itself failed
    websocket_new_events: int = 0
    websocket_missing: int = 0
    websocket_prunes: int = 0
    websocket_saw_end: bool = False
    websocket_end: str = ""  # how the stream ended when the end marker never came
    api_requests: int = 0
    api_5xx: int = 0
    api_no_answer: int = 0
    api_worst_ms: float = 0.0
    api_failed: dict[str, int] = field(default_factory=dict)
    rss_mb_start: float = 0.0
    rss_mb_peak: float = 0.0
    rss_mb_end: float = 0.0
    rss_mb_allowed: float = 0.0
    stalls: int = 0
    worst_stall_ms: int = 0
    server_errors: int = 0
    server_error_samples: list[str] = field(default_factory=list)
    server_exit: int | None = None
    wall_seconds: float = 0.0
    failures: list[str] = field(default_factory=list)


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


def percentile(values: list[float], fraction: float) -> float:
    """The value below which ``fraction`` of ``values`` lie (nearest rank)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def _get_json(url: str) -> tuple[int, Any]:
    try:
        with urllib.request.urlopen(url, timeout=API_TIMEOUT) as answer:
            return answer.status, json.load(answer)
    except urllib.error.HTTPError as error:
        return error.code, None
    except (OSError, ValueError):
        return 0, None


def stored_ids(url: str, acknowledged: list[str], figures: Figures) -> set[str]:
    """The ids the server holds at the end, from the message list; when a page of the list fails, each
    acknowledged id is looked up by its raw source instead (which needs no parsing)."""
    held: set[str] = set()
    start, total = 0, 1
    while start < total:
        status, page = _get_json(f"{url}/api/v1/messages?start={start}&limit=500")
        figures.api_requests += 1
        if status != 200:
            figures.api_5xx += status >= 500
            break
        held.update(m["ID"] for m in page["messages"])
        start, total = start + 500, page["total"]
    else:
        figures.held_at_end, figures.counted_by = len(held), "list"
        return held
    held.clear()
    figures.counted_by = "raw"
    for queue_id in acknowledged:
        request = urllib.request.Request(f"{url}/api/v1/message/{queue_id}/raw", method="HEAD")
        try:
            with urllib.request.urlopen(request, timeout=API_TIMEOUT):
                held.add(queue_id)
        except urllib.error.HTTPError as error:
            figures.api_5xx += error.code >= 500
        except OSError:
            figures.api_no_answer += 1
    figures.held_at_end = len(held)
    return held


def account(deliveries: list[Delivery], held: set[str], figures: Figures) -> None:
    """Split the acknowledged messages into stored, pruned by the caps (oldest first) and lost."""
    by_id = {d.queue_id: d for d in deliveries}
    if len(by_id) != len(deliveries):
        figures.failures.append("the server gave the same queue id twice")
    stored = held & by_id.keys()
    missing = by_id.keys() - stored
    oldest_ack = min((by_id[i].acked_at for i in stored), default=float("-inf"))
    lost = [i for i in missing if by_id[i].sent_at > oldest_ack or not stored]
    figures.acknowledged, figures.stored = len(by_id), len(stored)
    figures.lost, figures.pruned = len(lost), len(missing) - len(lost)


def progress(started: float, text: str) -> None:
    """One line on stderr saying where the run is (stdout is kept for the table or the JSON)."""
    print(f"[soak {time.monotonic() - started:5.0f} s] {text}", file=sys.stderr, flush=True)


def _send_end_marker(server: ServerUnderTest) -> bool:
    try:
        with smtplib.SMTP(server.smtp_host, server.smtp_port, timeout=_EVENT_WAIT) as client:
            client.sendmail("end@soak.example", ["end@soak.example"],
                            f"Message-ID: <{END_MARKER}>\r\nSubject: end of the soak\r\n\r\nthe end\r\n".encode())
        return True
    except (OSError, smtplib.SMTPException):
        return False


def _stop_readers(readers: list[ApiReader], readers_done: threading.Event, drainer: threading.Thread) -> None:
    readers_done.set()
    for reader in readers:
        reader.done.set()
    stop_by = time.monotonic() + API_TIMEOUT + 5  # each may be waiting for its last answer
    for reader in readers:
        reader.join(max(0.0, stop_by - time.monotonic()))
    drainer.join(5)


def _events_seen(events: Any, stop_watching: Any, figures: Figures) -> list[str]:
    """The ids of the websocket client's ``new`` events in order; it is stopped if the end marker never came."""
    try:
        order, figures.websocket_prunes, figures.websocket_saw_end, figures.websocket_end = events.get(
            timeout=_EVENT_WAIT)
    except queue.Empty:
        stop_watching.set()
        order, figures.websocket_prunes, figures.websocket_saw_end, figures.websocket_end = events.get(
            timeout=10)
    return list(order)


def _collect(out: Any, process: Any, timeout: float, name: str, figures: Figures) -> Any:
    """A child's result from ``out``, or None (and a failure) when it did not finish in time."""
    try:
        result = out.get(timeout=timeout)
    except queue.Empty:
        figures.failures.append(f"the {name} did not finish within {timeout:.0f} s")
        result = None
    process.join(10)
    if process.is_alive():
        process.terminate()
    return result


def soak(
    name: str, preset: Preset, limits: Limits, extra: list[str], reply_timeout: float, log: Path | None = None
) -> Figures:
    """Run the whole soak once and return its figures (``failures`` says what broke)."""
    budget_enforced = "--max-total-size" in supported_flags()
    figures = Figures(name, preset.seconds, preset.cap, preset.budget_mb, budget_enforced, preset.senders, preset.rate)
    plan = preset.hostile
    if plan is not None:
        figures.hostile_planned = (
            f"each poison x {plan.poison_repeats}, huge ({plan.huge_size / MiB:.1f} MiB) x {plan.huge_messages}"
        )
    flags = ["--max-messages", str(preset.cap), "--max-message-size", str(MAX_MESSAGE_SIZE)]
    if budget_enforced:
        flags += ["--max-total-size", str(preset.budget_mb * MiB)]
    started = time.monotonic()
    server = ServerUnderTest(flags + extra, log)
    progress(started, f"mailtrap-lite {' '.join(flags + extra)} on {server.http_url}")
    context = multiprocessing.get_context("spawn")
    try:
        figures.rss_mb_start = server.rss_mb()
        sampler = MemorySampler(server)
        sampler.start()
        connected, stop_watching, events = context.Event(), context.Event(), context.Queue()
        watcher = context.Process(target=watch_events, args=(server.http_url, END_MARKER, connected, stop_watching,
                                                             events), daemon=True)
        watcher.start()
        if not connected.wait(60):
            raise RuntimeError("the websocket client could not connect")
        poison_ids: list[str] = []
        live, readers_done = context.Queue(), threading.Event()
        drainer = drain(live, poison_ids, readers_done)
        readers = [ApiReader(server.http_url, poison_ids, seed) for seed in range(preset.readers)]
        for reader in readers:
            reader.start()
        sender_out, hostile_out = context.Queue(), context.Queue()
        address = (server.smtp_host, server.smtp_port)
        senders = context.Process(target=run_senders, args=(*address, preset.senders, preset.rate, preset.seconds,
                                                            reply_timeout, sender_out), daemon=True)
        senders.start()
        hostile = None
        if preset.hostile is not None:
            hostile = context.Process(target=run_hostile, args=(*address, server.http_port, preset.hostile,
                                                                preset.seconds, reply_timeout, live, hostile_out),
                                      daemon=True)
            hostile.start()
        progress(started, f"load for {preset.seconds:.0f} s ...")
        wait = preset.seconds + 2 * reply_timeout + 60
        regular: SenderResults | None = _collect(sender_out, senders, wait, "regular senders", figures)
        attacks: HostileResults | None = None
        if hostile is not None:
            attacks = _collect(hostile_out, hostile, wait, "hostile clients", figures)
        progress(started, "the senders are done; stopping the readers")
        _stop_readers(readers, readers_done, drainer)
        progress(started, "end-of-run message, then waiting for the websocket client")
        if not _send_end_marker(server):
            figures.failures.append("the end-of-run message was not accepted")
        order = _events_seen(events, stop_watching, figures)
        watcher.join(10)
        deliveries = [*(regular.deliveries if regular else []), *(attacks.deliveries if attacks else [])]
        _fill_clients(figures, regular, attacks)
        _fill_readers(figures, readers)
        progress(started, "counting what the server holds")
        held = stored_ids(server.http_url, [d.queue_id for d in deliveries], figures)
        account(deliveries, held, figures)
        seen = set(order)
        figures.websocket_new_events = len(order)
        figures.websocket_missing = sum(1 for d in deliveries if d.queue_id not in seen)
        sampler.done.set()
        figures.rss_mb_peak = max(sampler.peak, server.rss_mb())
        figures.rss_mb_end = server.rss_mb()
    finally:
        progress(started, "stopping the server")
        figures.server_exit = server.stop()
    figures.stalls, figures.worst_stall_ms = server.stalls, server.worst_stall_ms
    figures.server_errors, figures.server_error_samples = server.errors, server.error_samples
    figures.rss_mb_allowed = figures.rss_mb_start + 2 * preset.budget_mb + 6 * MAX_MESSAGE_SIZE / MiB
    figures.wall_seconds = time.monotonic() - started
    judge(figures, limits)
    return figures


def _fill_clients(figures: Figures, regular: SenderResults | None, attacks: HostileResults | None) -> None:
    if regular is not None:
        figures.regular_acknowledged = len(regular.deliveries)
        figures.regular_errors = len(regular.errors)
        figures.regular_error_samples = sorted(set(regular.errors))[:5]
        if regular.latencies:
            ms = [value * 1000 for value in regular.latencies]
            figures.latency_ms = {"p50": statistics.median(ms), "p99": percentile(ms, 0.99), "worst": max(ms),
                                  "replies": len(ms)}
    if attacks is not None:
        kinds = [d.kind for d in attacks.deliveries]
        figures.hostile_acknowledged = {kind: kinds.count(kind) for kind in sorted(set(kinds))}
        figures.hostile_refused = dict(sorted(attacks.refused.items()))
        figures.hostile_unanswered = dict(sorted(attacks.unanswered.items()))
        figures.slow_smtp, figures.slow_http = attacks.slow_smtp.summary(), attacks.slow_http.summary()
        figures.silent_websocket = attacks.silent_websocket


def _fill_readers(figures: Figures, readers: list[ApiReader]) -> None:
    for reader in readers:
        figures.api_requests += sum(reader.statuses.values())
        figures.api_5xx += sum(n for status, n in reader.statuses.items() if status >= 500)
        figures.api_no_answer += reader.statuses[0]
        figures.api_worst_ms = max(figures.api_worst_ms, reader.worst * 1000)
        for path, n in reader.failed.items():
            figures.api_failed[path] = figures.api_failed.get(path, 0) + n


def judge(figures: Figures, limits: Limits) -> None:
    """Turn the figures into the list of broken promises."""
    failures = figures.failures
    if figures.lost:
        failures.append(f"{figures.lost} acknowledged messages lost")
    paced = figures.rate * figures.seconds
    if figures.regular_errors or figures.regular_acknowledged < limits.pace * paced:
        failures.append(f"regular senders: {figures.regular_errors} transactions failed, "
                        f"{figures.regular_acknowledged} of {paced:.0f} acknowledged (they could not keep their pace)")
    if figures.hostile_unanswered:
        failures.append(f"hostile senders got no answer: {figures.hostile_unanswered}")
    latency = figures.latency_ms
    if limits.p99_ms and latency.get("p99", 0) > limits.p99_ms:
        failures.append(f"regular reply latency p99 {latency['p99']:.0f} ms > {limits.p99_ms:.0f} ms")
    if limits.worst_ms and latency.get("worst", 0) > limits.worst_ms:
        failures.append(f"worst regular reply latency {latency['worst']:.0f} ms > {limits.worst_ms:.0f} ms")
    if limits.stall_ms and figures.worst_stall_ms > limits.stall_ms:
        failures.append(f"the SMTP event loop stalled up to {figures.worst_stall_ms} ms")
    if figures.api_5xx:
        failures.append(f"{figures.api_5xx} HTTP answers were 5xx")
    if figures.api_no_answer:
        failures.append(f"{figures.api_no_answer} HTTP requests got no answer within {API_TIMEOUT:.0f} s")
    if not figures.websocket_saw_end or figures.websocket_missing:
        failures.append(f"the reading websocket client missed {figures.websocket_missing} new events"
                        + ("" if figures.websocket_saw_end else f" and never saw the end ({figures.websocket_end})"))
    if figures.pruned and figures.websocket_saw_end and not figures.websocket_prunes:
        failures.append(f"{figures.pruned} messages went without a prune event")
    if figures.rss_mb_peak > figures.rss_mb_allowed:
        failures.append(f"peak memory {figures.rss_mb_peak:.0f} MiB > {figures.rss_mb_allowed:.0f} MiB allowed"
                        + ("" if figures.budget_enforced else " (this server has no --max-total-size)"))
    if figures.server_errors:
        failures.append(f"the server logged {figures.server_errors} errors")
    if figures.server_exit != 0:
        failures.append(f"the server did not stop cleanly on SIGTERM (exit {figures.server_exit})")


def _counts(counts: dict[str, int] | dict[str, str]) -> str:
    return ", ".join(f"{key} {value}" for key, value in counts.items()) or "none"


def table(figures: Figures) -> str:
    """The figures as a Markdown table (what the README's reliability section quotes)."""
    latency = figures.latency_ms
    budget = f"{figures.budget_mb} MiB" + ("" if figures.budget_enforced else " (flag not supported: not enforced)")
    rows = [
        ("run", f"{figures.preset}, {figures.seconds:.0f} s of load, {figures.wall_seconds:.0f} s in all"),
        ("regular senders", f"{figures.senders} connections, {figures.rate:.0f} messages/s in all"),
        ("regular messages acknowledged of those paced (failed transactions)",
         f"{figures.regular_acknowledged} of {figures.rate * figures.seconds:.0f} ({figures.regular_errors})"),
        ("regular SMTP reply latency p50 / p99 / worst",
         " / ".join(f"{latency.get(k, 0):.0f}" for k in ("p50", "p99", "worst")) + " ms"
         + f" ({latency.get('replies', 0):.0f} replies)"),
        ("hostile messages acknowledged (planned)",
         f"{_counts(figures.hostile_acknowledged)} ({figures.hostile_planned or 'none'})"),
        ("hostile messages refused / unanswered",
         f"{_counts(figures.hostile_refused)} / {_counts(figures.hostile_unanswered)}"),
        ("slow-loris SMTP sockets", _counts(figures.slow_smtp)),
        ("slow HTTP sockets", _counts(figures.slow_http)),
        ("websocket client that never reads", figures.silent_websocket or "-"),
        ("messages acknowledged / stored / pruned by the caps / lost",
         f"{figures.acknowledged} / {figures.stored} / {figures.pruned} / {figures.lost}"),
        ("messages held at the end (cap)", f"{figures.held_at_end} ({figures.cap}), counted by {figures.counted_by}"),
        ("reading websocket client: new events / missing / prunes",
         f"{figures.websocket_new_events} / {figures.websocket_missing} / {figures.websocket_prunes}"
         + ("" if figures.websocket_saw_end else f" (no end marker: {figures.websocket_end})")),
        ("API requests / 5xx / no answer / slowest",
         f"{figures.api_requests} / {figures.api_5xx} / {figures.api_no_answer} / {figures.api_worst_ms:.0f} ms"),
        ("API 5xx by route", _counts(figures.api_failed)),
        ("server RSS start / peak / end (allowed)",
         f"{figures.rss_mb_start:.0f} / {figures.rss_mb_peak:.0f} / {figures.rss_mb_end:.0f} MiB "
         f"({figures.rss_mb_allowed:.0f}); budget {budget}"),
        ("SMTP event-loop stalls over 100 ms (worst)", f"{figures.stalls} ({figures.worst_stall_ms} ms)"),
        ("server errors logged", str(figures.server_errors)),
        ("result", "PASS" if not figures.failures else "FAIL: " + "; ".join(figures.failures)),
    ]
    return "\n".join(["| figure | value |", "|---|---|", *(f"| {name} | {value} |" for name, value in rows)])


def main(argv: list[str] | None = None) -> int:
    """Parse the flags, run, print the table (or JSON), exit 1 on any failure."""
    parser = argparse.ArgumentParser(prog="python -m bench.soak", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="the short preset (about a minute)")
    parser.add_argument("--calm", action="store_true", help="no hostile clients: regular load and readers only")
    parser.add_argument("--seconds", type=float, help="how long the load lasts")
    parser.add_argument("--senders", type=int, help="regular SMTP connections")
    parser.add_argument("--rate", type=float, help="regular messages per second, all senders together")
    parser.add_argument("--cap", type=int, help="the server's --max-messages")
    parser.add_argument("--reply-timeout", type=float, default=30.0, help="seconds a client waits for a reply")
    parser.add_argument("--p99-limit-ms", type=float, default=Limits.p99_ms, help="0 = not checked")
    parser.add_argument("--worst-limit-ms", type=float, default=Limits.worst_ms, help="0 = not checked")
    parser.add_argument("--stall-limit-ms", type=float, default=Limits.stall_ms, help="0 = not checked")
    parser.add_argument("--min-pace", type=float, default=Limits.pace,
                        help="share of the paced regular messages that must be acknowledged (0 = not checked)")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    parser.add_argument("--server-log", type=Path, help="keep the server's stderr (its log) in this file")
    parser.add_argument("server_flags", nargs="*", help="more mailtrap-lite flags, after --")
    args = parser.parse_args(argv)
    preset = QUICK if args.quick else FULL
    changes = {k: getattr(args, k) for k in ("seconds", "senders", "rate", "cap") if getattr(args, k) is not None}
    preset = replace(preset, **changes, **({"hostile": None} if args.calm else {}))
    limits = Limits(args.p99_limit_ms, args.worst_limit_ms, args.stall_limit_ms, args.min_pace)
    name = ("quick" if args.quick else "full") + (", calm" if args.calm else "")
    figures = soak(name, preset, limits, args.server_flags, args.reply_timeout, args.server_log)
    print(json.dumps(asdict(figures)) if args.json else table(figures), flush=True)
    return 1 if figures.failures else 0


if __name__ == "__main__":
    sys.exit(main())
