"""A notification worker: reads jobs from a queue (JSON lines on stdin), mails them, retries failures later.

    producer | SMTP_HOST=127.0.0.1 SMTP_PORT=1025 python notify_worker.py
    {"id": "n1", "to": "bob@example.com", "subject": "Your order shipped", "body": "..."}

Like a Celery task with ``retry(countdown=...)``, a temporarily failed job (4xx reply, dropped connection,
timeout) goes back on a schedule with exponential backoff while other jobs carry on; a 5xx reply, or running out
of attempts, sends it to the dead letters: a JSON line on stderr, where unreadable queue lines are reported too.
The worker exits once stdin is closed and nothing is left to retry. Each outcome is one line on stdout:
``sent n1 to bob@example.com (attempt 1)``.
"""

from __future__ import annotations

import heapq
import itertools
import json
import os
import queue
import smtplib
import sys
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, replace
from email.message import EmailMessage
from typing import IO

SENDER = "notifications@example.com"


@dataclass(frozen=True)
class Job:
    """One notification to send, and how many times it has been tried."""

    id: str
    to: str
    subject: str
    body: str
    attempt: int = 1

    @classmethod
    def from_line(cls, line: str) -> Job:
        """Parse one queue line; raises ValueError naming what is wrong."""
        try:
            data = json.loads(line)
            return cls(str(data["id"]), str(data["to"]), str(data["subject"]), str(data["body"]))
        except (json.JSONDecodeError, KeyError, TypeError) as error:
            raise ValueError(f"not a job ({type(error).__name__}: {error})") from None

    def email(self) -> EmailMessage:
        """The mail for this job."""
        message = EmailMessage()
        message["From"] = SENDER
        message["To"] = self.to
        message["Subject"] = self.subject
        message["X-Notification-Id"] = self.id
        message.set_content(self.body)
        return message


@dataclass(frozen=True)
class Settings:
    """Where to send and how to retry; read from the environment by :meth:`from_env`."""

    host: str = "127.0.0.1"
    port: int = 1025
    attempts: int = 5
    retry_delay: float = 1.0
    timeout: float = 30.0

    @classmethod
    def from_env(cls) -> Settings:
        """``SMTP_HOST``, ``SMTP_PORT``, ``NOTIFY_ATTEMPTS``, ``NOTIFY_RETRY_DELAY``, ``NOTIFY_TIMEOUT``."""
        env = os.environ
        return cls(
            host=env.get("SMTP_HOST", cls.host),
            port=int(env.get("SMTP_PORT", cls.port)),
            attempts=int(env.get("NOTIFY_ATTEMPTS", cls.attempts)),
            retry_delay=float(env.get("NOTIFY_RETRY_DELAY", cls.retry_delay)),
            timeout=float(env.get("NOTIFY_TIMEOUT", cls.timeout)),
        )


class TemporaryFailure(Exception):
    """Worth trying again later."""


class PermanentFailure(Exception):
    """Trying again would not help."""


def deliver(job: Job, settings: Settings) -> None:
    """One delivery attempt; failures are raised as :class:`TemporaryFailure` or :class:`PermanentFailure`."""
    try:
        with smtplib.SMTP(settings.host, settings.port, timeout=settings.timeout) as client:
            client.send_message(job.email())
    except smtplib.SMTPRecipientsRefused as error:
        code = max(code for code, _ in error.recipients.values())
        failure = PermanentFailure if code >= 500 else TemporaryFailure
        raise failure(f"recipient refused with {code}") from None
    except smtplib.SMTPResponseException as error:
        failure = PermanentFailure if error.smtp_code >= 500 else TemporaryFailure
        raise failure(f"refused with {error.smtp_code}") from None
    except (smtplib.SMTPServerDisconnected, TimeoutError, ConnectionError) as error:
        raise TemporaryFailure(f"connection failed ({type(error).__name__})") from None


class Worker:
    """Takes jobs from ``inbox`` (``None`` means the queue is closed) and retries failed ones on a schedule."""

    def __init__(self, settings: Settings, out: IO[str] = sys.stdout, dead_letters: IO[str] = sys.stderr) -> None:
        self.settings = settings
        self.inbox: queue.Queue[Job | None] = queue.Queue()
        self._retries: list[tuple[float, int, Job]] = []  # a heap of (due time, tie-breaker, job)
        self._order = itertools.count()
        self._out = out
        self._dead_letters = dead_letters

    def run(self) -> None:
        """Work until the queue is closed and no retry is pending."""
        queue_open = True
        while queue_open or self._retries:
            if self._retries and self._retries[0][0] <= time.monotonic():
                self.process(heapq.heappop(self._retries)[2])
                continue
            wait = max(0.0, self._retries[0][0] - time.monotonic()) if self._retries else None
            try:
                job = self.inbox.get(timeout=wait)
            except queue.Empty:
                continue
            if job is None:
                queue_open = False
            else:
                self.process(job)

    def process(self, job: Job) -> None:
        """Try the job once; report it sent, schedule its retry, or give it up."""
        try:
            deliver(job, self.settings)
        except TemporaryFailure as failure:
            if job.attempt < self.settings.attempts:
                delay = self.settings.retry_delay * 2 ** (job.attempt - 1)
                self._log(f"retrying {job.id} in {delay:g}s: {failure}")
                due = time.monotonic() + delay
                heapq.heappush(self._retries, (due, next(self._order), replace(job, attempt=job.attempt + 1)))
            else:
                self._give_up(job, f"{failure}, attempt {job.attempt} was the last")
        except PermanentFailure as failure:
            self._give_up(job, str(failure))
        else:
            self._log(f"sent {job.id} to {job.to} (attempt {job.attempt})")

    def _give_up(self, job: Job, reason: str) -> None:
        self._log(f"failed {job.id}: {reason}")
        print(json.dumps({"id": job.id, "to": job.to, "reason": reason}), file=self._dead_letters, flush=True)

    def _log(self, line: str) -> None:
        print(line, file=self._out, flush=True)


def feed(worker: Worker, lines: Iterable[str]) -> None:
    """Put each job line on the worker's queue (bad lines are reported and skipped), then close the queue."""
    for number, line in enumerate(lines, 1):
        if line.strip():
            try:
                worker.inbox.put(Job.from_line(line))
            except ValueError as error:
                print(f"skipped line {number}: {error}", file=sys.stderr, flush=True)
    worker.inbox.put(None)


def main() -> None:
    """Run the worker on stdin."""
    worker = Worker(Settings.from_env())
    threading.Thread(target=feed, args=(worker, sys.stdin), daemon=True).start()
    worker.run()


if __name__ == "__main__":
    main()
