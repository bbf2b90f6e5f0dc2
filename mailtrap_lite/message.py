"""The captured message: the raw bytes exactly as received, the SMTP envelope and facts, and a parsed view.

A :class:`Message` is immutable. Parsing is lazy: ingest only stores bytes; the list summary is computed on first
use and cached on the message (it is small), while the full view (bodies, parts) lives in a cache bounded in bytes so
100,000 stored messages do not each carry a parsed copy. Malformed MIME never raises out of here: whatever parses
is shown, the rest is left out. A message past a parse limit (:mod:`mailtrap_lite.mime_limits`) never reaches the
stdlib parser: it is "shown as raw" (its headers read line by line, its source as its text, no parts), with the
reason in :attr:`Summary.shown_as_raw`.
"""

from __future__ import annotations

import functools
import hashlib
import html as html_module
import re
import sys
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from email.message import EmailMessage
from email.utils import getaddresses, parsedate_to_datetime

from mailtrap_lite.html_text import html_to_text
from mailtrap_lite.mime_feed import decoded_payload, parse_bytes
from mailtrap_lite.mime_limits import MAX_COMMENT_NESTING, comment_nesting, scan
from mailtrap_lite.parse_cache import ViewCache
from mailtrap_lite.plain_mail import body_start, decode_body, plain_body, read_plain
from mailtrap_lite.raw_view import MAX_SUMMARY_TEXT, cap_text, header_end, read_raw_headers
from mailtrap_lite.text_pieces import decoded_text, whitespace_pieces
from mailtrap_lite.timestamps import share_zone

_SNIPPET_LENGTH = 250
_SNIPPET_SOURCE = 64 * 1024
_LINK_RE = re.compile(r"""https?://[^\s<>"'()\[\]{}]+""", re.IGNORECASE)
_HREF_RE = re.compile(r"""(?:href|src)\s*=\s*["']?([^"'\s>]+)""", re.IGNORECASE)
_TRAILING_PUNCTUATION = ".,;:!?"
PARSE_CACHE_BYTES = 64 * 1024 * 1024  # source plus parsed content of the full views kept in the parse cache
# A message within all three is summarised in milliseconds at worst, wherever its summary is first read:
_QUICK_SUMMARY_BYTES = 256 * 1024
_QUICK_HEADER_BYTES = 4 * 1024  # the stdlib's address parser is slower than linear on long header values
_QUICK_SUMMARY_PARTS = 50
_DASH_LINE_START = re.compile(rb"\n--")


@functools.lru_cache(maxsize=1024)
def _shared_value(value: Envelope | SmtpFacts) -> Envelope | SmtpFacts:
    """The first equal instance seen: messages of one session (and most envelopes) are alike, and both are frozen."""
    return value


def _shared(value: Envelope | SmtpFacts) -> Envelope | SmtpFacts:
    if isinstance(value, Envelope) and len(value.recipients) > 8:  # the cache holds only small values
        return value
    try:
        return _shared_value(value)
    except TypeError:  # an unhashable field (say a list of recipients): keep the object as given
        return value


@dataclass(frozen=True, slots=True)
class Address:
    """A parsed mailbox: display name and address (``Address`` is "" when the header could not be parsed)."""

    name: str
    address: str

    def __str__(self) -> str:
        return f"{self.name} <{self.address}>" if self.name else self.address


@dataclass(frozen=True, slots=True)
class Envelope:
    """What the client said in MAIL FROM and RCPT TO, kept apart from the headers (Bcc lives only here)."""

    sender: str
    recipients: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class SmtpFacts:
    """Facts about the SMTP session that delivered a message."""

    peer: str = ""
    helo: str = ""
    tls: bool = False
    auth_user: str = ""
    session_id: str = ""


