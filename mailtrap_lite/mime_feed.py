"""The stdlib MIME parser, fed in pieces so that parsing a huge message never holds the interpreter for long.

A C-level call on a whole 23 MiB message (decoding it to text, copying it into a ``StringIO``, one regex search
over it) holds the interpreter's lock until it returns, 50 to 200 ms in which no other thread runs: not the SMTP
loop, so every other client waits for its reply. :func:`parse_bytes` gives the parser what
``email.message_from_bytes`` gives it, a piece at a time, and :class:`_LineEndAtEnd` answers the parser's "does
this text end with a line break" question from the text's last two characters instead of a regex search that
tries every position of a 23 MiB part. :func:`decoded_payload` decodes a large base64 part a piece at a time.
"""

from __future__ import annotations

import base64
import binascii
import email.feedparser
import email.policy
import re
from email.message import EmailMessage

_PIECE = 64 * 1024  # bytes fed at once: each piece is decoded and split into lines in one C call


class _LineEndAtEnd:
    """The feed parser's ``NLCRE_eol`` (``(\\r\\n|\\r|\\n)\\Z``) with the same answers in constant time.

    The parser only asks it whether a text ends with a line break, and which one (``match.group(0)``); only the
    last two characters can be part of that match, so searching them alone finds the same one."""

    def __init__(self, pattern: re.Pattern[str]) -> None:
        self.pattern = pattern

    def search(self, text: str) -> re.Match[str] | None:
        """The line break that ends ``text``, as ``pattern.search(text)`` finds it, or None."""
        return self.pattern.search(text[-2:])


_FEEDPARSER = vars(email.feedparser)  # (the typeshed stubs do not list the module's regexes)
if isinstance(_FEEDPARSER.get("NLCRE_eol"), re.Pattern):  # once per process, whoever imports this first
    _FEEDPARSER["NLCRE_eol"] = _LineEndAtEnd(_FEEDPARSER["NLCRE_eol"])


def parse_bytes(raw: bytes) -> EmailMessage:
    """Parse ``raw`` with ``policy.default`` exactly as ``email.message_from_bytes`` does (the same bytes reach
    the parser, each decoded as ASCII with surrogate escapes), in pieces of ``_PIECE`` bytes."""
    parser = email.feedparser.BytesFeedParser(policy=email.policy.default)
    for start in range(0, len(raw), _PIECE):
        parser.feed(raw[start : start + _PIECE])
    parsed = parser.close()
    assert isinstance(parsed, EmailMessage)
    return parsed


def decoded_payload(part: EmailMessage) -> object:
    """``part.get_payload(decode=True)``; a large base64 payload is decoded a piece at a time to the same bytes
    (anything irregular in it, e.g. characters outside the alphabet or broken padding, is left to the stdlib)."""
    payload = part.get_payload()
    if isinstance(payload, str) and len(payload) > _PIECE and _transfer_encoding(part) == "base64":
        decoded = _base64_in_pieces(payload)
        if decoded is not None:
            return decoded
    return part.get_payload(decode=True)


def _transfer_encoding(part: EmailMessage) -> str:
    return str(part.get("content-transfer-encoding", "")).lower()


def _base64_in_pieces(text: str) -> bytes | None:
    """The bytes of well-formed base64 ``text`` (line breaks ignored, padding only at its very end), else None."""
    decoded = []
    carry = b""
    try:
        for start in range(0, len(text), _PIECE):
            piece = carry + b"".join(text[start : start + _PIECE].encode("ascii").splitlines())
            usable = len(piece) - len(piece) % 4
            if b"=" in piece and start + _PIECE < len(text):
                return None
            decoded.append(base64.b64decode(piece[:usable], validate=True))
            carry = piece[usable:]
    except (UnicodeEncodeError, binascii.Error):
        return None
    return None if carry else b"".join(decoded)
