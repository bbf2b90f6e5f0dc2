"""Load, in miniature (``make soak`` runs the full size): 10 senders x 60 messages while 50 connections sit idle,
two websocket clients listen and the API is read. Every message is acknowledged and stored exactly once (each
Message-ID in exactly one ``new`` event for each websocket client), no API answer is a 500, idle connections
neither block delivery nor get dropped, and memory stays bounded once the store reaches its cap."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_small_soak_keeps_every_promise() -> None:
    run = subprocess.run(
        [sys.executable, "-m", "bench.soak", "--senders", "10", "--messages", "60", "--idle", "50",
         "--cap", "200", "--json"],
        cwd=ROOT, capture_output=True, text=True, timeout=110,
    )
    assert run.stdout, run.stderr
    figures = json.loads(run.stdout)
    assert figures["failures"] == [], figures
    assert run.returncode == 0
    assert figures["sent"] == figures["acknowledged"] == 600
    assert figures["stored_events"] == [600, 600]
    assert figures["events_missing"] == figures["events_duplicated"] == [0, 0]
    assert figures["idle_still_open"] == 50
    assert figures["api_requests"] > 0 and figures["api_500s"] == 0
    assert figures["held_at_end"] == 200