@dataclass(frozen=True, slots=True)
class Part:
    """An attachment or inline part. ``content`` is the decoded payload; ``size`` is its length."""

    part_id: str
    filename: str
    content_type: str
    content_id: str
    disposition: str
    content: bytes = field(repr=False)

    @property
    def size(self) -> int:
        """Length of the decoded content in bytes."""
        return len(self.content)

    def checksums(self) -> dict[str, str]:
        """MD5, SHA1 and SHA256 of the decoded content, as Mailpit reports them."""
        return {
            "MD5": hashlib.md5(self.content, usedforsecurity=False).hexdigest(),
            "SHA1": hashlib.sha1(self.content, usedforsecurity=False).hexdigest(),
            "SHA256": hashlib.sha256(self.content).hexdigest(),
        }


@dataclass(frozen=True, slots=True)
class Summary:
    """What a message list needs, computed once per message and cached."""

    message_id: str
    subject: str
    from_: Address
    to: tuple[Address, ...]
    cc: tuple[Address, ...]
    bcc: tuple[Address, ...]
    reply_to: tuple[Address, ...]
    date: datetime
    attachment_count: int
    inline_count: int
    header_tags: tuple[str, ...]
    shown_as_raw: str = ""  # why the message is shown as raw (a parse limit, or a parser failure); "" for normal mail
    # The snippet of MIME mail is kept; plain text mail (most of it) keeps a reference to its raw bytes instead and
    # reads its snippet again when asked, which is cheap and saves a few hundred bytes per message.
    kept_snippet: str | None = field(default=None, repr=False, compare=False)
    raw: bytes = field(default=b"", repr=False, compare=False)
    quoted_printable: bool = field(default=False, repr=False, compare=False)

    @property
    def snippet(self) -> str:
        """The first 250 characters of the body text, whitespace collapsed."""
        if self.kept_snippet is not None:
            return self.kept_snippet
        # Only the body's start is read (and copied): a list of 10 MB plain messages costs what one of 2 KB does.
        return plain_snippet(plain_body(self.raw, _SNIPPET_SOURCE), self.quoted_printable)


@dataclass(frozen=True, slots=True)
class ParsedBody:
    """The expensive part of the parsed view: headers, bodies, parts and links."""

    headers: tuple[tuple[str, str], ...]
    text: str
    html: str
    attachments: tuple[Part, ...]
    inline: tuple[Part, ...]
    links: tuple[str, ...]
    shown_as_raw: str = ""  # as in Summary


