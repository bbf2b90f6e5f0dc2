"""Timestamps as Mailpit writes them (Go's RFC3339Nano) and a reader for them that works on Python 3.10 too."""

from __future__ import annotations

import re
from datetime import datetime

_FRACTION_RE = re.compile(r"\.(\d+)")


def format_timestamp(moment: datetime | None) -> str | None:
    """RFC 3339 like Go's RFC3339Nano: trailing fractional zeros trimmed, ``Z`` for UTC, else the offset."""
    if moment is None:
        return None
    if moment.tzinfo is None:
        moment = moment.astimezone()
    text = moment.isoformat()  # YYYY-MM-DDTHH:MM:SS[.ffffff]+HH:MM[:SS[.ffffff]]
    clock, rest = text[:19], text[19:]
    fraction = ""
    if rest[:1] == ".":
        fraction, rest = rest[:7].rstrip("0").rstrip("."), rest[7:]
    offset = rest[:6]
    return clock + fraction + ("Z" if offset in ("+00:00", "-00:00") else offset)


def parse_timestamp(text: str) -> datetime:
    """Read an ISO 8601 / RFC 3339 time, including ``Z`` and 1-9 fractional digits (Python 3.10's
    ``fromisoformat`` takes neither). Raises ValueError when it is not one."""
    normalised = text.strip()
    if normalised[-1:] in ("Z", "z"):
        normalised = normalised[:-1] + "+00:00"
    normalised = _FRACTION_RE.sub(lambda m: "." + (m.group(1) + "000000")[:6], normalised, count=1)
    return datetime.fromisoformat(normalised)
