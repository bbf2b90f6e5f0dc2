"""A failed expectation explains itself: what was captured, closest first, with every field that did not match."""

from __future__ import annotations

import re
import smtplib

import pytest
from mail_senders import build_message, send_mail

from mailtrap_lite.errors import MailAssertionError
from mailtrap_lite.mailbox import Mailbox
from mailtrap_lite.server import MailServer


def test_assert_sent_lists_candidates_closest_first_with_expected_and_actual(mailtrap: Mailbox) -> None:
    send_mail(mailtrap.host, mailtrap.port, build_message(to="carol@example.com", subject="Invoice"))
    send_mail(mailtrap.host, mailtrap.port, build_message(to="bob@example.com", subject="Welcome, Bob"))

    with pytest.raises(MailAssertionError) as failure:
        mailtrap.assert_sent(to="bob@example.com", subject=re.compile("Confirm"))

    report = str(failure.value)
    assert report.startswith(
        "mailtrap: expected at least 1 message matching to='bob@example.com', subject=/Confirm/, found 0."
    )
    assert "This test captured 2 messages, closest first:" in report
    closest, other = report.index("-> bob@example.com"), report.index("-> carol@example.com")
    assert closest < other
    assert "subject  expected /Confirm/, got 'Welcome, Bob'" in report
    assert "to       expected 'bob@example.com', got ['carol@example.com']" in report
    assert "No SMTP attempt was rejected." in report


def test_the_report_shows_rejected_attempts(mailtrap: Mailbox) -> None:
    mailtrap.faults.fail_next(1, code=451)
    with pytest.raises(smtplib.SMTPDataError):
        send_mail(mailtrap.host, mailtrap.port, build_message(to="ops@example.com"))

    with pytest.raises(MailAssertionError) as failure:
        mailtrap.assert_sent(count=1, to="ops@example.com")

    report = str(failure.value)
    assert "This test captured no messages." in report
    assert "Rejected SMTP attempts in this test (1):" in report
    assert re.search(r"451 .*alice@example\.com -> ops@example\.com  \[fault \w+\]", report)


def test_assert_sent_with_a_count_reports_how_many_matched(mailtrap: Mailbox) -> None:
    for _ in range(2):
        send_mail(mailtrap.host, mailtrap.port, build_message(subject="Digest"))
    assert len(mailtrap.assert_sent(count=2, subject="Digest")) == 2
    with pytest.raises(MailAssertionError, match=r"expected 1 message matching subject='Digest', found 2\."):
        mailtrap.assert_sent(count=1, subject="Digest")


def test_assert_not_sent_names_the_offending_message(mailtrap: Mailbox) -> None:
    send_mail(mailtrap.host, mailtrap.port, build_message(to="admin@example.com", subject="Alert"))
    mailtrap.assert_not_sent(to="bob@example.com")
    with pytest.raises(MailAssertionError) as failure:
        mailtrap.assert_not_sent(to="admin@example.com")
    report = str(failure.value)
    assert report.startswith("mailtrap: expected no message matching to='admin@example.com', found 1.")
    assert "matches every criterion" in report


def test_latest_without_mail_fails_with_the_report(mailtrap: Mailbox) -> None:
    with pytest.raises(MailAssertionError, match="no message was captured in this test"):
        _ = mailtrap.latest


def test_the_report_links_to_the_web_ui_when_the_server_runs_one() -> None:
    with MailServer(http_port=0) as server:
        mailbox = server.mailbox(watermark=True)
        send_mail(server.smtp_host, server.smtp_port, build_message(subject="Hello"))
        with pytest.raises(MailAssertionError) as failure:
            mailbox.assert_sent(subject="Goodbye")
    assert str(failure.value).endswith(f"Inspect them in full at {server.http_url}")


def test_header_and_attachment_mismatches_read_naturally(mailtrap: Mailbox) -> None:
    send_mail(mailtrap.host, mailtrap.port, build_message(headers={"X-Priority": "3"}))
    with pytest.raises(MailAssertionError) as failure:
        mailtrap.assert_sent(header=("X-Priority", "1"), has_attachment=True)
    report = str(failure.value)
    assert "matching header X-Priority='1', has_attachment=True, found 0." in report
    assert "header X-Priority  expected '1', got ['3']" in report
    assert "has_attachment     expected True, got 0 attachment(s)" in report
