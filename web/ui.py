"""The inspection UI: one HTML page plus its static CSS and ES modules, talking only to the public API.

Everything the page shows comes from ``/api/v1/...`` and the ``/api/events`` websocket, so whatever the UI can do a
script can do too. The page carries no inline script or style, which lets the app-wide Content-Security-Policy
(``default-src 'self'``) forbid both.
"""

from __future__ import annotations

from flask import Blueprint, render_template

ui = Blueprint("ui", __name__, static_folder="static", static_url_path="/ui", template_folder="templates")


@ui.get("/")
def index() -> str:
    """The single page of the UI; the message list, the message pane and the panels are built by ``main.js``."""
    return render_template("index.html")
