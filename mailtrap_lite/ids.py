"""Identifiers in Mailpit's format: a random UUID written in base62, 22 characters (e.g. ``4oRBnPtCXgAqZniRhzLNmS``)."""

from __future__ import annotations

import uuid

_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"


def new_id() -> str:
    """A fresh 22-character base62 id."""
    number = uuid.uuid4().int
    digits = []
    while number:
        number, remainder = divmod(number, 62)
        digits.append(_ALPHABET[remainder])
    return "".join(reversed(digits)).rjust(22, "0")
