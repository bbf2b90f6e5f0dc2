"""A Flask sign-up flow: register with an email address, get a welcome mail, click its link to confirm.

    MAIL_SERVER=127.0.0.1 MAIL_PORT=1025 flask --app signup_app run

Mail goes out through Flask-Mail over real SMTP. Accounts live in memory: this is an example, not a product.
"""

from __future__ import annotations

import os
import smtplib
from collections.abc import Mapping
from typing import Any

from flask import Flask, Response, jsonify, request, url_for
from flask_mail import Mail, Message
from itsdangerous import BadSignature, URLSafeSerializer


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """The app; ``config`` overrides the defaults (which read ``MAIL_SERVER``/``MAIL_PORT`` from the environment)."""
    app = Flask(__name__)
    app.config.update(
        SECRET_KEY=os.environ.get("SECRET_KEY", "change-me"),
        MAIL_SERVER=os.environ.get("MAIL_SERVER", "127.0.0.1"),
        MAIL_PORT=int(os.environ.get("MAIL_PORT", "1025")),
        MAIL_DEFAULT_SENDER="Example Shop <welcome@example.com>",
    )
    app.config.update(config or {})
    mail = Mail(app)
    tokens = URLSafeSerializer(app.config["SECRET_KEY"], salt="confirm-email")
    confirmed: dict[str, bool] = {}  # address -> has clicked the link
    app.extensions["accounts"] = confirmed

    @app.post("/signup")
    def signup() -> tuple[str, int]:
        """Register an address and mail it the confirmation link; 503 (nothing registered) if sending fails."""
        address = request.form.get("email", "").strip().lower()
        if "@" not in address:
            return "email: expected an address like bob@example.com\n", 400
        if address in confirmed:
            return "email: already registered\n", 409
        link = url_for("confirm", token=tokens.dumps(address), _external=True)
        welcome = Message(
            "Welcome to Example Shop",
            recipients=[address],
            body=f"Thanks for signing up.\n\nConfirm your address: {link}\n",
            html=f'<p>Thanks for signing up.</p><p><a href="{link}">Confirm your address</a></p>',
        )
        try:
            mail.send(welcome)
        except (smtplib.SMTPException, OSError):
            return "We could not send the confirmation mail. Please try again in a minute.\n", 503
        confirmed[address] = False
        return "Check your inbox for the confirmation link.\n", 201

    @app.get("/confirm/<token>")
    def confirm(token: str) -> tuple[str, int]:
        """Confirm the account the signed token names; 400 for a forged or damaged link."""
        try:
            address = tokens.loads(token)
        except BadSignature:
            return "This confirmation link is not valid.\n", 400
        if address not in confirmed:
            return "No account for this link.\n", 404
        confirmed[address] = True
        return f"{address} is confirmed.\n", 200

    @app.get("/account/<address>")
    def account(address: str) -> Response | tuple[str, int]:
        """The account's state as JSON: ``{"email": ..., "confirmed": ...}``."""
        if address not in confirmed:
            return "No such account.\n", 404
        return jsonify(email=address, confirmed=confirmed[address])

    return app
