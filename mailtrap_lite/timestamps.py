"""Timestamps as Mailpit writes them (Go's RFC3339Nano), a reader for them that works on Python 3.10 too, and one
shared zone object per UTC offset for the many timestamps the server keeps."""

from __future__ import annotations

import re
import time
from datetime import datetime, timedelta, timezone

_FRACTION_RE = re.compile(r"\.(\d+)")
_ZONES: dict[tuple[timedelta | None, str | None], timezone] = {}
_LOCAL_ZONES: dict[tuple[int, str], timezone] = {}  # the same zones, by what time.localtime() reports


def share_zone(when: datetime) -> datetime:
    """``when`` with one fixed-offset zone shared by every datetime of the same offset and zone name.

    ``datetime.now().astimezone()`` and ``parsedate_to_datetime`` make a new zone object (and name string) per call,
    so thousands of stored timestamps would each carry their own. Other kinds of tzinfo are left alone.
    """
    zone = when.tzinfo
    if type(zone) is not timezone:
        return when
    shared = _ZONES.setdefault((when.utcoffset(), when.tzname()), zone)
    return when if shared is zone else when.replace(tzinfo=shared)


def local_time(epoch: float | None = None) -> datetime:
    """The moment ``epoch`` (default now) in the local zone, with the shared zone object for its offset.

    The same as ``share_zone(datetime.fromtimestamp(epoch).astimezone())`` at about a third of the cost: the server
    stamps every session and message, several times per connection."""
    if epoch is None:
        epoch = time.time()
    local = time.localtime(epoch)
    zone = _LOCAL_ZONES.get((local.tm_gmtoff, local.tm_zone))
    if zone is None:
        offset = timedelta(seconds=local.tm_gmtoff)
        zone = _ZONES.setdefault((offset, local.tm_zone), timezone(offset, local.tm_zone))
        _LOCAL_ZONES[local.tm_gmtoff, local.tm_zone] = zone
    return datetime.fromtimestamp(epoch, zone)


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
