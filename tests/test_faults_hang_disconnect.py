"""Hang, delay and disconnect: the client sees a timeout or a dropped connection, and nobody else is slowed."""

from __future__ import annotations

import asyncio
import smtplib
import threading

import aiosmtplib
import pytest
from fault_clients import Outcome, fault_firings, finished_sessions, try_send
from mail_senders import build_message

from mailtrap_lite import MailServer


def in_background(server: MailServer, timeout: float) -> tuple[threading.Thread, list[Outcome]]:
    """Start one send in a thread; the list gets its outcome."""
    result: list[Outcome] = []
    thread = threading.Thread(
        target=lambda: result.append(try_send(server.smtp_host, server.smtp_port, to="slow@example.com",
                                              timeout=timeout)),
        daemon=True,
    )
    thread.start()
    return thread, result


def test_hang_makes_the_client_time_out_while_another_client_delivers_normally(server: MailServer) -> None:
    rule = server.faults.hang(stage="data_end")
    with finished_sessions(server) as closed, fault_firings(server) as fired:
        hung, result = in_background(server, timeout=5)
        assert [f.rule_id for f in fired(1)] == [rule.id]  # the hang has started
        assert try_send(server.smtp_host, server.smtp_port, to="fast@example.com") == 250
        assert hung.is_alive() and result == []  # still hanging while the other client was served
        hung.join(10)
        assert result == ["timeout"]
        closed(2)
    assert [m.envelope.recipients for m in server.store.snapshot()] == [("fast@example.com",)]
    attempt = next(a for a in server.sessions.attempts() if a.fault)
    assert (attempt.reply_code, attempt.fault, attempt.message_id) == (None, rule.id, None)


def test_delay_holds_one_session_while_others_run_at_full_speed(server: MailServer) -> None:
    rule = server.faults.delay(5, stage="data_end")
    with fault_firings(server) as fired:
        slow, result = in_background(server, timeout=20)
        assert [f.rule_id for f in fired(1)] == [rule.id]  # the delay has started
    for _ in range(3):
        assert try_send(server.smtp_host, server.smtp_port, to="fast@example.com") == 250
    assert slow.is_alive() and result == []  # the delayed session is still waiting; the others were served
    slow.join(20)
    assert result == [250]
    assert len(server.store.snapshot()) == 4


def test_disconnect_mid_data_stores_nothing_and_the_client_sees_a_dropped_connection(server: MailServer) -> None:
    rule = server.faults.disconnect()
    with finished_sessions(server) as closed, smtplib.SMTP(server.smtp_host, server.smtp_port, timeout=10) as client:
        with pytest.raises(smtplib.SMTPServerDisconnected, match=r"^Connection unexpectedly closed$"):
            client.send_message(build_message())  # a dropped connection, not a reply and not a timeout
        record = closed(1)[0]
    assert server.store.snapshot() == []
    assert [(line.direction, line.text) for line in record.lines[-3:]] == [
        ("C", record.lines[-3].text),
        ("F", f"fault {rule.id}: disconnect at data_end (1 of 1)"),
        ("S", "(connection closed)"),
    ]
    assert record.lines[-3].text.endswith("bytes of message data>")
    assert [(a.reply_code, a.fault) for a in server.sessions.attempts()] == [(None, rule.id)]
    assert try_send(server.smtp_host, server.smtp_port) == 250


def test_disconnect_with_aiosmtplib(server: MailServer) -> None:
    server.faults.disconnect(stage="rcpt")

    async def send() -> None:
        await aiosmtplib.send(build_message(), hostname=server.smtp_host, port=server.smtp_port, timeout=10)

    with pytest.raises(aiosmtplib.SMTPServerDisconnected):
        asyncio.run(send())
    asyncio.run(send())
    assert len(server.store.snapshot()) == 1


def test_disconnect_at_connect_gives_no_greeting(server: MailServer) -> None:
    server.faults.disconnect(stage="connect")
    with pytest.raises(smtplib.SMTPServerDisconnected):
        smtplib.SMTP(server.smtp_host, server.smtp_port, timeout=10)
    assert try_send(server.smtp_host, server.smtp_port) == 250
