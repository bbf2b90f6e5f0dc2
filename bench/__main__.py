"""``python -m bench``: run every benchmark once and print the table."""

from __future__ import annotations

from bench.runner import main

main()
