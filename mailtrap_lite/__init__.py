"""mailtrap-lite: an SMTP capture server with a Mailpit-compatible API, fault injection and a pytest plugin."""

from __future__ import annotations

from mailtrap_lite.config import ServerConfig
from mailtrap_lite.errors import ConfigError, MailAssertionError, MailtrapError
from mailtrap_lite.fault_presets import Faults
from mailtrap_lite.faults import FaultEngine, FaultError, Rule, parse_rule, rule_from_dict
from mailtrap_lite.mailbox import Mailbox, SmtpAttempt
from mailtrap_lite.message import Address, Envelope, Message, Part, SmtpFacts
from mailtrap_lite.server import MailServer
from mailtrap_lite.sessions import Attempt

__version__ = "0.1.0"

__all__ = [
    "Address",
    "Attempt",
    "ConfigError",
    "Envelope",
    "FaultEngine",
    "FaultError",
    "Faults",
    "MailAssertionError",
    "MailServer",
    "Mailbox",
    "MailtrapError",
    "Message",
    "Part",
    "Rule",
    "ServerConfig",
    "SmtpAttempt",
    "SmtpFacts",
    "__version__",
    "parse_rule",
    "rule_from_dict",
]
