"""The search syntax (Mailpit's): one parser and one matcher for every place that picks messages by a query.

``parse_query('from:alice subject:"weekly report" -is:read has:attachment')`` gives a :class:`Query`; its
:meth:`Query.predicate` turns it into a plain ``Message -> bool`` function for the store, given something that
knows each message's read flag and tags (the store itself). The API's list, search, search-delete and
read-marking, ``latest?query=``, the long-poll wait and the pytest plugin's remote mode all go through here.

Tokens are split on spaces except inside double quotes, then the quotes are dropped; all tokens must match (AND).
A leading ``-`` or ``!`` negates a token. Matching is a case-insensitive substring test, as in Mailpit. Unlike
Mailpit, a filter we do not know (``foo:bar``) or a value we cannot read (``larger:huge``) is an error that says
what is wrong, not a silent full-text search; quote the token to search for it as text.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, tzinfo
from decimal import Decimal
from typing import Protocol
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from mailtrap_lite.errors import MailtrapError
from mailtrap_lite.message import Address, Message, Predicate
from mailtrap_lite.timestamps import parse_timestamp

_SIZE_RE = re.compile(r"^(\d+(?:\.\d+)?)\s*(k|kb|m|mb)?$", re.IGNORECASE | re.ASCII)
_SIZE_UNITS = {"": 1, "k": 1024, "kb": 1024, "m": 1024 * 1024, "mb": 1024 * 1024}
MAX_SIZE = 2**63 - 1  # bytes; Mailpit's sizes are Go int64s
_US_DATE_RE = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})$")
_PREFIX_RE = re.compile(r"^([a-z][a-z-]*):", re.IGNORECASE)
_MAX_QUERY_LENGTH = 4096


class QueryError(MailtrapError, ValueError):
    """A search query that cannot be understood; the message says which token and why."""


class MessageFlags(Protocol):
    """What a query needs beyond the message itself: its read flag, its tags, and a way to look words up (the
    store provides all three)."""

    def is_read(self, message_id: str) -> bool:
        """Whether the message has been read."""
        ...

    def tags_of(self, message_id: str) -> tuple[str, ...]:
        """The message's tags."""
        ...

    def text_predicate(self, value: str) -> Predicate:
        """A test of whether ``value`` occurs in the search text of one of the store's messages (answered from its
        word index, which knows messages by their sequence numbers)."""
        ...


@dataclass(frozen=True)
class Term:
    """One token of a query: ``field`` is ``text`` for plain words and phrases, else the filter name."""

    field: str
    value: str
    negated: bool = False


# Cheapest first: a predicate checks these before it touches anything that needs the message parsed.
_COST = {
    "is": 0, "tag": 0, "larger": 0, "smaller": 0, "after": 0, "before": 0,
    "from": 1, "to": 1, "cc": 1, "bcc": 1, "reply-to": 1, "addressed": 1, "subject": 1, "message-id": 1,
    "has": 1, "text": 2,
}
_IS_VALUES = ("read", "unread", "tagged")
_HAS_VALUES = {"attachment": "attachment", "attachments": "attachment", "inline": "inline", "inlines": "inline"}


@dataclass(frozen=True)
class Query:
    """A parsed query: every term must match. An empty query matches everything."""

    terms: tuple[Term, ...]
    tz: tzinfo | None = None

    def __bool__(self) -> bool:
        return bool(self.terms)

    def predicate(self, flags: MessageFlags) -> Predicate:
        """A ``Message -> bool`` function for this query; ``flags`` answers read state and tags."""
        checks = [_check(term, flags) for term in sorted(self.terms, key=lambda t: _COST[t.field])]
        if len(checks) == 1:
            return checks[0]  # the common case, without a layer of calls per message

        def matches(message: Message) -> bool:
            return all(check(message) for check in checks)

        return matches

    def matches(self, message: Message, flags: MessageFlags) -> bool:
        """Whether one message matches (for many messages build :meth:`predicate` once instead)."""
        return self.predicate(flags)(message)


def parse_query(text: str, tz: str | tzinfo | None = None) -> Query:
    """Parse Mailpit's search syntax. ``tz`` (an IANA name such as ``Europe/Paris``) is the zone of dates in
    ``after:``/``before:``; the server's local zone otherwise. Raises :class:`QueryError` on bad input."""
    if len(text) > _MAX_QUERY_LENGTH:
        raise QueryError(f"search query is longer than {_MAX_QUERY_LENGTH} characters")
    zone = _zone(tz)
    terms = tuple(_term(token, quoted, zone) for token, quoted in _tokens(text))
    return Query(terms, zone)


def _zone(tz: str | tzinfo | None) -> tzinfo | None:
    if tz is None or isinstance(tz, tzinfo):
        return tz
    if not tz.strip():
        return None
    try:
        return ZoneInfo(tz.strip())
    except (ZoneInfoNotFoundError, ValueError):
        raise QueryError(f"unknown time zone: {tz!r}") from None


def _tokens(text: str) -> Iterator[tuple[str, bool]]:
    """Split on whitespace outside double quotes, drop the quotes; yields (token, whether it began quoted)."""
    token: list[str] = []
    quoted = in_quotes = False
    for char in text:
        if char == '"':
            quoted = quoted or not token or token == ["-"] or token == ["!"]  # "..." or -"..." as a whole
            in_quotes = not in_quotes
        elif char.isspace() and not in_quotes:
            if token:
                yield "".join(token), quoted
            token, quoted = [], False
        else:
            token.append(char)
    if token:
        yield "".join(token), quoted


