"""Building a real MIME message from a ``POST /api/v1/send`` request (Mailpit's send API)."""

from __future__ import annotations

import base64
import binascii
import mimetypes
import re
from dataclasses import dataclass
from email.headerregistry import Address as HeaderAddress
from email.message import EmailMessage, MIMEPart
from email.utils import formatdate, parseaddr

from mailtrap_lite.ids import new_id
from mailtrap_lite.web.errors import ApiError
from mailtrap_lite.web.inputs import Body

_CONTENT_TYPE_RE = re.compile(r"^[\w.+-]+/[\w.+-]+$")
RESTRICTED_HEADERS = ("to", "from", "cc", "bcc", "reply-to", "date", "subject", "content-type", "mime-version")


@dataclass(frozen=True)
class Composed:
    """The message to store, as bytes, and the envelope it travels with (Bcc only here, never in the headers)."""

    raw: bytes
    sender: str
    recipients: tuple[str, ...]


def _mailbox(email_address: str, name: str, field: str) -> HeaderAddress:
    """A validated mailbox; a bad one is a 400 naming the field."""
    _, parsed = parseaddr(email_address)
    if not parsed or "@" not in parsed or parsed != email_address.strip() or any(c in name for c in "\r\n"):
        raise ApiError(f"invalid {field} address: {email_address}")
    local, _, domain = parsed.rpartition("@")
    try:
        return HeaderAddress(display_name=name, username=local, domain=domain)
    except (ValueError, IndexError):
        raise ApiError(f"invalid {field} address: {email_address}") from None


def _mailboxes(body: Body, key: str, field: str) -> list[HeaderAddress]:
    """The mailboxes of a list field; entries with a blank ``Email`` (clients send placeholders) are skipped."""
    return [_mailbox(item.string("Email"), item.string("Name"), field)
            for item in body.objects(key) if item.string("Email").strip()]


def _content(item: Body) -> bytes:
    """An attachment's bytes from base64 or a ``data:`` URL."""
    text = item.string("Content")
    if text.startswith("data:") and "," in text:
        text = text.split(",", 1)[1]
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise ApiError(f"invalid base64 content in attachment {item.string('Filename')!r}") from None


def _headers(body: Body, has_tags: bool) -> dict[str, str]:
    extra = body.object("Headers")
    found: dict[str, str] = {}
    for name, value in extra.items() if extra else ():
        if not isinstance(value, str):
            raise ApiError(f"header {name!r} must be a string")
        if name.lower() in RESTRICTED_HEADERS or (has_tags and name.lower() == "x-tags"):
            raise ApiError(f'cannot overwrite header: "{name}"')
        if not name or any(c in name for c in " :\r\n") or any(c in value for c in "\r\n"):
            raise ApiError(f"invalid header: {name!r}")
        found[name] = value
    return found


def compose(body: Body) -> Composed:
    """Turn a send request into a MIME message. Raises ApiError with Mailpit's wording for bad input."""
    sender_body = body.object("From")
    if sender_body is None or not sender_body.string("Email"):
        raise ApiError("From.Email is required")
    sender = _mailbox(sender_body.string("Email"), sender_body.string("Name"), "From")
    to, cc = _mailboxes(body, "To", "To"), _mailboxes(body, "Cc", "Cc")
    bcc = [_mailbox(address, "", "Bcc").addr_spec for address in body.strings("Bcc") or [] if address.strip()]
    reply_to = _mailboxes(body, "ReplyTo", "ReplyTo")
    tags = body.strings("Tags") or []
    headers = _headers(body, bool(tags))
    try:
        message = EmailMessage()
        message["From"] = sender
        for name, mailboxes in (("To", to), ("Cc", cc), ("Reply-To", reply_to)):
            if mailboxes:
                message[name] = mailboxes
        message["Subject"] = body.string("Subject")
        message["Date"] = formatdate(localtime=True)
        message["Message-ID"] = f"<{new_id()}@mailtrap-lite>"
        if tags:
            message["X-Tags"] = ", ".join(tags)
        for name, value in headers.items():
            message[name] = value
        _add_bodies(message, body)
        raw = message.as_bytes()
    except (ValueError, TypeError) as error:  # line breaks in a header, unencodable text, ...
        raise ApiError(f"cannot build the message: {error}") from None
    recipients = tuple(a.addr_spec for a in (*to, *cc)) + tuple(bcc)
    return Composed(raw, sender.addr_spec, recipients)


def _add_bodies(message: EmailMessage, body: Body) -> None:
    """Text and/or HTML as alternatives; ``ContentID`` attachments related to the HTML; the rest attached."""
    text, html = body.string("Text"), body.string("HTML")
    html_part: MIMEPart | None = None
    if html and text:
        message.set_content(text)
        message.add_alternative(html, subtype="html")
        html_part = next(p for p in message.iter_parts() if p.get_content_type() == "text/html")
    elif html:
        message.set_content(html, subtype="html")
        html_part = message
    else:
        message.set_content(text)
    items = body.objects("Attachments")
    # inline parts first: once the message becomes multipart/mixed nothing can be related to its HTML
    for item in sorted(items, key=lambda i: not i.string("ContentID")):
        filename = item.string("Filename")
        content = _content(item)
        content_type = item.string("ContentType") or mimetypes.guess_type(filename)[0] or "application/octet-stream"
        if not _CONTENT_TYPE_RE.match(content_type):
            raise ApiError(f"invalid content type: {content_type!r}")
        maintype, _, subtype = content_type.partition("/")
        content_id = item.string("ContentID").strip("<>")
        if content_id and html_part is not None:
            html_part.add_related(content, maintype, subtype, cid=f"<{content_id}>", filename=filename or None,
                                  disposition="inline")
        elif content_id:
            message.add_attachment(content, maintype, subtype, cid=f"<{content_id}>", filename=filename or None,
                                   disposition="inline")
        else:
            message.add_attachment(content, maintype, subtype, filename=filename or "attachment")
