"""Our additions to Mailpit's API: SMTP session transcripts, links and one-time codes, and the long-poll wait."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify, request

from mailtrap_lite.html_text import html_to_text
from mailtrap_lite.user_pattern import PatternRefused, compile_user_pattern, find_codes
from mailtrap_lite.web.errors import ApiError, not_found
from mailtrap_lite.web.inputs import float_param, int_param, query_param
from mailtrap_lite.web.lookup import find_message, mail_server
from mailtrap_lite.web.serialize import session, summary
from mailtrap_lite.web.wait_slots import wait_slot

api_extensions = Blueprint("api_extensions", __name__)

DEFAULT_CODE_PATTERN = r"\b\d{4,8}\b"
MAX_WAIT_SECONDS = 300.0
MAX_WAIT_COUNT = 10_000


@api_extensions.get("/api/v1/sessions")
def list_sessions() -> Response:
    """SMTP sessions newest first (finished ones, then those still open), without their transcripts."""
    start, limit = int_param("start", 0), int_param("limit", 50)
    records = list(reversed(mail_server().sessions.sessions()))
    page = records[start:] if limit == 0 else records[start:start + limit]
    return jsonify({"total": len(records), "start": start, "count": len(page),
                    "sessions": [session(r) for r in page]})


@api_extensions.get("/api/v1/session/<session_id>")
def one_session(session_id: str) -> Response:
    """One SMTP session with its full transcript (commands, replies, faults that fired)."""
    record = mail_server().sessions.get(session_id)
    if record is None:
        raise not_found()
    return jsonify(session(record, transcript=True))


@api_extensions.get("/api/v1/message/<message_id>/smtp")
def message_smtp(message_id: str) -> Response:
    """How a message arrived: the envelope, the SMTP facts and, while it is kept, the session transcript."""
    message = find_message(message_id)
    record = mail_server().sessions.get(message.smtp.session_id) if message.smtp.session_id else None
    return jsonify({
        "ID": message.id,
        "Envelope": {"From": message.envelope.sender, "To": list(message.envelope.recipients)},
        "Peer": message.smtp.peer,
        "Helo": message.smtp.helo,
        "TLS": message.smtp.tls,
        "Username": message.smtp.auth_user,
        "SessionID": message.smtp.session_id,
        "Session": session(record, transcript=True) if record else None,
    })


@api_extensions.get("/api/v1/message/<message_id>/links")
def message_links(message_id: str) -> Response:
    """Every http(s) link in the text and HTML bodies, in order, without duplicates."""
    message = find_message(message_id)
    return jsonify({"ID": message.id, "Links": list(message.links)})


@api_extensions.get("/api/v1/message/<message_id>/codes")
def message_codes(message_id: str) -> Response:
    """One-time codes found in the subject and text (``pattern``: an RE2 regex; its first group is the code if any).

    Refused patterns (too long, not RE2, too costly for this message) answer 400 with the reason."""
    message = find_message(message_id)
    pattern_text = request.args.get("pattern") or DEFAULT_CODE_PATTERN
    try:
        pattern = compile_user_pattern(pattern_text)
        codes = find_codes(pattern, "\n".join((message.subject, message.text or html_to_text(message.html))))
    except PatternRefused as refused:
        raise ApiError(str(refused)) from None
    return jsonify({"ID": message.id, "Pattern": pattern_text, "Codes": codes})


@api_extensions.get("/api/v1/wait")
def wait() -> Response:
    """Answer as soon as ``count`` messages match ``query`` (200), or with what matched so far after ``timeout``
    seconds (408). Messages already stored count too."""
    server = mail_server()
    query = query_param()
    count = int_param("count", 1, maximum=MAX_WAIT_COUNT) or 1
    timeout = float_param("timeout", 10.0, MAX_WAIT_SECONDS)
    store = server.store
    with wait_slot().hold():
        matches, reached = store.wait_for(query.predicate(store), count=count, timeout=timeout)
    newest = sorted(matches, key=lambda m: m.seq, reverse=True)
    response = jsonify({"messages_count": len(newest), "count": count, "timed_out": not reached,
                        "messages": [summary(m, store) for m in newest]})
    response.status_code = 200 if reached else 408
    return response
