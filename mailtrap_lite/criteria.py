"""Criteria for picking captured mail: ``to="bob@example.com", subject=re.compile("Welcome")``.

Each keyword names one field of a message. A value is a string (exact and case-insensitive for addresses, tags
and attachment names; a case-sensitive substring for text such as the subject or the body), a compiled regex
(searched), or a predicate called with the field's value. ``to`` means the envelope recipients (so Bcc counts);
``msg.to`` stays the To header. A criterion that fails explains itself as expected versus actual, which is what
the failure report prints.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from mailtrap_lite.message import Address, Message

Tags = tuple[str, ...]
TagLookup = Callable[[Message], Tags]


@dataclass(frozen=True)
class Mismatch:
    """One field that did not match: its name, what was expected and what the message had."""

    field: str
    expected: str
    actual: str


def _show(value: Any) -> str:
    """A short, unambiguous rendering of an expected or actual value."""
    if isinstance(value, re.Pattern):
        flags = "i" if value.flags & re.IGNORECASE else ""
        return f"/{value.pattern}/{flags}"
    if callable(value):
        return f"<predicate {getattr(value, '__name__', type(value).__name__)}>"
    if isinstance(value, str):
        shown = value if len(value) <= 80 else value[:77] + "..."
        return repr(shown)
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_show(v) for v in value) + "]"
    return repr(value)


def _exact(expected: str, actual: str) -> bool:
    return expected.strip().lower() == actual.strip().lower()


def _substring(expected: str, actual: str) -> bool:
    return expected in actual


@dataclass(frozen=True)
class _Field:
    """How one criterion reads a message and compares a plain string with what it read."""

    read: Callable[[Message, Tags], Any]
    compare_str: Callable[[str, str], bool]
    many: bool = False  # the field holds several values; any one matching is enough


def _addresses(values: Iterable[Address]) -> list[str]:
    return [value.address for value in values]


FIELDS: Mapping[str, _Field] = {
    "to": _Field(lambda m, t: list(m.envelope.recipients), _exact, many=True),
    "cc": _Field(lambda m, t: _addresses(m.cc), _exact, many=True),
    "bcc": _Field(lambda m, t: _addresses(m.bcc), _exact, many=True),
    "from_": _Field(lambda m, t: m.from_.address or m.envelope.sender, _exact),
    "subject": _Field(lambda m, t: m.subject, _substring),
    "text": _Field(lambda m, t: m.text, _substring),
    "html": _Field(lambda m, t: m.html, _substring),
    "body": _Field(lambda m, t: [m.text, m.html], _substring, many=True),
    "attachment_name": _Field(lambda m, t: [p.filename for p in m.attachments], _exact, many=True),
    "tag": _Field(lambda m, t: list(t), _exact, many=True),
}


class Criterion:
    """One ``name=value`` condition on a message."""

    def __init__(self, name: str, expected: Any) -> None:
        self.name = name
        self.expected = expected

    def __repr__(self) -> str:
        if self.name == "header":
            header_name, wanted = self.expected
            return f"header {header_name}={_show(wanted)}"
        return f"{self.name}={_show(self.expected)}"

    def check(self, message: Message, tags: Tags) -> Mismatch | None:
        """None when the message satisfies this criterion, else what differed."""
        if self.name == "has_attachment":
            actual_count = len(message.attachments)
            if bool(actual_count) == bool(self.expected):
                return None
            return Mismatch(self.name, repr(bool(self.expected)), f"{actual_count} attachment(s)")
        if self.name == "header":
            header_name, wanted = self.expected
            values = message.header(header_name)
            if any(_value_matches(wanted, v, _exact) for v in values):
                return None
            return Mismatch(f"header {header_name}", _show(wanted), _show(values) if values else "(no such header)")
        field = FIELDS[self.name]
        actual = field.read(message, tags)
        candidates = actual if field.many else [actual]
        if any(_value_matches(self.expected, v, field.compare_str) for v in candidates):
            return None
        return Mismatch(self.name, _show(self.expected), _show(actual))


def _value_matches(expected: Any, actual: str, compare_str: Callable[[str, str], bool]) -> bool:
    if isinstance(expected, re.Pattern):
        return expected.search(actual) is not None
    if isinstance(expected, str):
        return compare_str(expected, actual)
    return bool(expected(actual))


KNOWN = (*FIELDS, "has_attachment", "header")


class Criteria:
    """Criteria combined with AND; no criteria at all matches every message."""

    def __init__(self, **criteria: Any) -> None:
        unknown = sorted(set(criteria) - set(KNOWN))
        if unknown:
            raise TypeError(f"unknown mail criterion {', '.join(unknown)}; known criteria: {', '.join(KNOWN)}")
        for name, value in criteria.items():
            if name == "header":
                if not (isinstance(value, tuple) and len(value) == 2 and isinstance(value[0], str)):
                    raise TypeError("header= takes a (name, value) pair, e.g. header=('X-Priority', '1')")
                value = value[1]
            if name != "has_attachment" and not (isinstance(value, (str, re.Pattern)) or callable(value)):
                raise TypeError(f"{name}= must be a str, a compiled regex or a predicate, not {type(value).__name__}")
        self.items = tuple(Criterion(name, value) for name, value in criteria.items())

    def __repr__(self) -> str:
        return ", ".join(repr(c) for c in self.items) or "(any message)"

    def __bool__(self) -> bool:
        return bool(self.items)

    def mismatches(self, message: Message, tags: Tags = ()) -> list[Mismatch]:
        """Every criterion the message fails, in the order they were given (empty = a match)."""
        return [m for m in (c.check(message, tags) for c in self.items) if m is not None]

    def matches(self, message: Message, tags: Tags = ()) -> bool:
        """True when the message satisfies every criterion."""
        return all(c.check(message, tags) is None for c in self.items)
