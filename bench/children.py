"""Child processes the benchmarks drive: a server (``bench.serve``) and a websocket watcher (``bench.watch``)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

_ROOT = Path(__file__).resolve().parent.parent


def _spawn(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", *args], cwd=_ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )


def memory_mb(pid: int, field: str = "VmRSS") -> float:
    """A memory figure of process ``pid`` from ``/proc/PID/status`` in MiB: ``VmRSS`` (resident now) or ``VmHWM``
    (the peak resident set so far)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no {field} in /proc status")


class ServerProcess:
    """``python -m bench.serve KIND`` as a context manager, with its ports, its RSS and its command channel."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self.process = _spawn("bench.serve", kind)
        self.info: dict[str, Any] = json.loads(self._line())

    def _line(self) -> str:
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        if not line:
            raise RuntimeError(f"bench.serve {self.kind} exited early (code {self.process.wait()})")
        return line

    def command(self, text: str) -> str:
        """Send one command and return its one-line answer."""
        assert self.process.stdin is not None
        self.process.stdin.write(text + "\n")
        self.process.stdin.flush()
        return self._line().strip()

    @property
    def smtp_port(self) -> int:
        """The port the server's SMTP side listens on."""
        return int(self.info["smtp_port"])

    @property
    def http_url(self) -> str:
        """Base URL of our server's HTTP side."""
        return f"http://127.0.0.1:{self.info['http_port']}"

    def rss_mb(self) -> float:
        """Resident set size of the server process, in MiB."""
        return memory_mb(self.process.pid, "VmRSS")

    def cpu_seconds(self) -> float:
        """User plus system CPU time the server process has used so far."""
        fields = Path(f"/proc/{self.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def __enter__(self) -> ServerProcess:
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self.process.poll() is None:
            assert self.process.stdin is not None
            self.process.stdin.write("quit\n")
            self.process.stdin.close()
        self.process.wait(10)


class Watcher:
    """``python -m bench.watch``: one websocket client connected to our server's ``/api/events``."""

    def __init__(self, http_url: str) -> None:
        self.process = _spawn("bench.watch", "ws" + http_url.removeprefix("http") + "/api/events")
        assert self.process.stdout is not None
        if self.process.stdout.readline().strip() != "ready":
            raise RuntimeError("the websocket watcher could not connect")

    def arrivals(self, expected: int) -> dict[str, float]:
        """Stop watching once ``expected`` events arrived (or a grace period passed); arrival times by message id."""
        assert self.process.stdin is not None and self.process.stdout is not None
        self.process.stdin.write(f"stop {expected}\n")
        self.process.stdin.flush()
        found: dict[str, float] = json.loads(self.process.stdout.readline())
        self.process.wait(10)
        return found


class CliServer:
    """The real ``mailtrap-lite`` command (``python -m mailtrap_lite``) on free ports, with these extra flags."""

    def __init__(self, *flags: str) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "mailtrap_lite", "--smtp", "127.0.0.1:0", "--http", "127.0.0.1:0", "-q", *flags],
            cwd=_ROOT, stdout=subprocess.PIPE, text=True,
        )
        assert self.process.stdout is not None
        addresses: dict[str, str] = {}
        for line in self.process.stdout:  # it prints its addresses once it listens, the web side last
            label, _, address = line.strip().rpartition(" ")
            addresses[label] = address
            if "web UI and API on" in label:
                break
        if "mailtrap-lite: web UI and API on" not in addresses:
            raise RuntimeError(f"mailtrap-lite exited early (code {self.process.wait()})")
        self.http_url = addresses["mailtrap-lite: web UI and API on"]
        self.smtp_port = int(addresses["mailtrap-lite: SMTP on"].rsplit(":", 1)[1])

    def memory_mb(self, field: str = "VmRSS") -> float:
        """A memory figure of the server process (see :func:`memory_mb`)."""
        return memory_mb(self.process.pid, field)

    def __enter__(self) -> CliServer:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.process.terminate()
        self.process.wait(20)
