"""The Python face of fault injection: presets with the names users ask for, over any rule backend.

``MailServer.faults`` and the pytest plugin's ``mailtrap.faults`` are a :class:`Faults`. Each preset builds one
:class:`~mailtrap_lite.faults.Rule` (so it round-trips through the CLI string and the JSON form) and hands it to
the backend: the server's :class:`~mailtrap_lite.faults.FaultEngine`, or the plugin's remote mode over REST.

    server.faults.fail_next(2, code=451)        # 451, 451, then mail flows again
    server.faults.greylist(1)                   # 451 4.7.1 first, a retry after 1 s passes
    server.faults.disconnect()                  # drop the connection at the end of DATA, reply nothing
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Protocol

from mailtrap_lite.faults import Action, Rule, as_rule


class FaultBackend(Protocol):
    """Where rules live. The local backend is ``FaultEngine``; a remote one speaks ``/api/v1/faults``."""

    def add(self, rule: Rule) -> Rule: ...
    def remove(self, rule_id: str) -> bool: ...
    def clear(self) -> None: ...
    def rules(self) -> list[Rule]: ...


class Faults:
    """Fault presets and rule management. Every method that adds returns the :class:`Rule` added (with its id).

    ``stage`` is one of ``connect``, ``ehlo``, ``auth``, ``mail``, ``rcpt``, ``data`` (the reply to the DATA
    command) and ``data_end`` (the reply after the message content). ``sender``/``recipient`` narrow a rule to
    matching addresses (glob or ``/regex/``). ``times`` counts firings; 0 means every matching attempt.
    """

    def __init__(self, backend: FaultBackend) -> None:
        self.backend = backend

    # -- rules ------------------------------------------------------------------------------------------------

    def add(self, rule: Rule | str | Mapping[str, Any]) -> Rule:
        """Add a rule in any spelling: a ``Rule``, a ``--fault`` string (``"data:451:times=2"``) or its dict."""
        return self.backend.add(as_rule(rule))

    def remove(self, rule: Rule | str) -> bool:
        """Remove a rule (or its id); False when it was not there."""
        return self.backend.remove(rule.id if isinstance(rule, Rule) else rule)

    def clear(self) -> None:
        """Remove every rule."""
        self.backend.clear()

    def rules(self) -> list[Rule]:
        """The rules in evaluation order, with their ``matched``/``fired`` counters."""
        return self.backend.rules()

    def unfired(self, rules: Iterable[Rule | str] | None = None) -> list[Rule]:
        """One-shot rules (see :attr:`Rule.one_shot`) that never fired: the test set up a failure it did not
        exercise. Limited to ``rules`` (rules or ids) when given; rules already removed are not reported."""
        wanted = None if rules is None else {r.id if isinstance(r, Rule) else r for r in rules}
        return [r for r in self.rules() if r.one_shot and not r.fired and (wanted is None or r.id in wanted)]

    # -- presets ----------------------------------------------------------------------------------------------

    def fail_next(
        self, n: int = 1, code: int = 451, stage: str = "data", *, text: str = "", **match: str
    ) -> Rule:
        """Answer the next ``n`` matching attempts with ``code`` (4xx temporary, 5xx permanent), then stop."""
        return self._add(stage, Action("reply", code, text=text), times=n, **match)

    def sequence(self, codes: Sequence[int], stage: str = "data", **match: str) -> Rule:
        """One code per matching attempt, in order; a 2xx lets that attempt through. ``[451, 451, 250]``."""
        return self._add(stage, Action("reply"), kind="sequence", sequence=tuple(codes), **match)

    def reject(self, recipient: str, code: int = 550, *, times: int = 0, text: str = "") -> Rule:
        """Refuse RCPT for ``recipient`` (glob or ``/regex/``) with ``code``; every time unless ``times``."""
        return self._add("rcpt", Action("reply", code, text=text), recipient=recipient, times=times)

    def greylist(self, seconds: float, **match: str) -> Rule:
        """``451 4.7.1`` for the first attempt of each sender/recipient pair and for retries sooner than
        ``seconds``; a retry after the window passes (at RCPT, like real greylisting)."""
        return self._add("rcpt", Action("reply"), kind="greylist", window=seconds, **match)

    def rate_limit(self, per_second: int, code: int = 421, stage: str = "mail") -> Rule:
        """More than ``per_second`` attempts within a second get ``code`` (``421 4.7.0``, which also closes the
        connection; ``451`` gives ``451 4.7.1``)."""
        enhanced = "4.7.1" if code == 451 else ""
        return self._add(stage, Action("reply", code, enhanced), kind="rate_limit", per_second=per_second)

    def delay(self, seconds: float, stage: str = "data", *, times: int = 1, **match: str) -> Rule:
        """Wait ``seconds`` before answering at ``stage`` (a slow server), then carry on normally."""
        return self._add(stage, Action("delay", seconds=seconds), times=times, **match)

    def hang(self, stage: str = "data", *, times: int = 1, **match: str) -> Rule:
        """Never answer at ``stage``: the client's own timeout must fire. Other sessions are not slowed."""
        return self._add(stage, Action("hang"), times=times, **match)

    def disconnect(self, stage: str = "data_end", *, times: int = 1, **match: str) -> Rule:
        """Close the connection at ``stage`` without a reply. The default is mid-DATA: the content has been
        sent, the connection drops instead of the final reply, and nothing is stored."""
        return self._add(stage, Action("disconnect"), times=times, **match)

    def refuse_connections(self, times: int = 0, code: int = 421) -> Rule:
        """Greet new connections with ``code`` and close them (``421 4.3.2``); every time unless ``times``."""
        enhanced = "4.3.2" if code == 421 else ""
        return self._add("connect", Action("reply", code, enhanced, "System not accepting network messages"),
                         times=times)

    def auth_fail(self, times: int = 0, code: int = 535) -> Rule:
        """Refuse AUTH with ``535 5.7.8`` (bad credentials) until removed, or for the next ``times`` AUTH commands.
        Note that ``smtplib``'s ``login()`` tries each advertised mechanism in turn (two AUTH commands here)."""
        return self._add("auth", Action("reply", code), times=times)

    def too_large(self, times: int = 1, **match: str) -> Rule:
        """Answer the end of DATA with ``552 5.3.4`` (message too big) instead of storing the message."""
        return self._add("data_end", Action("reply", 552, "5.3.4"), times=times, **match)

    def _add(self, stage: str, action: Action, **options: Any) -> Rule:
        unknown = set(options) - {"sender", "recipient", "times", "kind", "sequence", "window", "per_second"}
        if unknown:
            raise TypeError(f"unknown option(s): {', '.join(sorted(unknown))} (use sender= or recipient=)")
        return self.backend.add(Rule(stage, action, **options))
