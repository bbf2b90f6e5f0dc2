"""Mailpit's JSON shapes, key for key and in Go's key order, built from our message model.

Lists and events use the cached :class:`~mailtrap_lite.message.Summary` only, so paging through 100,000 messages
never re-parses a body; the full ``Message`` shape parses the one message asked for.
"""

from __future__ import annotations

import re
from typing import Any

from mailtrap_lite.message import Address, Message, Part
from mailtrap_lite.sessions import Attempt, SessionRecord
from mailtrap_lite.store import MessageStore
from mailtrap_lite.timestamps import format_timestamp as timestamp

JSON = dict[str, Any]

# The Text of a message shown as raw is its whole source, up to ~25 MiB: encoding that into one JSON answer holds
# the interpreter (and with it the SMTP loop) for 100+ ms, and no client reads a source that way. It is cut here,
# and the reason says where the whole source is.
RAW_TEXT_IN_JSON = 1024 * 1024  # characters
_UNSUBSCRIBE_LINK_RE = re.compile(r"<([^>]+)>")
_CANONICAL_KEY_RE = re.compile(r"^[A-Za-z0-9-]+$")


def address(value: Address) -> JSON:
    """Go's ``net/mail.Address``."""
    return {"Name": value.name, "Address": value.address}


def addresses(values: tuple[Address, ...]) -> list[JSON]:
    """A list of addresses; always ``[]`` when empty (never ``null``)."""
    return [address(v) for v in values]


def _identity_and_addresses(message: Message, store: MessageStore) -> JSON:
    """The keys that open both MessageSummary and Message, in Go's order: ID, MessageID, Read, From ... ReplyTo."""
    info = message.summary
    return {
        "ID": message.id,
        "MessageID": info.message_id,
        "Read": store.is_read(message.id),
        "From": address(info.from_),
        "To": addresses(info.to),
        "Cc": addresses(info.cc),
        "Bcc": addresses(info.bcc),
        "ReplyTo": addresses(info.reply_to),
    }


def summary(message: Message, store: MessageStore) -> JSON:
    """MessageSummary: a list item, a websocket ``new`` payload."""
    info = message.summary
    return {
        **_identity_and_addresses(message, store),
        "Subject": info.subject,
        "Created": timestamp(message.received_at),
        "Username": message.smtp.auth_user,
        "Tags": list(store.tags_of(message.id)),
        "Size": message.size,
        "Attachments": info.attachment_count,
        "Snippet": info.snippet,
    }


def messages_page(
    page: list[Message], store: MessageStore, start: int, matched: int | None = None, unread: int | None = None
) -> JSON:
    """MessagesSummary: the answer of ``/messages`` and ``/search`` (``matched`` = search hits, else the mailbox)."""
    total = len(store)
    return {
        "total": total,
        "unread": store.unread,
        "count": len(page),
        "messages_count": total if matched is None else matched,
        "messages_unread": store.unread if unread is None else unread,
        "start": start,
        "tags": store.all_tags(),
        "messages": [summary(m, store) for m in page],
    }


def attachment(part: Part) -> JSON:
    """One attachment or inline part (sizes and checksums of the decoded content)."""
    return {
        "PartID": part.part_id,
        "FileName": part.filename or part.content_id,
        "ContentType": part.content_type,
        "ContentID": part.content_id,
        "Size": part.size,
        "Checksums": part.checksums(),
    }


def list_unsubscribe(message: Message) -> JSON:
    """The List-Unsubscribe header with at most one mailto and one http(s) link, as Mailpit reports it."""
    header = ", ".join(message.header("List-Unsubscribe"))
    links: list[str] = []
    for link in _UNSUBSCRIBE_LINK_RE.findall(header):
        scheme = link.split(":", 1)[0].lower()
        kind = "mailto" if scheme == "mailto" else "http" if scheme in ("http", "https") else ""
        if kind and not any(existing.lower().startswith(kind) for existing in links):
            links.append(link.strip())
    errors = "" if links or not header else "no valid unsubscribe links found"
    return {"Header": header, "Links": links, "Errors": errors,
            "HeaderPost": ", ".join(message.header("List-Unsubscribe-Post"))}


