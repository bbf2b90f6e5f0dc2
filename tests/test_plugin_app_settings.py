"""Ready settings point real frameworks at the capture server: Django, Flask-Mail, and apps that read the env."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from flask import Flask
from flask_mail import Mail
from flask_mail import Message as FlaskMessage

from mailtrap_lite.mailbox import Mailbox

DJANGO_SENDER = """
import json, os
import django
from django.conf import settings
settings.configure(**json.loads(os.environ["DJANGO_MAIL_SETTINGS"]))
django.setup()
from django.core.mail import send_mail
send_mail("Reset your password", "Use code 771204", "noreply@example.com", ["bob@example.com"])
"""


def test_django_settings_send_real_smtp(mailtrap: Mailbox) -> None:
    settings = json.dumps(mailtrap.django_settings())
    subprocess.run(
        [sys.executable, "-c", DJANGO_SENDER], env={**os.environ, "DJANGO_MAIL_SETTINGS": settings}, check=True
    )
    message = mailtrap.wait_for(to="bob@example.com", subject="Reset your password")
    assert message.find(r"code (\d+)") == "771204"


def test_flask_mail_config_sends_even_under_testing(mailtrap: Mailbox) -> None:
    app = Flask("shop")
    app.config.update(TESTING=True, **mailtrap.flask_mail_config())
    mail = Mail(app)
    with app.app_context():
        mail.send(FlaskMessage("Your order", sender="shop@example.com", recipients=["ann@example.com"], body="Thanks"))
    mailtrap.assert_sent(count=1, to="ann@example.com", subject="Your order", from_="shop@example.com")


def test_env_names_the_server_under_every_common_variable(mailtrap: Mailbox) -> None:
    env = mailtrap.env()
    host, port = mailtrap.host, str(mailtrap.port)
    assert env == {
        "SMTP_HOST": host,
        "SMTP_PORT": port,
        "EMAIL_HOST": host,
        "EMAIL_PORT": port,
        "MAIL_SERVER": host,
        "MAIL_PORT": port,
    }
    assert mailtrap.smtp_url == f"smtp://{host}:{port}"
