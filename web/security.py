"""What guards every request: the Host check (``--allowed-hosts``, against DNS rebinding), HTTP Basic auth
(``--ui-auth``, with failed logins throttled per client address), Mailpit's Origin check, body size caps and the
security headers (a Content-Security-Policy on every response)."""

from __future__ import annotations

import base64
import binascii
import hmac
import logging
from urllib.parse import urlsplit

from flask import Flask, Response, g, request

from mailtrap_lite.allowed_hosts import HostPolicy, parse_host
from mailtrap_lite.config import ServerConfig
from mailtrap_lite.web.errors import text_response
from mailtrap_lite.web.login_throttle import LoginThrottle

log = logging.getLogger("mailtrap_lite")

CONTENT_SECURITY_POLICY = "default-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
OPEN_PATHS = ("/livez", "/readyz")
JSON_BODY_LIMIT = 5 * 1024 * 1024
_SAFE_METHODS = ("GET", "HEAD", "OPTIONS")
_CORS_CHECKED_PREFIXES = ("/api/", "/view/")
_MAX_LOGGED_HOSTS = 100


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


def _host_refused(header: str, logged: set[str]) -> Response:
    """403 for a ``Host`` this server does not answer, saying how to allow it (logged once per name)."""
    host = parse_host(header)
    reason = f"Host {header[:100]!r} is not a valid host name" if host is None else (
        f"Host {host.name!r} is not allowed; start with --allowed-hosts {host.name} to allow it")
    if header not in logged and len(logged) < _MAX_LOGGED_HOSTS:
        logged.add(header)
        log.warning("refused an HTTP request from %s: %s", request.remote_addr, reason)
    return text_response(reason + "\n", 403)


def _authenticate(config: ServerConfig, throttle: LoginThrottle | None) -> Response | None:
    """Set ``g.user`` from Basic auth, or answer 401 (wrong or no credentials) or 429 (too many failures)."""
    if not config.ui_auth:
        g.user = ""
        return None
    client = request.remote_addr or ""
    wait = throttle.retry_after(client) if throttle else 0
    if wait:
        response = text_response(f"Too many failed logins from {client}; try again in {wait} s.\n", 429)
        response.headers["Retry-After"] = str(wait)
        return response
    g.user = basic_auth_user(config.ui_auth)
    if throttle is not None and "Authorization" in request.headers:
        if g.user is not None:
            throttle.succeeded(client)
        elif throttle.failed(client):
            log.warning("%d failed --ui-auth logins from %s within %g s: it gets 429 for the next %d s",
                        throttle.limit, client, throttle.window, throttle.retry_after(client))
    if g.user is None:
        response = text_response("Unauthorized.\n", 401)
        response.headers["WWW-Authenticate"] = 'Basic realm="Login"'
        return response
    return None


def install_security(app: Flask, config: ServerConfig) -> None:
    """Register the checks that run before every request and the headers added to every response."""
    hosts = HostPolicy(config.http_host, config.allowed_hosts)
    refused_hosts: set[str] = set()
    if hosts.any_host and not config.allowed_hosts and config.ui_auth is None:
        log.warning("the web UI and API listen on %s and answer any Host name, so a web page could reach them "
                    "through DNS rebinding; name the hosts you use with --allowed-hosts", config.http_host)
    throttle = LoginThrottle(config.login_failure_limit, config.login_failure_window) if (
        config.login_failure_limit > 0) else None

    @app.before_request
    def guard() -> Response | None:
        if request.path in OPEN_PATHS:
            return None
        host = request.environ.get("HTTP_HOST")
        if not hosts.allows(host):
            return _host_refused(host or "", refused_hosts)
        if request.method == "OPTIONS" and request.path.startswith("/api/v1/"):
            return Response("", 200)  # a CORS preflight: browsers send it without credentials
        refused = _authenticate(config, throttle)
        if refused is not None:
            return refused
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
