"""Each test sees only its own mail, attempts and fault rules, although one server serves the whole session."""

from __future__ import annotations

import pytest

pytest_plugins = ["pytester"]

TWO_TESTS = '''
import smtplib
from email.message import EmailMessage


def send(mailtrap, to):
    message = EmailMessage()
    message["From"] = "app@example.com"
    message["To"] = to
    message["Subject"] = "Hi"
    message.set_content("Hi")
    with smtplib.SMTP(mailtrap.host, mailtrap.port, timeout=10) as smtp:
        smtp.send_message(message)


def test_first_sends_mail_and_leaves_a_permanent_rule(mailtrap, mailtrap_server):
    mailtrap.faults.reject("blocked@example.com")
    send(mailtrap, "bob@example.com")
    try:
        send(mailtrap, "blocked@example.com")
    except smtplib.SMTPRecipientsRefused:
        pass
    assert len(mailtrap) == 1
    assert len(mailtrap.attempts) == 2


def test_second_starts_clean_on_the_same_server(mailtrap, mailtrap_server):
    assert mailtrap.messages == []
    assert mailtrap.attempts == []
    assert mailtrap.faults.rules() == []
    assert mailtrap_server.faults.rules() == []
    send(mailtrap, "blocked@example.com")  # the first test's rule is gone
    assert [m.envelope.recipients for m in mailtrap] == [("blocked@example.com",)]
    assert len(mailtrap_server.mailbox().messages) == 2  # the server itself still has everything
'''


def test_tests_do_not_see_each_others_mail_attempts_or_faults(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_two=TWO_TESTS)
    result = pytester.runpytest_inprocess("-p", "no:randomly")
    result.assert_outcomes(passed=2)
