"""The HTTP side of mailtrap-lite: the Flask app (REST API, websocket events, inspection UI)."""

from __future__ import annotations

from mailtrap_lite.web.app import create_app

__all__ = ["create_app"]
