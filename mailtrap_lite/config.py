"""The server's configuration, shared by the CLI, the library (``MailServer``) and the pytest plugin."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from mailtrap_lite.allowed_hosts import HostPolicy
from mailtrap_lite.errors import ConfigError
from mailtrap_lite.limits import DEFAULT_COMMAND_TIMEOUT, DEFAULT_DATA_MIN_RATE, DEFAULT_DATA_TIMEOUT
from mailtrap_lite.relay import parse_relay_url

DEFAULT_SMTP_PORT = 1025
DEFAULT_HTTP_PORT = 8025
DEFAULT_MAX_MESSAGE_SIZE = 25 * 1024 * 1024
# Raw mail held at most (README "Limits"): with the parsed forms a process holds about twice this at its peak.
DEFAULT_MAX_TOTAL_SIZE = 512 * 1024 * 1024
_SIZE_UNITS = {"": 1, "K": 1024, "M": 1024**2, "G": 1024**3}


@dataclass
class ServerConfig:
    """Everything that shapes one running server. Ports of 0 mean "pick a free one"."""

    smtp_host: str = "127.0.0.1"
    smtp_port: int = 0
    http_host: str = "127.0.0.1"
    http_port: int | None = None  # None = no HTTP side
    smtps_host: str = "127.0.0.1"
    smtps_port: int | None = None  # None = no implicit-TLS listener
    hostname: str = "mailtrap-lite"
    max_messages: int = 1000
    max_message_size: int = DEFAULT_MAX_MESSAGE_SIZE
    max_total_size: int = DEFAULT_MAX_TOTAL_SIZE  # raw bytes of all stored mail; 0 = unlimited
    max_recipients: int = 100
    max_connections: int = 500
    idle_timeout: float = 300.0
    max_connections_per_ip: int | None = None  # None: 50 per remote address, none for loopback (limits.py)
    command_timeout: float = DEFAULT_COMMAND_TIMEOUT  # 0 = off
    data_timeout: float = DEFAULT_DATA_TIMEOUT
    data_min_rate: int = DEFAULT_DATA_MIN_RATE  # bytes/s over each data_timeout; 0 = off
    max_websocket_clients: int = 100
    http_workers: int = 32  # threads that serve HTTP requests (websockets have their own, see max_websocket_clients)
    max_http_connections: int = 1000
    http_idle_timeout: float = 60.0  # an HTTP connection waiting for a request is closed after this long
    http_head_timeout: float = 10.0  # a request head must be complete this long after its first byte, or 408
    session_capacity: int = 1000
    smtp_auth: str = "off"  # "off", "accept-any" or "required"
    smtp_users: dict[str, str] | None = None
    tls_cert: Path | None = None
    tls_key: Path | None = None
    tls_self_signed: bool = False
    require_tls: bool = False
    ui_auth: dict[str, str] | None = None
    relay: str | None = None
    faults: list[str] = field(default_factory=list)
    chaos: str | None = None
    seed: int | None = None
    db: Path | None = None
    api_cors: list[str] = field(default_factory=list)
    allowed_hosts: list[str] = field(default_factory=list)  # --allowed-hosts: Host names answered besides loopback
    login_failure_limit: int = 5  # failed --ui-auth logins per client address within the window before 429
    login_failure_window: float = 60.0
    verbosity: int = 0

    @property
    def tls_enabled(self) -> bool:
        """True when STARTTLS (and possibly implicit TLS) is offered."""
        return self.tls_self_signed or self.tls_cert is not None

    def validate(self) -> None:
        """Check combinations that no single flag can; raises ConfigError naming the flag."""
        if (self.tls_cert is None) != (self.tls_key is None):
            flag = "--tls-key" if self.tls_cert else "--tls-cert"
            raise ConfigError(flag, "--tls-cert and --tls-key must be given together")
        if self.smtps_port is not None and not self.tls_enabled:
            raise ConfigError("--smtps", "needs --tls self-signed or --tls-cert/--tls-key")
        if self.require_tls and not self.tls_enabled:
            raise ConfigError("--require-tls", "needs --tls self-signed or --tls-cert/--tls-key")
        if self.smtp_auth == "required" and not self.smtp_users:
            raise ConfigError("--smtp-auth-file", "no users given")
        for name in ("max_messages", "max_message_size", "max_total_size", "max_recipients", "max_connections",
                     "max_websocket_clients", "max_http_connections", "max_connections_per_ip", "command_timeout",
                     "data_min_rate"):
            if (getattr(self, name) or 0) < 0:
                raise ConfigError("--" + name.replace("_", "-"), "must not be negative")
        if self.http_workers < 1:
            raise ConfigError("--http-workers", "must be at least 1")
        for name in ("http_idle_timeout", "http_head_timeout", "data_timeout"):
            if getattr(self, name) <= 0:
                raise ConfigError("--" + name.replace("_", "-"), "must be more than 0")
        if self.relay:
            parse_relay_url(self.relay)
        try:
            HostPolicy(self.http_host, self.allowed_hosts)
        except ValueError as error:
            raise ConfigError("--allowed-hosts", str(error)) from None


def parse_size(value: str, flag: str) -> int:
    """Parse a byte count: ``1048576``, or with a 1024-based unit ``512K``, ``25M``, ``1.5G`` (``MB``/``MiB``
    alike, any case). Raises ConfigError naming ``flag``."""
    text = value.strip().upper().removesuffix("B").removesuffix("I")
    unit = text[-1:] if text[-1:] in _SIZE_UNITS else ""
    try:
        number = float(text[: len(text) - len(unit)])
    except ValueError:
        raise ConfigError(flag, f"{value!r} is not a size (bytes, or a number with K, M or G)") from None
    if not number >= 0 or number == float("inf"):
        raise ConfigError(flag, f"{value!r} must be a size of 0 or more")
    return int(number * _SIZE_UNITS[unit])


def parse_address(value: str, flag: str) -> tuple[str, int]:
    """Parse ``HOST:PORT`` (``[::1]:25`` for IPv6, ``:PORT`` for loopback). Raises ConfigError naming ``flag``."""
    text = value.strip()
    host, sep, port_text = text.rpartition(":")
    if not sep:
        raise ConfigError(flag, f"expected HOST:PORT, got {value!r}")
    host = host.strip("[]") or "127.0.0.1"
    try:
        port = int(port_text)
    except ValueError:
        raise ConfigError(flag, f"port {port_text!r} is not a number") from None
    if not 0 <= port <= 65535:
        raise ConfigError(flag, f"port {port} is out of range 0-65535")
    return host, port
