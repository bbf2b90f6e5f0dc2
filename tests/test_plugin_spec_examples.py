"""A new project that only installed mailtrap-lite writes the two example tests of the SPEC, and they pass;
a wrong expectation fails with the report. Run with pytest's own ``pytester``, as plugin authors do."""

from __future__ import annotations

import pytest

pytest_plugins = ["pytester"]

SHOP_APP = '''
import smtplib
from email.message import EmailMessage

import pytest
from flask import Flask, request


def create_app():
    app = Flask("shop")

    @app.post("/signup")
    def signup():
        address = request.form["email"]
        message = EmailMessage()
        message["From"] = "shop@example.com"
        message["To"] = address
        message["Subject"] = "Welcome to the shop"
        message.set_content(f"Confirm your address: http://shop.example/confirm?email={address}")
        with smtplib.SMTP(app.config["SMTP_HOST"], app.config["SMTP_PORT"], timeout=10) as smtp:
            smtp.send_message(message)
        return "ok"

    @app.get("/confirm")
    def confirm():
        return "confirmed " + request.args["email"]

    return app


@pytest.fixture
def app():
    return create_app()


@pytest.fixture
def client(app):
    return app.test_client()


def send_with_retries(host, port, to, attempts=5):
    message = EmailMessage()
    message["From"] = "alerts@example.com"
    message["To"] = to
    message["Subject"] = "Disk almost full"
    message.set_content("95% used")
    for attempt in range(attempts):
        try:
            with smtplib.SMTP(host, port, timeout=10) as smtp:
                smtp.send_message(message)
            return
        except smtplib.SMTPResponseException as error:
            if error.smtp_code >= 500 or attempt == attempts - 1:
                raise
'''

SPEC_EXAMPLES = '''
import re

from conftest import send_with_retries


def test_welcome_mail(mailtrap, app, client):
    app.config.update(SMTP_HOST=mailtrap.host, SMTP_PORT=mailtrap.port)
    client.post("/signup", data={"email": "bob@example.com"})
    msg = mailtrap.wait_for(to="bob@example.com", subject=re.compile("Welcome"), timeout=5)
    assert "Confirm your address" in msg.text
    assert client.get(msg.links[0]).text == "confirmed bob@example.com"


def test_retries_after_temporary_failure(mailtrap):
    mailtrap.faults.fail_next(2, code=451)
    send_with_retries(host=mailtrap.host, port=mailtrap.port, to="ops@example.com")
    mailtrap.assert_sent(count=1, to="ops@example.com")
    assert [a.reply_code for a in mailtrap.attempts] == [451, 451, 250]
'''

WRONG_EXPECTATION = '''
import re


def test_welcome_mail_with_a_wrong_expectation(mailtrap, app, client):
    app.config.update(SMTP_HOST=mailtrap.host, SMTP_PORT=mailtrap.port)
    client.post("/signup", data={"email": "bob@example.com"})
    mailtrap.wait_for(to="bob@example.org", subject=re.compile("Goodbye"), timeout=0.5)
'''


@pytest.fixture
def shop(pytester: pytest.Pytester) -> pytest.Pytester:
    """A fresh project with a small Flask shop that sends mail over SMTP."""
    pytester.makeconftest(SHOP_APP)
    return pytester


def test_the_spec_examples_pass(shop: pytest.Pytester) -> None:
    shop.makepyfile(test_examples=SPEC_EXAMPLES)
    result = shop.runpytest_inprocess("-p", "no:randomly")
    result.assert_outcomes(passed=2)


def test_a_wrong_expectation_fails_with_the_report(shop: pytest.Pytester) -> None:
    shop.makepyfile(test_wrong=WRONG_EXPECTATION)
    result = shop.runpytest_inprocess("-p", "no:randomly")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "E * mailtrap: waited 0.5s for 1 message matching to='bob@example.org', subject=/Goodbye/; 0 arrived.",
            "E * This test captured 1 message:",
            "E * 1. *  shop@example.com -> bob@example.com  subject 'Welcome to the shop'  (id *)",
            "E * to       expected 'bob@example.org', got [[]'bob@example.com']",  # [[] is a literal [ in fnmatch
            "E * subject  expected /Goodbye/, got 'Welcome to the shop'",
            "E * No SMTP attempt was rejected.",
        ]
    )
    # The traceback points at the test's own line, not at the plugin's internals.
    result.stdout.fnmatch_lines(["test_wrong.py:7: MailAssertionError"])
    result.stdout.no_fnmatch_line("*mailbox.py*")