class Message:
    """One captured message. Read-only: the store hands out the same object to every reader."""

    __slots__ = ("__weakref__", "_summary", "envelope", "id", "raw", "received_at", "seq", "smtp")

    def __init__(
        self,
        id: str,
        raw: bytes,
        envelope: Envelope,
        smtp: SmtpFacts,
        received_at: datetime,
        seq: int = 0,
        summary: Summary | None = None,
    ) -> None:
        """``summary``, when given, is this message's summary worked out beforehand (by :func:`summarise`, e.g. off
        the SMTP loop)."""
        object.__setattr__(self, "id", id)
        object.__setattr__(self, "raw", bytes(raw))
        object.__setattr__(self, "envelope", _shared(envelope))
        object.__setattr__(self, "smtp", _shared(smtp))
        object.__setattr__(self, "received_at", share_zone(received_at))
        object.__setattr__(self, "seq", seq)
        object.__setattr__(self, "_summary", summary)

    id: str
    raw: bytes
    envelope: Envelope
    smtp: SmtpFacts
    received_at: datetime
    seq: int
    _summary: Summary | None

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"Message is immutable (tried to set {name!r})")

    def __repr__(self) -> str:
        return f"<Message {self.id} from={self.envelope.sender!r} subject={self.subject!r}>"

    # -- the parsed views -------------------------------------------------------------------------------------

    @property
    def email(self) -> EmailMessage:
        """A fresh stdlib ``EmailMessage`` (``policy.default``); changing it does not change the stored mail.

        The stdlib object is not bounded: for a message :attr:`shown_as_raw`, reading it may raise."""
        return parse_raw(self.raw)

    @property
    def summary(self) -> Summary:
        """The list-level view (subject, addresses, snippet, counts), parsed once and cached."""
        cached = self._summary
        if cached is None:
            cached = _summarise(self)
            object.__setattr__(self, "_summary", cached)
        return cached

    @property
    def search_text(self) -> str:
        """Lower-cased text that a plain search word is matched against (addresses, subject, body, file names).

        Computed on each call, not kept: searches look words up in the store's index
        (:mod:`mailtrap_lite.search_index`) and read this text only to confirm a phrase.
        """
        return " ".join(search_words(self))

    @property
    def body(self) -> ParsedBody:
        """Headers, text, HTML, parts and links (parsed on demand, kept in a shared cache bounded in bytes)."""
        summary = self._summary  # its pre-scan already said whether the message is shown as raw
        return parse_body(self.raw, None if summary is None else summary.shown_as_raw)

    @property
    def shown_as_raw(self) -> str:
        """Why this message is shown as raw ("nested 900 deep, limit 100"); "" when it was parsed as usual."""
        return self.summary.shown_as_raw

    def forget_views(self) -> None:
        """Drop this message's full view from the parse cache (the store calls it when the message is deleted)."""
        _BODIES.forget(self.raw)

    # -- convenient names (what tests and templates read) -----------------------------------------------------

    @property
    def size(self) -> int:
        """Length of the raw message in bytes."""
        return len(self.raw)

    @property
    def subject(self) -> str:
        """The Subject header, RFC 2047 decoded."""
        return self.summary.subject

    @property
    def message_id(self) -> str:
        """The Message-ID header without angle brackets."""
        return self.summary.message_id

    @property
    def from_(self) -> Address:
        """The From header's first mailbox."""
        return self.summary.from_

    @property
    def to(self) -> tuple[Address, ...]:
        """The To header's mailboxes (the envelope recipients are ``envelope.recipients``)."""
        return self.summary.to

    @property
    def cc(self) -> tuple[Address, ...]:
        """The Cc header's mailboxes."""
        return self.summary.cc

    @property
    def bcc(self) -> tuple[Address, ...]:
        """Envelope recipients that appear in neither To nor Cc."""
        return self.summary.bcc

    @property
    def reply_to(self) -> tuple[Address, ...]:
        """The Reply-To header's mailboxes."""
        return self.summary.reply_to

    @property
    def date(self) -> datetime:
        """The Date header, or the time of receipt when it is missing or unreadable."""
        return self.summary.date

    @property
    def snippet(self) -> str:
        """The first 250 characters of the body text, whitespace collapsed."""
        return self.summary.snippet

    @property
    def headers(self) -> tuple[tuple[str, str], ...]:
        """All headers in order, as (name, decoded value) pairs; a name may repeat."""
        return self.body.headers

    @property
    def text(self) -> str:
        """The text/plain body ("" when there is none)."""
        return self.body.text

    @property
    def html(self) -> str:
        """The text/html body ("" when there is none)."""
        return self.body.html

    @property
    def attachments(self) -> tuple[Part, ...]:
        """Parts meant as attachments."""
        return self.body.attachments

    @property
    def inline(self) -> tuple[Part, ...]:
        """Inline parts (e.g. ``cid:`` images)."""
        return self.body.inline

    @property
    def links(self) -> tuple[str, ...]:
        """Every http(s) link in the text and HTML bodies, in order of appearance, without duplicates."""
        return self.body.links

    def header(self, name: str) -> list[str]:
        """Every value of header ``name`` (case-insensitive), in order."""
        wanted = name.lower()
        return [value for key, value in self.headers if key.lower() == wanted]

    def find(self, pattern: str | re.Pattern[str]) -> str | None:
        """The first match of ``pattern`` in the text body, else in the HTML's text (e.g. a one-time code).

        Returns the first group when the pattern has groups, else the whole match; None when nothing matches.
        """
        compiled = re.compile(pattern) if isinstance(pattern, str) else pattern
        for source in (self.text, html_to_text(self.html)):
            match = compiled.search(source)
            if match:
                return match.group(1) if compiled.groups else match.group(0)
        return None

    def part(self, part_id: str) -> Part | None:
        """The attachment or inline part with this MIME part id, if any."""
        for part in (*self.attachments, *self.inline):
            if part.part_id == part_id:
                return part
        return None


