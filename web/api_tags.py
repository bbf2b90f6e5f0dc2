"""Tags: list them, set them on messages, rename and delete them everywhere."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify

from mailtrap_lite.errors import TagLimitError
from mailtrap_lite.store import clean_tag
from mailtrap_lite.web.errors import ApiError, text_response
from mailtrap_lite.web.inputs import json_body
from mailtrap_lite.web.lookup import mail_server

api_tags = Blueprint("api_tags", __name__)


@api_tags.get("/api/v1/tags")
def list_tags() -> Response:
    """Every tag in use, sorted."""
    return jsonify(mail_server().store.all_tags())


@api_tags.put("/api/v1/tags")
def set_tags() -> Response:
    """Replace the tags of ``IDs`` with ``Tags`` (an empty list clears them)."""
    body = json_body()
    ids, tags = body.strings("IDs") or [], body.strings("Tags")
    if tags is None:
        raise ApiError("Tags must be a list of strings")
    try:
        mail_server().store.set_tags(ids, tags)
    except TagLimitError as error:
        raise ApiError(str(error)) from None
    return text_response("ok")


def _known(tag: str) -> str:
    """The stored spelling of ``tag`` (matched case-insensitively), or a 400 when no message has it."""
    for existing in mail_server().store.all_tags():
        if existing.lower() == tag.lower():
            return existing
    raise ApiError(f"tag not found: {tag}")


@api_tags.put("/api/v1/tags/<path:tag>")
def rename_tag(tag: str) -> Response:
    """Rename a tag on every message that has it (body ``{"Name": "new"}``)."""
    name = json_body().string("Name")
    old = _known(tag)
    new = clean_tag(name)
    if not new:
        raise ApiError(f"invalid tag name: {name}")
    if new.lower() != old.lower() and any(t.lower() == new.lower() for t in mail_server().store.all_tags()):
        raise ApiError(f"tag already exists: {new}")
    try:
        mail_server().store.rename_tag(old, new)
    except KeyError:  # deleted by someone else meanwhile
        raise ApiError(f"tag not found: {tag}") from None
    except TagLimitError as error:
        raise ApiError(str(error)) from None
    return text_response("ok")


@api_tags.delete("/api/v1/tags/<path:tag>")
def delete_tag(tag: str) -> Response:
    """Remove a tag from every message (the messages stay)."""
    try:
        mail_server().store.delete_tag(_known(tag))
    except KeyError:  # deleted by someone else meanwhile
        raise ApiError(f"tag not found: {tag}") from None
    return text_response("ok")
