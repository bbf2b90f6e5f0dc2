"""How a message shown as raw is read: its own header fields line by line, without the MIME parser, each cut to
a length a list can carry. Linear in the size of the header block, whatever it holds.
"""

from __future__ import annotations

import re
from email.header import decode_header, make_header

from mailtrap_lite.mime_limits import MAX_HEADER_BYTES, MAX_HEADERS

MAX_SUMMARY_TEXT = 1_000  # characters of a subject, Message-ID, name or address in a summary (longer ones are cut)


def cap_text(value: str) -> str:
    """``value`` cut to ``MAX_SUMMARY_TEXT`` characters (the cut marked with an ellipsis), so one message cannot make
    every list page huge."""
    return value if len(value) <= MAX_SUMMARY_TEXT else value[: MAX_SUMMARY_TEXT - 1] + "\u2026"


def read_raw_headers(raw: bytes) -> tuple[tuple[str, str], ...]:
    """The message's own header fields read line by line, without the MIME parser: at most ``MAX_HEADERS`` of them
    from the first ``MAX_HEADER_BYTES``, each value unfolded, RFC 2047-decoded where it can be and cut to
    ``MAX_SUMMARY_TEXT`` characters."""
    head = raw[: min(header_end(raw), MAX_HEADER_BYTES)].decode("utf-8", "replace")
    fields: list[tuple[str, list[str]]] = []
    for line in re.split(r"\r\n|\r|\n", head):
        if line[:1] in (" ", "\t") and fields:
            parts = fields[-1][1]
            if sum(map(len, parts)) <= MAX_SUMMARY_TEXT:
                parts.append(line)
            continue
        name, colon, value = line.partition(":")
        if colon and name.strip() and len(fields) < MAX_HEADERS:
            fields.append((name.strip(), [value.strip()]))
    return tuple((name, _decode_raw_value(cap_text("".join(parts)))) for name, parts in fields)


def _decode_raw_value(value: str) -> str:
    if "=?" not in value:
        return value
    try:
        return cap_text(str(make_header(decode_header(value))))
    except Exception:  # broken encoded words: shown as received
        return value


def header_end(raw: bytes) -> int:
    """Where the body starts (after the first empty line; the end of ``raw`` when there is none)."""
    crlf = raw.find(b"\n\r\n")  # a line end, then an empty CRLF line
    lf = raw.find(b"\n\n", 0, len(raw) if crlf < 0 else crlf)  # a bare-LF blank line before it, if any
    if lf >= 0:
        return lf + 2
    return len(raw) if crlf < 0 else crlf + 3
