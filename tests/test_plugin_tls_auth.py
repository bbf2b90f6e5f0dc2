"""TLS and AUTH on the shared server through the configuration fixtures; clients verify the per-session CA."""

from __future__ import annotations

import pytest

pytest_plugins = ["pytester"]

TLS_AND_AUTH_CONFTEST = '''
import pytest


@pytest.fixture(scope="session")
def mailtrap_tls():
    return True


@pytest.fixture(scope="session")
def mailtrap_auth():
    return {"bot": "s3cret"}
'''

TLS_AND_AUTH_TESTS = '''
import smtplib
from email.message import EmailMessage

import pytest


def message(subject):
    mail = EmailMessage()
    mail["From"] = "bot@example.com"
    mail["To"] = "bob@example.com"
    mail["Subject"] = subject
    mail.set_content("secret")
    return mail


def test_auth_over_starttls(mailtrap):
    with smtplib.SMTP(mailtrap.host, mailtrap.port, timeout=10) as smtp:
        smtp.starttls(context=mailtrap.tls.client_context())
        smtp.login("bot", "s3cret")
        smtp.send_message(message("over STARTTLS"))
    received = mailtrap.wait_for(subject="over STARTTLS")
    assert (received.smtp.tls, received.smtp.auth_user) == (True, "bot")


def test_auth_over_implicit_tls(mailtrap):
    context = mailtrap.tls.client_context()
    with smtplib.SMTP_SSL(mailtrap.host, mailtrap.smtps_port, context=context, timeout=10) as smtp:
        smtp.login("bot", "s3cret")
        smtp.send_message(message("over SMTPS"))
    received = mailtrap.wait_for(subject="over SMTPS")
    assert (received.smtp.tls, received.smtp.auth_user) == (True, "bot")


def test_the_ca_file_is_there_for_other_clients(mailtrap):
    assert mailtrap.tls.ca_path.read_text().startswith("-----BEGIN CERTIFICATE-----")


def test_wrong_credentials_are_refused(mailtrap):
    with smtplib.SMTP(mailtrap.host, mailtrap.port, timeout=10) as smtp:
        smtp.starttls(context=mailtrap.tls.client_context())
        with pytest.raises(smtplib.SMTPAuthenticationError):
            smtp.login("bot", "wrong")


def test_ready_settings_carry_the_credentials(mailtrap):
    assert mailtrap.django_settings()["EMAIL_HOST_USER"] == "bot"
    assert mailtrap.flask_mail_config()["MAIL_PASSWORD"] == "s3cret"
'''


def test_tls_and_auth_through_the_configuration_fixtures(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(TLS_AND_AUTH_CONFTEST)
    pytester.makepyfile(test_secure=TLS_AND_AUTH_TESTS)
    result = pytester.runpytest_inprocess("-p", "no:randomly")
    result.assert_outcomes(passed=5)
