"""Retry logic tested deterministically: faults set up through ``mailtrap.faults``, seen in ``mailtrap.attempts``."""

from __future__ import annotations

import smtplib

import pytest
from mail_senders import build_message, send_with_retries

from mailtrap_lite.mailbox import Mailbox


def test_fail_next_then_the_retry_is_delivered(mailtrap: Mailbox) -> None:
    rule = mailtrap.faults.fail_next(2, code=451)
    tries = send_with_retries(mailtrap.host, mailtrap.port, build_message(to="ops@example.com"))
    assert tries == 3
    mailtrap.assert_sent(count=1, to="ops@example.com")
    assert [a.reply_code for a in mailtrap.attempts] == [451, 451, 250]
    assert [a.fault for a in mailtrap.attempts] == [rule.id, rule.id, None]
    assert mailtrap.attempts[-1].message == mailtrap.latest


def test_sequence_plays_its_replies_in_order(mailtrap: Mailbox) -> None:
    mailtrap.faults.sequence([451, 452, 250])
    send_with_retries(mailtrap.host, mailtrap.port)
    assert [a.reply_code for a in mailtrap.attempts] == [451, 452, 250]
    assert len(mailtrap) == 1


def test_a_permanent_failure_is_not_retried(mailtrap: Mailbox) -> None:
    mailtrap.faults.fail_next(1, code=554)
    with pytest.raises(smtplib.SMTPDataError) as refused:
        send_with_retries(mailtrap.host, mailtrap.port)
    assert refused.value.smtp_code == 554
    assert [a.reply_code for a in mailtrap.attempts] == [554]
    mailtrap.assert_not_sent()


def test_greylisting_refuses_the_first_attempt_and_a_retry_inside_the_window(mailtrap: Mailbox) -> None:
    mailtrap.faults.greylist(seconds=60)
    with pytest.raises(smtplib.SMTPRecipientsRefused):
        send_with_retries(mailtrap.host, mailtrap.port, attempts=2)
    assert [a.reply_code for a in mailtrap.attempts] == [451, 451]
    assert all(a.rejected_recipients == (("bob@example.com", 451),) for a in mailtrap.attempts)
    mailtrap.assert_not_sent()


def test_greylisting_lets_a_retry_after_the_window_through(mailtrap: Mailbox) -> None:
    mailtrap.faults.greylist(seconds=0.2)
    assert send_with_retries(mailtrap.host, mailtrap.port, backoff=0.3) == 2
    assert [a.reply_code for a in mailtrap.attempts] == [451, 250]


def test_a_hanging_server_trips_the_client_timeout_and_the_retry_succeeds(mailtrap: Mailbox) -> None:
    rule = mailtrap.faults.hang(stage="data")
    assert send_with_retries(mailtrap.host, mailtrap.port, timeout=1) >= 2
    mailtrap.assert_sent(count=1)
    hung = [a for a in mailtrap.attempts if a.fault == rule.id]
    assert [(a.reply_code, a.message) for a in hung] == [(None, None)]  # no reply ever came, nothing stored
    assert mailtrap.attempts[-1].reply_code == 250


def test_a_dropped_connection_mid_data_stores_nothing_and_the_retry_succeeds(mailtrap: Mailbox) -> None:
    rule = mailtrap.faults.disconnect()
    assert send_with_retries(mailtrap.host, mailtrap.port) == 2
    mailtrap.assert_sent(count=1)
    assert [(a.reply_code, a.fault) for a in mailtrap.attempts] == [(None, rule.id), (250, None)]
