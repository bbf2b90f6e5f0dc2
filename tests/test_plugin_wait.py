"""Waiting for mail sent elsewhere: a background thread, a subprocess, an asyncio task, a block of code."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import aiosmtplib
import pytest
from mail_senders import build_message, send_mail

from mailtrap_lite.errors import MailAssertionError
from mailtrap_lite.mailbox import Mailbox

SUBPROCESS_SENDER = """
import os, smtplib
from email.message import EmailMessage
message = EmailMessage()
message["From"] = "worker@example.com"
message["To"] = "ops@example.com"
message["Subject"] = "Nightly report"
message.set_content("0 errors")
with smtplib.SMTP(os.environ["SMTP_HOST"], int(os.environ["SMTP_PORT"]), timeout=10) as client:
    client.send_message(message)
"""


@contextmanager
def sending_in_background(mailtrap: Mailbox, count: int, to: str = "bob@example.com") -> Iterator[None]:
    """Send ``count`` messages ("Job 0", "Job 1", ...) from another thread while the block runs."""

    def worker() -> None:
        for number in range(count):
            send_mail(mailtrap.host, mailtrap.port, build_message(to=to, subject=f"Job {number}"))

    thread = threading.Thread(target=worker)
    thread.start()
    try:
        yield
    finally:
        thread.join(10)


def test_wait_for_returns_mail_sent_from_a_background_thread(mailtrap: Mailbox) -> None:
    with sending_in_background(mailtrap, 1):
        message = mailtrap.wait_for(subject="Job 0", timeout=10)
    assert message.subject == "Job 0"


def test_wait_for_with_a_count_returns_a_list_in_arrival_order(mailtrap: Mailbox) -> None:
    with sending_in_background(mailtrap, 3):
        messages = mailtrap.wait_for(count=3, subject="Job", timeout=10)
    assert [m.subject for m in messages] == ["Job 0", "Job 1", "Job 2"]


def test_wait_for_returns_mail_sent_by_a_subprocess(mailtrap: Mailbox) -> None:
    process = subprocess.Popen([sys.executable, "-c", SUBPROCESS_SENDER], env={**os.environ, **mailtrap.env()})
    try:
        message = mailtrap.wait_for(to="ops@example.com", subject="Nightly report", timeout=30)
    finally:
        assert process.wait(30) == 0
    assert message.text.strip() == "0 errors"


def test_a_timeout_fails_with_the_report_not_a_bare_timeout_error(mailtrap: Mailbox) -> None:
    send_mail(mailtrap.host, mailtrap.port, build_message(to="bob@example.com", subject="Welcome"))
    with pytest.raises(MailAssertionError) as failure:
        mailtrap.wait_for(to="bob@example.com", subject="Password reset", timeout=0.2)
    assert isinstance(failure.value, AssertionError)
    assert not isinstance(failure.value, TimeoutError)
    report = str(failure.value)
    assert report.startswith(
        "mailtrap: waited 0.2s for 1 message matching to='bob@example.com', subject='Password reset'; 0 arrived."
    )
    assert "subject  expected 'Password reset', got 'Welcome'" in report


def test_expect_waits_for_mail_sent_inside_the_block(mailtrap: Mailbox) -> None:
    send_mail(mailtrap.host, mailtrap.port, build_message(to="ops@example.com", subject="Before the block"))
    with (
        mailtrap.expect(count=2, to="ops@example.com", timeout=10) as expectation,
        sending_in_background(mailtrap, 2, to="ops@example.com"),
    ):
        pass
    assert [m.subject for m in expectation.messages] == ["Job 0", "Job 1"]
    assert expectation.message.subject == "Job 0"


def test_expect_fails_with_the_report_when_the_block_sent_nothing(mailtrap: Mailbox) -> None:
    expected_failure = pytest.raises(MailAssertionError, match=r"waited 0\.1s for 1 message matching to='ops@example")
    with expected_failure, mailtrap.expect(to="ops@example.com", timeout=0.1):
        pass


def test_assert_not_sent_within_a_grace_window_catches_late_mail(mailtrap: Mailbox) -> None:
    late_mail = pytest.raises(MailAssertionError, match=r"expected no message matching subject='Job 0' within 10s")
    with sending_in_background(mailtrap, 1), late_mail:
        mailtrap.assert_not_sent(within=10, subject="Job 0")


def test_wait_for_async_keeps_the_event_loop_running(mailtrap: Mailbox) -> None:
    async def scenario() -> str:
        waiting = asyncio.create_task(mailtrap.wait_for_async(subject="Async hello", timeout=10))
        await asyncio.sleep(0)  # let the wait start before the mail is sent, on this very loop
        await aiosmtplib.send(build_message(subject="Async hello"), hostname=mailtrap.host, port=mailtrap.port)
        message = await waiting
        return str(message.subject)

    assert asyncio.run(scenario()) == "Async hello"


def test_wait_for_async_times_out_with_the_report(mailtrap: Mailbox) -> None:
    with pytest.raises(MailAssertionError, match=r"waited 0\.1s for 1 message matching subject='never'"):
        asyncio.run(mailtrap.wait_for_async(subject="never", timeout=0.1))
