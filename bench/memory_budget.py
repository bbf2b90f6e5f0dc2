"""Memory against ``--max-total-size``: the real ``mailtrap-lite`` command takes large and small mail over SMTP, every
stored message is read once through the API (as the UI does), then everything is deleted.

The resident set is read from ``/proc`` after each step, next to the budget: it shows what the budget holds
(``after ingest``), what reading adds (the parse cache), and what is left once the mail is gone (``after delete
all``: what the caches still keep). ``python -m bench.memory_budget`` runs it alone.
"""

from __future__ import annotations

import argparse
import json
import urllib.request
from dataclasses import asdict, dataclass

from bench.api_scale import Client
from bench.children import CliServer
from bench.loadgen import run_load
from bench.mail import build, on_the_wire
from mailtrap_lite.config import DEFAULT_MAX_TOTAL_SIZE

MIB = 1024 * 1024
LARGE = 200  # messages of 1 to 5 MiB (3 MiB on average: more than the default budget holds)
SMALL = 10_000  # messages of about 2 KB
_TEMPLATES = 10
_BASE64_GROWTH = 4 / 3 * 78 / 76  # an attachment's bytes on the wire per byte of content


@dataclass(frozen=True)
class BudgetFigures:
    """Resident set sizes in MiB after each step, the peak, and what the store held at the end of the ingest."""

    budget_mb: float
    large: int
    small: int
    start: float
    after_large: float
    after_reading: float
    after_small: float
    after_delete_all: float
    peak: float
    stored_mb: float
    stored_messages: int
    accepted: int


def large_wires(count: int) -> list[bytes]:
    """``count`` messages from 1 to 5 MiB on the wire (``_TEMPLATES`` sizes, evenly spread, used in turn)."""
    sizes = [MIB + (4 * MIB * n) // (_TEMPLATES - 1) for n in range(_TEMPLATES)]
    templates = [on_the_wire(build(n, attachment_bytes=int(size / _BASE64_GROWTH))) for n, size in enumerate(sizes)]
    return [templates[i % _TEMPLATES] for i in range(count)]


def small_wires(count: int) -> list[bytes]:
    """``count`` messages of about 2 KB."""
    templates = [on_the_wire(build(n)) for n in range(50)]
    return [templates[i % len(templates)] for i in range(count)]


def _send(server: CliServer, wires: list[bytes]) -> int:
    result = run_load("127.0.0.1", server.smtp_port, wires, connections=2, one_per_connection=False)
    if result.errors:
        raise RuntimeError(f"SMTP errors: {result.errors[:3]}")
    return result.accepted


def _read_every_message(client: Client) -> None:
    """Fetch each stored message once, a page of ids at a time (what opening each one in the UI does)."""
    start = 0
    while True:
        _, page = client.get(f"/api/v1/messages?start={start}&limit=500")
        assert isinstance(page, dict)
        ids = [m["ID"] for m in page["messages"]]
        for message_id in ids:
            client.get(f"/api/v1/message/{message_id}")
        if len(ids) < 500:
            return
        start += len(ids)


def _delete_all(http_url: str) -> None:
    request = urllib.request.Request(http_url + "/api/v1/messages", method="DELETE")
    with urllib.request.urlopen(request, timeout=60) as response:
        if response.status != 200:
            raise RuntimeError(f"DELETE /api/v1/messages: {response.status}")


def measure(budget: int = DEFAULT_MAX_TOTAL_SIZE, large: int = LARGE, small: int = SMALL) -> BudgetFigures:
    """Run the steps against a fresh server with ``--max-total-size budget`` and ``--max-messages 0``."""
    big, little = large_wires(large), small_wires(small)
    flags = ("--max-total-size", str(budget), "--max-messages", "0", "--max-message-size", str(8 * MIB))
    with CliServer(*flags) as server:
        client = Client(server.http_url)
        start = server.memory_mb()
        accepted = _send(server, big)
        after_large = server.memory_mb()
        _read_every_message(client)
        after_reading = server.memory_mb()
        accepted += _send(server, little)
        after_small = server.memory_mb()
        _, info = client.get("/api/v1/info")
        assert isinstance(info, dict)
        _delete_all(server.http_url)
        after_delete = server.memory_mb()
        peak = server.memory_mb("VmHWM")
    return BudgetFigures(
        budget_mb=budget / MIB, large=large, small=small, start=start, after_large=after_large,
        after_reading=after_reading, after_small=after_small, after_delete_all=after_delete, peak=peak,
        stored_mb=info["DatabaseSize"] / MIB, stored_messages=info["Messages"], accepted=accepted,
    )


# Targets: the peak grows at most twice the budget (raw mail plus what reading it costs), and deleting everything
# gives the memory back (caches drop deleted mail at once), up to what allocator fragmentation keeps.
PEAK_PER_BUDGET = 2.0
LEFT_AFTER_DELETE_MB = 64.0


def render(figures: BudgetFigures) -> list[tuple[str, ...]]:
    """The figures as rows for the benchmark table: label, value, then target and verdict where there is one."""
    peak_limit = figures.start + PEAK_PER_BUDGET * figures.budget_mb
    left = figures.after_delete_all - figures.start
    return [
        (f"RSS at start, budget {f'{figures.budget_mb:.0f} MiB' if figures.budget_mb else 'unlimited'} (MiB)",
         f"{figures.start:.0f}"),
        (f"RSS after {figures.large} x 1-5 MiB over SMTP (MiB)", f"{figures.after_large:.0f}"),
        ("RSS after reading each message once (MiB)", f"{figures.after_reading:.0f}"),
        (f"RSS after {figures.small:,} x 2 KB more (MiB)", f"{figures.after_small:.0f}"),
        (f"stored then: {figures.stored_messages:,} messages (MiB raw)", f"{figures.stored_mb:.0f}"),
        ("RSS after DELETE /api/v1/messages (MiB)", f"{figures.after_delete_all:.0f}", f"+{left:.0f}", "",
         f"< start + {LEFT_AFTER_DELETE_MB:.0f}", "met" if left < LEFT_AFTER_DELETE_MB else "MISSED"),
        ("peak RSS (MiB)", f"{figures.peak:.0f}", "", "", f"< {peak_limit:.0f}" if figures.budget_mb else "",
         ("met" if figures.peak < peak_limit else "MISSED") if figures.budget_mb else ""),
    ]


def main() -> None:
    """``python -m bench.memory_budget [--budget BYTES] [--large N] [--small N]``: run once, print the figures."""
    parser = argparse.ArgumentParser(prog="python -m bench.memory_budget", description=__doc__)
    parser.add_argument("--budget", type=int, default=DEFAULT_MAX_TOTAL_SIZE, help="--max-total-size in bytes")
    parser.add_argument("--large", type=int, default=LARGE, help="messages of 1-5 MiB")
    parser.add_argument("--small", type=int, default=SMALL, help="messages of about 2 KB")
    args = parser.parse_args()
    figures = measure(args.budget, args.large, args.small)
    for label, value, *target in render(figures):
        print(f"{label:<60} {value:>8}  {'  '.join(t for t in target if t)}")
    print(json.dumps(asdict(figures)))


if __name__ == "__main__":
    main()
