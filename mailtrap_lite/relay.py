"""Releasing a captured message to a real SMTP server (``--relay smtp[s]://[user:pass@]host:port[?options]``).

The message goes out byte for byte as it was captured; only the envelope recipients are the ones asked for.

The connection is protected wherever the relay allows it: ``smtps://`` is TLS from the first byte, and on
``smtp://`` STARTTLS is used whenever the relay offers it. The relay's certificate is verified against the system's
CAs (``tls-ca=FILE`` trusts another CA, ``tls-verify=0`` turns the check off for a lab relay). A password is never
sent in cleartext: a relay that offers no STARTTLS gets the message without AUTH only when no credentials are
configured, and with them only if the URL says ``insecure-auth=1``.
"""

from __future__ import annotations

import smtplib
import ssl
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qsl, unquote, urlsplit, urlunsplit

from mailtrap_lite.errors import ConfigError, MailtrapError
from mailtrap_lite.message import Message

_DEFAULT_PORTS = {"smtp": 25, "smtps": 465}
_SWITCHES = {"1": True, "true": True, "yes": True, "on": True, "0": False, "false": False, "no": False, "off": False}
_OPTIONS = ("insecure-auth", "tls-ca", "tls-verify")
RELAY_TIMEOUT = 30.0


class RelayError(MailtrapError):
    """The relay refused the message or could not be reached; the text says what happened."""


@dataclass(frozen=True)
class RelayTarget:
    """Where released mail goes: ``smtps`` means implicit TLS; credentials are optional.

    ``insecure_auth`` allows credentials over a connection without TLS; ``tls_verify`` and ``tls_ca`` say how the
    relay's certificate is checked."""

    scheme: str
    host: str
    port: int
    username: str = ""
    password: str = ""
    insecure_auth: bool = False
    tls_verify: bool = True
    tls_ca: Path | None = None

    @property
    def address(self) -> str:
        """``host:port`` (what the web UI shows)."""
        return f"{self.host}:{self.port}"

    def tls_context(self) -> ssl.SSLContext:
        """The client TLS settings for this relay: verify the certificate and the host name unless told not to."""
        context = ssl.create_default_context(cafile=str(self.tls_ca) if self.tls_ca else None)
        if not self.tls_verify:
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
        return context


def parse_relay_url(url: str) -> RelayTarget:
    """Parse ``smtp[s]://[user:pass@]host[:port][?options]``. Raises ConfigError naming ``--relay``.

    Options: ``insecure-auth=1`` (allow credentials without TLS), ``tls-verify=0`` (do not check the certificate),
    ``tls-ca=FILE`` (trust the CA certificates in FILE). Error texts never repeat the password."""
    parts = urlsplit(url.strip())
    shown = _without_password(url.strip())
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS:
        raise ConfigError("--relay", f"expected smtp://host:port or smtps://host:port, got {shown!r}")
    try:
        port = parts.port or _DEFAULT_PORTS[scheme]
    except ValueError:
        raise ConfigError("--relay", f"bad port in {shown!r}") from None
    if not parts.hostname:
        raise ConfigError("--relay", f"no host in {shown!r}")
    options = _options(parts.query)
    tls_ca = Path(options["tls-ca"]) if "tls-ca" in options else None
    tls_verify = _switch(options, "tls-verify", True)
    if tls_ca is not None:
        if not tls_verify:
            raise ConfigError("--relay", "tls-ca=FILE and tls-verify=0 contradict each other; give one of them")
        _check_ca_file(tls_ca)
    return RelayTarget(
        scheme, parts.hostname, port, unquote(parts.username or ""), unquote(parts.password or ""),
        insecure_auth=_switch(options, "insecure-auth", False), tls_verify=tls_verify, tls_ca=tls_ca,
    )


def release(target: RelayTarget, message: Message, recipients: list[str]) -> None:
    """Deliver ``message`` to ``recipients`` through ``target``. Raises RelayError with the server's answer."""
    sender = message.envelope.sender or message.from_.address
    try:
        with _connect(target) as client:
            if target.username:
                client.login(target.username, target.password)
            refused = client.sendmail(sender, recipients, message.raw)
    except smtplib.SMTPResponseException as error:
        text = error.smtp_error.decode("utf-8", "replace") if isinstance(error.smtp_error, bytes) else error.smtp_error
        raise RelayError(f"{error.smtp_code} {text}") from None
    except smtplib.SMTPRecipientsRefused as error:
        raise RelayError(_refused_text(error.recipients)) from None
    except ssl.SSLCertVerificationError as error:
        raise RelayError(
            f"relay {target.address} has a certificate that is not trusted ({error.verify_message}); add "
            "?tls-ca=FILE to --relay to trust its CA, or ?tls-verify=0 to skip the check"
        ) from None
    except (smtplib.SMTPException, OSError, UnicodeError) as error:
        raise RelayError(str(error) or type(error).__name__) from None
    if refused:
        raise RelayError(_refused_text(refused))


def _connect(target: RelayTarget) -> smtplib.SMTP:
    """An open session with the relay, on TLS whenever the relay has it. Raises RelayError before any password
    would go out in cleartext."""
    if target.scheme == "smtps":
        return smtplib.SMTP_SSL(target.host, target.port, timeout=RELAY_TIMEOUT, context=target.tls_context())
    client = smtplib.SMTP(target.host, target.port, timeout=RELAY_TIMEOUT)
    try:
        client.ehlo_or_helo_if_needed()
        if client.has_extn("starttls"):
            client.starttls(context=target.tls_context())
            client.ehlo()
        elif target.username and not target.insecure_auth:
            raise RelayError(
                f"relay {target.address} offers no STARTTLS; refusing to send the password in cleartext "
                "(add ?insecure-auth=1 to --relay to allow it)"
            )
    except BaseException:
        client.close()
        raise
    return client


def _options(query: str) -> dict[str, str]:
    options: dict[str, str] = {}
    for name, value in parse_qsl(query, keep_blank_values=True):
        if name not in _OPTIONS:
            raise ConfigError("--relay", f"unknown option {name!r}; known: {', '.join(_OPTIONS)}")
        if name in options:
            raise ConfigError("--relay", f"option {name!r} given twice")
        options[name] = value
    return options


def _switch(options: dict[str, str], name: str, default: bool) -> bool:
    if name not in options:
        return default
    value = _SWITCHES.get(options[name].strip().lower())
    if value is None:
        raise ConfigError("--relay", f"{name}={options[name]!r}: expected 1 or 0")
    return value


def _check_ca_file(path: Path) -> None:
    try:
        ssl.create_default_context(cafile=str(path))
    except (OSError, ssl.SSLError) as error:
        problem = getattr(error, "strerror", None) or error
        raise ConfigError("--relay", f"tls-ca={path}: cannot load CA certificates ({problem})") from None


def _without_password(url: str) -> str:
    """``url`` with the password replaced by ``***``, for error messages and logs."""
    parts = urlsplit(url)
    userinfo, at, host = parts.netloc.rpartition("@")
    if not at or ":" not in userinfo:
        return url
    return urlunsplit(parts._replace(netloc=f"{userinfo.partition(':')[0]}:***@{host}"))


def _refused_text(refused: dict[str, tuple[int, bytes]]) -> str:
    return "; ".join(f"{rcpt}: {code} {text.decode('utf-8', 'replace')}" for rcpt, (code, text) in refused.items())
