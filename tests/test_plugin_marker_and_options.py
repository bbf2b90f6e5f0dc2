"""``@pytest.mark.mailtrap(...)`` and the ini options shape one test or the whole session's server."""

from __future__ import annotations

import socket

import pytest

pytest_plugins = ["pytester"]

SENDER = '''
import smtplib
from email.message import EmailMessage


def send(mailtrap, attempts=3):
    message = EmailMessage()
    message["From"] = "app@example.com"
    message["To"] = "bob@example.com"
    message["Subject"] = "Hi"
    message.set_content("Hi")
    for attempt in range(attempts):
        try:
            with smtplib.SMTP(mailtrap.host, mailtrap.port, timeout=10) as smtp:
                smtp.send_message(message)
            return
        except smtplib.SMTPResponseException:
            if attempt == attempts - 1:
                raise
'''

MARKED_TESTS = '''
import pytest
from sender import send


@pytest.mark.mailtrap(faults=["data:451:times=2"])
def test_starts_with_the_marker_faults(mailtrap):
    send(mailtrap)
    assert [a.reply_code for a in mailtrap.attempts] == [451, 451, 250]


@pytest.mark.mailtrap(fresh_server=True)
def test_gets_a_dedicated_server(mailtrap, mailtrap_server):
    shared = mailtrap_server.mailbox(watermark=True)
    assert mailtrap.port != mailtrap_server.smtp_port
    send(mailtrap)
    assert len(mailtrap) == 1
    assert shared.messages == []


@pytest.mark.mailtrap(timeout=0.2)
def test_sets_the_default_wait_timeout(mailtrap):
    mailtrap.wait_for(subject="never sent")
'''

FIXED_PORT_TEST = '''
def test_listens_on_the_configured_port(mailtrap):
    assert mailtrap.port == {port}
'''


def test_marker_faults_fresh_server_and_timeout(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(sender=SENDER, test_marked=MARKED_TESTS)
    result = pytester.runpytest_inprocess("-p", "no:randomly")
    result.assert_outcomes(passed=2, failed=1)
    result.stdout.fnmatch_lines(["E * mailtrap: waited 0.2s for 1 message matching subject='never sent'; 0 arrived."])


def test_an_unknown_marker_option_is_a_clear_error(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import pytest

        @pytest.mark.mailtrap(fresh=True)
        def test_misspelt(mailtrap):
            pass
        """
    )
    result = pytester.runpytest_inprocess("-p", "no:randomly")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*unknown mailtrap marker option(s): fresh*"])


def free_port() -> int:
    """A port the OS says is free right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


def test_ini_mailtrap_smtp_port_fixes_the_port(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PYTEST_XDIST_WORKER", raising=False)  # this suite may itself run under xdist
    port = free_port()
    pytester.makeini(f"[pytest]\nmailtrap_smtp_port = {port}\n")
    pytester.makepyfile(test_port=FIXED_PORT_TEST.format(port=port))
    result = pytester.runpytest_inprocess("-p", "no:randomly")
    result.assert_outcomes(passed=1)


def test_each_xdist_worker_adds_its_number_to_the_fixed_port(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    port = free_port()
    monkeypatch.setenv("PYTEST_XDIST_WORKER", "gw1")
    pytester.makeini(f"[pytest]\nmailtrap_smtp_port = {port - 1}\n")
    pytester.makepyfile(test_port=FIXED_PORT_TEST.format(port=port))
    result = pytester.runpytest_inprocess("-p", "no:randomly")
    result.assert_outcomes(passed=1)


def test_a_malformed_ini_option_is_a_clear_error(pytester: pytest.Pytester) -> None:
    pytester.makeini("[pytest]\nmailtrap_timeout = soon\n")
    pytester.makepyfile("def test_uses_the_fixture(mailtrap):\n    pass\n")
    result = pytester.runpytest_inprocess("-p", "no:randomly")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*ini option mailtrap_timeout: 'soon' is not a number*"])
