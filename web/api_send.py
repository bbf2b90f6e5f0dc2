"""Putting mail in and getting it out: ``POST /api/v1/send`` stores a composed message through the same path as
SMTP; ``POST /api/v1/message/{ID}/release`` delivers a captured one to the ``--relay`` server."""

from __future__ import annotations

from email.utils import getaddresses

from flask import Blueprint, Response, jsonify
from werkzeug.exceptions import RequestEntityTooLarge

from mailtrap_lite.errors import OverBudgetError
from mailtrap_lite.message import Envelope, SmtpFacts
from mailtrap_lite.relay import RelayError, parse_relay_url, release
from mailtrap_lite.web.compose import compose
from mailtrap_lite.web.errors import ApiError, text_response
from mailtrap_lite.web.inputs import json_body
from mailtrap_lite.web.lookup import find_message, mail_server
from mailtrap_lite.web.security import current_user

api_send = Blueprint("api_send", __name__)


def _json_error(reason: str, status: int = 400) -> Response:
    response = jsonify({"Error": reason})
    response.status_code = status
    return response


@api_send.post("/api/v1/send")
def send() -> Response:
    """Compose a message from JSON and store it; answers ``{"ID": ...}`` (errors are JSON ``{"Error": ...}``)."""
    try:
        composed = compose(json_body())
    except ApiError as error:
        return _json_error(error.reason, error.status)
    except RequestEntityTooLarge:
        return _json_error("http: request body too large", 413)
    server = mail_server()
    if server.config.max_message_size and len(composed.raw) > server.config.max_message_size:
        return _json_error("http: request body too large", 413)
    envelope = Envelope(composed.sender, composed.recipients)
    try:
        stored = server.store.add(composed.raw, envelope, SmtpFacts(peer="api", auth_user=current_user()))
    except OverBudgetError as error:
        return _json_error(str(error), 413)
    return jsonify({"ID": stored.id})


@api_send.post("/api/v1/message/<message_id>/release")
def release_message(message_id: str) -> Response:
    """Deliver a captured message, unchanged, to ``To`` through the configured relay."""
    message = find_message(message_id, allow_latest=False)
    wanted = json_body().strings("To")
    if not wanted:
        raise ApiError("No valid addresses found")
    recipients = []
    for text in wanted:
        parsed = [address for _, address in getaddresses([text]) if address]
        if not parsed or not all("@" in address for address in parsed):
            raise ApiError(f"Invalid email address: {text}")
        recipients.extend(parsed)
    relay = mail_server().config.relay
    if not relay:
        raise ApiError("no relay configured; start the server with --relay smtp://host:port")
    try:
        release(parse_relay_url(relay), message, recipients)
    except RelayError as error:
        raise ApiError(f"SMTP error: {error}") from None
    return text_response("ok")
