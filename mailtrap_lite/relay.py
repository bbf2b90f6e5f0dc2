"""Releasing a captured message to a real SMTP server (``--relay smtp[s]://[user:pass@]host:port``).

The message goes out byte for byte as it was captured; only the envelope recipients are the ones asked for.
"""

from __future__ import annotations

import smtplib
import ssl
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

from mailtrap_lite.errors import ConfigError, MailtrapError
from mailtrap_lite.message import Message

_DEFAULT_PORTS = {"smtp": 25, "smtps": 465}
RELAY_TIMEOUT = 30.0


class RelayError(MailtrapError):
    """The relay refused the message or could not be reached; the text says what happened."""


@dataclass(frozen=True)
class RelayTarget:
    """Where released mail goes: ``smtps`` means implicit TLS; credentials are optional."""

    scheme: str
    host: str
    port: int
    username: str = ""
    password: str = ""

    @property
    def address(self) -> str:
        """``host:port`` (what the web UI shows)."""
        return f"{self.host}:{self.port}"


def parse_relay_url(url: str) -> RelayTarget:
    """Parse ``smtp[s]://[user:pass@]host[:port]``. Raises ConfigError naming ``--relay``."""
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS:
        raise ConfigError("--relay", f"expected smtp://host:port or smtps://host:port, got {url!r}")
    try:
        port = parts.port or _DEFAULT_PORTS[scheme]
    except ValueError:
        raise ConfigError("--relay", f"bad port in {url!r}") from None
    if not parts.hostname:
        raise ConfigError("--relay", f"no host in {url!r}")
    return RelayTarget(scheme, parts.hostname, port, unquote(parts.username or ""), unquote(parts.password or ""))


def release(target: RelayTarget, message: Message, recipients: list[str]) -> None:
    """Deliver ``message`` to ``recipients`` through ``target``. Raises RelayError with the server's answer."""
    sender = message.envelope.sender or message.from_.address
    try:
        client: smtplib.SMTP
        if target.scheme == "smtps":
            client = smtplib.SMTP_SSL(target.host, target.port, timeout=RELAY_TIMEOUT,
                                      context=ssl.create_default_context())
        else:
            client = smtplib.SMTP(target.host, target.port, timeout=RELAY_TIMEOUT)
        with client:
            if target.username:
                client.login(target.username, target.password)
            refused = client.sendmail(sender, recipients, message.raw)
    except smtplib.SMTPResponseException as error:
        text = error.smtp_error.decode("utf-8", "replace") if isinstance(error.smtp_error, bytes) else error.smtp_error
        raise RelayError(f"{error.smtp_code} {text}") from None
    except smtplib.SMTPRecipientsRefused as error:
        raise RelayError(_refused_text(error.recipients)) from None
    except (smtplib.SMTPException, OSError, UnicodeError) as error:
        raise RelayError(str(error) or type(error).__name__) from None
    if refused:
        raise RelayError(_refused_text(refused))


def _refused_text(refused: dict[str, tuple[int, bytes]]) -> str:
    return "; ".join(f"{rcpt}: {code} {text.decode('utf-8', 'replace')}" for rcpt, (code, text) in refused.items())
