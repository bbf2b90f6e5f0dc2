"""The mailtrap-lite command: starts, answers on both ports, stops cleanly, and explains mistakes in one line."""

from __future__ import annotations

import os
import re
import signal
import smtplib
import socket
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

CLI = [sys.executable, "-m", "mailtrap_lite"]
ADDRESS = re.compile(r"(?:SMTP on|API on) (\S+)")


class RunningCli:
    """The CLI in a subprocess, with the addresses it printed."""

    def __init__(self, *args: str, env: dict[str, str] | None = None, http: bool = True) -> None:
        self.process = subprocess.Popen(
            [*CLI, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            env={**os.environ, **(env or {})},
        )
        self.lines: list[str] = []
        assert self.process.stdout is not None
        for line in self.process.stdout:  # the CLI prints its addresses once it listens
            self.lines.append(line.strip())
            if "web UI and API on" in line or ("SMTP on" in line and not http):
                break

    def address(self, label: str) -> str:
        for line in self.lines:
            if label in line:
                return line.rsplit(" ", 1)[1]
        raise AssertionError(f"{label!r} not printed: {self.lines}")

    def stop(self) -> tuple[int, str, str]:
        self.process.send_signal(signal.SIGTERM)
        out, err = self.process.communicate(timeout=20)
        return self.process.returncode, out, err


@pytest.fixture
def cli() -> Iterator[RunningCli]:
    running = RunningCli("--smtp", "127.0.0.1:0", "--http", "127.0.0.1:0")
    yield running
    if running.process.poll() is None:
        running.process.kill()
        running.process.wait(10)


def test_starts_answers_on_both_ports_and_stops_on_sigterm(cli: RunningCli) -> None:
    host, port = cli.address("SMTP on").rsplit(":", 1)
    url = cli.address("web UI and API on")
    with smtplib.SMTP(host, int(port), timeout=10) as client:
        code, _ = client.noop()
        assert code == 250
    with urllib.request.urlopen(url + "/livez", timeout=10) as response:
        assert response.status == 200
    code, out, err = cli.stop()
    assert code == 0
    assert "stopped" in out
    assert "Traceback" not in err


def test_environment_variables_configure_flags() -> None:
    running = RunningCli(env={"MAILTRAP_LITE_SMTP": "127.0.0.1:0", "MAILTRAP_LITE_NO_HTTP": "true"}, http=False)
    try:
        smtp = running.address("SMTP on")
        assert smtp.startswith("127.0.0.1:") and not smtp.endswith(":1025")
        assert not any("web UI" in line for line in running.lines)
    finally:
        code, _, _ = running.stop()
    assert code == 0


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*CLI, *args], capture_output=True, text=True, timeout=30)


def assert_one_line_error(result: subprocess.CompletedProcess[str], *fragments: str) -> None:
    assert result.returncode == 2, result
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.stderr
    for fragment in fragments:
        assert fragment in lines[0], lines[0]


def test_unknown_flag() -> None:
    assert_one_line_error(run_cli("--smpt", "127.0.0.1:0"), "--smpt")


def test_malformed_address() -> None:
    assert_one_line_error(run_cli("--smtp", "localhost"), "--smtp", "HOST:PORT")
    assert_one_line_error(run_cli("--http", "127.0.0.1:99999"), "--http", "out of range")


def test_port_in_use() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert_one_line_error(run_cli("--smtp", f"127.0.0.1:{port}", "--no-http"), "--smtp", "already in use")


def test_http_port_in_use() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = run_cli("--smtp", "127.0.0.1:0", "--http", f"127.0.0.1:{port}")
        assert_one_line_error(result, "--http", "already in use")


def test_missing_certificate(tmp_path: Path) -> None:
    result = run_cli("--smtp", "127.0.0.1:0", "--no-http", "--tls-cert", str(tmp_path / "nope.pem"),
                     "--tls-key", str(tmp_path / "nope.key"))
    assert_one_line_error(result, "--tls-cert", "does not exist")


def test_unreadable_certificate(tmp_path: Path) -> None:
    (tmp_path / "bad.pem").write_text("not a certificate")
    (tmp_path / "bad.key").write_text("not a key")
    result = run_cli("--smtp", "127.0.0.1:0", "--no-http", "--tls-cert", str(tmp_path / "bad.pem"),
                     "--tls-key", str(tmp_path / "bad.key"))
    assert_one_line_error(result, "--tls-cert", "cannot load certificate")


def test_malformed_auth_file(tmp_path: Path) -> None:
    users = tmp_path / "users.txt"
    users.write_text("alice:secret\nbob-without-password\n")
    assert_one_line_error(run_cli("--smtp-auth-file", str(users)), "--smtp-auth-file", "line 2")
    assert_one_line_error(run_cli("--smtp-auth-file", str(tmp_path / "missing")), "--smtp-auth-file", "cannot read")


def test_flags_that_need_tls() -> None:
    assert_one_line_error(run_cli("--smtps", "127.0.0.1:0"), "--smtps", "--tls")
    assert_one_line_error(run_cli("--require-tls"), "--require-tls")
