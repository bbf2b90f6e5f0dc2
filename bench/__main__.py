"""``python -m bench``: run every benchmark once and print the table."""

from __future__ import annotations

import argparse

from bench.runner import main

argparse.ArgumentParser(
    prog="python -m bench",
    description="Run every benchmark once (a few minutes on two cores): SMTP ingest against a bare aiosmtpd sink, "
    "memory, the API at 100,000 messages, websocket latency and start-up. Prints one table and writes "
    "bench/results/latest.json.",
).parse_args()
main()
