"""SMTP ingest: our server against the bare aiosmtpd sink, same messages, same load, same run.

Each scenario runs for a few rounds; a round runs the sink and then ours, back to back, so a slow spell of the
(shared, noisy) machine hits both sides of a round alike. A scenario's result is its median round (by ratio), so
one lucky or unlucky run on either side does not decide it. Both servers must account for every message they
accepted. Beside the rates, the server processes' CPU time per message is kept: on a busy machine it is the
steadier measure of how much work each server does per message.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from bench.children import ServerProcess, Watcher
from bench.loadgen import LoadResult, run_load
from bench.mail import build, on_the_wire

ROUNDS = 5


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
    """Both sides' runs of one scenario, round by round: (sink, ours), run back to back.

    The figures reported are those of the median round: the one whose ratio is the median of all rounds' ratios
    (``ROUNDS`` is odd), so the rates shown give exactly the ratio shown."""

    scenario: Scenario
    rounds: list[tuple[LoadResult, LoadResult]] = field(default_factory=list)

    @property
    def round_ratios(self) -> list[float]:
        """Each round's rate of ours divided by the sink's, in the order they ran."""
        return [ours.per_second / sink.per_second for sink, ours in self.rounds]

    @property
    def median_round(self) -> tuple[LoadResult, LoadResult]:
        """The round whose ratio is the median."""
        return sorted(self.rounds, key=lambda pair: pair[1].per_second / pair[0].per_second)[len(self.rounds) // 2]

    @property
    def ratio(self) -> float:
        """Ours divided by the sink, in the median round."""
        sink, ours = self.median_round
        return ours.per_second / sink.per_second

    def figures(self) -> dict[str, float]:
        """The median round's rates, ratio and server CPU time per message (the reported figures)."""
        sink, ours = self.median_round
        return {
            "ours_per_s": ours.per_second,
            "sink_per_s": sink.per_second,
            "ratio": self.ratio,
            "ours_cpu_us_per_message": ours.server_cpu_us,
            "sink_cpu_us_per_message": sink.server_cpu_us,
            "cpu_ratio": sink.server_cpu_us / ours.server_cpu_us,  # above 1: we do less work per message
        }


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
    """Every scenario for ``ROUNDS`` rounds, each the sink then ours.

    A websocket client is connected to our server for each of its runs (a fresh one each time, so a client the
    server dropped for falling behind does not leave the next run without one); its arrival times are kept.
    """
    measured = []
    for scenario in SCENARIOS:
        wires = scenario.wires()
        runs = Measured(scenario)
        for _ in range(ROUNDS):
            baseline = load_once(sink, scenario, wires)
            watcher = Watcher(ours.http_url)
            result = load_once(ours, scenario, wires)
            result.event_arrivals = watcher.arrivals(len(wires))
            runs.rounds.append((baseline, result))
            if on_ours is not None:
                on_ours(scenario, result)
        shown = runs.figures()
        rounds = ", ".join(f"{r:.2f}" for r in runs.round_ratios)
        print(
            f"  {scenario.name}: ours {shown['ours_per_s']:.0f}/s, sink {shown['sink_per_s']:.0f}/s, "
            f"ratio {runs.ratio:.2f} (rounds {rounds}); server CPU per message "
            f"ours {shown['ours_cpu_us_per_message']:.0f} us, sink {shown['sink_cpu_us_per_message']:.0f} us",
            flush=True,
        )
        measured.append(runs)
    return measured
