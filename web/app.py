"""The Flask application factory; the server (composition root) calls :func:`create_app` with itself."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from flask import Flask, Response

from mailtrap_lite.web.api_extensions import api_extensions
from mailtrap_lite.web.api_faults import api_faults
from mailtrap_lite.web.api_message import api_message
from mailtrap_lite.web.api_messages import api_messages
from mailtrap_lite.web.api_send import api_send
from mailtrap_lite.web.api_server import RuntimeStats, api_server
from mailtrap_lite.web.api_tags import api_tags
from mailtrap_lite.web.errors import register_error_handlers, text_response
from mailtrap_lite.web.events import EventHub, events
from mailtrap_lite.web.large_responses import IN_FLIGHT_BYTES, WAIT_SECONDS, InFlightBytes
from mailtrap_lite.web.openapi import api_docs
from mailtrap_lite.web.security import install_security
from mailtrap_lite.web.ui import ui
from mailtrap_lite.web.wait_slots import WaitSlots

if TYPE_CHECKING:
    from mailtrap_lite.server import MailServer

WEBSOCKET_PING_SECONDS = 25
READY_TIMEOUT = 1.0  # how long /readyz waits for the SMTP event loop to answer


def create_app(server: MailServer) -> Flask:
    """Build the web app around a running :class:`~mailtrap_lite.server.MailServer`."""
    app = Flask(__name__)
    app.json.sort_keys = False  # type: ignore[attr-defined]  # keep Mailpit's (Go's) key order
    app.config["SOCK_SERVER_OPTIONS"] = {"ping_interval": WEBSOCKET_PING_SECONDS}
    app.extensions["mailtrap"] = server
    events_hub = app.extensions["mailtrap_events"] = EventHub(server)
    stats = app.extensions["mailtrap_stats"] = RuntimeStats()
    app.extensions["mailtrap_wait_slots"] = WaitSlots(server.config.http_workers // 2)
    app.extensions["mailtrap_large_responses"] = InFlightBytes(IN_FLIGHT_BYTES, WAIT_SECONDS)
    server.bus.subscribe(stats.on_event)
    if server.config.verbosity <= 0:
        logging.getLogger("werkzeug").setLevel(logging.WARNING)  # no access-log line per request

    @app.get("/livez")
    def livez() -> Response:
        return text_response("ok")

    @app.get("/readyz")
    def readyz() -> Response:
        """200 ``ok`` when every part works, else 503 naming each part that does not (as Mailpit: 200 or 503)."""
        problems = server.problems(READY_TIMEOUT)
        if not events_hub.dispatcher_alive:
            problems.append("events: the websocket event dispatcher is not running")
        if problems:
            return text_response("".join(f"{problem}\n" for problem in problems), 503)
        return text_response("ok")

    install_security(app, server.config)
    register_error_handlers(app)
    for blueprint in (
        api_messages, api_message, api_tags, api_send, api_extensions, api_faults, api_server, api_docs, events, ui
    ):
        app.register_blueprint(blueprint)
    return app
