"""Regular expressions from untrusted callers (the API's one-time-code search), run with bounded time and memory.

Python's ``re`` backtracks: ``(a+)+$`` against a long line of ``a`` runs for ages while holding the interpreter, and
any web page can make a browser send that pattern to a loopback server with an ``<img src>``. User patterns run on
RE2 instead (the ``re2`` module of google-re2): no backtracking, so time is linear in the text, memory is capped per
pattern, and the GIL is released while it matches. Linear is not yet cheap: capture groups over a long match cost
about 2 ns per compiled instruction per character, and a 15-character pattern such as ``(?s)(.*a){1000}`` compiles
to 10,000 instructions. So a pattern whose size times the text's length exceeds a work budget is refused up front.
"""

from __future__ import annotations

from typing import Any

import re2

from mailtrap_lite.errors import MailtrapError

MAX_PATTERN_LENGTH = 1000
# compiled instructions x characters searched; at about 2.3 ns each (measured on the worst patterns) ~2 s of a core.
# A usual code pattern (\b\d{4,8}\b is 18 instructions) stays well inside it for a 25 MiB text.
MAX_WORK = 1_000_000_000

_OPTIONS = re2.Options()
_OPTIONS.log_errors = False  # a refused pattern is the caller's mistake, not a line in the server's log


class PatternRefused(MailtrapError, ValueError):
    """A user pattern that will not run; the message says why (too long, unsupported, invalid, too costly)."""


def compile_user_pattern(pattern: str) -> Any:
    """Compile a caller's pattern with RE2, or raise PatternRefused naming the reason."""
    if len(pattern) > MAX_PATTERN_LENGTH:
        raise PatternRefused(f"pattern must be at most {MAX_PATTERN_LENGTH} characters, got {len(pattern)}")
    try:
        return re2.compile(_well_formed(pattern), _OPTIONS)
    except re2.error as error:
        reason = error.args[0].decode(errors="replace") if error.args and isinstance(error.args[0], bytes) else error
        raise PatternRefused(
            f"pattern is not a valid regular expression for RE2 (no lookarounds or backreferences): {reason}"
        ) from None


def find_codes(compiled: Any, text: str) -> list[str]:
    """Every match in ``text``, in order and each once: the first group when the pattern has one, else the whole
    match. Raises PatternRefused when the pattern is too costly for a text this long."""
    if compiled.programsize * len(text) > MAX_WORK:
        raise PatternRefused(
            f"pattern too complex for this message: {compiled.programsize} compiled steps x {len(text)} characters "
            f"exceeds the budget of {MAX_WORK}; simplify the pattern"
        )
    found = (match.group(1) if compiled.groups else match.group(0) for match in compiled.finditer(_well_formed(text)))
    return list(dict.fromkeys(code for code in found if code is not None))


def _well_formed(text: str) -> str:
    """``text`` with lone surrogates (from undecodable mail) replaced, since RE2 matches UTF-8."""
    if text.isascii():
        return text
    try:
        text.encode()
    except UnicodeEncodeError:
        return text.encode(errors="replace").decode()
    return text
