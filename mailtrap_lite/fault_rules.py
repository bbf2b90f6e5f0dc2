"""The fault rule model: what a rule matches, what it does, its budget and state, and how it is written out.

A rule says *when* (a stage plus optional sender/recipient match), *what* (reply with a code, delay, hang or
disconnect) and *how often* (a budget: the first ``times`` matching attempts after skipping ``after``, a seeded
``probability``, or one of the stateful kinds ``sequence``, ``greylist`` and ``rate_limit``). Constructing a
:class:`Rule` validates it, so a rule that exists is a rule that works. Reading rules from strings and JSON is
:mod:`mailtrap_lite.fault_syntax`; the ordered list the SMTP server consults is :mod:`mailtrap_lite.faults`.
"""

from __future__ import annotations

import math
import random
import re
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from fnmatch import translate
from typing import Any, Literal

from mailtrap_lite import replies
from mailtrap_lite.errors import MailtrapError

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
    """The code, enhanced status and text a reply of this rule gets when left blank. A stateful kind keeps its own
    text whatever the code; a sequence has none (each entry gets the defaults of its own code)."""
    if rule.kind == "sequence":
        return 0, "", ""
    defaults = _KIND_DEFAULTS.get(rule.kind)
    code = rule.action.code or (defaults[0] if defaults else 0)
    if not isinstance(code, int) or isinstance(code, bool) or not 400 <= code <= 599:
        return code, "", ""  # validation reports the code
    if defaults is not None:
        return code, defaults[1] if code == defaults[0] else default_enhanced(code), defaults[2](rule)
    return code, default_enhanced(code), default_text(code)


def _num(value: float) -> str:
    """A number as short as it can be written without changing it (``5.0`` -> ``5``, ``0.1`` stays)."""
    short = f"{value:g}"
    return short if float(short) == value else repr(value)


def _quote(value: str) -> str:
    """A pattern or text as ``to_text`` writes it, so that ``fault_syntax``'s splitter reads it back whole."""
    if value.startswith("/") and value.endswith("/") and len(value) > 1:
        return value  # a regex is kept whole by the splitter
    if any(c in value for c in ":\"'\\") or value != value.strip():
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return value


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
