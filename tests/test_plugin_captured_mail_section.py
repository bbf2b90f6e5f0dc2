"""A test that fails on a plain assert still shows what it captured, in a "Captured mail" section."""

from __future__ import annotations

import pytest

pytest_plugins = ["pytester"]

PLAIN_ASSERT_FAILS = '''
import smtplib
from email.message import EmailMessage


def test_body_check(mailtrap):
    message = EmailMessage()
    message["From"] = "shop@example.com"
    message["To"] = "bob@example.com"
    message["Subject"] = "Your receipt"
    message.set_content("Total: 12.00 EUR")
    with smtplib.SMTP(mailtrap.host, mailtrap.port, timeout=10) as smtp:
        smtp.send_message(message)
    assert "USD" in mailtrap.wait_for().text
'''

MAIL_ASSERTION_FAILS = '''
def test_nothing_arrives(mailtrap):
    mailtrap.assert_sent(subject="Receipt")
'''


def test_a_failing_test_shows_its_captured_mail(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_plain=PLAIN_ASSERT_FAILS)
    result = pytester.runpytest_inprocess("-p", "no:randomly")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "*- Captured mail -*",
            "mailtrap: what this test captured",
            "This test captured 1 message:",
            "  1. *  shop@example.com -> bob@example.com  subject 'Your receipt'  (id *)",
            "No SMTP attempt was rejected.",
        ]
    )


def test_a_mail_assertion_is_not_reported_twice(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_mail=MAIL_ASSERTION_FAILS)
    result = pytester.runpytest_inprocess("-p", "no:randomly")
    result.assert_outcomes(failed=1)
    result.stdout.no_fnmatch_line("*Captured mail*")
