"""The exception hierarchy, drawn once."""

from __future__ import annotations


class MailtrapError(Exception):
    """Base class of every error mailtrap-lite raises on purpose."""


class ConfigError(MailtrapError):
    """Bad configuration: names the flag (or option) and the problem, in one line."""

    def __init__(self, flag: str, problem: str) -> None:
        super().__init__(f"{flag}: {problem}")
        self.flag = flag
        self.problem = problem


class MailAssertionError(MailtrapError, AssertionError):
    """Expected mail did not arrive (or unexpected mail did): carries the rendered report as its message."""

    def __init__(self, report: str) -> None:
        super().__init__(report)
        self.report = report


class StorageError(MailtrapError):
    """A message or a change could not be written to the ``--db`` file; ``full`` when the disk is full."""

    def __init__(self, problem: str, full: bool = False) -> None:
        super().__init__(problem)
        self.full = full


class OverBudgetError(MailtrapError):
    """A message larger than the whole ``--max-total-size`` budget: storing it would prune everything else."""

    def __init__(self, size: int, budget: int) -> None:
        super().__init__(f"message of {size} bytes is larger than the whole storage budget (--max-total-size {budget})")
        self.size = size
        self.budget = budget


class TagLimitError(MailtrapError, ValueError):
    """Tags past the caps (count per message, length of one tag): the change is refused whole."""
