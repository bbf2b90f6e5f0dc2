"""Which ``Host`` header values the HTTP side answers: the defence against DNS rebinding.

A web page cannot make a browser send a foreign ``Host``: after a rebinding attack (``evil.example`` re-resolved to
127.0.0.1) the browser still sends ``Host: evil.example``. So a server that answers only the names it is really
reached by cannot be driven by such a page. The rule, as Mailpit's ``--allowed-hosts`` (v1.31.1):

- loopback names (``localhost``, ``*.localhost`` per RFC 6761) and IP literals (``127.0.0.1``, ``[::1]``,
  ``192.168.1.5``) are always allowed, with any port: no DNS is involved, so no attacker can choose them;
- ``--allowed-hosts`` adds names: ``mail.test``, ``mail.test:8025`` (that port only), ``*.dev.example`` (its
  subdomains) or ``*`` (any name);
- bound to loopback, nothing else is allowed. Bound to another address without ``--allowed-hosts``, any name is
  allowed (containers and proxies reach the server by names it cannot know), and the server warns at start-up.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

_HOST_CHARS = re.compile(r"[a-z0-9._\-]+(:[0-9]*)?|\[[0-9a-f:.]+\](:[0-9]*)?", re.ASCII)
_ANY = "*"


@dataclass(frozen=True)
class HostName:
    """A parsed ``host[:port]``: ``name`` lower-case without a trailing dot (IPv6 without brackets)."""

    name: str
    port: int | None

    @property
    def is_ip(self) -> bool:
        """True for an IP literal (``127.0.0.1``, ``::1``)."""
        try:
            ipaddress.ip_address(self.name)
        except ValueError:
            return False
        return True

    @property
    def is_loopback_name(self) -> bool:
        """``localhost`` or a name under it: browsers resolve these to loopback themselves (RFC 6761)."""
        return self.name == "localhost" or self.name.endswith(".localhost")


def parse_host(value: str) -> HostName | None:
    """Read a ``Host`` header value (``name``, ``name:port``, ``[v6]:port``); None when it is not one."""
    text = value.strip().lower()
    if not _HOST_CHARS.fullmatch(text):
        return None
    try:
        parts = urlsplit("//" + text)
        name, port = parts.hostname, parts.port
    except ValueError:  # a bad IPv6 literal or a port out of range
        return None
    if not name:
        return None
    return HostName(name.removesuffix("."), port)


def is_loopback_address(host: str) -> bool:
    """True when listening on ``host`` reaches this machine only (``0.0.0.0`` and ``::`` mean every address)."""
    if host.lower() in ("localhost", "localhost."):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False  # a host name: assume others can resolve it too


class HostPolicy:
    """The names one HTTP listener answers to. ``entries`` are ``--allowed-hosts`` values; ValueError names a bad
    one."""

    def __init__(self, bind_host: str, entries: Sequence[str] = ()) -> None:
        self.entries = tuple(_entry(text) for text in entries)
        self.any_host = any(entry.name == _ANY for entry in self.entries) or (
            not self.entries and not is_loopback_address(bind_host)
        )
        bound = parse_host(bind_host if ":" not in bind_host else f"[{bind_host}]")
        if bound is not None and not bound.is_ip and not self.any_host:
            self.entries += (HostName(bound.name, None),)  # --http mail.test:8025 is reached as mail.test

    def allows(self, header: str | None) -> bool:
        """Whether a request with this ``Host`` header is answered (no header at all: an HTTP/1.0 client, which
        is never a browser, so yes)."""
        if header is None or self.any_host:
            return True
        host = parse_host(header)
        if host is None:
            return False
        return host.is_ip or host.is_loopback_name or any(_matches(entry, host) for entry in self.entries)


def _entry(text: str) -> HostName:
    """One ``--allowed-hosts`` value: a name with an optional port, ``*.domain`` or ``*``."""
    stripped = text.strip()
    if stripped == _ANY:
        return HostName(_ANY, None)
    wildcard = stripped.startswith("*.")
    host = parse_host(stripped[2:] if wildcard else stripped)
    if host is None:
        raise ValueError(f"{stripped!r} is not a host name (give names such as mail.test or mail.test:8025)")
    return HostName("*." + host.name if wildcard else host.name, host.port)


def _matches(entry: HostName, host: HostName) -> bool:
    if entry.port is not None and entry.port != host.port:
        return False
    if entry.name.startswith("*."):
        return host.name.endswith(entry.name[1:])
    return entry.name == host.name