def _term(token: str, quoted: bool, zone: tzinfo | None) -> Term:
    negated = len(token) > 1 and token[0] in "-!"
    if negated:
        token = token[1:]
    match = None if quoted else _PREFIX_RE.match(token)
    if match is None:
        return Term("text", " ".join(token.lower().split()), negated)
    field, value = match.group(1).lower(), token[match.end():]
    if field not in _COST or field == "text":
        raise QueryError(f"unknown search filter {field + ':'!r} (put the word in quotes to search for it as text)")
    if not value.strip():
        raise QueryError(f"search filter {field + ':'!r} needs a value")
    return Term(field, _normalise(field, value, zone), negated)


def _normalise(field: str, value: str, zone: tzinfo | None) -> str:
    """Check a filter's value now, so a bad query fails when parsed, never while matching."""
    value = value.strip()
    if field == "is" and value.lower() not in _IS_VALUES:
        raise QueryError(f"is:{value} is not a filter; use is:read, is:unread or is:tagged")
    if field == "has" and value.lower() not in _HAS_VALUES:
        raise QueryError(f"has:{value} is not a filter; use has:attachment or has:inline")
    if field in ("larger", "smaller"):
        return str(parse_size(value))
    if field in ("after", "before"):
        return parse_date(value, zone).isoformat()
    if field == "has":
        return _HAS_VALUES[value.lower()]
    if field in ("is", "subject", "message-id", "from", "to", "cc", "bcc", "reply-to", "addressed"):
        return value.lower()
    return value


def parse_size(value: str) -> int:
    """``2M``, ``1.5MB``, ``500k``, ``1024`` into bytes, exactly (no float rounding). Raises QueryError for
    anything else, including sizes over :data:`MAX_SIZE`."""
    match = _SIZE_RE.match(value.strip())
    if match is None:
        raise QueryError(f"cannot read size {value!r}; use bytes or a K/KB/M/MB suffix, e.g. 2M")
    number, unit = match.group(1), _SIZE_UNITS[(match.group(2) or "").lower()]
    if len(number.partition(".")[0]) > len(str(MAX_SIZE)):  # too long to be in range; spare the arithmetic
        raise QueryError(f"size {value[:40]!r} is too large; the largest is {MAX_SIZE} bytes")
    size = int(Decimal(number) * unit)
    if size > MAX_SIZE:
        raise QueryError(f"size {value[:40]!r} is too large; the largest is {MAX_SIZE} bytes")
    return size


def parse_date(value: str, zone: tzinfo | None = None) -> datetime:
    """A date or date-time: ISO 8601 (``2024-01-31``, ``2024-01-31T10:00:00+01:00``), US ``01/31/2024`` or a Unix
    timestamp. Dates without a zone are read in ``zone`` (the server's local zone when None)."""
    try:
        return _read_date(value.strip(), zone)
    except (ValueError, OverflowError, OSError):
        raise QueryError(f"cannot read date {value!r}; use e.g. 2024-01-31 or 2024-01-31T10:00:00") from None


def _read_date(text: str, zone: tzinfo | None) -> datetime:
    us_date = _US_DATE_RE.match(text)
    if us_date:
        month, day, year = (int(part) for part in us_date.groups())
        parsed = datetime.combine(date(year, month, day), time())
    elif text.isdigit() and len(text) >= 9:
        return datetime.fromtimestamp(int(text)).astimezone(zone)
    else:
        parsed = parse_timestamp(text)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=zone) if zone is not None else parsed.astimezone()
    return parsed


def _addresses(message: Message, field: str) -> tuple[Address, ...]:
    summary = message.summary
    if field == "from":
        return (summary.from_,)
    if field == "to":
        return summary.to
    if field == "cc":
        return summary.cc
    if field == "bcc":
        return summary.bcc
    if field == "reply-to":
        return summary.reply_to
    return (summary.from_, *summary.to, *summary.cc, *summary.bcc, *summary.reply_to)


def _positive_check(term: Term, flags: MessageFlags) -> Predicate:
    """The un-negated test for one term."""
    field, value = term.field, term.value
    if field == "text":
        return flags.text_predicate(value)
    if field in ("from", "to", "cc", "bcc", "reply-to", "addressed"):
        return lambda m: any(value in a.name.lower() or value in a.address.lower() for a in _addresses(m, field))
    if field == "subject":
        return lambda m: value in m.subject.lower()
    if field == "message-id":
        return lambda m: value in m.message_id.lower()
    if field == "tag":
        wanted = value.lower()
        return lambda m: any(t.lower() == wanted for t in flags.tags_of(m.id))
    if field == "is":
        if value == "tagged":
            return lambda m: bool(flags.tags_of(m.id))
        want_read = value == "read"
        return lambda m: flags.is_read(m.id) == want_read
    if field == "has":
        if value == "attachment":
            return lambda m: m.summary.attachment_count > 0
        return lambda m: m.summary.inline_count > 0
    if field in ("larger", "smaller"):
        limit = int(value)
        return (lambda m: m.size > limit) if field == "larger" else (lambda m: m.size < limit)
    moment = datetime.fromisoformat(value)
    if field == "after":
        return lambda m: m.received_at >= moment
    return lambda m: m.received_at <= moment


def _check(term: Term, flags: MessageFlags) -> Predicate:
    positive = _positive_check(term, flags)
    if not term.negated:
        return positive
    return lambda m: not positive(m)
