"""Huge texts in pieces cut at whitespace, so that no single C-level call runs over a whole 23 MiB text.

A call such as ``text.lower().split()`` or one regex search holds the interpreter's lock until it returns; over the
text of a huge message that is 100-300 ms in which no other thread runs (the SMTP loop included, so every client
waits for its reply). Anything that cannot span whitespace (words, bare links) is found the same in the pieces as
in the whole text. :func:`decoded_text` decodes and normalises line breaks the same way, a piece at a time.
"""

from __future__ import annotations

import codecs
from collections.abc import Iterator

PIECE = 256 * 1024  # characters per piece (about a millisecond of work for the costliest of those calls)


def whitespace_pieces(text: str, size: int = PIECE) -> Iterator[str]:
    """``text`` in consecutive pieces of about ``size`` characters, each cut just before a space or a line break
    (one piece when it is short, or when it has no such character past ``size``)."""
    start = 0
    while len(text) - start > size:
        cut = _next_space(text, start + size)
        if cut < 0:
            break
        yield text[start:cut]
        start = cut
    yield text[start:]


def decoded_text(data: bytes, charset: str = "utf-8") -> str:
    """``data.decode(charset, "replace")`` with CRLF made LF (the text of a message body); large UTF-8 data is
    decoded a piece at a time (an incremental decoder keeps a character split by a cut whole). Raises LookupError
    for an unknown charset, as ``bytes.decode`` does."""
    if len(data) <= PIECE or codecs.lookup(charset).name != "utf-8":
        return data.decode(charset, "replace").replace("\r\n", "\n")
    decoder = codecs.getincrementaldecoder("utf-8")("replace")
    texts = []
    held = ""  # a CR at the end of a piece, whose LF may start the next
    for start in range(0, len(data), PIECE):
        last = start + PIECE >= len(data)
        text = held + decoder.decode(data[start : start + PIECE], final=last)
        held = "\r" if text.endswith("\r") and not last else ""
        texts.append(text[: len(text) - len(held)].replace("\r\n", "\n"))
    return "".join(texts)


def _next_space(text: str, pos: int) -> int:
    """Where the first space or line break at or after ``pos`` is (-1 when none), looked for one piece at a time."""
    while pos < len(text):
        end = pos + PIECE
        found = [index for index in (text.find(" ", pos, end), text.find("\n", pos, end)) if index >= 0]
        if found:
            return min(found)
        pos = end
    return -1
