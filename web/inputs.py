"""Reading what clients send: JSON bodies with case-insensitive keys (as Go decodes them), typed fields and
bounded query parameters. Every problem becomes an :class:`~mailtrap_lite.web.errors.ApiError` with a reason."""

from __future__ import annotations

import json
import math
import re
from typing import Any, NoReturn

from flask import request

from mailtrap_lite.search import Query, QueryError, parse_query
from mailtrap_lite.web.errors import ApiError

MAX_INT_PARAM = 2**31 - 1
_WHOLE_NUMBER = re.compile(r"-?[0-9]+")
MAX_JSON_DEPTH = 32  # Mailpit's bodies nest three deep; anything far deeper is an attack, not a request
MAX_JSON_INTEGER = 2**63 - 1  # what Go's int64 (Mailpit) holds


class Body:
    """A JSON object whose keys are matched case-insensitively; unknown keys are ignored."""

    def __init__(self, data: dict[str, Any]) -> None:
        self._original = data
        self._data = {key.lower(): value for key, value in data.items()}

    def items(self) -> list[tuple[str, Any]]:
        """The fields with their keys spelled as the client sent them."""
        return list(self._original.items())

    def get(self, key: str, default: Any = None) -> Any:
        """The raw value of ``key`` (any casing), or ``default``."""
        return self._data.get(key.lower(), default)

    def string(self, key: str, default: str = "") -> str:
        """A string field (``null`` counts as missing)."""
        value = self.get(key)
        if value is None:
            return default
        if not isinstance(value, str):
            raise ApiError(f"{key} must be a string")
        return value

    def boolean(self, key: str, default: bool = False) -> bool:
        """A true/false field."""
        value = self.get(key)
        if value is None:
            return default
        if not isinstance(value, bool):
            raise ApiError(f"{key} must be true or false")
        return value

    def strings(self, key: str) -> list[str] | None:
        """A list of strings, or None when the key is missing or null."""
        value = self.get(key)
        if value is None:
            return None
        if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
            raise ApiError(f"{key} must be a list of strings")
        return value

    def object(self, key: str) -> Body | None:
        """A nested object, or None when missing or null."""
        value = self.get(key)
        if value is None:
            return None
        if not isinstance(value, dict):
            raise ApiError(f"{key} must be an object")
        return Body(value)

    def objects(self, key: str) -> list[Body]:
        """A list of objects (empty when missing or null)."""
        value = self.get(key)
        if value is None:
            return []
        if not isinstance(value, list) or not all(isinstance(item, dict) for item in value):
            raise ApiError(f"{key} must be a list of objects")
        return [Body(item) for item in value]


def json_body(required: bool = True) -> Body:
    """The request's JSON object. A missing body is an empty object unless ``required``. The one reader of JSON
    bodies: whatever a client sends (deep nesting, numbers out of range, ``NaN``, bytes that are not UTF-8) ends as
    a 400 with the reason, never as a 500."""
    data = request.get_data(cache=True)
    if not data.strip():
        if required:
            raise ApiError("request body is empty; send a JSON object")
        return Body({})
    try:
        text = data.decode("utf-8-sig")  # a leading byte-order mark is harmless: skip it
    except UnicodeDecodeError as error:
        raise ApiError(f"request body is not UTF-8: byte {data[error.start]:#04x} at offset {error.start}") from None
    try:
        parsed = json.loads(text, parse_int=_integer, parse_float=_float, parse_constant=_constant)
    except RecursionError:
        raise ApiError(f"request body nests deeper than {MAX_JSON_DEPTH} levels") from None
    except ValueError as error:
        raise ApiError(f"request body is not valid JSON: {error}") from None
    if not isinstance(parsed, dict):
        raise ApiError("request body must be a JSON object")
    _check_depth(parsed)
    return Body(parsed)


def _integer(text: str) -> int:
    if len(text.lstrip("-")) > 19 or abs(value := int(text)) > MAX_JSON_INTEGER:
        raise ApiError(f"number {text[:40]} in the request body is out of range (at most {MAX_JSON_INTEGER})")
    return value


def _float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ApiError(f"number {text[:40]} in the request body is out of range")
    return value


def _constant(name: str) -> NoReturn:
    raise ApiError(f"request body is not valid JSON: {name} is not a JSON value")


def _check_depth(value: Any) -> None:
    """Refuse nesting deeper than :data:`MAX_JSON_DEPTH`; iterative, so no input can exhaust the stack."""
    pending: list[tuple[Any, int]] = [(value, 1)]
    while pending:
        item, depth = pending.pop()
        if depth > MAX_JSON_DEPTH:
            raise ApiError(f"request body nests deeper than {MAX_JSON_DEPTH} levels")
        children = item.values() if isinstance(item, dict) else item
        pending.extend((child, depth + 1) for child in children if isinstance(child, (dict, list)))


def int_param(name: str, default: int, maximum: int = MAX_INT_PARAM) -> int:
    """A non-negative whole-number query parameter, at most ``maximum``."""
    text = request.args.get(name)
    if text is None or text == "":
        return default
    if not _WHOLE_NUMBER.fullmatch(text):  # int() would also take " 5", "1_000" and other scripts' digits
        raise ApiError(f"{name} must be a whole number, got {text[:40]!r}")
    digits = text.lstrip("-0") or "0"
    if text.startswith("-") and digits != "0":
        raise ApiError(f"{name} must not be negative")
    if len(digits) > len(str(maximum)) or int(digits) > maximum:  # no int() of thousands of digits
        raise ApiError(f"{name} must be at most {maximum}")
    return int(digits)


def float_param(name: str, default: float, maximum: float) -> float:
    """A non-negative number query parameter, at most ``maximum``."""
    text = request.args.get(name)
    if text is None or text == "":
        return default
    try:
        value = float(text)
    except ValueError:
        raise ApiError(f"{name} must be a number, got {text[:40]!r}") from None
    if not 0 <= value <= maximum:
        raise ApiError(f"{name} must be between 0 and {maximum:g}")
    return value


def query_param(required: bool = False, text: str | None = None) -> Query:
    """The ``query`` parameter (or ``text``) parsed with the search syntax, in the zone of the ``tz`` parameter."""
    if text is None:
        text = request.args.get("query", "")
    if required and not text.strip():
        raise ApiError("Error: no search query")
    try:
        return parse_query(text, request.args.get("tz"))
    except QueryError as error:
        raise ApiError(str(error)) from None
