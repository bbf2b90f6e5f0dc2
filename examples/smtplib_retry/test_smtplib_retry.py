"""The report script's retry policy, driven through deterministic SMTP faults and checked on ``mailtrap.attempts``."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from send_report import Backoff, DeliveryFailed, build_report, send_report

from mailtrap_lite import Mailbox

SCRIPT = Path(__file__).with_name("send_report.py")
QUICK = Backoff(attempts=4, first_delay=0.1, factor=2.0)


def send(mailtrap: Mailbox, backoff: Backoff = QUICK, timeout: float = 10.0) -> tuple[int, list[float]]:
    """Send the report to ops@example.com; returns the attempts it took and the pauses it would have made."""
    pauses: list[float] = []
    message = build_report("ops@example.com", "All systems nominal.")
    tries = send_report(message, mailtrap.host, mailtrap.port, backoff, timeout=timeout, sleep=pauses.append)
    return tries, pauses


def test_temporary_failures_are_retried_with_growing_pauses(mailtrap: Mailbox) -> None:
    rule = mailtrap.faults.fail_next(2, code=451)
    pauses: list[float] = []
    report = build_report("ops@example.com", "All systems nominal.")
    tries = send_report(report, mailtrap.host, mailtrap.port, Backoff(first_delay=0.1), sleep=pauses.append)

    assert (tries, pauses) == (3, [0.1, 0.2])
    assert [a.reply_code for a in mailtrap.attempts] == [451, 451, 250]
    assert [a.fault for a in mailtrap.attempts] == [rule.id, rule.id, None]
    delivered = mailtrap.assert_sent(count=1, to="ops@example.com", subject="Daily report")[0]
    assert "All systems nominal." in delivered.text


def test_any_4xx_reply_counts_as_temporary(mailtrap: Mailbox) -> None:
    mailtrap.faults.sequence([421, 452, 250])
    assert send(mailtrap)[0] == 3
    assert [a.reply_code for a in mailtrap.attempts] == [421, 452, 250]
    assert mailtrap.attempts[-1].message == mailtrap.latest


def test_a_permanent_refusal_is_not_retried(mailtrap: Mailbox) -> None:
    mailtrap.faults.fail_next(1, code=554)
    with pytest.raises(DeliveryFailed) as failure:
        send(mailtrap)
    assert (failure.value.code, failure.value.permanent, failure.value.tries) == (554, True, 1)
    assert [a.reply_code for a in mailtrap.attempts] == [554]
    mailtrap.assert_not_sent()


def test_it_gives_up_when_every_attempt_fails(mailtrap: Mailbox) -> None:
    mailtrap.faults.sequence([451, 451, 451, 451])
    with pytest.raises(DeliveryFailed) as failure:
        send(mailtrap)
    assert (failure.value.code, failure.value.permanent, failure.value.tries) == (451, False, 4)
    assert [a.reply_code for a in mailtrap.attempts] == [451, 451, 451, 451]
    mailtrap.assert_not_sent()


def test_greylisting_is_passed_by_waiting_out_the_window(mailtrap: Mailbox) -> None:
    mailtrap.faults.greylist(seconds=0.2)
    tries = send_report(build_report("ops@example.com", "late"), mailtrap.host, mailtrap.port,
                        Backoff(attempts=3, first_delay=0.3))
    assert tries == 2
    assert [a.reply_code for a in mailtrap.attempts] == [451, 250]
    assert mailtrap.attempts[0].rejected_recipients == (("ops@example.com", 451),)


def test_a_server_that_stops_answering_is_retried_after_the_timeout(mailtrap: Mailbox) -> None:
    rule = mailtrap.faults.hang(stage="data")
    assert send(mailtrap, timeout=0.5)[0] == 2
    first, second = mailtrap.attempts
    assert (first.reply_code, first.fault, first.message) == (None, rule.id, None)
    assert second.accepted
    mailtrap.assert_sent(count=1)


def test_a_connection_dropped_mid_data_is_retried(mailtrap: Mailbox) -> None:
    rule = mailtrap.faults.disconnect()
    assert send(mailtrap)[0] == 2
    assert [(a.reply_code, a.fault) for a in mailtrap.attempts] == [(None, rule.id), (250, None)]
    mailtrap.assert_sent(count=1)


def test_the_command_line_reports_delivery_and_refusal(mailtrap: Mailbox, tmp_path: Path) -> None:
    report = tmp_path / "report.txt"
    report.write_text("Disk usage: 41%\n")
    env = {**os.environ, **mailtrap.env()}
    delivered = subprocess.run([sys.executable, SCRIPT, "ops@example.com", report], env=env,
                               capture_output=True, text=True, timeout=60)
    assert (delivered.returncode, delivered.stdout) == (0, "send_report: delivered after 1 attempt(s)\n")
    assert "Disk usage: 41%" in mailtrap.wait_for(to="ops@example.com").text

    mailtrap.faults.fail_next(1, code=550, stage="rcpt")
    refused = subprocess.run([sys.executable, SCRIPT, "nobody@example.com", report], env=env,
                             capture_output=True, text=True, timeout=60)
    assert refused.returncode == 1
    assert "recipients refused with 550 after 1 attempt(s)" in refused.stderr
