"""Each fault preset gives exactly the replies it promises, in order, then stops; the transcript names the rule."""

from __future__ import annotations

import asyncio
import smtplib
import time

import aiosmtplib
import pytest
from fault_clients import FakeClock, outcomes, try_send
from mail_senders import build_message

from mailtrap_lite import MailServer


def test_fail_next_gives_its_codes_then_stops_and_the_transcript_names_the_rule(server: MailServer) -> None:
    rule = server.faults.fail_next(2, code=451)
    assert outcomes(server, 4) == [451, 451, 250, 250]
    attempts = server.sessions.attempts()
    assert [(a.reply_code, a.fault) for a in attempts] == [(451, rule.id), (451, rule.id), (250, None), (250, None)]
    assert attempts[0].reply_text == "4.3.0 Temporary local problem, try again later"
    assert len(server.store.snapshot()) == 2
    first = server.sessions.get(attempts[0].session_id)
    assert first is not None
    fired = [line.text for line in first.lines if line.direction == "F"]
    assert fired == [f"fault {rule.id}: 451 4.3.0 Temporary local problem, try again later at data (1 of 2)"]
    assert (rule.matched, rule.fired, rule.remaining) == (2, 2, 0)


def test_fail_next_with_a_permanent_code_at_another_stage(server: MailServer) -> None:
    server.faults.fail_next(1, code=553, stage="mail")
    with smtplib.SMTP(server.smtp_host, server.smtp_port, timeout=10) as client:
        client.ehlo()
        assert client.mail("alice@example.com") == (553, b"5.1.3 Mailbox name not allowed")
        client.rset()
        assert client.mail("alice@example.com")[0] == 250


def test_sequence_plays_each_code_once_and_a_2xx_lets_that_attempt_through(server: MailServer) -> None:
    rule = server.faults.sequence([451, 452, 250, 554])
    assert outcomes(server, 5) == [451, 452, 250, 554, 250]
    assert [a.fault for a in server.sessions.attempts()] == [rule.id, rule.id, None, rule.id, None]


def test_sequence_with_aiosmtplib(server: MailServer) -> None:
    server.faults.sequence([451, 250], stage="rcpt")

    async def attempt() -> int:
        try:
            await aiosmtplib.send(build_message(), hostname=server.smtp_host, port=server.smtp_port, timeout=10)
        except aiosmtplib.SMTPRecipientsRefused as error:
            return error.recipients[0].code
        return 250

    assert [asyncio.run(attempt()) for _ in range(3)] == [451, 250, 250]


def test_reject_refuses_one_recipient_every_time_and_keeps_the_others(server: MailServer) -> None:
    rule = server.faults.reject("*@bounce.test")
    for _ in range(2):
        with smtplib.SMTP(server.smtp_host, server.smtp_port, timeout=10) as client:
            refused = client.sendmail("a@example.com", ["gone@bounce.test", "bob@example.com"], b"Subject: x\r\n\r\n")
        assert refused == {"gone@bounce.test": (550, b"5.1.1 Mailbox unavailable")}
    assert [m.envelope.recipients for m in server.store.snapshot()] == [("bob@example.com",)] * 2
    assert rule.fired == 2
    assert server.sessions.attempts()[0].rejected_recipients == (("gone@bounce.test", 550),)


def test_rate_limit_refuses_above_the_rate_with_421_and_recovers_after_a_second(server: MailServer) -> None:
    clock = FakeClock()
    server.fault_engine.clock = clock
    rule = server.faults.rate_limit(2)
    assert outcomes(server, 3) == [250, 250, 421]
    clock.advance(1.0)
    assert outcomes(server, 3) == [250, 250, 421]
    assert server.sessions.attempts()[2].reply_text.startswith("4.7.0 Rate limit exceeded")
    assert rule.fired == 2


def test_rate_limit_421_closes_the_connection(server: MailServer) -> None:
    server.faults.rate_limit(1)
    with smtplib.SMTP(server.smtp_host, server.smtp_port, timeout=10) as client:
        client.sendmail("a@example.com", ["b@example.com"], b"Subject: 1\r\n\r\n1")
        assert client.mail("a@example.com")[0] == 421
        with pytest.raises(smtplib.SMTPServerDisconnected):
            client.noop()


