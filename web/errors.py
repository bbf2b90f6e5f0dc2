"""How the API says no: plain-text 400/404 answers with a reason, as Mailpit does, never a 500 for bad input."""

from __future__ import annotations

from flask import Flask, Response
from werkzeug.exceptions import HTTPException

from mailtrap_lite.errors import StorageError

NOT_FOUND = "404 page not found"


class ApiError(Exception):
    """An answer other than success: ``status`` and the plain-text ``reason`` the client reads."""

    def __init__(self, reason: str, status: int = 400) -> None:
        super().__init__(reason)
        self.reason = reason
        self.status = status


def not_found(reason: str = NOT_FOUND) -> ApiError:
    """A 404 with Mailpit's wording unless told otherwise."""
    return ApiError(reason, 404)


def text_response(text: str, status: int = 200) -> Response:
    """A ``text/plain`` answer (Mailpit's ``ok`` and its error bodies)."""
    return Response(text, status=status, mimetype="text/plain")


def register_error_handlers(app: Flask) -> None:
    """Turn ApiError and werkzeug's HTTP errors into plain-text answers."""

    @app.errorhandler(ApiError)
    def api_error(error: ApiError) -> Response:
        return text_response(error.reason, error.status)

    @app.errorhandler(StorageError)
    def storage_error(error: StorageError) -> Response:
        # the --db file refused the write: nothing changed; 507 when the disk is full
        return text_response(f"not stored: {error}", 507 if error.full else 503)

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException) -> Response:
        status = error.code or 500
        if status == 404:
            return text_response(NOT_FOUND, 404)
        response = text_response(error.description or error.name, status)
        for name, value in error.get_headers():
            if name.lower() != "content-type":
                response.headers[name] = value
        return response