Predicate = Callable[[Message], bool]  # a test of one message: a search, a wait, a plugin assertion


# -- parsing ----------------------------------------------------------------------------------------------------


def parse_raw(raw: bytes) -> EmailMessage:
    """Parse raw bytes with ``policy.default``; the parser itself tolerates broken MIME."""
    return parse_bytes(raw)


def _header_str(msg: EmailMessage, name: str) -> str:
    """A header's decoded value, or its raw text when the structured parser gives up."""
    try:
        value = msg.get(name)
    except Exception:
        value = None
        for key, raw_value in msg.raw_items():
            if key.lower() == name.lower():
                value = raw_value
                break
    return "" if value is None else _clean(str(value))


def _clean(value: str) -> str:
    """Unfold a header value and drop characters that cannot be shown."""
    value = value.replace("\r", "").replace("\n", " ")
    return value.encode("utf-8", "replace").decode("utf-8")


def parse_addresses(value: str) -> tuple[Address, ...]:
    """Parse an address-list header value into Addresses; unparseable text becomes a name-only Address."""
    if not value.strip():
        return ()
    if len(value) <= _SHARED_VALUE_LENGTH:
        return _shared_addresses(value)
    return _parse_addresses(value)


# The same few From/To values recur across thousands of messages: cached summaries share one (immutable) tuple of
# Addresses per value instead of holding a copy each. Bounded, and only for short values.
_SHARED_VALUE_LENGTH = 256


@functools.lru_cache(maxsize=1024)
def _shared_addresses(value: str) -> tuple[Address, ...]:
    return _parse_addresses(value)


@functools.lru_cache(maxsize=1024)
def _shared_bcc(recipients: tuple[str, ...], to: tuple[Address, ...], cc: tuple[Address, ...]) -> tuple[Address, ...]:
    return _bcc_of(recipients, to, cc)


def _bcc_of(recipients: tuple[str, ...], to: tuple[Address, ...], cc: tuple[Address, ...]) -> tuple[Address, ...]:
    visible = {a.address.lower() for a in (*to, *cc)}
    return tuple(Address("", r) for r in recipients if r.lower() not in visible)


def _parse_addresses(value: str) -> tuple[Address, ...]:
    found: list[Address] = []
    for name, addr in getaddresses([value]):
        if not name and not addr:
            continue
        if addr and "@" not in addr and not name:
            found.append(_capped(Address(addr, "")))
            continue
        found.append(_capped(Address(sys.intern(name), sys.intern(addr))))  # the same few senders recur: one copy
    return tuple(found) or (_capped(Address(value, "")),)


def _parse_date(value: str, fallback: datetime) -> datetime:
    if not value:
        return fallback
    try:
        parsed = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return fallback
    if parsed is None:
        return fallback
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=fallback.tzinfo)
    return share_zone(parsed)


def _collapse(text: str) -> str:
    return " ".join(text.split())


def summary_is_quick(raw: bytes) -> bool:
    """Whether summarising ``raw`` takes a few milliseconds at most, so it may be left to whoever reads it first
    (the websocket frame is built on the SMTP loop): a message of at most 256 KiB, with a header block of at most
    4 KiB and at most 50 lines starting with ``--`` (an upper bound on its parts). Anything else is summarised with
    :func:`summarise` in a worker thread. The test itself costs a few C-level passes over at most 256 KiB."""
    if len(raw) > _QUICK_SUMMARY_BYTES or header_end(raw) > _QUICK_HEADER_BYTES:
        return False
    return len(_DASH_LINE_START.findall(raw)) <= _QUICK_SUMMARY_PARTS  # (the regex engine counts these fastest)


