"""Load, in miniature (``make soak`` runs the full size with hostile clients too): four regular senders deliver for
a few seconds into a store capped at 100 messages while API readers browse and a websocket client listens. Every
acknowledged message is stored or pruned oldest-first by the cap (none lost), the websocket client gets a ``new``
event for each and a prune for each one the cap dropped, and no API answer is a 500."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_small_soak_keeps_every_promise() -> None:
    # Timing is the machine's business in the suite: latency, stall and pace limits are checked by `make soak` only.
    run = subprocess.run(
        [sys.executable, "-m", "bench.soak", "--quick", "--calm", "--seconds", "6", "--cap", "100", "--json",
         "--p99-limit-ms", "0", "--worst-limit-ms", "0", "--stall-limit-ms", "0", "--min-pace", "0"],
        cwd=ROOT, capture_output=True, text=True, timeout=110,
    )
    assert run.stdout, run.stderr
    figures = json.loads(run.stdout)
    assert figures["failures"] == [], figures
    assert run.returncode == 0
    assert figures["acknowledged"] == figures["regular_acknowledged"] > 100
    assert figures["regular_errors"] == 0
    assert figures["lost"] == 0
    assert figures["stored"] == 99 and figures["held_at_end"] == 100  # the cap, with the end-of-run message
    assert figures["pruned"] == figures["acknowledged"] - 99
    assert figures["websocket_missing"] == 0 and figures["websocket_prunes"] >= 1
    assert figures["api_requests"] > 0 and figures["api_5xx"] == 0
