"""Greylisting: the first attempt of each sender/recipient pair is deferred; a retry after the window passes."""

from __future__ import annotations

import re
import smtplib
import time

from fault_clients import FakeClock, try_send
from mail_senders import build_message

from mailtrap_lite import MailServer

_WINDOW = re.compile(rb"try again in ([\d.]+) seconds")


def send_like_a_mailer(server: MailServer, deadline: float = 10) -> int:
    """A tiny retrying sender: on a 4xx it waits as long as the server says, then tries again. Returns tries."""
    give_up = time.monotonic() + deadline
    tries = 0
    while True:
        tries += 1
        try:
            with smtplib.SMTP(server.smtp_host, server.smtp_port, timeout=10) as client:
                client.send_message(build_message(to="bob@example.com"))
            return tries
        except smtplib.SMTPRecipientsRefused as error:
            code, text = error.recipients["bob@example.com"]
            window = _WINDOW.search(text)
            assert code == 451 and window, text
            wait = float(window.group(1))
            assert time.monotonic() + wait < give_up, f"still greylisted after {tries} tries"
            time.sleep(wait)


def test_a_retrying_sender_passes_after_the_window_and_the_message_is_stored_once(server: MailServer) -> None:
    rule = server.faults.greylist(0.5)
    assert send_like_a_mailer(server) == 2
    assert [m.envelope.recipients for m in server.store.snapshot()] == [("bob@example.com",)]
    attempts = server.sessions.attempts()
    assert [(a.reply_code, a.fault) for a in attempts] == [(451, rule.id), (250, None)]
    assert attempts[0].reply_text == "4.7.1 Greylisted, please try again in 0.5 seconds"
    assert attempts[0].rejected_recipients == (("bob@example.com", 451),)


def test_a_retry_inside_the_window_is_deferred_again_and_a_passed_pair_stays_passed(server: MailServer) -> None:
    clock = FakeClock()
    server.fault_engine.clock = clock
    server.faults.greylist(60)
    assert try_send(server.smtp_host, server.smtp_port) == 451
    clock.advance(59)
    assert try_send(server.smtp_host, server.smtp_port) == 451
    clock.advance(1)
    assert try_send(server.smtp_host, server.smtp_port) == 250
    assert try_send(server.smtp_host, server.smtp_port) == 250
    clock.advance(3600)
    assert try_send(server.smtp_host, server.smtp_port) == 250


def test_each_sender_recipient_pair_is_greylisted_on_its_own(server: MailServer) -> None:
    clock = FakeClock()
    server.fault_engine.clock = clock
    server.faults.greylist(10)
    assert try_send(server.smtp_host, server.smtp_port, to="bob@example.com") == 451
    clock.advance(10)
    assert try_send(server.smtp_host, server.smtp_port, to="bob@example.com") == 250
    assert try_send(server.smtp_host, server.smtp_port, to="carol@example.com") == 451
    assert try_send(server.smtp_host, server.smtp_port, to="bob@example.com", sender="zed@example.com") == 451
    assert try_send(server.smtp_host, server.smtp_port, to="BOB@example.com") == 250