def summarise(raw: bytes, envelope: Envelope, received_at: datetime) -> Summary:
    """The summary of a message not stored yet, worked out now: the SMTP side calls it in a worker thread for mail
    whose summary may take a while, and hands the result to the store."""
    return _summarise(Message("", raw, envelope, SmtpFacts(), received_at))


def _summarise(message: Message) -> Summary:
    problem = scan(message.raw)
    if problem:
        return _raw_summary(message, problem)
    try:
        plain = read_plain(message.raw)
        if plain is not None:  # most mail: read without the full MIME parser, to the same result
            return _summary_of(message, plain.headers, 0, 0, None, plain.quoted_printable)
        body = _BODIES.get(message.raw) or _new_body(message.raw, "")  # serves the summary and the views after
        if body.shown_as_raw:
            return _raw_summary(message, body.shown_as_raw)
        text = body.text[:_SNIPPET_SOURCE] if body.text.strip() else html_to_text(body.html[:_SNIPPET_SOURCE])
        return _summary_of(message, body.headers, len(body.attachments), len(body.inline), _snippet(text))
    except Exception as error:  # RecursionError included: a parser failure shows the message raw, never raises out
        return _raw_summary(message, _failure(error))


def _failure(error: Exception) -> str:
    return f"could not be parsed ({type(error).__name__})"


def _raw_summary(message: Message, problem: str) -> Summary:
    """The summary of a message shown as raw: its headers read line by line, its snippet from its source."""
    headers = read_raw_headers(message.raw)
    start = header_end(message.raw)
    text = message.raw[start : start + _SNIPPET_SOURCE].decode("utf-8", "replace")
    return _summary_of(message, headers, 0, 0, _snippet(text), shown_as_raw=problem)


def _summary_of(
    message: Message,
    headers: tuple[tuple[str, str], ...],
    attachment_count: int,
    inline_count: int,
    snippet: str | None,
    quoted_printable: bool = False,
    shown_as_raw: str = "",
) -> Summary:
    first: dict[str, str] = {}
    tags_values = []
    for key, value in headers:
        name = key.lower()
        first.setdefault(name, value)
        if name == "x-tags":
            tags_values.append(value)
    parse = _parse_raw_addresses if shown_as_raw else parse_addresses
    to = parse(first.get("to", ""))
    cc = parse(first.get("cc", ""))
    recipients = message.envelope.recipients
    small = type(recipients) is tuple and len(recipients) <= 8 and len(to) + len(cc) <= 8  # hashable and short
    bcc = _shared_bcc(recipients, to, cc) if small else _bcc_of(recipients, to, cc)
    from_list = parse(first.get("from", ""))
    tags_header = ",".join(tags_values)
    return Summary(
        message_id=cap_text(first.get("message-id", "").strip().strip("<>")),
        subject=cap_text(first.get("subject", "")),
        from_=from_list[0] if from_list else Address("", ""),
        to=to,
        cc=cc,
        bcc=bcc,
        reply_to=parse(first.get("reply-to", "")),
        date=_parse_date(first.get("date", ""), message.received_at),
        attachment_count=attachment_count,
        inline_count=inline_count,
        header_tags=tuple(t.strip() for t in tags_header.split(",") if t.strip()),
        shown_as_raw=shown_as_raw,
        kept_snippet=snippet,
        raw=message.raw if snippet is None else b"",
        quoted_printable=quoted_printable,
    )


def _capped(address: Address) -> Address:
    if len(address.name) <= MAX_SUMMARY_TEXT and len(address.address) <= MAX_SUMMARY_TEXT:
        return address
    return Address(cap_text(address.name), cap_text(address.address))


def _parse_raw_addresses(value: str) -> tuple[Address, ...]:
    """The addresses of a raw-shown message's header (already cut short): parsed when its comments nest within
    the limit, else the whole value as a name."""
    if comment_nesting(value.encode("utf-8", "replace")) > MAX_COMMENT_NESTING:
        return (Address(value, ""),) if value.strip() else ()
    return parse_addresses(value)


def _snippet(text: str) -> str:
    return _collapse(text)[:_SNIPPET_LENGTH]


