"""Reading fault rules: the ``--fault`` string syntax and the JSON form of ``/api/v1/faults``.

Both produce a :class:`~mailtrap_lite.fault_rules.Rule` (which validates itself); ``Rule.to_text()`` and
``Rule.to_dict()`` write them back, and ``parse_rule(rule.to_text()) == rule`` for every rule.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from mailtrap_lite.fault_rules import ACTIONS, Action, FaultError, Rule

# -- the CLI string syntax -------------------------------------------------------------------------------------

_CODE_PART = re.compile(r"^(\d{3})(?:\s+([245]\.\d{1,3}\.\d{1,3}))?(?:\s+(.*))?$")
_KEY_ALIASES = {"from": "sender", "sender": "sender", "to": "recipient", "recipient": "recipient",
                "rcpt": "recipient", "rate": "rate_limit", "rate_limit": "rate_limit"}


def parse_rule(text: str) -> Rule:
    """Parse one ``--fault`` string: ``STAGE[:PART]...``, parts separated by ``:``.

    Parts: ``from=PATTERN``, ``to=PATTERN`` (glob, or ``/regex/``); an action: a code (``451``, or a whole reply
    ``451 4.7.1 Try later``), ``delay=SECONDS``, ``hang`` or ``disconnect``; ``code=``, ``enhanced=``, ``text=``;
    the budget ``times=N``, ``after=N``, ``probability=P`` (0-1), ``seed=N``; the stateful kinds
    ``sequence=451,451,250``, ``greylist=SECONDS``, ``rate_limit=N``; and ``id=NAME``. A value with a ``:`` is
    quoted, ``text="Busy: try later"``. Examples: ``rcpt:to=*@bounce.test:550:times=0``, ``data:451:times=2``,
    ``data:delay=5``, ``data_end:disconnect``, ``mail:421:probability=0.2``.
    """
    try:
        return _parse_rule(text)
    except FaultError as error:
        raise FaultError(error.problem, text) from None


def _parse_rule(text: str) -> Rule:
    if not isinstance(text, str) or not text.strip():
        raise FaultError("empty rule; expected STAGE:ACTION, e.g. data:451")
    stage, *parts = _split_parts(text.strip())
    seen: dict[str, str] = {}
    action_kind: str | None = None
    for part in parts:
        part = part.strip()
        key, eq, value = part.partition("=")
        key = key.strip().lower()
        if not eq:
            match = _CODE_PART.match(part)
            if match:
                key, value = "code", match.group(1)
                if match.group(2):
                    _put(seen, "enhanced", match.group(2))
                if match.group(3):
                    _put(seen, "text", match.group(3).strip())
            elif key in ("hang", "disconnect"):
                action_kind = _one_action(action_kind, key)
                continue
            else:
                raise FaultError(f"unknown part {part!r}" if part else "empty part (two ':' in a row?)")
        key = _KEY_ALIASES.get(key, key)
        if key == "delay":
            action_kind = _one_action(action_kind, "delay")
        elif key == "code":
            action_kind = _one_action(action_kind, "reply")
        _put(seen, key, _unquote(value.strip()))
    return _rule_from_parts(stage, seen, action_kind)


def _rule_from_parts(stage: str, seen: dict[str, str], action_kind: str | None) -> Rule:
    unknown = set(seen) - {"sender", "recipient", "code", "enhanced", "text", "delay", "times", "after",
                           "probability", "seed", "sequence", "greylist", "rate_limit", "id"}
    if unknown:
        raise FaultError(f"unknown option {sorted(unknown)[0]}=")
    kinds = [k for k in ("sequence", "greylist", "rate_limit") if k in seen]
    if len(kinds) > 1:
        raise FaultError(f"{kinds[0]}= and {kinds[1]}= cannot be combined")
    kind = kinds[0] if kinds else "fault"
    if kind != "fault" and action_kind in ("delay", "hang", "disconnect"):
        raise FaultError(f"a {kind} rule replies; it cannot {action_kind}")
    if action_kind is None and kind == "fault":
        if "enhanced" in seen or "text" in seen:
            raise FaultError("text= and enhanced= need a code, e.g. 451")
        raise FaultError("no action: give a code (e.g. 451), delay=SECONDS, hang or disconnect")
    options: dict[str, Any] = {"kind": kind, "id": seen.get("id", "")}
    for name in ("sender", "recipient"):
        if name in seen:
            options[name] = seen[name]
    for name in ("times", "after", "seed"):
        if name in seen:
            options[name] = _number(seen[name], name, int)
    if "probability" in seen:
        probability = seen["probability"]
        options["probability"] = (_number(probability[:-1], "probability", float) / 100
                                  if probability.endswith("%") else _number(probability, "probability", float))
    if kind == "sequence":
        options["sequence"] = tuple(_number(c, "sequence code", int) for c in seen["sequence"].split(","))
    elif kind == "greylist":
        options["window"] = _number(seen["greylist"], "greylist", float)
    elif kind == "rate_limit":
        options["per_second"] = _number(seen["rate_limit"], "rate_limit", int)
    if action_kind == "delay":
        action = Action("delay", seconds=_number(seen["delay"], "delay", float))
    elif action_kind in ("hang", "disconnect"):
        action = Action(action_kind)  # type: ignore[arg-type]
    else:
        code = _number(seen["code"], "code", int) if "code" in seen else 0
        action = Action("reply", code, seen.get("enhanced", ""), seen.get("text", ""))
    return Rule(stage, action, **options)


def _one_action(current: str | None, new: str) -> str:
    if current is not None and current != new:
        raise FaultError(f"two actions ({current} and {new}); a rule does one thing")
    return new


def _put(seen: dict[str, str], key: str, value: str) -> None:
    if key in seen:
        raise FaultError(f"{key} given twice")
    seen[key] = value


def _number(text: str, name: str, kind: type[int] | type[float]) -> Any:
    try:
        value = kind(text.strip())
    except ValueError:
        noun = "a whole number" if kind is int else "a number"
        raise FaultError(f"{name} must be {noun}, got {text!r}") from None
    if kind is float and not math.isfinite(value):
        raise FaultError(f"{name} must be a finite number, got {text!r}")
    return value


def _split_parts(text: str) -> list[str]:
    """Split on ``:`` except inside a quoted value (``"..."``/``'...'``) or a ``/regex/`` value."""
    parts: list[str] = []
    buf: list[str] = []
    closer: str | None = None
    i = 0
    while i < len(text):
        ch = text[i]
        if closer is not None:
            buf.append(ch)
            if ch == "\\" and i + 1 < len(text):
                buf.append(text[i + 1])
                i += 1
            elif ch == closer:
                closer = None
        elif ch == ":":
            parts.append("".join(buf))
            buf = []
        else:
            if ch in "\"'/" and buf and buf[-1] == "=":
                closer = ch
            buf.append(ch)
        i += 1
    if closer is not None:
        raise FaultError(f"unclosed {closer}")
    parts.append("".join(buf))
    return parts


def _unquote(value: str) -> str:
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
        return re.sub(r"\\(.)", r"\1", value[1:-1])
    return value



# -- the JSON form ---------------------------------------------------------------------------------------------

_DICT_KEYS = {"id", "stage", "kind", "action", "code", "enhanced", "text", "seconds", "sender", "recipient", "times",
              "after", "probability", "seed", "sequence", "window", "per_second"}
_READ_ONLY_KEYS = {"rule", "matched", "fired"}


def rule_from_dict(data: Mapping[str, Any], *, state: bool = False) -> Rule:
    """Build a rule from its JSON form (see :meth:`Rule.to_dict` for the keys; only ``stage`` and an action are
    required). ``{"rule": "data:451:times=2"}`` (optionally with ``id``) takes the CLI string instead.
    With ``state`` the read-only counters ``matched``/``fired`` are restored (the plugin's remote mode uses this).
    """
    name = _dict_name(data)
    if not isinstance(data, Mapping):
        raise FaultError(f"expected a JSON object, got {type(data).__name__}")
    try:
        if "stage" not in data and "rule" in data:
            extra = set(data) - {"rule", "id", "matched", "fired"}
            if extra:
                raise FaultError(f"'rule' takes the CLI string; {sorted(extra)[0]!r} cannot be added to it")
            rule = _parse_rule(_typed(data, "rule", str))
            if data.get("id"):
                rule = replace(rule, id=_typed(data, "id", str))
        else:
            rule = _rule_from_fields(data)
    except FaultError as error:
        raise FaultError(error.problem, name) from None
    if state:
        rule.matched = int(data.get("matched") or 0)
        rule.fired = int(data.get("fired") or 0)
    return rule


def _rule_from_fields(data: Mapping[str, Any]) -> Rule:
    unknown = set(data) - _DICT_KEYS - _READ_ONLY_KEYS
    if unknown:
        raise FaultError(f"unknown key {sorted(unknown)[0]!r}")
    if "stage" not in data:
        raise FaultError("'stage' is required")
    kind = _typed(data, "kind", str, "fault")
    action_kind = _typed(data, "action", str, "reply")
    if action_kind not in ACTIONS:
        raise FaultError(f"unknown action {action_kind!r} (one of {', '.join(ACTIONS)})")
    if action_kind == "reply":
        action = Action("reply", _typed(data, "code", int, 0), _typed(data, "enhanced", str, ""),
                        _typed(data, "text", str, ""))
    else:
        action = Action(action_kind, seconds=_typed(data, "seconds", float, 0.0))  # type: ignore[arg-type]
    for key in ("code", "enhanced", "text") if action_kind != "reply" else ():
        if data.get(key) not in (None, 0, ""):
            raise FaultError(f"{key!r} applies only to the reply action")
    options: dict[str, Any] = {
        "kind": kind, "id": _typed(data, "id", str, ""), "sender": _typed(data, "sender", str, None),
        "recipient": _typed(data, "recipient", str, None), "times": _typed(data, "times", int, None),
        "after": _typed(data, "after", int, 0), "probability": _typed(data, "probability", float, None),
        "seed": _typed(data, "seed", int, None), "window": _typed(data, "window", float, 0.0),
        "per_second": _typed(data, "per_second", int, 0),
    }
    sequence = data.get("sequence")
    if sequence is not None:
        if not isinstance(sequence, list):
            raise FaultError("'sequence' must be a list of codes")
        options["sequence"] = tuple(sequence)
    return Rule(_typed(data, "stage", str), action, **options)


def _typed(data: Mapping[str, Any], key: str, kind: type, default: Any = ...) -> Any:
    value = data.get(key)
    if value is None:
        if default is ...:
            raise FaultError(f"{key!r} is required")
        return default
    if kind is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if not isinstance(value, kind) or isinstance(value, bool):
        noun = {int: "a whole number", float: "a number", str: "a string"}[kind]
        raise FaultError(f"{key!r} must be {noun}, got {json.dumps(value)}")
    return value


def _dict_name(data: object) -> str:
    if isinstance(data, Mapping):
        if isinstance(data.get("id"), str) and data["id"]:
            return data["id"]
        if isinstance(data.get("rule"), str):
            return data["rule"]
    text = json.dumps(data, sort_keys=True, default=str)
    return text if len(text) <= 120 else text[:117] + "..."


def as_rule(value: Rule | str | Mapping[str, Any]) -> Rule:
    """A rule from any of its spellings: a :class:`Rule`, a ``--fault`` string or the JSON dict."""
    if isinstance(value, Rule):
        return value
    if isinstance(value, str):
        return parse_rule(value)
    if isinstance(value, Mapping):
        return rule_from_dict(value)
    raise FaultError(f"expected a Rule, a rule string or a dict, got {type(value).__name__}")
