"""Deterministic SMTP fault injection: rules that make the capture server fail on purpose.

A rule says *when* (a stage plus optional sender/recipient match), *what* (reply with a code, delay, hang or
disconnect) and *how often* (a budget: the first ``times`` matching attempts after skipping ``after``, a seeded
``probability``, or one of the stateful kinds ``sequence``, ``greylist`` and ``rate_limit``). Rules are checked in
order; the first that fires wins, and each firing is written into the session transcript with the rule's id.

One model, three spellings that all round-trip:

- Python: ``Rule(...)`` and the presets of :mod:`mailtrap_lite.fault_presets`;
- the CLI string (``--fault``): :func:`parse_rule` and :meth:`Rule.to_text`, e.g. ``data:451:times=2``;
- the JSON dict (REST ``/api/v1/faults``): :func:`rule_from_dict` and :meth:`Rule.to_dict`.

Mailpit's ``/api/v1/chaos`` triggers map onto probabilistic rules kept beside the user's rules
(:meth:`FaultEngine.set_chaos`).
"""

from __future__ import annotations

import itertools
import json
import math
import random
import re
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from fnmatch import translate
from typing import Any, Literal

from mailtrap_lite import replies
from mailtrap_lite.errors import MailtrapError
from mailtrap_lite.events import Event, EventBus

STAGES = ("connect", "ehlo", "auth", "mail", "rcpt", "data", "data_end")
ACTIONS = ("reply", "delay", "hang", "disconnect")
KINDS = ("fault", "sequence", "greylist", "rate_limit")
ActionKind = Literal["reply", "delay", "hang", "disconnect"]

_SENDER_STAGES = ("mail", "rcpt", "data", "data_end")
_RECIPIENT_STAGES = ("rcpt", "data", "data_end")
_ENHANCED = re.compile(r"^[245]\.\d{1,3}\.\d{1,3}$")
_ID = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")
_DEFAULT_TEXT = {
    421: "Service not available, closing transmission channel",
    450: "Mailbox unavailable, try again later",
    451: "Temporary local problem, try again later",
    452: "Insufficient system storage, try again later",
    454: "Temporary authentication failure",
    535: "Authentication credentials invalid",
    550: "Mailbox unavailable",
    552: "Message size exceeds fixed maximum message size",
    553: "Mailbox name not allowed",
    554: "Transaction failed",
}


class FaultError(MailtrapError, ValueError):
    """A fault rule that cannot be built: bad stage, code, count, pattern or syntax.

    ``rule`` names the rule as the user wrote it (the CLI string, an id, or the JSON); ``problem`` says what is
    wrong. The REST layer answers 400 with ``str(error)``, the CLI prints it after the flag and exits 2.
    """

    def __init__(self, problem: str, rule: str | None = None) -> None:
        super().__init__(f"fault rule {rule!r}: {problem}" if rule else problem)
        self.problem = problem
        self.rule = rule


@dataclass(frozen=True)
class Action:
    """What a firing rule does. For ``reply``: ``code``, ``enhanced`` status and ``text`` (blank = the default for
    the code); for ``delay``: ``seconds``. ``hang`` never answers; ``disconnect`` closes the socket without a reply.
    """

    kind: ActionKind = "reply"
    code: int = 0
    enhanced: str = ""
    text: str = ""
    seconds: float = 0.0

    @property
    def line(self) -> str:
        """The reply line sent to the client, e.g. ``451 4.3.0 Temporary local problem, try again later``."""
        return f"{self.code} {self.enhanced} {self.text}"

    def describe(self) -> str:
        """A short human description (the reply line, ``delay 5s``, ``hang``, ``disconnect``)."""
        if self.kind == "reply":
            return self.line
        return f"delay {self.seconds:g}s" if self.kind == "delay" else self.kind


def reply_action(code: int, enhanced: str = "", text: str = "") -> Action:
    """A ``reply`` action with the default enhanced status code and text filled in (validated by :class:`Rule`)."""
    return Action("reply", code, enhanced or default_enhanced(code), text or default_text(code))


def default_enhanced(code: int) -> str:
    """The RFC 3463 enhanced status code a bare ``code`` gets (``451`` -> ``4.3.0``)."""
    line = replies.with_enhanced_code(f"{code} -")
    enhanced = line.split(" ")[1]
    return enhanced if _ENHANCED.match(enhanced) else f"{code // 100}.0.0"