def plain_snippet(body: bytes, quoted_printable: bool) -> str:
    """The snippet of a plain text body, decoding only as much of its start as 250 characters need."""
    size = 512
    while size < _SNIPPET_SOURCE:
        start = body_start(body, size)
        if start is None:
            break
        text = decode_body(start, quoted_printable)
        words = text.split()
        if words and not text[-1].isspace():
            words.pop()  # the cut may have split this word, even one of its characters (a soft line break)
        collapsed = " ".join(words)
        if len(collapsed) >= _SNIPPET_LENGTH:
            return collapsed[:_SNIPPET_LENGTH]
        size *= 4
    return _snippet(decode_body(body, quoted_printable)[:_SNIPPET_SOURCE])


def search_words(message: Message) -> Iterator[str]:
    """The words of a message's search text, in order: lower-cased, split on whitespace (a piece of the text at a
    time, so that a huge message's words are never listed all at once).

    Addresses, subject, body text (the HTML's text when there is HTML) and attachment names; the search text is
    these words joined by single spaces (a list of every word of a 23 MiB message shown as raw held 200 MiB).
    """
    summary = message.summary
    if summary.kept_snippet is None:  # plain text mail: its summary read it already and kept how it is encoded
        content, names = decode_body(plain_body(message.raw), summary.quoted_printable), ""
    else:
        body = message.body
        content = html_to_text(body.html) if body.html else body.text
        names = " ".join(p.filename for p in (*body.attachments, *body.inline))
    addresses = " ".join(str(a) for a in (summary.from_, *summary.to, *summary.cc, *summary.bcc, *summary.reply_to))
    text = f"{addresses} {summary.subject} {content} {names}"
    for piece in whitespace_pieces(text):
        yield from piece.lower().split()


def _walk(part: EmailMessage, path: str, depth: int = 0) -> Iterator[tuple[str, EmailMessage]]:
    """Yield (part id, leaf part) in enmime's dotted numbering: children of the root are 1, 2, ...; theirs 1.1."""
    if depth > 100:
        return
    if part.is_multipart():
        payload = part.get_payload()
        if isinstance(payload, list):
            for index, child in enumerate(payload, start=1):
                if isinstance(child, EmailMessage):
                    child_path = f"{path}.{index}" if path else str(index)
                    yield from _walk(child, child_path, depth + 1)
        return
    yield (path or "0", part)


def _decoded(part: EmailMessage) -> bytes:
    try:
        payload = decoded_payload(part)
    except Exception:
        payload = None
    if isinstance(payload, bytes):
        return payload
    raw = part.get_payload()
    return raw.encode("utf-8", "surrogateescape") if isinstance(raw, str) else b""


def _text_of(part: EmailMessage) -> str:
    data = _decoded(part)
    charset = part.get_content_charset() or "utf-8"
    try:
        return decoded_text(data, charset)
    except (LookupError, ValueError):  # an unknown charset, or a name Python refuses (e.g. one with a NUL)
        return decoded_text(data)


def _disposition(part: EmailMessage) -> str:
    try:
        return (part.get_content_disposition() or "").lower()
    except Exception:
        return ""


def _filename(part: EmailMessage) -> str:
    try:
        return _clean(part.get_filename() or "")
    except Exception:
        return ""


def _content_size(body: ParsedBody) -> int:
    """Roughly the bytes a parsed view holds beyond its source: its texts and decoded parts."""
    texts = len(body.text) + len(body.html) + sum(len(n) + len(v) for n, v in body.headers)
    return texts + sum(p.size for p in (*body.attachments, *body.inline))


_BODIES: ViewCache[ParsedBody] = ViewCache(PARSE_CACHE_BYTES, _content_size)
_ONE_AT_A_TIME_BYTES = 1024 * 1024
_LARGE_PARSE = threading.Lock()


def parse_cache_bytes() -> int:
    """How many bytes (sources and parsed content) the parse cache holds now; at most ``PARSE_CACHE_BYTES``."""
    return _BODIES.held


