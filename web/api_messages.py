"""The message list and the changes made to many messages at once: list, search, delete, mark read/unread."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify, request

from mailtrap_lite.message import Predicate
from mailtrap_lite.search import QueryError, parse_date
from mailtrap_lite.web.errors import ApiError, text_response
from mailtrap_lite.web.inputs import Body, int_param, json_body, query_param
from mailtrap_lite.web.lookup import mail_server
from mailtrap_lite.web.serialize import messages_page

api_messages = Blueprint("api_messages", __name__)

DEFAULT_LIMIT = 50


def _before_filter() -> Predicate | None:
    """Mailpit's undocumented ``before`` parameter: only messages received before that moment."""
    text = request.args.get("before", "")
    if not text:
        return None
    try:
        moment = parse_date(text, None)
    except QueryError as error:
        raise ApiError(f"before: {error}") from None
    return lambda m: m.received_at < moment


def _both(first: Predicate | None, second: Predicate | None) -> Predicate | None:
    if first is None or second is None:
        return first or second
    return lambda m: first(m) and second(m)


@api_messages.get("/api/v1/messages")
def list_messages() -> Response:
    """A newest-first page of every message (``limit`` 0 = all)."""
    store = mail_server().store
    start, limit = int_param("start", 0), int_param("limit", DEFAULT_LIMIT)
    before = _before_filter()
    page, matched, unread = store.page(start, limit, before)
    if before is None:
        return jsonify(messages_page(page, store, start))
    return jsonify(messages_page(page, store, start, matched, unread))


@api_messages.get("/api/v1/search")
def search_messages() -> Response:
    """A newest-first page of the messages matching ``query`` (the search syntax)."""
    store = mail_server().store
    query = query_param(required=True)
    start, limit = int_param("start", 0), int_param("limit", DEFAULT_LIMIT)
    predicate = _both(query.predicate(store), _before_filter())
    page, matched, unread = store.page(start, limit, predicate)
    return jsonify(messages_page(page, store, start, matched, unread))


def matching_ids(text: str) -> list[str]:
    """Ids of every message matching a search (the one path for search-delete and search-read)."""
    store = mail_server().store
    query = query_param(required=True, text=text)
    matches, _, _ = store.page(0, 0, query.predicate(store))
    return [m.id for m in matches]


@api_messages.delete("/api/v1/messages")
def delete_messages() -> Response:
    """Delete the messages in ``IDs``; a missing, empty or unreadable body deletes all (Mailpit's behaviour)."""
    store = mail_server().store
    try:
        ids = json_body(required=False).strings("IDs")
    except ApiError:
        ids = None  # Mailpit deletes everything when it cannot decode the body; clients rely on that
    if ids:
        store.delete(ids)
    else:
        store.clear()
    return text_response("ok")


@api_messages.delete("/api/v1/search")
def delete_search() -> Response:
    """Delete every message matching ``query``."""
    mail_server().store.delete(matching_ids(request.args.get("query", "")))
    return text_response("ok")


def _read_status_body() -> Body:
    """The body of ``PUT /messages``: JSON, or form fields (``ids``, ``read``) as the PyPI client sends them."""
    if request.mimetype in ("application/x-www-form-urlencoded", "multipart/form-data"):
        form = {key.lower(): request.form.getlist(key) for key in request.form}
        read = (form.get("read") or ["false"])[-1].strip().lower() in ("true", "1")
        search = form.get("search") or [""]
        return Body({"IDs": form.get("ids"), "Read": read, "Search": search[-1]})
    return json_body()


@api_messages.put("/api/v1/messages")
def set_read_status() -> Response:
    """Mark ``IDs`` (or the ``Search`` matches, or all) read or unread; ``Read`` defaults to false as in Mailpit."""
    body = _read_status_body()
    ids, search, read = body.strings("IDs"), body.string("Search"), body.boolean("Read")
    if ids and search:
        raise ApiError("send either IDs or Search, not both")
    targets = matching_ids(search) if search else ids or None  # no IDs and no Search: every message
    mail_server().store.set_read(targets, read)
    return text_response("ok")

