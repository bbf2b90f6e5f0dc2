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
    fraction = f"{moment.microsecond:06d}".rstrip("0")
    offset = moment.strftime("%z")
    zone = "Z" if offset in ("+0000", "-0000") else f"{offset[:3]}:{offset[3:5]}"
    return moment.strftime("%Y-%m-%dT%H:%M:%S") + (f".{fraction}" if fraction else "") + zone


def parse_timestamp(text: str) -> datetime:
    """Read an ISO 8601 / RFC 3339 time, including ``Z`` and 1-9 fractional digits (Python 3.10's
    ``fromisoformat`` takes neither). Raises ValueError when it is not one."""
    normalised = text.strip()
    if normalised[-1:] in ("Z", "z"):
        normalised = normalised[:-1] + "+00:00"
    normalised = _FRACTION_RE.sub(lambda m: "." + (m.group(1) + "000000")[:6], normalised, count=1)
    return datetime.fromisoformat(normalised)