def parse_body(raw: bytes, problem: str | None = None) -> ParsedBody:
    """The full view of a message (headers, bodies, parts, links), parsed once and kept in the shared cache.

    A message past a parse limit, or one the stdlib parser fails on, gets its raw view instead; nothing raises.
    ``problem`` is what the pre-scan found when the caller knows it already ("" for none); else it runs here.
    """
    cached = _BODIES.get(raw)
    if cached is not None:
        return cached
    return _new_body(raw, scan(raw) if problem is None else problem)


def _new_body(raw: bytes, problem: str) -> ParsedBody:
    """Parse ``raw`` (or show it raw when the pre-scan found ``problem``) and keep the result in the cache.

    Messages of ``_ONE_AT_A_TIME_BYTES`` or more are parsed one at a time: parsing holds several times a message's
    size for a moment, and readers that open the same large message at once wait for the first parse and take its
    view instead of parsing it again side by side (what made the soak's peak several hundred MiB).
    """
    if len(raw) < _ONE_AT_A_TIME_BYTES:
        return _parse_and_keep(raw, problem)
    with _LARGE_PARSE:
        cached = _BODIES.get(raw)
        return cached if cached is not None else _parse_and_keep(raw, problem)


def _parse_and_keep(raw: bytes, problem: str) -> ParsedBody:
    try:
        body = _raw_body(raw, problem) if problem else _parse_body(raw)
    except Exception as error:  # RecursionError included
        body = _raw_body(raw, _failure(error))
    _BODIES.put(raw, body)
    return body


def _raw_body(raw: bytes, problem: str) -> ParsedBody:
    """The view of a message shown as raw: its headers read line by line, its whole source as its text."""
    return ParsedBody(
        headers=read_raw_headers(raw),
        text=decoded_text(raw),
        html="",
        attachments=(),
        inline=(),
        links=(),
        shown_as_raw=problem,
    )


def _parse_body(raw: bytes) -> ParsedBody:
    """Parse bodies and parts with the stdlib parser (only for mail within the parse limits)."""
    msg = parse_raw(raw)
    decoded_headers = tuple((name, _decode_header(msg, name, value)) for name, value in msg.raw_items())
    text = html = ""
    attachments: list[Part] = []
    inline: list[Part] = []
    for part_id, part in _walk(msg, ""):
        content_type = part.get_content_type()
        disposition = _disposition(part)
        filename = _filename(part)
        content_id = _header_str(part, "Content-ID").strip().strip("<>")
        is_body = disposition != "attachment" and not filename
        if is_body and content_type == "text/plain" and not text:
            text = _text_of(part)
            continue
        if is_body and content_type == "text/html" and not html:
            html = _text_of(part)
            continue
        if not filename and not content_id and disposition != "attachment":
            continue
        item = Part(part_id, filename or content_id, content_type, content_id, disposition, _decoded(part))
        if disposition == "attachment":
            attachments.append(item)
        else:
            inline.append(item)
    return ParsedBody(
        headers=decoded_headers,
        text=text,
        html=html,
        attachments=tuple(attachments),
        inline=tuple(inline),
        links=_find_links(text, html),
    )


def _decode_header(msg: EmailMessage, name: str, raw_value: str) -> str:
    """RFC 2047-decode one header value; garbage that the policy cannot parse is shown as received."""
    try:
        return _clean(str(msg.policy.header_fetch_parse(name, raw_value)))
    except Exception:
        return _clean(raw_value)


def _find_links(text: str, html: str) -> tuple[str, ...]:
    found: dict[str, None] = {}
    for match in _HREF_RE.finditer(html):
        url = html_module.unescape(match.group(1))
        if url.lower().startswith(("http://", "https://")):
            found.setdefault(url, None)
    for piece in whitespace_pieces(text):  # (a link has no whitespace in it)
        for match in _LINK_RE.finditer(piece):
            found.setdefault(match.group(0).rstrip(_TRAILING_PUNCTUATION), None)
    return tuple(found)

