"""Deterministic SMTP fault injection: the ordered rule list the SMTP server consults at each stage.

The model is :mod:`mailtrap_lite.fault_rules` (a :class:`Rule`: when, what, how often), the string and JSON
spellings are :mod:`mailtrap_lite.fault_syntax`, the Python presets are :mod:`mailtrap_lite.fault_presets`. This
module holds the :class:`FaultEngine` and Mailpit's chaos triggers, and is the one place to import from:

- Python: ``Rule(...)`` and the presets (``MailServer.faults``);
- the CLI string (``--fault``): :func:`parse_rule` and :meth:`Rule.to_text`, e.g. ``data:451:times=2``;
- the JSON dict (REST ``/api/v1/faults``): :func:`rule_from_dict` and :meth:`Rule.to_dict`.

Rules are checked in order; the first that fires wins, and each firing is written into the session transcript
with the rule's id. Mailpit's ``/api/v1/chaos`` triggers map onto probabilistic rules kept beside the user's rules
(:meth:`FaultEngine.set_chaos`).
"""

from __future__ import annotations

import itertools
import random
import re
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from mailtrap_lite.events import Event, EventBus
from mailtrap_lite.fault_rules import (
    ACTIONS,
    KINDS,
    STAGES,
    Action,
    FaultContext,
    FaultError,
    Firing,
    Rule,
    default_enhanced,
    default_text,
    reply_action,
)
from mailtrap_lite.fault_syntax import as_rule, parse_rule, rule_from_dict

__all__ = [
    "ACTIONS",
    "CHAOS_TRIGGERS",
    "KINDS",
    "STAGES",
    "Action",
    "FaultContext",
    "FaultEngine",
    "FaultError",
    "Firing",
    "Rule",
    "as_rule",
    "default_enhanced",
    "default_text",
    "parse_chaos",
    "parse_rule",
    "reply_action",
    "rule_from_dict",
]


# -- Mailpit chaos ---------------------------------------------------------------------------------------------

# Mailpit trigger -> (stage, default code, reply text).
CHAOS_TRIGGERS = {
    "Sender": ("mail", 451, "Chaos sender error"),
    "Recipient": ("rcpt", 451, "Chaos recipient error"),
    "Authentication": ("auth", 535, "Chaos authentication error"),
}
_CHAOS_NAMES = {"sender": "Sender", "recipient": "Recipient", "recipients": "Recipient",
                "auth": "Authentication", "authentication": "Authentication"}
_CHAOS_PART = re.compile(r"^([a-zA-Z]+):(\d\d\d):(\d+)$")


def parse_chaos(text: str) -> dict[str, dict[str, int]]:
    """Parse ``--chaos`` (Mailpit's ``--chaos-triggers``), e.g. ``Sender:451:50,Recipient:451:10``, into the
    ChaosTriggers JSON shape (only the triggers given). Probabilities are whole percentages 0-100."""
    triggers: dict[str, dict[str, int]] = {}
    for part in (p.strip() for p in text.split(",")):
        if not part:
            continue
        match = _CHAOS_PART.match(part)
        if not match:
            raise FaultError("expected TRIGGER:CODE:PERCENT, e.g. Sender:451:50", part)
        name = _CHAOS_NAMES.get(match.group(1).lower())
        if name is None:
            raise FaultError(f"unknown trigger {match.group(1)!r} (Sender, Recipient or Authentication)", part)
        code, probability = int(match.group(2)), int(match.group(3))
        try:
            _check_chaos(code, probability)
        except FaultError as error:
            raise FaultError(error.problem, part) from None
        triggers[name] = {"ErrorCode": code, "Probability": probability}
    return triggers


def _check_chaos(code: int, probability: float) -> None:
    if not 400 <= code <= 599:
        raise FaultError("error code must be between 400 and 599")
    if not 0 <= probability <= 100:
        raise FaultError("probability must be between 0 and 100")

# -- the engine ------------------------------------------------------------------------------------------------


