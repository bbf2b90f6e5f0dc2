"""Deterministic SMTP fault injection: rules that make the capture server fail on purpose.

A rule says *when* (a stage plus optional sender/recipient match), *what* (reply with a code, delay, hang or
disconnect) and *how often* (the first ``times`` matching attempts after skipping ``after``, or with a seeded
``probability``). Rules are checked in order; the first that fires wins.
"""

from __future__ import annotations

import fnmatch
import itertools
import random
import re
import threading
from dataclasses import dataclass, field
from typing import Literal

from mailtrap_lite.events import Event, EventBus

STAGES = ("connect", "ehlo", "auth", "mail", "rcpt", "data", "data_end")
ActionKind = Literal["reply", "delay", "hang", "disconnect"]


class FaultError(ValueError):
    """A fault rule that cannot be built (bad stage, code, count or pattern)."""


@dataclass(frozen=True)
class Action:
    """What a firing rule does. ``text`` is the full reply line for ``reply`` (e.g. ``451 4.3.0 Try later``)."""

    kind: ActionKind
    code: int = 0
    text: str = ""
    seconds: float = 0.0


@dataclass(frozen=True)
class FaultContext:
    """Where a session stands when a stage is reached."""

    stage: str
    session_id: str = ""
    peer: str = ""
    sender: str | None = None
    recipient: str | None = None
    recipients: tuple[str, ...] = ()


@dataclass(frozen=True)
class Firing:
    """A rule that fired: which one, what to do, and a human description for the transcript."""

    rule_id: str
    action: Action
    description: str


@dataclass
class Rule:
    """One fault rule with its counters."""

    stage: str
    action: Action
    sender: str | None = None
    recipient: str | None = None
    times: int = 1
    after: int = 0
    probability: float | None = None
    id: str = ""
    matched: int = field(default=0, init=False)
    fired: int = field(default=0, init=False)

    def matches(self, ctx: FaultContext) -> bool:
        """Whether the rule applies to this context (stage and patterns; budget not considered)."""
        if ctx.stage != self.stage:
            return False
        if self.sender is not None and not _pattern_matches(self.sender, ctx.sender or ""):
            return False
        if self.recipient is not None:
            candidates = [ctx.recipient] if ctx.recipient is not None else list(ctx.recipients)
            if not any(_pattern_matches(self.recipient, c) for c in candidates):
                return False
        return True

    @property
    def exhausted(self) -> bool:
        """True when a counted rule has used its budget."""
        return self.probability is None and self.times > 0 and self.fired >= self.times

    def describe(self) -> str:
        """A one-line human description."""
        what = {"reply": self.action.text, "delay": f"delay {self.action.seconds}s",
                "hang": "hang", "disconnect": "disconnect"}[self.action.kind]
        return f"{self.stage}: {what}"


def _pattern_matches(pattern: str, value: str) -> bool:
    if pattern.startswith("/") and pattern.endswith("/") and len(pattern) > 1:
        return re.search(pattern[1:-1], value, re.IGNORECASE) is not None
    return fnmatch.fnmatchcase(value.lower(), pattern.lower())


class FaultEngine:
    """The ordered rule list, checked by the SMTP server at each stage. Thread-safe."""

    def __init__(self, bus: EventBus | None = None, seed: int | None = None) -> None:
        self.bus = bus or EventBus()
        self._lock = threading.Lock()
        self._rules: list[Rule] = []
        self._ids = itertools.count(1)
        self.random = random.Random(seed)

    def add(self, rule: Rule) -> Rule:
        """Append a rule (it gets an id when it has none) and announce the new list."""
        with self._lock:
            if not rule.id:
                rule.id = f"f{next(self._ids)}"
            self._rules.append(rule)
        self.bus.publish(Event("faults", self.rules()))
        return rule

    def remove(self, rule_id: str) -> bool:
        """Remove a rule by id; False when there was none."""
        with self._lock:
            before = len(self._rules)
            self._rules = [r for r in self._rules if r.id != rule_id]
            removed = len(self._rules) != before
        if removed:
            self.bus.publish(Event("faults", self.rules()))
        return removed

    def clear(self) -> None:
        """Remove every rule."""
        with self._lock:
            self._rules = []
        self.bus.publish(Event("faults", []))

    def rules(self) -> list[Rule]:
        """The current rules, in evaluation order."""
        with self._lock:
            return list(self._rules)

    def check(self, ctx: FaultContext) -> Firing | None:
        """The firing for this stage, or None. Counts matches and firings; first rule that fires wins."""
        if not self._rules:
            return None
        with self._lock:
            for rule in self._rules:
                if rule.exhausted or not rule.matches(ctx):
                    continue
                rule.matched += 1
                if rule.matched <= rule.after:
                    continue
                if rule.probability is not None and self.random.random() >= rule.probability:
                    continue
                rule.fired += 1
                return Firing(rule.id, rule.action, rule.describe())
        return None
