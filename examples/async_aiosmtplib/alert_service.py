"""An asyncio alerting service: callers queue alerts, a few sender tasks mail them with aiosmtplib.

    async with AlertMailer("127.0.0.1", 1025) as alerts:
        await alerts.alert("oncall@example.com", "Disk 91% full on db-1")

Queueing never blocks the caller on SMTP. A refused or failed alert is recorded in ``failures`` and the service
carries on; leaving the ``async with`` block sends what is still queued, then stops the senders.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from email.message import EmailMessage
from types import TracebackType

import aiosmtplib

SENDER = "alerts@example.com"


@dataclass(frozen=True)
class Alert:
    """One alert for one address."""

    to: str
    summary: str
    severity: str = "warning"

    def email(self) -> EmailMessage:
        """The alert as a mail: the severity in the subject, so filters can route it."""
        message = EmailMessage()
        message["From"] = SENDER
        message["To"] = self.to
        message["Subject"] = f"[{self.severity.upper()}] {self.summary}"
        message.set_content(f"{self.summary}\n\nSeverity: {self.severity}\n")
        return message


class AlertMailer:
    """Queue alerts with :meth:`alert`; ``senders`` tasks deliver them concurrently over SMTP."""

    def __init__(self, host: str, port: int, senders: int = 3, timeout: float = 30.0) -> None:
        self.host = host
        self.port = port
        self.timeout = timeout
        self.failures: list[tuple[Alert, str]] = []
        self._queue: asyncio.Queue[Alert] = asyncio.Queue()
        self._senders = senders
        self._tasks: list[asyncio.Task[None]] = []

    async def __aenter__(self) -> AlertMailer:
        self._tasks = [asyncio.create_task(self._send_forever()) for _ in range(self._senders)]
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        await self._queue.join()
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    async def alert(self, to: str, summary: str, severity: str = "warning") -> None:
        """Queue an alert; returns at once."""
        await self._queue.put(Alert(to, summary, severity))

    async def _send_forever(self) -> None:
        while True:
            alert = await self._queue.get()
            try:
                await aiosmtplib.send(alert.email(), hostname=self.host, port=self.port, timeout=self.timeout)
            except (aiosmtplib.SMTPException, OSError) as error:
                self.failures.append((alert, str(error)))
            finally:
                self._queue.task_done()
