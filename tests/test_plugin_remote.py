"""Remote mode: the same behaviour tests pass against a server started as a separate process with the CLI."""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

pytest_plugins = ["pytester"]

TESTS = Path(__file__).parent

BEHAVIOUR_TESTS = [
    "test_plugin_criteria.py",
    "test_plugin_failure_report.py",
    "test_plugin_message_access.py",
    "test_plugin_retries.py",
    "test_plugin_wait.py",
    "test_plugin_app_settings.py",
]


@dataclass(frozen=True)
class RunningCli:
    """A ``mailtrap-lite`` process and the addresses it printed."""

    smtp: str
    http_url: str


@pytest.fixture(scope="module")
def cli_server() -> Iterator[RunningCli]:
    """``python -m mailtrap_lite`` on free ports; its startup lines say where it listens."""
    process = subprocess.Popen(
        [sys.executable, "-m", "mailtrap_lite", "--smtp", "127.0.0.1:0", "--http", "127.0.0.1:0"],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    try:
        smtp = re.search(r"SMTP on (\S+)", process.stdout.readline())
        http = re.search(r"web UI and API on (\S+)", process.stdout.readline())
        assert smtp and http, "the CLI did not print its addresses"
        yield RunningCli(smtp.group(1), http.group(1))
    finally:
        process.terminate()
        process.wait(10)


def test_the_behaviour_tests_pass_in_remote_mode(cli_server: RunningCli) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:randomly", *BEHAVIOUR_TESTS,
         "--mailtrap-url", cli_server.http_url, "--mailtrap-smtp", cli_server.smtp],
        cwd=TESTS,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]
    assert re.search(r"\d+ passed", result.stdout)


def test_the_url_can_come_from_the_environment(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, cli_server: RunningCli
) -> None:
    monkeypatch.setenv("MAILTRAP_LITE_URL", cli_server.http_url)
    monkeypatch.setenv("MAILTRAP_LITE_SMTP_ADDRESS", cli_server.smtp)
    pytester.makepyfile(
        f"""
        import smtplib

        def test_talks_to_the_cli_server(mailtrap):
            assert mailtrap.http_url == "{cli_server.http_url}"
            assert f"{{mailtrap.host}}:{{mailtrap.port}}" == "{cli_server.smtp}"
            with smtplib.SMTP(mailtrap.host, mailtrap.port, timeout=10) as smtp:
                smtp.sendmail("a@example.com", ["b@example.com"], "Subject: via env\\r\\n\\r\\nhi")
            assert mailtrap.wait_for(subject="via env").envelope.recipients == ("b@example.com",)
        """
    )
    result = pytester.runpytest_inprocess("-p", "no:randomly")
    result.assert_outcomes(passed=1)


WORKERS_SHARING_ONE_SERVER = '''
import smtplib
from email.message import EmailMessage

import pytest


@pytest.mark.parametrize("number", range(12))
def test_each_worker_sees_only_mail_to_its_own_addresses(mailtrap, number):
    ops = mailtrap.address("ops")
    mailtrap.faults.fail_next(1, code=451, recipient=ops)
    message = EmailMessage()
    message["From"] = "app@example.com"
    message["To"] = ops
    message["Subject"] = f"Report {number}"
    message.set_content("ok")
    for attempt in range(2):
        try:
            with smtplib.SMTP(mailtrap.host, mailtrap.port, timeout=10) as smtp:
                smtp.send_message(message)
            break
        except smtplib.SMTPDataError:
            assert attempt == 0
    received = mailtrap.wait_for(to=ops, timeout=10)
    assert received.subject == f"Report {number}"
    mailtrap.assert_sent(count=1, to=ops)
    assert [a.reply_code for a in mailtrap.attempts if ops in a.recipients] == [451, 250]
'''


def test_xdist_workers_sharing_a_remote_server_stay_apart(pytester: pytest.Pytester, cli_server: RunningCli) -> None:
    pytester.makepyfile(test_shared=WORKERS_SHARING_ONE_SERVER)
    result = pytester.runpytest_subprocess(
        "-n", "2", "-p", "no:randomly", "--mailtrap-url", cli_server.http_url, "--mailtrap-smtp", cli_server.smtp
    )
    result.assert_outcomes(passed=12)
