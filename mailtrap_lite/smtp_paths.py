"""MAIL FROM and RCPT TO arguments in their everyday form, read without the RFC 5322 header parser.

aiosmtpd reads every path with the stdlib's header parser (and defines a ``typing.Protocol`` class on each call),
about 0.1 ms per command: more than everything else a MAIL or RCPT costs. Nearly every client sends
``FROM:<local@domain>``, perhaps followed by ``SIZE=``, ``BODY=`` or ``SMTPUTF8``. For exactly that form these
functions give the address and options aiosmtpd would; for anything else (quoted local parts, comments, address
literals, unknown or malformed parameters) they give None and the command goes to aiosmtpd's own code, so unusual
input still gets aiosmtpd's answers.
"""

from __future__ import annotations

import re

_ATOM = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"
_DOT_ATOM = rf"{_ATOM}(?:\.{_ATOM})*"
_PATH = re.compile(rf"<({_DOT_ATOM}@{_DOT_ATOM})>(?:[ \t]+(.*))?", re.ASCII)
_BODY_TYPES = ("7BIT", "8BITMIME")


def read_path(arg: str | None, keyword: str) -> tuple[str, str] | None:
    """The address and the text after it, for ``keyword`` (``FROM:`` or ``TO:``) and an everyday path; else None.

    aiosmtpd's rules: the keyword in any case, then optional spaces, then the path."""
    if arg is None or arg[: len(keyword)].upper() != keyword:
        return None
    match = _PATH.fullmatch(arg[len(keyword) :].strip())
    if match is None:
        return None
    return match.group(1), match.group(2) or ""


def read_mail_options(text: str, *, smtputf8_enabled: bool, size_limit: int) -> tuple[list[str], bool] | None:
    """The MAIL FROM options (upper-cased, as aiosmtpd hands them to the handler) and whether SMTPUTF8 was asked
    for, when every option is one aiosmtpd accepts as is: ``BODY=7BIT|8BITMIME``, ``SIZE=n`` within ``size_limit``
    (0: none), ``SMTPUTF8`` when enabled. None otherwise (aiosmtpd answers those itself). As our server, this
    assumes aiosmtpd runs without ``decode_data`` (with it, aiosmtpd refuses ``BODY``)."""
    options = text.upper().split()
    for option in options:
        name, equals, value = option.partition("=")
        if name == "BODY" and equals and value in _BODY_TYPES:
            continue
        if name == "SIZE" and value.isdigit() and value.isascii() and not (size_limit and int(value) > size_limit):
            continue
        if name == "SMTPUTF8" and not equals and smtputf8_enabled:
            continue
        return None
    return options, "SMTPUTF8" in options
