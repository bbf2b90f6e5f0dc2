"""An asyncio service sends with aiosmtplib; ``await mailtrap.wait_for_async(...)`` waits without blocking its loop.

These tests run their coroutine with ``asyncio.run``; with pytest-asyncio or anyio they would be ``async def``.
"""

from __future__ import annotations

import asyncio

from alert_service import AlertMailer

from mailtrap_lite import Mailbox


def test_an_alert_arrives_while_the_service_keeps_running(mailtrap: Mailbox) -> None:
    async def scenario() -> None:
        async with AlertMailer(mailtrap.host, mailtrap.port) as alerts:
            await alerts.alert("oncall@example.com", "Disk 91% full on db-1", severity="critical")
            # The senders run on this same loop: a blocking wait here would starve them and time out.
            mail = await mailtrap.wait_for_async(to="oncall@example.com")
            assert mail.subject == "[CRITICAL] Disk 91% full on db-1"
            assert "Severity: critical" in mail.text

    asyncio.run(scenario())


def test_concurrent_senders_deliver_every_queued_alert(mailtrap: Mailbox) -> None:
    async def scenario() -> None:
        async with AlertMailer(mailtrap.host, mailtrap.port, senders=3) as alerts:
            for host in range(6):
                await alerts.alert("oncall@example.com", f"db-{host} unreachable")
            mails = await mailtrap.wait_for_async(count=6, subject="[WARNING]")
        assert sorted(m.subject for m in mails) == [f"[WARNING] db-{host} unreachable" for host in range(6)]

    asyncio.run(scenario())
    assert len(mailtrap.attempts) == 6


def test_a_refused_alert_is_recorded_and_the_others_still_go_out(mailtrap: Mailbox) -> None:
    mailtrap.faults.reject("old-team@example.com", code=550)

    async def scenario() -> AlertMailer:
        async with AlertMailer(mailtrap.host, mailtrap.port, senders=1) as alerts:
            await alerts.alert("old-team@example.com", "Backup failed")
            await alerts.alert("oncall@example.com", "Backup failed")
            await mailtrap.wait_for_async(to="oncall@example.com")
        return alerts

    alerts = asyncio.run(scenario())
    assert [(alert.to, "550" in reason) for alert, reason in alerts.failures] == [("old-team@example.com", True)]
    mailtrap.assert_not_sent(to="old-team@example.com")

