"""Start-up: importing mailtrap-lite, then starting and stopping a ``MailServer`` (SMTP and HTTP) twice, in fresh
processes. The first start imports the web side; the second is what a session fixture pays once that is loaded."""

from __future__ import annotations

import json
import statistics
import subprocess
import sys

_PROBE = """
import json, time
started = time.perf_counter()
from mailtrap_lite import MailServer
imported = time.perf_counter()
MailServer(http_port=0).start().stop()  # the first start also imports the web side (Flask)
first = time.perf_counter()
MailServer(http_port=0).start().stop()
again = time.perf_counter()
print(json.dumps({"import_ms": (imported - started) * 1000, "first_start_ms": (first - imported) * 1000,
                  "start_ms": (again - first) * 1000}))
"""


def startup_ms(runs: int = 5) -> dict[str, float]:
    """Median import and start times over ``runs`` fresh interpreters."""
    samples = [
        json.loads(subprocess.run([sys.executable, "-c", _PROBE], capture_output=True, text=True, check=True).stdout)
        for _ in range(runs)
    ]
    return {key: statistics.median(sample[key] for sample in samples) for key in samples[0]}