def default_text(code: int) -> str:
    """The reply text a fault with ``code`` gets when none is given."""
    return _DEFAULT_TEXT.get(code, "Temporary failure, try again later" if code < 500 else "Permanent failure")


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
    """One fault rule with its counters and state. Construction validates; a bad rule raises :class:`FaultError`.

    - ``stage``: one of :data:`STAGES`. ``sender`` / ``recipient``: a case-insensitive glob (``*@bounce.test``) or
      a ``/regex/`` (searched, case-insensitive); sender from ``mail`` on, recipient from ``rcpt`` on. At ``data``
      and ``data_end`` the recipient pattern matches when any recipient of the transaction does.
    - ``action``: see :class:`Action` (build replies with :func:`reply_action`).
    - Budget, ``kind="fault"``: fire on the first ``times`` matching attempts (0 = always) after skipping ``after``;
      with ``probability`` (0-1) each match fires at that chance, drawn from a random source seeded by ``seed`` (or
      the engine's seed) and the rule's content, so a run replays exactly. ``times`` defaults to 1, or to 0 (no
      cap) for probabilistic and stateful rules.
    - ``kind="sequence"``: one entry of ``sequence`` per matching attempt; a 2xx entry lets the attempt through;
      after the last entry the rule is spent. ``sequence=(451, 451, 250)`` is "fail twice, then accept".
    - ``kind="greylist"`` (``rcpt`` stage): the first attempt of each sender/recipient pair, and any retry sooner
      than ``window`` seconds, gets the reply (default ``451 4.7.1``); later attempts pass.
    - ``kind="rate_limit"``: an attempt that would exceed ``per_second`` passing attempts within one second gets
      the reply (default ``421 4.7.0``, and a 421 closes the connection).

    Counters: ``matched`` (attempts that reached and matched this rule) and ``fired``.
    """

    stage: str
    action: Action = field(default_factory=Action)
    sender: str | None = None
    recipient: str | None = None
    times: int | None = None
    after: int = 0
    probability: float | None = None
    seed: int | None = None
    kind: str = "fault"
    sequence: tuple[int, ...] = ()
    window: float = 0.0
    per_second: int = 0
    id: str = ""
    matched: int = field(default=0, init=False, compare=False)
    fired: int = field(default=0, init=False, compare=False)
    _patterns: list[tuple[str, re.Pattern[str]]] = field(default_factory=list, init=False, repr=False, compare=False)
    _random: random.Random | None = field(default=None, init=False, repr=False, compare=False)
    _seen: dict[tuple[str, str], float] = field(default_factory=dict, init=False, repr=False, compare=False)
    _recent: deque[float] = field(default_factory=deque, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        self.stage = str(self.stage).strip().lower()
        self.sequence = tuple(self.sequence)
        if self.times is None:
            self.times = 1 if self.kind == "fault" and self.probability is None else 0
        if self.stage not in STAGES:
            raise FaultError(f"unknown stage {self.stage!r} (one of {', '.join(STAGES)})", self.id or None)
        problem = _kind_problem(self)
        if problem is None and isinstance(self.action, Action) and self.action.kind == "reply":
            code, enhanced, text = _reply_defaults(self)
            self.action = Action("reply", self.action.code or code, self.action.enhanced or enhanced,
                                 self.action.text or text)
        problem = problem or _action_problem(self) or _budget_problem(self) or _match_problem(self)
        if problem:
            raise FaultError(problem, self.id or None)
        self._patterns = [(which, _compile_pattern(pattern)) for which, pattern in
                          (("sender", self.sender), ("recipient", self.recipient)) if pattern is not None]

    # -- matching and firing (called by the engine under its lock) ---------------------------------------------

    def matches(self, ctx: FaultContext) -> bool:
        """Whether the rule applies to this context (stage and patterns; budget not considered)."""
        if ctx.stage != self.stage:
            return False
        for which, pattern in self._patterns:
            if which == "sender":
                candidates: Iterable[str] = (ctx.sender or "",)
            else:
                candidates = (ctx.recipient,) if ctx.recipient is not None else ctx.recipients
            if not any(pattern.search(candidate) for candidate in candidates):
                return False
        return True

    @property
    def exhausted(self) -> bool:
        """True when the rule has used its budget and will never fire again."""
        if self.kind == "sequence":
            return self.matched - self.after >= len(self.sequence)
        return bool(self.times) and self.fired >= (self.times or 0)

    @property
    def one_shot(self) -> bool:
        """True for deterministic rules a test expects to fire (counted, sequence, greylist); the pytest plugin
        fails a test whose one-shot rule never fired. ``times=0`` rules, probabilistic rules and rate limits are not.
        """
        if self.probability is not None or self.kind == "rate_limit":
            return False
        return self.kind != "fault" or bool(self.times)

    def evaluate(self, ctx: FaultContext, now: float) -> Action | None:
        """Count this attempt and return the action when the rule fires, else None (the next rule is asked)."""
        if self.exhausted or not self.matches(ctx):
            return None
        self.matched += 1
        if self.matched <= self.after:
            return None
        action: Action | None = self.action
        if self.kind == "sequence":
            code = self.sequence[self.matched - self.after - 1]
            action = None if code < 400 else reply_action(code, self.action.enhanced, self.action.text)
        elif self.kind == "greylist":
            key = ((ctx.sender or "").lower(), (ctx.recipient or "").lower())
            first = self._seen.setdefault(key, now)
            if first != now and now - first >= self.window:
                action = None
        elif self.kind == "rate_limit":
            while self._recent and now - self._recent[0] >= 1.0:
                self._recent.popleft()
            if len(self._recent) < self.per_second:
                self._recent.append(now)
                action = None
        if action is not None and self.probability is not None and self._rng().random() >= self.probability:
            action = None
        if action is not None:
            self.fired += 1
        return action

    def _rng(self) -> random.Random:
        if self._random is None:
            self.reseed(None)
        assert self._random is not None
        return self._random

    def reseed(self, engine_seed: int | None) -> None:
        """Start the rule's random source: from ``seed`` (else ``engine_seed``) and the rule's content, so the same
        rule replays the same outcomes whatever ran before it. With neither seed it is truly random."""
        seed = self.seed if self.seed is not None else engine_seed
        self._random = random.Random(None if seed is None else f"{seed}|{self.to_text(with_id=False)}")

    def reset_state(self) -> None:
        """Forget counters, greylist pairs and rate windows (the rule behaves as if just added)."""
        self.matched = self.fired = 0
        self._seen.clear()
        self._recent.clear()

    @property
    def remaining(self) -> int | None:
        """Firings (or sequence entries) left, None when unbounded."""
        if self.kind == "sequence":
            return max(0, len(self.sequence) - max(0, self.matched - self.after))
        return max(0, self.times - self.fired) if self.times else None

    # -- the other spellings ----------------------------------------------------------------------------------

    def describe(self) -> str:
        """A one-line human description, e.g. ``data: 451 4.3.0 Temporary local problem... (times=2)``."""
        return self.to_text(with_id=False)

    def to_text(self, *, with_id: bool = True) -> str:
        """The rule in the ``--fault`` string syntax; :func:`parse_rule` reads it back to an equal rule."""
        parts = [self.stage]
        for key, pattern in (("from", self.sender), ("to", self.recipient)):
            if pattern is not None:
                parts.append(f"{key}={_quote(pattern)}")
        action = self.action
        if self.kind == "sequence":
            parts.append("sequence=" + ",".join(str(c) for c in self.sequence))
        elif self.kind == "greylist":
            parts.append(f"greylist={_num(self.window)}")
        elif self.kind == "rate_limit":
            parts.append(f"rate_limit={self.per_second}")
        if action.kind == "reply":
            _, default_enhanced_, default_text_ = _reply_defaults(self)
            if self.kind == "fault" or (self.kind in _KIND_DEFAULTS and action.code != _KIND_DEFAULTS[self.kind][0]):
                parts.append(str(action.code))
            if action.enhanced != default_enhanced_:
                parts.append(f"enhanced={action.enhanced}")
            if action.text != default_text_:
                parts.append(f"text={_quote(action.text)}")
        elif action.kind == "delay":
            parts.append(f"delay={_num(action.seconds)}")
        else:
            parts.append(action.kind)
        default_times = 1 if self.kind == "fault" and self.probability is None else 0
        if self.times != default_times:
            parts.append(f"times={self.times}")
        if self.after:
            parts.append(f"after={self.after}")
        if self.probability is not None:
            parts.append(f"probability={_num(self.probability)}")
        if self.seed is not None:
            parts.append(f"seed={self.seed}")
        if with_id and self.id:
            parts.append(f"id={self.id}")
        return ":".join(parts)

    def to_dict(self, *, state: bool = True) -> dict[str, Any]:
        """The JSON form used by ``/api/v1/faults``; :func:`rule_from_dict` reads it back to an equal rule.

        Keys: ``id``, ``stage``, ``kind`` (``fault``/``sequence``/``greylist``/``rate_limit``), ``action``
        (``reply``/``delay``/``hang``/``disconnect``), for replies ``code``, ``enhanced`` and ``text``, for delays
        ``seconds``; ``sender`` and ``recipient`` (pattern or null), ``times``, ``after``, ``probability`` (0-1 or
        null), ``seed`` (or null); per kind ``sequence`` (list of codes), ``window`` (seconds) or ``per_second``.
        Read-only: ``rule`` (the CLI string), and with ``state`` the counters ``matched`` and ``fired``.
        """
        data: dict[str, Any] = {"id": self.id, "stage": self.stage, "kind": self.kind, "action": self.action.kind}
        if self.action.kind == "reply":
            data.update(code=self.action.code, enhanced=self.action.enhanced, text=self.action.text)
        elif self.action.kind == "delay":
            data["seconds"] = self.action.seconds
        data.update(sender=self.sender, recipient=self.recipient, times=self.times, after=self.after,
                    probability=self.probability, seed=self.seed)
        if self.kind == "sequence":
            data["sequence"] = list(self.sequence)
        elif self.kind == "greylist":
            data["window"] = self.window
        elif self.kind == "rate_limit":
            data["per_second"] = self.per_second
        data["rule"] = self.to_text(with_id=False)
        if state:
            data.update(matched=self.matched, fired=self.fired)
        return data


# Stateful kinds: default code, enhanced status and text (a function of the rule).
_KIND_DEFAULTS: dict[str, tuple[int, str, Callable[[Rule], str]]] = {
    "greylist": (451, "4.7.1", lambda r: f"Greylisted, please try again in {r.window:g} seconds"),
    "rate_limit": (421, "4.7.0", lambda r: f"Rate limit exceeded: more than {r.per_second} per second, slow down"),
}


def _reply_defaults(rule: Rule) -> tuple[int, str, str]:
    """The code, enhanced status and text a reply of this rule gets when left blank (a sequence: none; each
    entry gets the defaults of its own code)."""
    if rule.kind == "sequence":
        return 0, "", ""
    defaults = _KIND_DEFAULTS.get(rule.kind)
    code = rule.action.code or (defaults[0] if defaults else 0)
    if defaults is not None and code == defaults[0]:
        return code, defaults[1], defaults[2](rule)
    if isinstance(code, int) and not isinstance(code, bool) and 400 <= code <= 599:
        return code, default_enhanced(code), default_text(code)
    return code, "", ""


def _num(value: float) -> str:
    """A number as short as it can be written without changing it (``5.0`` -> ``5``, ``0.1`` stays)."""
    short = f"{value:g}"
    return short if float(short) == value else repr(value)


def _compile_pattern(pattern: str) -> re.Pattern[str]:
    """A sender/recipient pattern: ``/regex/`` (searched) or a glob (whole address), both case-insensitive."""
    if len(pattern) > 1 and pattern.startswith("/") and pattern.endswith("/"):
        try:
            return re.compile(pattern[1:-1], re.IGNORECASE)
        except re.error as error:
            raise FaultError(f"invalid regex {pattern}: {error}") from None
    return re.compile(translate(pattern), re.IGNORECASE)


def _is_count(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _action_problem(rule: Rule) -> str | None:
    action = rule.action
    if not isinstance(action, Action) or action.kind not in ACTIONS:
        return f"unknown action {getattr(action, 'kind', action)!r} (one of {', '.join(ACTIONS)})"
    seconds = action.seconds
    if action.kind == "delay" and (not isinstance(seconds, (int, float)) or not math.isfinite(seconds) or seconds <= 0):
        return f"delay must be a number of seconds above 0, got {action.seconds!r}"
    if action.kind != "reply":
        return None
    if rule.kind == "sequence":
        if action.code:
            return "a sequence takes its codes from sequence=, not a code"
    elif not isinstance(action.code, int) or not 400 <= action.code <= 599:
        return f"code {action.code!r} is outside 400-599"
    for value, what in ((action.enhanced, "enhanced status"), (action.text, "text")):
        if not isinstance(value, str) or any(ord(c) < 32 or ord(c) == 127 for c in value):
            return f"{what} {value!r} must be one line of printable text"
    codes = [c for c in rule.sequence if c >= 400] if rule.kind == "sequence" else [action.code]
    if action.enhanced and not _ENHANCED.match(action.enhanced):
        return f"enhanced status {action.enhanced!r} is not of the form 4.x.y or 5.x.y"
    for code in codes:
        if action.enhanced and action.enhanced[0] != str(code)[0]:
            return f"enhanced status {action.enhanced} does not match code {code}"
    return None


def _budget_problem(rule: Rule) -> str | None:
    for name in ("times", "after"):
        value = getattr(rule, name)
        if not _is_count(value):
            return f"{name} must be a whole number 0 or more, got {value!r}"
    p = rule.probability
    if p is not None and (not isinstance(p, (int, float)) or isinstance(p, bool) or not 0 <= p <= 1):
        return f"probability must be between 0 and 1 (20% is 0.2), got {p!r}"
    if rule.seed is not None and (not isinstance(rule.seed, int) or isinstance(rule.seed, bool)):
        return f"seed must be a whole number, got {rule.seed!r}"
    if rule.id and (not isinstance(rule.id, str) or not _ID.match(rule.id)):
        return f"id {rule.id!r} must be 1-64 letters, digits, '.', '_' or '-'"
    return None


def _kind_problem(rule: Rule) -> str | None:
    if rule.kind not in KINDS:
        return f"unknown kind {rule.kind!r} (one of {', '.join(KINDS)})"
    if rule.kind != "fault" and rule.action.kind != "reply":
        return f"a {rule.kind} rule replies; it cannot {rule.action.kind}"
    if rule.kind == "sequence":
        if not rule.sequence:
            return "sequence needs at least one code, e.g. sequence=451,451,250"
        for code in rule.sequence:
            if not isinstance(code, int) or isinstance(code, bool) or not (200 <= code <= 299 or 400 <= code <= 599):
                return f"sequence code {code!r} must be 2xx (let it through) or 400-599"
        if rule.times:
            return "a sequence is as long as its codes; it takes no times="
    elif rule.sequence:
        return "sequence= makes a sequence rule"
    if rule.kind == "greylist":
        if rule.stage != "rcpt":
            return "greylist works per sender/recipient pair, at the rcpt stage"
        if not isinstance(rule.window, (int, float)) or not math.isfinite(rule.window) or rule.window <= 0:
            return f"greylist window must be seconds above 0, got {rule.window!r}"
    if rule.kind == "rate_limit" and (not _is_count(rule.per_second) or rule.per_second < 1):
        return f"rate_limit must be a whole number of attempts per second, 1 or more, got {rule.per_second!r}"
    return None


def _match_problem(rule: Rule) -> str | None:
    for name, pattern, stages in (("sender", rule.sender, _SENDER_STAGES),
                                  ("recipient", rule.recipient, _RECIPIENT_STAGES)):
        if pattern is None:
            continue
        if not isinstance(pattern, str) or not pattern:
            return f"{name} pattern must be a non-empty string"
        if rule.stage not in stages:
            return f"a {name} pattern never matches at the {rule.stage} stage (only at {', '.join(stages)})"
        try:
            _compile_pattern(pattern)
        except FaultError as error:
            return error.problem
    return None


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


def _quote(value: str) -> str:
    if value.startswith("/") and value.endswith("/") and len(value) > 1:
        return value  # a regex is kept whole by the splitter
    if any(c in value for c in ":\"'\\") or value != value.strip():
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
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
                rule = Rule(**{**_rule_fields(rule), "id": _typed(data, "id", str)})
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


def _rule_fields(rule: Rule) -> dict[str, Any]:
    return {name: getattr(rule, name) for name in ("stage", "action", "sender", "recipient", "times", "after",
                                                   "probability", "seed", "kind", "sequence", "window",
                                                   "per_second", "id")}


def as_rule(value: Rule | str | Mapping[str, Any]) -> Rule:
    """A rule from any of its spellings: a :class:`Rule`, a ``--fault`` string or the JSON dict."""
    if isinstance(value, Rule):
        return value
    if isinstance(value, str):
        return parse_rule(value)
    if isinstance(value, Mapping):
        return rule_from_dict(value)
    raise FaultError(f"expected a Rule, a rule string or a dict, got {type(value).__name__}")


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

    def get(self, rule_id: str) -> Rule | None:
        """A rule by id, or None."""
        with self._lock:
            return next((r for r in self._rules if r.id == rule_id), None)

    def _announce(self) -> None:
        self.bus.publish(Event("faults", self.rules()))

    def check(self, ctx: FaultContext) -> Firing | None:
        """The firing for this stage, or None. Rules first, then chaos; the first rule that fires wins."""
        if not self._rules and not self._chaos_rules:
            return None
        now = self.clock()
        with self._lock:
            for rule in itertools.chain(self._rules, self._chaos_rules):
                action = rule.evaluate(ctx, now)
                if action is not None:
                    return Firing(rule.id, action, _firing_description(rule, action))
        return None

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
