"""What guards every request: HTTP Basic auth (``--ui-auth``), Mailpit's Origin check, body size caps and the
security headers (a Content-Security-Policy on every response)."""

from __future__ import annotations

import base64
import binascii
import hmac
from urllib.parse import urlsplit

from flask import Flask, Response, g, request

from mailtrap_lite.config import ServerConfig
from mailtrap_lite.web.errors import text_response

CONTENT_SECURITY_POLICY = "default-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
OPEN_PATHS = ("/livez", "/readyz")
JSON_BODY_LIMIT = 5 * 1024 * 1024
_SAFE_METHODS = ("GET", "HEAD", "OPTIONS")
_CORS_CHECKED_PREFIXES = ("/api/", "/view/")


def basic_auth_user(users: dict[str, str]) -> str | None:
    """The user named by a valid ``Authorization: Basic`` header, or None (passwords compared in constant time)."""
    header = request.headers.get("Authorization", "")
    scheme, _, encoded = header.partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None
    user, sep, password = decoded.partition(":")
    expected = users.get(user)
    # compare against something even for unknown users, so timing does not reveal which users exist
    ok = hmac.compare_digest((expected or "\0").encode(), password.encode()) and expected is not None and bool(sep)
    return user if ok else None


def current_user() -> str:
    """The Basic-auth user of this request ("" when ``--ui-auth`` is off)."""
    return str(g.get("user") or "")


def _origin_allowed(origin: str, config: ServerConfig) -> bool:
    """Mailpit's rule: the Origin's host equals Host, or the origin is listed in ``--api-cors`` (``*`` = any)."""
    origin_host = urlsplit(origin).netloc.lower()
    if origin_host and origin_host == request.host.lower():
        return True
    allowed = [entry.strip().rstrip("/").lower() for entry in config.api_cors]
    return "*" in allowed or origin.rstrip("/").lower() in allowed or origin_host in allowed


def install_security(app: Flask, config: ServerConfig) -> None:
    """Register the checks that run before every request and the headers added to every response."""

    @app.before_request
    def guard() -> Response | None:
        if request.path in OPEN_PATHS:
            return None
        if request.method == "OPTIONS" and request.path.startswith("/api/v1/"):
            return Response("", 200)  # a CORS preflight: browsers send it without credentials
        g.user = basic_auth_user(config.ui_auth) if config.ui_auth else ""
        if g.user is None:
            response = text_response("Unauthorized.\n", 401)
            response.headers["WWW-Authenticate"] = 'Basic realm="Login"'
            return response
        origin = request.headers.get("Origin")
        checked = request.method not in _SAFE_METHODS or request.path == "/api/events"
        if origin and checked and request.path.startswith(_CORS_CHECKED_PREFIXES) and not _origin_allowed(
            origin, config
        ):
            return text_response("Blocked due to CORS violation", 403)
        # base64 in JSON makes a message about a third larger than the mail it builds
        send_limit = config.max_message_size * 2 or None
        request.max_content_length = send_limit if request.path == "/api/v1/send" else JSON_BODY_LIMIT
        return None

    @app.after_request
    def security_headers(response: Response) -> Response:
        response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "no-referrer")
        origin = request.headers.get("Origin")
        cross_site = origin and config.api_cors and request.path.startswith(_CORS_CHECKED_PREFIXES)
        if cross_site and _origin_allowed(origin or "", config):
            response.headers["Access-Control-Allow-Origin"] = origin or ""
            response.headers["Access-Control-Allow-Methods"] = "GET, POST, PUT, DELETE, OPTIONS"
            response.headers["Access-Control-Allow-Headers"] = "Content-Type, Authorization"
            response.headers["Vary"] = "Origin"
        return response
