"""Under pytest-xdist every worker gets its own server on a free port: 40 mail tests on 4 workers, no cross-talk."""

from __future__ import annotations

import pytest

pytest_plugins = ["pytester"]

FORTY_MAIL_TESTS = '''
import smtplib
from email.message import EmailMessage

import pytest


@pytest.mark.parametrize("number", range(40))
def test_sends_and_sees_only_its_own_mail(mailtrap, number):
    if number % 4 == 0:
        mailtrap.faults.fail_next(1, code=451)
    message = EmailMessage()
    message["From"] = "app@example.com"
    message["To"] = f"user{number}@example.com"
    message["Subject"] = f"Message {number}"
    message.set_content(f"Body {number}")
    for attempt in range(2):
        try:
            with smtplib.SMTP(mailtrap.host, mailtrap.port, timeout=10) as smtp:
                smtp.send_message(message)
            break
        except smtplib.SMTPDataError:
            assert attempt == 0
    received = mailtrap.wait_for(to=f"user{number}@example.com", timeout=10)
    assert received.subject == f"Message {number}"
    assert [m.subject for m in mailtrap] == [f"Message {number}"]
    expected_codes = [451, 250] if number % 4 == 0 else [250]
    assert [a.reply_code for a in mailtrap.attempts] == expected_codes
'''


def test_forty_mail_tests_on_four_workers(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_forty=FORTY_MAIL_TESTS)
    result = pytester.runpytest_subprocess("-n", "4", "-p", "no:randomly")
    result.assert_outcomes(passed=40)
