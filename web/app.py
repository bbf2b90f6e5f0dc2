"""The Flask application factory; the server (composition root) calls :func:`create_app` with itself."""

from __future__ import annotations

from typing import TYPE_CHECKING

from flask import Flask, Response
from mailtrap_lite.web.ui import ui

if TYPE_CHECKING:
    from mailtrap_lite.server import MailServer

CONTENT_SECURITY_POLICY = "default-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"


def create_app(server: MailServer) -> Flask:
    """Build the web app around a running :class:`~mailtrap_lite.server.MailServer`."""
    app = Flask(__name__)
    app.extensions["mailtrap"] = server

    @app.get("/livez")
    def livez() -> Response:
        return Response("ok", mimetype="text/plain")

    @app.get("/readyz")
    def readyz() -> Response:
        return Response("ok", mimetype="text/plain")

    app.register_blueprint(ui)

    @app.after_request
    def security_headers(response: Response) -> Response:
        response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        return response

    return app