def test_refuse_connections_greets_with_421_and_closes(server: MailServer) -> None:
    rule = server.faults.refuse_connections(times=2)
    for _ in range(2):
        with pytest.raises(smtplib.SMTPConnectError) as refused:
            smtplib.SMTP(server.smtp_host, server.smtp_port, timeout=10)
        assert refused.value.smtp_code == 421
        assert refused.value.smtp_error == b"4.3.2 System not accepting network messages"
    assert try_send(server.smtp_host, server.smtp_port) == 250
    assert [(a.reply_code, a.fault) for a in server.sessions.attempts()][:2] == [(421, rule.id)] * 2


def test_auth_fail_refuses_logins_with_535_until_removed() -> None:
    with MailServer(smtp_auth="accept-any") as server:
        rule = server.faults.auth_fail()
        with smtplib.SMTP(server.smtp_host, server.smtp_port, timeout=10) as client:
            with pytest.raises(smtplib.SMTPAuthenticationError) as refused:
                client.login("user", "secret")  # tries PLAIN, then LOGIN: both refused
            assert refused.value.smtp_code == 535
            assert refused.value.smtp_error == b"5.7.8 Authentication credentials invalid"
            assert rule.fired == 2
            server.faults.remove(rule)
            assert client.login("user", "secret")[0] == 235


def test_auth_fail_times_counts_auth_commands() -> None:
    with MailServer(smtp_auth="accept-any") as server:
        server.faults.auth_fail(times=1)
        with smtplib.SMTP(server.smtp_host, server.smtp_port, timeout=10) as client:
            client.ehlo()
            assert client.docmd("AUTH", "PLAIN AHVzZXIAc2VjcmV0")[0] == 535
            assert client.docmd("AUTH", "PLAIN AHVzZXIAc2VjcmV0")[0] == 235


def test_too_large_answers_552_at_the_end_of_data_and_stores_nothing(server: MailServer) -> None:
    server.faults.too_large()
    assert outcomes(server, 2) == [552, 250]
    assert server.sessions.attempts()[0].reply_text == "5.3.4 Message size exceeds fixed maximum message size"
    assert len(server.store.snapshot()) == 1


def test_delay_slows_the_stage_then_carries_on(server: MailServer) -> None:
    server.faults.delay(1.0, stage="mail")  # long enough that a busy machine cannot blur the two answers
    with smtplib.SMTP(server.smtp_host, server.smtp_port, timeout=10) as client:
        client.ehlo()
        started = time.monotonic()
        assert client.mail("alice@example.com")[0] == 250
        assert time.monotonic() - started >= 1.0
        started = time.monotonic()
        client.rset()
        assert client.mail("alice@example.com")[0] == 250
        assert time.monotonic() - started < 1.0


def test_rules_are_checked_in_order_and_the_first_that_fires_wins(server: MailServer) -> None:
    vip = server.faults.fail_next(1, code=421, stage="rcpt", recipient="vip@example.com")
    everyone = server.faults.fail_next(1, code=452, stage="rcpt")
    assert try_send(server.smtp_host, server.smtp_port, to="vip@example.com") == 421
    assert (vip.fired, everyone.matched) == (1, 0)
    assert try_send(server.smtp_host, server.smtp_port, to="vip@example.com") == 452
    assert try_send(server.smtp_host, server.smtp_port, to="vip@example.com") == 250


def test_sender_patterns_glob_and_regex(server: MailServer) -> None:
    server.faults.fail_next(0, code=451, stage="mail", sender="*@noisy.test")
    server.faults.add("mail:from=/^bot[0-9]+@/:550:times=0")
    assert try_send(server.smtp_host, server.smtp_port, sender="x@NOISY.test") == 451
    assert try_send(server.smtp_host, server.smtp_port, sender="bot7@example.com") == 550
    assert try_send(server.smtp_host, server.smtp_port, sender="robot@example.com") == 250


def test_remove_and_clear(server: MailServer) -> None:
    rule = server.faults.fail_next(5)
    assert server.faults.remove(rule) is True
    assert server.faults.remove(rule.id) is False
    server.faults.fail_next(5)
    server.faults.clear()
    assert server.faults.rules() == []
    assert try_send(server.smtp_host, server.smtp_port) == 250


def test_unfired_lists_one_shot_rules_that_never_fired(server: MailServer) -> None:
    fired = server.faults.fail_next(1)
    never = server.faults.fail_next(1, stage="rcpt", recipient="nobody@example.com")
    server.faults.reject("*@bounce.test")  # times=0: a standing rule, not one-shot
    server.faults.add("mail:451:probability=0")  # probabilistic: may rightly never fire
    assert try_send(server.smtp_host, server.smtp_port) == 451
    assert server.faults.unfired() == [never]
    assert server.faults.unfired([fired]) == []
