"""Runs every benchmark, prints one table, and writes the results as JSON under ``bench/results/``."""

from __future__ import annotations

import json
import os
import platform
import statistics
import time
from dataclasses import asdict
from importlib.metadata import version
from pathlib import Path
from typing import Any

from bench import api_scale, ingest, memory, memory_budget, plugin, startup
from bench.children import ServerProcess
from bench.loadgen import LoadResult

RESULTS = Path(__file__).resolve().parent / "results"
LATENCY_SCENARIO = "2 KB, 10 connections"


def percentile(values: list[float], fraction: float) -> float:
    """The value below which ``fraction`` of ``values`` lie (nearest rank)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def websocket_latency(runs: list[LoadResult]) -> dict[str, float | None]:
    """Milliseconds from the end of DATA to the websocket ``new`` event, over every message of ``runs``."""
    delays = [
        (run.event_arrivals[i] - at) * 1000 for run in runs for i, at in run.sent_at.items() if i in run.event_arrivals
    ]
    expected = sum(len(run.sent_at) for run in runs)
    return {
        "messages": expected,
        "missing": expected - len(delays),
        "p50": statistics.median(delays) if delays else None,
        "p99": percentile(delays, 0.99) if delays else None,
        "max": max(delays) if delays else None,
    }


def run_ingest() -> tuple[list[ingest.Measured], dict[str, float | None]]:
    """The SMTP scenarios; the websocket latency comes from the runs of ``LATENCY_SCENARIO``."""
    runs: list[LoadResult] = []

    def keep(scenario: ingest.Scenario, result: LoadResult) -> None:
        if scenario.name == LATENCY_SCENARIO:
            runs.append(result)

    with ServerProcess("ours") as ours, ServerProcess("sink") as sink:
        measured = ingest.measure(ours, sink, keep)
    return measured, websocket_latency(runs)


def main() -> None:
    """Run everything (a few minutes on two cores) and report."""
    started = time.monotonic()
    machine = {
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "aiosmtpd": version("aiosmtpd"),
        "load_average_at_start": os.getloadavg()[0],
    }
    print(
        f"mailtrap-lite benchmarks on {machine['cores']} cores, Python {machine['python']}, "
        f"aiosmtpd {machine['aiosmtpd']} (load average {machine['load_average_at_start']:.1f})",
        flush=True,
    )
    print("SMTP ingest, ours vs bare aiosmtpd sink ...", flush=True)
    measured, latency = run_ingest()
    print("memory, 10,000 x 2 KB over SMTP ...", flush=True)
    growth = {kind: memory.rss_growth(kind) for kind in ("sink", "ours")}
    print("memory against --max-total-size, large and small mail, then delete all ...", flush=True)
    budget = memory_budget.measure()
    print("API at 10,000 and 100,000 stored ...", flush=True)
    with ServerProcess("ours") as server:
        api = api_scale.measure(server)
    boot = startup.startup_ms()
    print("pytest plugin, per-test isolation ...", flush=True)
    isolation = plugin.isolation_ms()
    results: dict[str, Any] = {
        "machine": machine,
        "ingest": [
            {
                "scenario": m.scenario.name,
                **m.figures(),
                "round_ratios": m.round_ratios,
                "target_ratio": m.scenario.target_ratio,
            }
            for m in measured
        ],
        "websocket_new_ms": latency,
        "memory_10k_mb": {
            kind: {"before": g.before, "after": g.after, "growth": g.growth} for kind, g in growth.items()
        },
        "memory_budget_mb": asdict(budget),
        "api": {"rss_mb": api.rss_mb, "fill_seconds": api.fill_seconds, "timings_ms": api.timings},
        "startup_ms": boot,
        "plugin_ms": isolation,
        "load_average_at_end": os.getloadavg()[0],
        "seconds": time.monotonic() - started,
    }
    print(render(results))
    RESULTS.mkdir(exist_ok=True)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    for name in (f"bench-{stamp}.json", "latest.json"):
        (RESULTS / name).write_text(json.dumps(results, indent=2) + "\n")
    print(f"results written to {RESULTS / f'bench-{stamp}.json'}")


def _verdict(ok: bool) -> str:
    return "met" if ok else "MISSED"


def render(results: dict[str, Any]) -> str:
    """The one table: each figure, its target, and whether it was met."""
    rows: list[tuple[str, ...]] = [
        ("SMTP ingest (messages/s)", "ours", "sink", "ratio", "target", "", "CPU us/msg ours / sink")
    ]
    for item in results["ingest"]:
        rows.append(
            (
                item["scenario"],
                f"{item['ours_per_s']:.0f}",
                f"{item['sink_per_s']:.0f}",
                f"{item['ratio']:.2f}",
                f">= {item['target_ratio']}",
                _verdict(item["ratio"] >= item["target_ratio"]),
                f"{item['ours_cpu_us_per_message']:.0f} / {item['sink_cpu_us_per_message']:.0f}",
            )
        )
    ours, sink = results["memory_10k_mb"]["ours"], results["memory_10k_mb"]["sink"]
    ratio = ours["growth"] / sink["growth"] if sink["growth"] else 0.0
    rows.append(
        (
            "RSS growth, 10,000 x 2 KB (MiB)",
            f"{ours['growth']:.1f}",
            f"{sink['growth']:.1f}",
            f"{ratio:.2f}",
            "<= 1.5",
            _verdict(ratio <= 1.5),
        )
    )
    rows.append(("", "", "", "", "", ""))
    rows.append(("Our server alone", "value", "", "", "target", ""))
    rows.extend(memory_budget.render(memory_budget.BudgetFigures(**results["memory_budget_mb"])))
    api = results["api"]
    for step, rss in api["rss_mb"].items():
        count = abs(int(step))
        label = f"RSS with {count:,} stored" + (", after searching (MiB)" if int(step) < 0 else " (MiB)")
        limited = count == 100_000
        rows.append((label, f"{rss:.0f}", "", "", "< 400" if limited else "", _verdict(rss < 400) if limited else ""))
    targets = {"list page of 50": 10, "latest": 10, "one-word search": 150, "message fetch": 20}
    for name, timing in api["timings_ms"].items():
        target = targets.get(name.split(",")[0])
        rows.append(
            (
                f"{name} (median ms)",
                f"{timing['median']:.1f}",
                f"first {timing['first']:.0f}",
                "",
                f"< {target}" if target else "",
                _verdict(timing["median"] < target) if target else "",
            )
        )
    latency = results["websocket_new_ms"]
    p99 = latency["p99"]
    rows.append(
        (
            "websocket new under load, p99 (ms)",
            "-" if p99 is None else f"{p99:.1f}",
            "-" if latency["p50"] is None else f"p50 {latency['p50']:.1f}",
            f"{latency['missing']} lost",
            "< 50",
            _verdict(p99 is not None and p99 < 50 and not latency["missing"]),
        )
    )
    boot = results["startup_ms"]
    rows.append(
        (
            "MailServer start, SMTP + HTTP (ms)",
            f"{boot['start_ms']:.0f}",
            f"import {boot['import_ms']:.0f}",
            f"stop {boot['stop_ms']:.0f}",
            "< 300",
            _verdict(boot["start_ms"] < 300),
        )
    )
    isolation = results["plugin_ms"]
    rows.append(
        (
            "pytest plugin, per-test isolation (ms)",
            f"{isolation['per_test_ms']:.2f}",
            f"test {isolation['with_view_ms']:.2f}",
            f"bare {isolation['without_ms']:.2f}",
            "< 1",
            _verdict(isolation["per_test_ms"] < 1),
        )
    )
    columns = max(len(row) for row in rows)
    rows = [row + ("",) * (columns - len(row)) for row in rows]
    widths = [max(len(row[i]) for row in rows) for i in range(columns)]
    lines = [
        "  ".join(cell.ljust(widths[i]) if i == 0 else cell.rjust(widths[i]) for i, cell in enumerate(row))
        for row in rows
    ]
    machine = results["machine"]
    header = (
        f"{machine['cores']} cores, Python {machine['python']}, aiosmtpd {machine['aiosmtpd']}, "
        f"load average {machine['load_average_at_start']:.1f} at start, "
        f"{results['load_average_at_end']:.1f} at end, {results['seconds']:.0f} s"
    )
    return "\n".join([header, *lines])
