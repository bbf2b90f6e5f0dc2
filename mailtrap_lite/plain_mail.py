"""A fast reader for the commonest mail: one ASCII header block and a single plain-text body.

The stdlib parser (``policy.default``) spends most of its time building structured header objects; for a list
summary of a plain message that is most of the cost of ingest. :func:`read_plain` recognises the messages whose
summary it can compute exactly as the full parser would (ASCII headers without encoded words, unquoted addresses,
a single ``text/plain`` part in UTF-8 or ASCII, sent as is or quoted-printable, no attachment hints) and
returns their headers and text; anything else gets ``None`` and goes through the full parser.
"""

from __future__ import annotations

import binascii
import re
from dataclasses import dataclass

from mailtrap_lite.text_pieces import decoded_text

_CONTENT_TYPE = re.compile(r'text/plain(?:\s*;\s*charset\s*=\s*"?(?:utf-8|us-ascii)"?)?\s*', re.IGNORECASE)
_MESSAGE_ID = re.compile(r"\s*<[^<>\s]+>\s*")
_HEADER_NAME = re.compile(r"[!-9;-~]+")  # printable ASCII except the colon (RFC 5322 section 2.2)
_ADDRESS_HEADERS = ("from", "to", "cc", "reply-to")
_ADDRESS_SPECIALS = set('"()\\;[]')
_PLAIN_ENCODINGS = ("", "7bit", "8bit", "quoted-printable")


@dataclass(frozen=True, slots=True)
class PlainMail:
    """The unfolded headers (name, value) in order and the body of a plain message, still encoded as sent."""

    headers: tuple[tuple[str, str], ...]
    body: bytes
    quoted_printable: bool

    @property
    def text(self) -> str:
        """The whole body as text."""
        return decode_body(self.body, self.quoted_printable)


def read_plain(raw: bytes) -> PlainMail | None:
    """Headers and body of ``raw`` when it is a plain single-part text message, else None."""
    head, separator, body = raw.partition(b"\r\n\r\n")
    if not separator or not head.isascii() or b"=?" in head or b"\n" in head.replace(b"\r\n", b""):
        return None
    headers = _unfold(head.decode("ascii"))
    if headers is None or not _is_plain(headers):
        return None
    encoding = next((v for k, v in headers if k.lower() == "content-transfer-encoding"), "").strip().lower()
    return PlainMail(headers, body, encoding == "quoted-printable")


def plain_body(raw: bytes, limit: int | None = None) -> bytes:
    """The body of a message :func:`read_plain` accepted, without reading its headers again; with ``limit``, only
    its start (at most ``limit`` bytes, cut after its last line break there), copied without the rest."""
    start = raw.find(b"\r\n\r\n") + 4
    if start < 4:
        return b""
    if limit is None or len(raw) - start <= limit:
        return raw[start:]
    end = raw.rfind(b"\n", start, start + limit) + 1
    return raw[start : end if end > start else start + limit]


def decode_body(body: bytes, quoted_printable: bool) -> str:
    """The text of a plain body (or of any part of it that ends at a line break), as the stdlib would decode it."""
    if quoted_printable:
        body = binascii.a2b_qp(body)  # what the stdlib's get_payload(decode=True) does for this encoding
    return decoded_text(body)


def body_start(body: bytes, size: int) -> bytes | None:
    """The body up to the last line break within its first ``size`` bytes (a cut that splits no character, no
    quoted-printable escape and no CRLF), or None when it is no longer than ``size`` or has no line break there."""
    if len(body) <= size:
        return None
    end = body.rfind(b"\n", 0, size) + 1
    return body[:end] if end else None


def _unfold(head: str) -> tuple[tuple[str, str], ...] | None:
    """Join continuation lines to their header, as the full parser does (the line break goes, the indent stays)."""
    names: list[str] = []
    values: list[str] = []
    for line in head.split("\r\n"):
        if line[:1] in (" ", "\t"):
            if not values:
                return None
            values[-1] += line
            continue
        name, colon, value = line.partition(":")
        if not colon or not _HEADER_NAME.fullmatch(name):
            return None
        names.append(name)
        values.append(value.lstrip(" \t"))
    return tuple(zip(names, values, strict=True))


def _is_plain(headers: tuple[tuple[str, str], ...]) -> bool:
    """True when nothing in the headers needs the full parser to be read the same way."""
    for name, value in headers:
        key = name.lower()
        if key == "content-type" and not _CONTENT_TYPE.fullmatch(value):
            return False
        if key == "content-transfer-encoding" and value.strip().lower() not in _PLAIN_ENCODINGS:
            return False
        if key == "content-disposition":
            return False
        if key == "message-id" and not _MESSAGE_ID.fullmatch(value):
            return False
        if key in _ADDRESS_HEADERS and _ADDRESS_SPECIALS.intersection(value):
            return False
    return True
