"""The server under soak: the real ``mailtrap-lite`` command in a subprocess, on free loopback ports.

Its stderr is read all the time (so its logging never blocks on a full pipe): the event-loop stall warnings
(``event loop stalled 230 ms (smtp)``) are counted with the worst one, and error lines are kept as samples.
"""

from __future__ import annotations

import re
import subprocess
import sys
import threading
from pathlib import Path

_ADDRESS = re.compile(r"(SMTP on|API on) (\S+)")
_STALL = re.compile(r"event loop stalled (\d+) ms")
_ERROR = re.compile(r"\b(ERROR|CRITICAL|Traceback)\b")
_SAMPLES = 5


def supported_flags() -> str:
    """The ``--help`` text of this ``mailtrap-lite``, to find which optional flags it has."""
    return subprocess.run(
        [sys.executable, "-m", "mailtrap_lite", "--help"], capture_output=True, text=True, check=True
    ).stdout


class ServerUnderTest:
    """``python -m mailtrap_lite FLAGS`` on free ports, with the addresses it printed, its memory use, and what its
    stderr said: ``stalls``, ``worst_stall_ms``, ``errors`` (with ``error_samples``); all of it is copied to
    ``log`` when given."""

    def __init__(self, flags: list[str], log: Path | None = None) -> None:
        self.log = log.open("w") if log is not None else None
        self.process = subprocess.Popen(
            [sys.executable, "-m", "mailtrap_lite", "--smtp", "127.0.0.1:0", "--http", "127.0.0.1:0", "-q", *flags],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.stalls = 0
        self.worst_stall_ms = 0
        self.errors = 0
        self.error_samples: list[str] = []
        self._stderr = threading.Thread(target=self._read_stderr, daemon=True)
        self._stderr.start()
        found: dict[str, str] = {}
        assert self.process.stdout is not None
        for line in self.process.stdout:  # the command prints both addresses once it listens
            match = _ADDRESS.search(line)
            if match:
                found[match.group(1)] = match.group(2)
            if len(found) == 2:
                break
        if len(found) != 2:
            raise RuntimeError(f"mailtrap-lite did not start (exit {self.process.wait()}): {self.error_samples}")
        host, port = found["SMTP on"].rsplit(":", 1)
        self.smtp_host, self.smtp_port = host, int(port)
        self.http_url = found["API on"]
        self.http_port = int(self.http_url.rsplit(":", 1)[1])

    def _read_stderr(self) -> None:
        assert self.process.stderr is not None
        for line in self.process.stderr:
            if self.log is not None:
                self.log.write(line)
                self.log.flush()
            stall = _STALL.search(line)
            if stall:
                self.stalls += 1
                self.worst_stall_ms = max(self.worst_stall_ms, int(stall.group(1)))
            elif _ERROR.search(line):
                self.errors += 1
                if len(self.error_samples) < _SAMPLES:
                    self.error_samples.append(line.strip()[:200])

    def rss_mb(self) -> float:
        """Resident memory of the server process in MiB (0 once it has exited)."""
        try:
            status = Path(f"/proc/{self.process.pid}/status").read_text()
        except OSError:
            return 0.0
        for line in status.splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
        return 0.0

    def stop(self, timeout: float = 30.0) -> int | None:
        """SIGTERM and wait for the exit; its status, or None when it had to be killed."""
        if self.process.poll() is not None:
            return self.process.returncode
        self.process.terminate()
        try:
            code = self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            code = None
        self._stderr.join(5)
        if self.log is not None:
            self.log.close()
        return code
