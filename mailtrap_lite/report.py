"""The one renderer for "why didn't this match": used by asserts, waits and the fixture's teardown checks.

A report names what was expected, then lists what the test captured, closest candidates first, each with the
fields that did not match (expected versus actual), and then the SMTP attempts the server rejected, so a retry
test that delivered nothing shows why.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from mailtrap_lite.criteria import Criteria, TagLookup
from mailtrap_lite.message import Message

if TYPE_CHECKING:
    from mailtrap_lite.mailbox import SmtpAttempt

MAX_CANDIDATES = 10


def render(
    headline: str,
    criteria: Criteria,
    messages: Sequence[Message],
    attempts: Sequence[SmtpAttempt],
    tags_of: TagLookup,
    inspect_url: str | None = None,
) -> str:
    """The full report: ``headline``, the captured messages ranked against ``criteria``, the rejected attempts,
    and where to look at the messages in full when the server has a web UI."""
    lines = [headline, *_candidates(criteria, messages, tags_of), *_rejected(attempts)]
    if inspect_url and messages:
        lines.append(f"Inspect them in full at {inspect_url}")
    return "\n".join(lines)


def _candidates(criteria: Criteria, messages: Sequence[Message], tags_of: TagLookup) -> list[str]:
    if not messages:
        return ["This test captured no messages."]
    scored = [(criteria.mismatches(m, tags_of(m)), m) for m in messages]
    # Fewest failed criteria first; among equals, the newest first (the likeliest suspect).
    scored.sort(key=lambda pair: (len(pair[0]), -pair[1].seq))
    noun = "message" if len(messages) == 1 else "messages"
    order = ", closest first" if criteria and len(messages) > 1 else ""
    lines = [f"This test captured {len(messages)} {noun}{order}:"]
    for number, (mismatches, message) in enumerate(scored[:MAX_CANDIDATES], start=1):
        lines.append(f"  {number}. {describe_message(message)}")
        if not criteria:
            continue
        if not mismatches:
            lines.append("       matches every criterion")
        width = max((len(m.field) for m in mismatches), default=0)
        for mismatch in mismatches:
            lines.append(f"       {mismatch.field:<{width}}  expected {mismatch.expected}, got {mismatch.actual}")
    if len(scored) > MAX_CANDIDATES:
        lines.append(f"  ... and {len(scored) - MAX_CANDIDATES} more")
    return lines


def describe_message(message: Message) -> str:
    """One line naming a message: time, envelope sender and recipients, subject, id."""
    time = message.received_at.strftime("%H:%M:%S")
    recipients = ", ".join(message.envelope.recipients) or "(no recipients)"
    sender = message.envelope.sender or "<>"
    return f"{time}  {sender} -> {recipients}  subject {message.subject!r}  (id {message.id})"


def _rejected(attempts: Sequence[SmtpAttempt]) -> list[str]:
    rejected = [a for a in attempts if not a.accepted]
    if not rejected:
        return ["No SMTP attempt was rejected."]
    lines = [f"Rejected SMTP attempts in this test ({len(rejected)}):"]
    for attempt in rejected:
        reply = f"{attempt.reply_code} {attempt.reply_text}" if attempt.reply_code else "no reply (connection ended)"
        route = f"{attempt.sender or '<>'} -> {', '.join(attempt.recipients) or '(no recipients)'}"
        fault = f"  [fault {attempt.fault}]" if attempt.fault else ""
        lines.append(f"  {reply}  {route}{fault}")
        for recipient, code in attempt.rejected_recipients:
            lines.append(f"      recipient {recipient} refused with {code}")
    return lines