class FaultEngine:
    """The ordered rule list (plus Mailpit chaos rules), checked by the SMTP server at each stage. Thread-safe.

    ``seed`` makes probabilistic rules replay; when None a seed is drawn and kept in ``.seed`` so a run can be
    replayed with ``--seed``. ``clock`` (monotonic seconds) drives greylist windows and rate limits.
    """

    def __init__(
        self, bus: EventBus | None = None, seed: int | None = None, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.bus = bus or EventBus()
        self.seed = seed if seed is not None else random.SystemRandom().randrange(2**31)
        self.clock = clock
        self.chaos_enabled = False
        self._lock = threading.Lock()
        self._rules: list[Rule] = []
        self._chaos: dict[str, tuple[int, int]] = {name: (code, 0) for name, (_, code, _) in CHAOS_TRIGGERS.items()}
        self._chaos_rules: list[Rule] = []
        self._ids = itertools.count(1)

    def add(self, rule: Rule | str | Mapping[str, Any]) -> Rule:
        """Append a rule (any spelling; it gets an id when it has none) and announce the new list."""
        return self.add_all([rule])[0]

    def add_all(self, rules: Iterable[Rule | str | Mapping[str, Any]]) -> list[Rule]:
        """Append several rules, all or none (a bad one or a duplicate id raises FaultError, nothing is added)."""
        new = [as_rule(r) for r in rules]
        with self._lock:
            used = {r.id for r in self._rules}
            for rule in new:
                if rule.id in used:
                    raise FaultError(f"id {rule.id!r} is already in use", rule.id)
                if rule.id:
                    used.add(rule.id)
            for rule in new:
                while not rule.id:
                    candidate = f"f{next(self._ids)}"
                    rule.id = candidate if candidate not in used else ""
                used.add(rule.id)
                rule.reseed(self.seed)
            self._rules.extend(new)
        self._announce()
        return new

    def remove(self, rule_id: str) -> bool:
        """Remove a rule by id; False when there was none."""
        with self._lock:
            before = len(self._rules)
            self._rules = [r for r in self._rules if r.id != rule_id]
            removed = len(self._rules) != before
        if removed:
            self._announce()
        return removed

    def clear(self) -> None:
        """Remove every rule (the chaos triggers stay; ``set_chaos({})`` resets those)."""
        with self._lock:
            self._rules = []
        self._announce()

    def rules(self) -> list[Rule]:
        """The current rules, in evaluation order (live objects: their counters move as they fire)."""
        with self._lock:
            return list(self._rules)

    def _announce(self) -> None:
        self.bus.publish(Event("faults", self.rules()))

    @property
    def armed(self) -> bool:
        """True when some rule or chaos trigger could fire (callers skip building a context otherwise)."""
        return bool(self._rules or self._chaos_rules)

    def check(self, ctx: FaultContext) -> Firing | None:
        """The firing for this stage, or None. Rules first, then chaos; the first rule that fires wins."""
        if not self.armed:
            return None
        now = self.clock()
        firing = None
        with self._lock:
            for rule in itertools.chain(self._rules, self._chaos_rules):
                action = rule.evaluate(ctx, now)
                if action is not None:
                    firing = Firing(rule.id, action, _firing_description(rule, action))
                    break
        if firing is not None:
            self.bus.publish(Event("fired", firing))
        return firing

    # -- Mailpit chaos ------------------------------------------------------------------------------------------

    def chaos(self) -> dict[str, dict[str, int]]:
        """The chaos triggers in Mailpit's ChaosTriggers JSON shape."""
        with self._lock:
            return {name: {"ErrorCode": code, "Probability": p} for name, (code, p) in self._chaos.items()}

    def set_chaos(self, triggers: Mapping[str, Any]) -> dict[str, dict[str, int]]:
        """Replace the chaos triggers (Mailpit's PUT semantics: triggers left out reset to their default code with
        probability 0; ``ErrorCode`` 0 or missing means the default). Validates everything before changing
        anything; raises FaultError. Returns the new triggers."""
        if not isinstance(triggers, Mapping):
            raise FaultError("expected a JSON object of triggers")
        new = {name: (code, 0) for name, (_, code, _) in CHAOS_TRIGGERS.items()}
        for key, value in triggers.items():
            name = _CHAOS_NAMES.get(str(key).lower())
            if name is None:
                raise FaultError(f"unknown chaos trigger {key!r} (Sender, Recipient or Authentication)")
            if value is None:
                continue
            if not isinstance(value, Mapping):
                raise FaultError(f"chaos trigger {key!r} must be an object with ErrorCode and Probability")
            fields = {str(k).lower(): v for k, v in value.items()}
            code = fields.get("errorcode") or CHAOS_TRIGGERS[name][1]
            probability = fields.get("probability") or 0
            for what, number in (("error code", code), ("probability", probability)):
                if not isinstance(number, (int, float)) or isinstance(number, bool):
                    raise FaultError(f"{what} must be a number")
            if code != int(code):
                raise FaultError("error code must be between 400 and 599")
            _check_chaos(int(code), probability)
            new[name] = (int(code), probability)
        rules = []
        for name, (code, probability) in new.items():
            if probability:
                stage, _, text = CHAOS_TRIGGERS[name]
                rule = Rule(stage, reply_action(code, text=text), probability=probability / 100,
                            id=f"chaos-{name.lower()}")
                rule.reseed(self.seed)
                rules.append(rule)
        with self._lock:
            self._chaos = new
            self._chaos_rules = rules
        return self.chaos()


def _firing_description(rule: Rule, action: Action) -> str:
    what = f"{action.describe()} at {rule.stage}"
    if rule.kind == "sequence":
        return f"{what} (sequence entry {rule.matched - rule.after} of {len(rule.sequence)})"
    if rule.kind != "fault":
        return f"{what} ({rule.kind.replace('_', ' ')})"
    if rule.times:
        return f"{what} ({rule.fired} of {rule.times})"
    return what
