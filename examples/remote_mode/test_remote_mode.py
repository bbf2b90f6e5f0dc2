"""Remote mode end to end: the CLI server in one process, the app in a second, pytest with ``--mailtrap-url`` in a
third, as in a docker-compose setup where the tests cannot start the mail server themselves."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

HERE = Path(__file__).parent
CHECKS = HERE / "invites_remote_check.py"


class Process:
    """A subprocess whose startup lines (on stdout) are read until one starts with ``ready``."""

    def __init__(self, command: list[str], ready: str, env: dict[str, str] | None = None) -> None:
        self.popen = subprocess.Popen(
            command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env={**os.environ, **(env or {})}
        )
        self.lines: list[str] = []
        assert self.popen.stdout is not None
        for line in self.popen.stdout:  # blocks until the process prints; it prints once it listens
            self.lines.append(line.strip())
            if line.startswith(ready):
                return
        _, errors = self.popen.communicate(timeout=20)
        raise AssertionError(f"{command[1:]} exited before it was ready: {errors}")

    def printed(self, label: str) -> str:
        """The last word of the startup line that contains ``label`` (an address)."""
        return next(line.rsplit(" ", 1)[1] for line in self.lines if label in line)

    def stop(self) -> None:
        """SIGTERM, then wait for the exit."""
        if self.popen.poll() is None:
            self.popen.send_signal(signal.SIGTERM)
        self.popen.communicate(timeout=20)


@pytest.fixture
def mail_server() -> Iterator[Process]:
    """Process 1: ``python -m mailtrap_lite`` on free ports."""
    command = [sys.executable, "-m", "mailtrap_lite", "--smtp", "127.0.0.1:0", "--http", "127.0.0.1:0"]
    server = Process(command, ready="mailtrap-lite: web UI and API on")
    yield server
    server.stop()


@pytest.fixture
def invite_app(mail_server: Process) -> Iterator[Process]:
    """Process 2: the app, its SMTP settings pointing at process 1."""
    host, port = mail_server.printed("SMTP on").rsplit(":", 1)
    command = [sys.executable, str(HERE / "invite_app.py"), "--listen", "127.0.0.1:0"]
    app = Process(command, ready="invite_app: listening", env={"SMTP_HOST": host, "SMTP_PORT": port})
    yield app
    app.stop()


def test_pytest_in_a_third_process_checks_the_app_through_the_running_server(
    mail_server: Process, invite_app: Process
) -> None:
    env = {name: value for name, value in os.environ.items() if not name.startswith(("PYTEST_", "MAILTRAP_LITE_"))}
    env["INVITE_APP_URL"] = invite_app.printed("listening on")
    command = [
        sys.executable, "-m", "pytest", str(CHECKS), "-q",
        "--mailtrap-url", mail_server.printed("web UI and API on"),
        "--mailtrap-smtp", mail_server.printed("SMTP on"),
    ]
    run = subprocess.run(command, env=env, cwd=HERE, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "4 passed" in run.stdout
