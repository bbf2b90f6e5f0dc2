"""Per-test isolation in the pytest plugin: what the ``mailtrap`` fixture adds to each test's setup and teardown.

A throwaway project with ``TESTS`` empty tests that request ``mailtrap`` and as many that request nothing runs
under pytest in a fresh process (the plugin loads through its entry point, as in a user's project). A small
conftest records the setup and teardown durations pytest reports for every test; the figure is the difference
of the medians, so pytest's own per-test cost is left out. The session server's start is paid once, by the
first test, and does not move the median.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

TESTS = 300

_CONFTEST = """
import json, os

durations = {}


def pytest_runtest_logreport(report):
    if report.when in ("setup", "teardown"):
        durations[report.nodeid] = durations.get(report.nodeid, 0.0) + report.duration


def pytest_sessionfinish(session):
    with open(os.environ["DURATIONS_FILE"], "w") as out:
        json.dump(durations, out)
"""


def _test_module(tests: int) -> str:
    with_view = "".join(f"def test_with_view_{i}(mailtrap):\n    assert len(mailtrap) == 0\n\n\n" for i in range(tests))
    without = "".join(f"def test_without_{i}():\n    assert True\n\n\n" for i in range(tests))
    return with_view + without


def isolation_ms(tests: int = TESTS) -> dict[str, float]:
    """Median setup + teardown (ms) of a test with ``mailtrap`` and of one without, and their difference."""
    with tempfile.TemporaryDirectory() as directory:
        project = Path(directory)
        (project / "conftest.py").write_text(_CONFTEST)
        (project / "test_isolation.py").write_text(_test_module(tests))
        durations_file = project / "durations.json"
        subprocess.run(
            [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:randomly", str(project)],
            cwd=project, check=True, capture_output=True, text=True,
            env={**os.environ, "DURATIONS_FILE": str(durations_file)},
        )
        durations: dict[str, float] = json.loads(durations_file.read_text())
    with_view = [seconds * 1000 for node, seconds in durations.items() if "test_with_view_" in node]
    without = [seconds * 1000 for node, seconds in durations.items() if "test_without_" in node]
    return {
        "with_view_ms": statistics.median(with_view),
        "without_ms": statistics.median(without),
        "per_test_ms": statistics.median(with_view) - statistics.median(without),
        "first_test_ms": with_view[0],  # includes starting the session's server (SMTP only, as the plugin does)
    }

