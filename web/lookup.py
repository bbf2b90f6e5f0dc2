"""Finding things a URL names: the running server behind the app, and a message by id or as ``latest``."""

from __future__ import annotations

from typing import TYPE_CHECKING

from flask import current_app, request

from mailtrap_lite.message import Message
from mailtrap_lite.web.errors import not_found
from mailtrap_lite.web.inputs import query_param

if TYPE_CHECKING:
    from mailtrap_lite.server import MailServer

LATEST = "latest"


def mail_server() -> MailServer:
    """The :class:`~mailtrap_lite.server.MailServer` this app belongs to."""
    server: MailServer = current_app.extensions["mailtrap"]
    return server


def find_message(message_id: str, allow_latest: bool = True) -> Message:
    """The message with this id, or with ``latest`` the newest one (matching ``?query=`` when given). 404 otherwise."""
    store = mail_server().store
    if allow_latest and message_id == LATEST:
        query = query_param()
        found = store.latest(query.predicate(store) if query else None)
        if found is None:
            raise not_found("Message not found")
        return found
    message = store.get(message_id)
    if message is None:
        raise not_found()
    return message


def wants_download() -> bool:
    """True when ``?dl=1`` (or ``true``) asks for a file download."""
    return request.args.get("dl", "").lower() in ("1", "true")
