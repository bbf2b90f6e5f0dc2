"""SMTP ingest: our server against the bare aiosmtpd sink, same messages, same load, same run.

Each scenario alternates sink and ours for a few rounds and keeps each side's best rate, so a burst of load from
elsewhere on the machine does not decide the ratio. Both servers must account for every message they accepted.
Beside the rates, the server processes' CPU time per message is kept (the lowest seen): on a busy machine it is
the steadier measure of how much work each server does per message.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from bench.children import ServerProcess, Watcher
from bench.loadgen import LoadResult, run_load
from bench.mail import build, on_the_wire

ROUNDS = 3


@dataclass(frozen=True)
class Scenario:
    """One load shape: how many messages, how big, over how many connections."""

    name: str
    messages: int
    connections: int
    one_per_connection: bool = False
    attachment_bytes: int = 0
    target_ratio: float = 0.9

    def wires(self) -> list[bytes]:
        """The messages, ready for the wire."""
        templates = [on_the_wire(build(i, attachment_bytes=self.attachment_bytes)) for i in range(50)]
        return [templates[i % len(templates)] for i in range(self.messages)]


SCENARIOS = (
    Scenario("2 KB, 1 connection", 1500, 1),
    Scenario("2 KB, 10 connections", 3000, 10),
    Scenario("2 KB, 1 message per connection, 10 at once", 1500, 10, one_per_connection=True),
    Scenario("100 KB attachment, 1 connection", 400, 1, attachment_bytes=100_000, target_ratio=2.0),
    Scenario("100 KB attachment, 10 connections", 600, 10, attachment_bytes=100_000, target_ratio=2.0),
)


@dataclass
class Measured:
    """Best rates of both sides for one scenario."""

    scenario: Scenario
    ours: float = 0.0
    sink: float = 0.0
    ours_cpu_us: float = float("inf")
    sink_cpu_us: float = float("inf")

    @property
    def ratio(self) -> float:
        """Ours divided by the sink."""
        return self.ours / self.sink if self.sink else 0.0

    @property
    def cpu_ratio(self) -> float:
        """The sink's CPU time per message divided by ours (above 1: we do less work per message)."""
        return self.sink_cpu_us / self.ours_cpu_us


def load_once(server: ServerProcess, scenario: Scenario, wires: list[bytes], clear: bool = True) -> LoadResult:
    """Run the scenario against ``server`` and check every message was answered 250 and is held by the server."""
    if clear:
        server.command("clear")
    cpu_before = server.cpu_seconds()
    result = run_load("127.0.0.1", server.smtp_port, wires, scenario.connections, scenario.one_per_connection)
    held = int(server.command("count"))
    if result.errors or result.accepted != len(wires) or held != len(wires):
        raise RuntimeError(
            f"{server.kind}, {scenario.name}: sent {len(wires)}, accepted {result.accepted}, held {held}, "
            f"errors {result.errors[:3]}"
        )
    result.server_cpu_us = (server.cpu_seconds() - cpu_before) * 1e6 / len(wires)
    return result


def measure(
    ours: ServerProcess, sink: ServerProcess, on_ours: Callable[[Scenario, LoadResult], None] | None = None
) -> list[Measured]:
    """Every scenario, alternating the two servers for ``ROUNDS`` rounds.

    A websocket client is connected to our server for each of its runs (a fresh one each time, so a client the
    server dropped for falling behind does not leave the next run without one); its arrival times are kept.
    """
    measured = []
    for scenario in SCENARIOS:
        wires = scenario.wires()
        best = Measured(scenario)
        for _ in range(ROUNDS):
            baseline = load_once(sink, scenario, wires)
            best.sink = max(best.sink, baseline.per_second)
            best.sink_cpu_us = min(best.sink_cpu_us, baseline.server_cpu_us)
            watcher = Watcher(ours.http_url)
            result = load_once(ours, scenario, wires)
            result.event_arrivals = watcher.arrivals(len(wires))
            best.ours = max(best.ours, result.per_second)
            best.ours_cpu_us = min(best.ours_cpu_us, result.server_cpu_us)
            if on_ours is not None:
                on_ours(scenario, result)
        print(
            f"  {scenario.name}: ours {best.ours:.0f}/s, sink {best.sink:.0f}/s, ratio {best.ratio:.2f}; "
            f"server CPU per message ours {best.ours_cpu_us:.0f} us, sink {best.sink_cpu_us:.0f} us",
            flush=True,
        )
        measured.append(best)
    return measured
