"""Start-up: importing mailtrap-lite, then starting a ``MailServer`` (SMTP and HTTP) twice, in fresh processes.

The first start also imports the web side (Flask); the second is what each further server costs once that is
loaded, as for a pytest session fixture. Stopping is timed too: it waits for the HTTP thread to notice.
"""

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
MailServer(http_port=0).start().stop()
first = time.perf_counter()
server = MailServer(http_port=0).start()
running = time.perf_counter()
server.stop()
stopped = time.perf_counter()
print(json.dumps({"import_ms": (imported - started) * 1000, "first_start_and_stop_ms": (first - imported) * 1000,
                  "start_ms": (running - first) * 1000, "stop_ms": (stopped - running) * 1000}))
"""


def startup_ms(runs: int = 5) -> dict[str, float]:
    """Median figures over ``runs`` fresh interpreters."""
    samples = [
        json.loads(subprocess.run([sys.executable, "-c", _PROBE], capture_output=True, text=True, check=True).stdout)
        for _ in range(runs)
    ]
    return {key: statistics.median(sample[key] for sample in samples) for key in samples[0]}
