"""A worker in another process sends the mail; the test points it at the fixture with ``.env()`` and waits for it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from mailtrap_lite import Mailbox

WORKER = Path(__file__).with_name("notify_worker.py")


class RunningWorker:
    """``notify_worker.py`` in a subprocess; ``submit`` writes to its queue, ``finish`` closes it and collects logs."""

    def __init__(self, env: dict[str, str]) -> None:
        self.process = subprocess.Popen(
            [sys.executable, str(WORKER)], env={**os.environ, **env},
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )

    def submit(self, job_id: str, to: str, subject: str = "Your order shipped", body: str = "On its way.") -> None:
        """Put one job on the worker's queue."""
        self.write(json.dumps({"id": job_id, "to": to, "subject": subject, "body": body}))

    def write(self, line: str) -> None:
        """Put one raw line on the queue."""
        assert self.process.stdin is not None
        self.process.stdin.write(line + "\n")
        self.process.stdin.flush()

    def finish(self) -> tuple[list[str], list[str]]:
        """Close the queue, let the worker drain it; returns its log (stdout) and its errors (stderr: dead letters
        and skipped lines)."""
        out, err = self.process.communicate(timeout=60)
        assert self.process.returncode == 0, err
        return out.splitlines(), err.splitlines()


@pytest.fixture
def worker(mailtrap: Mailbox) -> Iterator[RunningWorker]:
    """A worker whose SMTP settings come from ``mailtrap.env()``, retrying after 0.05 s, 0.1 s, ..."""
    running = RunningWorker({**mailtrap.env(), "NOTIFY_RETRY_DELAY": "0.05", "NOTIFY_ATTEMPTS": "3"})
    yield running
    if running.process.poll() is None:
        running.process.kill()
        running.process.communicate(timeout=10)


def test_mail_sent_by_another_process_is_caught_while_it_runs(worker: RunningWorker, mailtrap: Mailbox) -> None:
    worker.submit("n1", "bob@example.com", subject="Your order shipped")
    shipped = mailtrap.wait_for(to="bob@example.com")

    assert worker.process.poll() is None  # still running: the mail was caught from the other process
    assert shipped.subject == "Your order shipped"
    assert shipped.header("X-Notification-Id") == ["n1"]
    log, dead = worker.finish()
    assert (log, dead) == (["sent n1 to bob@example.com (attempt 1)"], [])


def test_expect_catches_a_batch_of_notifications(worker: RunningWorker, mailtrap: Mailbox) -> None:
    with mailtrap.expect(count=3, subject="Weekly digest") as batch:
        for number, address in enumerate(["a@example.com", "b@example.com", "c@example.com"]):
            worker.submit(f"d{number}", address, subject="Weekly digest")
    assert sorted(m.to[0].address for m in batch.messages) == ["a@example.com", "b@example.com", "c@example.com"]


def test_a_temporary_failure_is_retried_while_other_jobs_go_through(worker: RunningWorker, mailtrap: Mailbox) -> None:
    mailtrap.faults.fail_next(1, code=451, recipient="bob@example.com")
    worker.submit("n1", "bob@example.com")
    worker.submit("n2", "alice@example.com")
    mailtrap.wait_for(count=2)
    log, _ = worker.finish()

    sent = [(a.recipients, a.reply_code) for a in mailtrap.attempts]
    assert sent == [(("bob@example.com",), 451), (("alice@example.com",), 250), (("bob@example.com",), 250)]
    assert log == [
        "retrying n1 in 0.05s: refused with 451",
        "sent n2 to alice@example.com (attempt 1)",
        "sent n1 to bob@example.com (attempt 2)",
    ]


def test_a_permanent_refusal_goes_to_the_dead_letters(worker: RunningWorker, mailtrap: Mailbox) -> None:
    mailtrap.faults.reject("gone@example.com", code=550)
    worker.submit("n1", "gone@example.com")
    worker.submit("n2", "bob@example.com")
    mailtrap.wait_for(to="bob@example.com")
    log, dead = worker.finish()

    mailtrap.assert_not_sent(to="gone@example.com")
    assert [a.rejected_recipients for a in mailtrap.attempts] == [(("gone@example.com", 550),), ()]
    assert "failed n1: recipient refused with 550" in log
    assert [json.loads(line) for line in dead] == [
        {"id": "n1", "to": "gone@example.com", "reason": "recipient refused with 550"}
    ]


def test_a_job_that_keeps_failing_is_given_up_after_the_last_attempt(
    worker: RunningWorker, mailtrap: Mailbox
) -> None:
    mailtrap.faults.disconnect(times=3)
    worker.submit("n1", "bob@example.com")
    log, dead = worker.finish()

    assert [(a.reply_code, a.accepted) for a in mailtrap.attempts] == [(None, False)] * 3
    dropped = "connection failed (SMTPServerDisconnected)"
    assert log == [  # the pause doubles each time
        f"retrying n1 in 0.05s: {dropped}",
        f"retrying n1 in 0.1s: {dropped}",
        f"failed n1: {dropped}, attempt 3 was the last",
    ]
    assert len(dead) == 1
    mailtrap.assert_not_sent()


def test_a_malformed_queue_line_is_skipped(worker: RunningWorker, mailtrap: Mailbox) -> None:
    worker.write("{not json")
    worker.submit("n2", "bob@example.com")
    log, errors = worker.finish()
    assert log == ["sent n2 to bob@example.com (attempt 1)"]
    assert errors[0].startswith("skipped line 1: not a job (JSONDecodeError")
    mailtrap.assert_sent(count=1, to="bob@example.com")
