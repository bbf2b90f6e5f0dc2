"""SMTP replies as named data, and the enhanced status codes (RFC 3463) we add to aiosmtpd's bare ones."""

from __future__ import annotations

import re

MAIL_OK = "250 2.1.0 Sender OK"
RCPT_OK = "250 2.1.5 Recipient OK"
TOO_MANY_RECIPIENTS = "452 4.5.3 Too many recipients"
SHUTTING_DOWN = "421 4.3.2 Service shutting down, closing connection"
TOO_MANY_CONNECTIONS = "421 4.7.0 Too many connections, try again later"
TOO_MANY_CONNECTIONS_FROM_ADDRESS = "421 4.7.0 Too many connections from your address, try again later"
IDLE_TIMEOUT = "421 4.4.2 Idle timeout, closing connection"
TLS_ALREADY_ACTIVE = "503 5.5.1 TLS already active"
AUTH_FAILED = "535 5.7.8 Authentication credentials invalid"
INSUFFICIENT_STORAGE = "452 4.3.1 Insufficient storage, message not stored"
STORAGE_FAILED = "451 4.3.0 Local error in storage, message not stored"


def over_budget(size: int, budget: int) -> str:
    """The DATA reply for a message larger than the whole ``--max-total-size`` (it could never be kept)."""
    return f"552 5.3.4 Message of {size} bytes exceeds the total storage limit of {budget} bytes, not stored"


QUEUED_CODE = 250


def queued(message_id: str) -> str:
    """The DATA reply for a stored message."""
    return f"{QUEUED_CODE} 2.0.0 Ok: queued as {message_id}"


def command_too_slow(seconds: float) -> str:
    """The reply to a client whose command line did not arrive whole within ``seconds``."""
    return f"421 4.4.2 Command line not completed within {seconds:g} s, closing connection"


def data_too_slow(min_rate: int, seconds: float) -> str:
    """The reply to a client whose message data arrived slower than ``min_rate`` bytes/s over ``seconds``."""
    return f"421 4.4.2 Message data slower than {min_rate} bytes/s for {seconds:g} s, closing connection"


# The enhanced code a bare reply gets, by basic code (RFC 3463 section 3 and RFC 5248).
_DEFAULT_ENHANCED = {
    "221": "2.0.0",
    "235": "2.7.0",
    "250": "2.0.0",
    "252": "2.0.0",
    "421": "4.4.2",
    "450": "4.0.0",
    "451": "4.3.0",
    "452": "4.3.1",
    "454": "4.7.0",
    "500": "5.5.2",
    "501": "5.5.4",
    "502": "5.5.1",
    "503": "5.5.1",
    "504": "5.5.4",
    "530": "5.7.0",
    "535": "5.7.8",
    "550": "5.1.1",
    "552": "5.3.4",
    "553": "5.1.3",
    "554": "5.0.0",
}
_HAS_ENHANCED = re.compile(r"^\d{3}[ -][245]\.\d{1,3}\.\d{1,3}(\s|$)")
_NO_ENHANCED = ("220", "334", "354")


def with_enhanced_code(reply: str) -> str:
    """Add an RFC 3463 enhanced status code to a final reply line that lacks one.

    Multi-line EHLO responses, the greeting, and intermediate replies (334, 354) are left as they are.
    """
    code = reply[:3]
    if code in _NO_ENHANCED or len(reply) < 4 or reply[3] != " " or _HAS_ENHANCED.match(reply):
        return reply
    enhanced = _DEFAULT_ENHANCED.get(code)
    return f"{code} {enhanced} {reply[4:]}" if enhanced else reply
