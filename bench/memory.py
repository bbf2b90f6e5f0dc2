"""Memory: how much the server's resident set grows while it takes 10,000 messages of 2 KB over SMTP.

Each side runs in a fresh process; ours has a websocket client connected, so list summaries are built as the
mail arrives, as they would be with the UI open.
"""

from __future__ import annotations

from dataclasses import dataclass

from bench.children import ServerProcess, Watcher
from bench.ingest import Scenario, load_once

MESSAGES = 10_000
LOAD = Scenario("2 KB, 10 connections", MESSAGES, 10)


@dataclass(frozen=True)
class Growth:
    """Resident set size before and after the load, in MiB."""

    before: float
    after: float

    @property
    def growth(self) -> float:
        """How much the resident set grew."""
        return self.after - self.before


def rss_growth(kind: str) -> Growth:
    """Start a fresh ``kind`` server, send ``MESSAGES`` messages, and compare its RSS before and after."""
    wires = LOAD.wires()
    with ServerProcess(kind) as server:
        watcher = Watcher(server.http_url) if kind == "ours" else None
        before = server.rss_mb()
        load_once(server, LOAD, wires, clear=False)
        after = server.rss_mb()
        if watcher is not None:
            watcher.arrivals(MESSAGES)
    return Growth(before, after)
