"""Bounded parsing: a linear pre-scan that decides whether the stdlib MIME parser may see a message at all.

The stdlib parser recurses once per nested multipart and per nested comment in a structured header, and its header
parser is slower than linear on long values; a hostile message can make it raise ``RecursionError`` or run for
minutes. :func:`scan` reads the raw bytes once, mostly with C-level searches (counting line breaks and
parentheses, finding the next ``--`` line), and walks the MIME structure the way the stdlib's feed parser will:
header blocks, ``boundary`` parameters, delimiter lines of every open multipart, ``message/*`` parts. It answers
"" when the message is within every limit, else the reason it is shown as raw ("nested 900 deep, limit 100").

Ordinary mail costs a few C-level passes over its header block, plus a few dictionary look-ups per MIME part.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass
from email.message import Message as Compat32Message

MAX_DEPTH = 100  # nested multiparts and message/* parts
MAX_PARTS = 1_000  # MIME parts of a message, containers included
MAX_HEADERS = 500  # header fields in one header block (the message's or a part's)
MAX_HEADER_SIZE = 16 * 1024  # bytes of one header field, unfolded, its name included
MAX_HEADER_BYTES = 1024 * 1024  # bytes of all header blocks of a message together
MAX_COMMENT_NESTING = 32  # comments nested in one header value, "((...))"

_CONTENT_TYPE = re.compile(rb"^content-type[ \t]*:(.*(?:\r?\n[ \t].*)*)", re.MULTILINE | re.IGNORECASE)
_BOUNDARY = re.compile(rb'(?<![\w*-])boundary\s*=\s*(?:"((?:[^"\\\r\n]|\\.)*)"|([^\s;"]+))', re.IGNORECASE)
_NOT_A_HEADER_LINE = re.compile(rb"^(?!From |[\x21-\x39\x3b-\x7e]*:|[ \t])", re.MULTILINE)  # as the feed parser
_FIELD_START = re.compile(rb"^[^ \t\r\n]", re.MULTILINE)
_DASH_AFTER_LINE_BREAK = re.compile(rb"\n--")
_BARE_CR = re.compile(rb"\r(?!\n)")
_PARENS = re.compile(rb"[()\\]")
_NONE = [-1]  # the stack index of a boundary no open multipart has
_COMMENT = re.compile(rb"\([^()]*\)")
# A regex search holds the interpreter's lock until it returns; over a 23 MiB body that is 100+ ms in which no
# other thread (the SMTP loop included) runs. Searches that may cross a whole body go window by window instead.
_SEARCH_WINDOW = 256 * 1024


@dataclass(slots=True)
class _Level:
    """One open container: a multipart (its boundary, and whether it is a digest) or a message/* part (no
    boundary)."""

    boundary: bytes | None
    digest: bool = False


@dataclass(frozen=True, slots=True)
class Measure:
    """What the pre-scan found: the deepest nesting and the number of parts it saw (it stops counting parts past
    the limit), and the problem ("" when within every limit)."""

    depth: int
    parts: int
    problem: str


def scan(raw: bytes) -> str:
    """"" when ``raw`` is within every parse limit, else why it is shown as raw (e.g. "nested 900 deep, limit 100").

    Linear in the size of ``raw``; never raises.
    """
    return measure(raw).problem


def measure(raw: bytes) -> Measure:
    """The pre-scan of ``raw``: its MIME depth and parts as the stdlib parser will see them, and the first limit
    it is past. Linear in the size of ``raw``; never raises."""
    try:
        walk = _Scan(raw)
        problem = walk.run()
        # The stdlib parser also ends a line at a bare CR. Only where it could change the reading (a MIME structure,
        # or the top header block) is the message looked at again with every line ending made a LF.
        if (walk.depth or _BARE_CR.search(raw, 0, walk.top_end)) and _search(_BARE_CR, raw, 0, 1):
            walk = _Scan(raw.replace(b"\r\n", b"\n").replace(b"\r", b"\n"))
            problem = walk.run()
        return Measure(walk.depth, walk.parts, problem)
    except Exception:  # pragma: no cover - the scan has no known failure; a message it cannot read is shown raw
        return Measure(0, 0, "could not be scanned")


class _Scan:
    """The walk over one message; its fields are the counts the limits apply to."""

    def __init__(self, raw: bytes) -> None:
        self.raw = raw
        crlf = raw.find(b"\r\n", 0, 1000) >= 0
        # How a header block ends, the likelier form first (the search for the other stops where that one was found;
        # a four-byte pattern is found faster than the three-byte "\n\r\n").
        self._blank_lines = (b"\r\n\r\n", b"\n\n") if crlf else (b"\n\n", b"\n\r\n")
        self.stack: list[_Level] = []
        self.open: dict[bytes, list[int]] = {}  # boundary -> its indexes in the stack, innermost last
        self.depth = 0
        self.parts = 1
        self.header_bytes = 0
        self._pos = 0  # where the walk reads next
        self._dash_from = self._dash_at = -1  # the latest _next_dash: from where, and what it found
        self.top_end = 0  # where the message's own header block ends

    def run(self) -> str:
        problem, content_type = self._header_block(0, len(self.raw))
        self.top_end = self._pos
        default_message = False
        while not problem:
            problem = self._open(content_type, default_message)
            if problem or not self.stack:
                break
            found = self._next_delimiter(self._pos)
            if found is None:
                break
            index, closing, self._pos = found
            for level in self.stack[index + 1 :]:
                self._close(level)
            del self.stack[index + 1 :]
            if closing:
                self._close(self.stack.pop())
                content_type, default_message = b"", False
                continue
            self.parts += 1
            if self.parts > MAX_PARTS:
                return f"more than {MAX_PARTS:,} parts, limit {MAX_PARTS:,}"
            default_message = self.stack[index].digest
            problem, content_type = self._header_block(self._pos, self._next_dash(self._pos))
        if not problem and self.depth > MAX_DEPTH:
            problem = f"nested {self.depth:,} deep, limit {MAX_DEPTH:,}"
        return problem

    # -- the structure ------------------------------------------------------------------------------------------

    def _open(self, content_type: bytes, default_message: bool) -> str:
        """Enter the containers a part's Content-Type opens: message/* parts (each followed by its own header block)
        and a multipart with a boundary."""
        while True:
            media_type = _media_type(content_type)
            if media_type.startswith(b"multipart/"):
                boundary = _boundary(content_type)
                if boundary is not None:
                    self._push(_Level(boundary, media_type == b"multipart/digest"))
                return ""
            if not media_type.startswith(b"message/") and not (default_message and not media_type):
                return ""
            self._push(_Level(None))
            problem, content_type = self._header_block(self._pos, self._next_dash(self._pos))
            default_message = False
            if problem:
                return problem

    def _push(self, level: _Level) -> None:
        self.stack.append(level)
        self.depth = max(self.depth, len(self.stack))
        if level.boundary is not None:
            self.open.setdefault(level.boundary, []).append(len(self.stack) - 1)

    def _close(self, level: _Level) -> None:
        if level.boundary is not None:
            indexes = self.open[level.boundary]
            indexes.pop()
            if not indexes:
                del self.open[level.boundary]

    def _next_dash(self, pos: int) -> int:
        """Where the first line starting with ``--`` at or after the line start ``pos`` begins (the end of the
        message when there is none): a header block ends there at the latest. The last answer is reused, so the
        walk reads each stretch of a body once."""
        if self._dash_from <= pos <= self._dash_at:
            return self._dash_at
        if self.raw.startswith(b"--", pos):
            found = pos
        else:
            match = _search(_DASH_AFTER_LINE_BREAK, self.raw, pos, 2)  # (the regex engine finds it faster than find)
            found = match.end() - 2 if match else len(self.raw)
        self._dash_from, self._dash_at = pos, found
        return found

    def _next_delimiter(self, pos: int) -> tuple[int, bool, int] | None:
        """The next line that delimits an open multipart: (its stack index, whether it closes, where it ends)."""
        raw = self.raw
        while True:
            start = self._next_dash(pos)
            if start >= len(raw):
                return None
            end = raw.find(b"\n", start)
            end = len(raw) if end < 0 else end + 1
            rest = raw[start + 2 : end].rstrip(b" \t\r\n")
            delimiter = self.open.get(rest, _NONE)[-1]
            closing = self.open.get(rest[:-2], _NONE)[-1] if rest.endswith(b"--") else -1
            if delimiter >= 0 or closing >= 0:  # the innermost multipart wins, as in the stdlib parser
                return max(delimiter, closing), closing > delimiter, end
            pos = end

    # -- header blocks ------------------------------------------------------------------------------------------

    def _header_block(self, start: int, limit: int) -> tuple[str, bytes]:
        """Check the header block at ``start`` (it ends at a blank line, or at ``limit``) and move past it: (problem,
        its first Content-Type value)."""
        if self.raw[start : start + 1] in (b"\n", b"\r"):  # no headers at all: the body starts at once
            end = start
        else:
            likely, other = self._blank_lines
            end = _blank_line_end(self.raw, start, other, _blank_line_end(self.raw, start, likely, limit))
        block = self.raw[start:end]
        problem = _check_fields(block)
        if problem or self.header_bytes + len(block) > MAX_HEADER_BYTES:
            # The parser ends a header block at the first line that is no header line, which may come before the
            # blank line: look for it before blaming the headers for what is body text (rare, so only then).
            body_line = _NOT_A_HEADER_LINE.search(self.raw, start, end)
            if body_line is not None and body_line.start() < end:
                end = body_line.start()
                block = self.raw[start:end]
                problem = _check_fields(block)
        self._pos = end
        self.header_bytes += len(block)
        if self.header_bytes > MAX_HEADER_BYTES:
            return f"headers of more than {MAX_HEADER_BYTES:,} bytes, limit {MAX_HEADER_BYTES:,}", b""
        found = _CONTENT_TYPE.search(block)
        return problem, found.group(1) if found else b""


def _blank_line_end(raw: bytes, start: int, blank: bytes, limit: int) -> int:
    """Where the body starts when the header block at ``start`` ends with ``blank`` before ``limit``, else
    ``limit``."""
    found = raw.find(blank, start, limit)
    return limit if found < 0 else found + len(blank)


def _check_fields(block: bytes) -> str:
    """Header count, field size and comment nesting of one header block; C-level counts first, the exact figure
    only when a count comes near a limit."""
    if block.count(b"\n") >= MAX_HEADERS:
        fields = len(_FIELD_START.findall(block))
        if fields > MAX_HEADERS:
            return f"{fields:,} header fields, limit {MAX_HEADERS:,}"
    if len(block) <= MAX_HEADER_SIZE and block.count(b"(") <= MAX_COMMENT_NESTING:
        return ""
    starts = [m.start() for m in _FIELD_START.finditer(block)] + [len(block)]
    for start, end in itertools.pairwise(starts):
        field = block[start:end]
        if len(field) > MAX_HEADER_SIZE:
            name = field.split(b":", 1)[0][:40].decode("ascii", "replace")
            return f"header {name} of {len(field):,} bytes, limit {MAX_HEADER_SIZE:,}"
        if field.count(b"(") > MAX_COMMENT_NESTING:
            nesting = comment_nesting(field)
            if nesting > MAX_COMMENT_NESTING:
                return f"comments nested {nesting:,} deep, limit {MAX_COMMENT_NESTING:,}"
    return ""


def comment_nesting(value: bytes) -> int:
    """How deeply parentheses nest in ``value`` (a backslash escapes the next character; quotes are not honoured,
    so this may overstate, never understate)."""
    depth = deepest = 0
    escaped_at = -2
    for match in _PARENS.finditer(value):
        at = match.start()
        if at == escaped_at:
            continue
        char = value[at]
        if char == 0x5C:  # backslash
            escaped_at = at + 1
        elif char == 0x28:
            depth += 1
            deepest = max(deepest, depth)
        elif depth:
            depth -= 1
    return deepest


def _media_type(content_type: bytes) -> bytes:
    """The lower-cased ``type/subtype`` of a Content-Type value, comments and white space dropped."""
    media_type = _COMMENT.sub(b"", content_type.split(b";", 1)[0])
    return b"".join(media_type.split()).lower()


def _search(pattern: re.Pattern[bytes], raw: bytes, pos: int, reach: int) -> re.Match[bytes] | None:
    """``pattern.search(raw, pos)``, one ``_SEARCH_WINDOW`` at a time so that other threads run in between; a match
    counts in the window where it starts, and ``reach`` is how many bytes past its start a match may read."""
    while pos < len(raw):
        end = pos + _SEARCH_WINDOW
        match = pattern.search(raw, pos, end + reach)
        if match is not None and match.start() < end:
            return match
        pos = end
    return None


def _boundary(content_type: bytes) -> bytes | None:
    found = _BOUNDARY.search(content_type)
    if found is None:
        return _rfc2231_boundary(content_type) if b"boundary*" in content_type.lower() else None
    value = found.group(1) if found.group(1) is not None else found.group(2)
    return re.sub(rb"\\(.)", rb"\1", value).rstrip(b" \t")


def _rfc2231_boundary(content_type: bytes) -> bytes | None:
    """A boundary in RFC 2231 form (``boundary*=''b``, ``boundary*0=...``), read as the stdlib reads it (rare, and the
    header is within the size limit by now)."""
    header = Compat32Message()
    header["Content-Type"] = content_type.decode("latin-1")
    boundary = header.get_boundary()
    return boundary.encode("latin-1", "replace").rstrip(b" \t") if boundary else None