def message_detail(message: Message, store: MessageStore) -> JSON:
    """Message: the full view of ``GET /api/v1/message/{ID}``, plus ``Read`` so the PyPI client can decode it, and
    ``ShownAsRaw`` (our extension, only on a message past a parse limit) with the reason it is shown as raw; the
    ``Text`` of such a message is its source, cut to ``RAW_TEXT_IN_JSON`` characters (the reason then says so)."""
    info = message.summary
    return_path = next(iter(message.header("Return-Path")), "").strip().strip("<>")
    detail: JSON = {
        **_identity_and_addresses(message, store),
        "ReturnPath": return_path or message.envelope.sender or info.from_.address,
        "Subject": info.subject,
        "ListUnsubscribe": list_unsubscribe(message),
        "Date": timestamp(info.date),
        "Tags": list(store.tags_of(message.id)),
        "Username": message.smtp.auth_user,
        "Text": message.text,
        "HTML": message.html,
        "Size": message.size,
        "Inline": [attachment(p) for p in message.inline],
        "Attachments": [attachment(p) for p in message.attachments],
    }
    shown_as_raw = info.shown_as_raw or message.body.shown_as_raw
    if shown_as_raw:
        if len(detail["Text"]) > RAW_TEXT_IN_JSON:
            detail["Text"] = detail["Text"][:RAW_TEXT_IN_JSON]
            shown_as_raw += (f"; text cut to its first {RAW_TEXT_IN_JSON:,} characters, the whole source is at"
                             f" GET /api/v1/message/{message.id}/raw")
        detail["ShownAsRaw"] = shown_as_raw
    return detail


def canonical_header_key(name: str) -> str:
    """Go's ``CanonicalMIMEHeaderKey``: ``message-id`` -> ``Message-Id``; odd names are left as they are."""
    if not _CANONICAL_KEY_RE.match(name):
        return name
    return "-".join(word[:1].upper() + word[1:].lower() for word in name.split("-"))


def headers(message: Message) -> dict[str, list[str]]:
    """Every header under its canonical key, keys sorted, values in order."""
    found: dict[str, list[str]] = {}
    for name, value in message.headers:
        found.setdefault(canonical_header_key(name), []).append(value)
    return dict(sorted(found.items()))


def attempt(value: Attempt) -> JSON:
    """One mail transaction of a session (our extension)."""
    return {
        "Seq": value.seq,
        "Sender": value.sender,
        "Recipients": list(value.recipients),
        "RecipientCount": value.recipient_count,
        "RejectedRecipients": [{"Address": a, "Code": c} for a, c in value.rejected_recipients],
        "RejectedCount": value.rejected_count,
        "ReplyCode": value.reply_code,
        "ReplyText": value.reply_text,
        "Fault": value.fault,
        "MessageID": value.message_id,
        "Accepted": value.accepted,
        "Time": timestamp(value.at),
    }


def session(record: SessionRecord, transcript: bool = False) -> JSON:
    """An SMTP session (our extension); ``transcript`` adds the lines sent and received that are kept (where
    some were not, a line with direction ``-`` says how many, as does ``TranscriptLinesNotKept``)."""
    data: JSON = {
        "ID": record.id,
        "Peer": record.peer,
        "Helo": record.helo,
        "TLS": record.tls,
        "Username": record.auth_user,
        "Started": timestamp(record.started_at),
        "Ended": timestamp(record.ended_at),
        "Duration": round(record.elapsed, 6),
        "Faults": list(record.faults),
        "MessageIDs": record.message_ids,
        "Attempts": [attempt(a) for a in record.attempts],
        "TranscriptLinesNotKept": record.lines_dropped,
    }
    if transcript:
        data["Transcript"] = [{"Elapsed": line.elapsed, "Direction": line.direction, "Text": line.text}
                              for line in record.lines]
    return data
