"""Benchmarks for mailtrap-lite: SMTP ingest against a bare aiosmtpd sink, memory, and the API at scale.

Run ``make bench`` (or ``python -m bench``). Servers run in child processes (``python -m bench.serve``) so the
load generator in this process never shares an interpreter lock with them; results go to ``bench/results/``.
"""
