"""The ``mailtrap-lite`` command: flags (each with a ``MAILTRAP_LITE_<NAME>`` variable), start, run until a signal.

Every configuration mistake ends in one line on stderr that names the flag, and exit status 2.
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import NoReturn, TypeVar

from mailtrap_lite.allowed_hosts import is_loopback_address
from mailtrap_lite.auth import load_users
from mailtrap_lite.config import (
    DEFAULT_MAX_MESSAGE_SIZE,
    DEFAULT_MAX_TOTAL_SIZE,
    ServerConfig,
    parse_address,
    parse_size,
)
from mailtrap_lite.errors import ConfigError
from mailtrap_lite.events import Event
from mailtrap_lite.limits import (
    DEFAULT_COMMAND_TIMEOUT,
    DEFAULT_DATA_MIN_RATE,
    DEFAULT_DATA_TIMEOUT,
    DEFAULT_MAX_CONNECTIONS_PER_IP,
)
from mailtrap_lite.malloc_tuning import return_large_frees

PROG = "mailtrap-lite"
ENV_PREFIX = "MAILTRAP_LITE_"
_TRUE = {"1", "true", "yes", "on"}
_T = TypeVar("_T")


class _Parser(argparse.ArgumentParser):
    """argparse that reports mistakes in one line, without the usage block."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{PROG}: error: {message}\n")


def _checked_by(read: Callable[[str, str], _T], flag: str, metavar: str) -> Callable[[str], _T]:
    """An argparse type from a configuration reader that raises ConfigError naming ``flag``."""

    def parse(value: str) -> _T:
        try:
            return read(value, flag)
        except ConfigError as error:
            raise argparse.ArgumentTypeError(error.problem) from None

    parse.__name__ = metavar  # argparse names the type in its messages
    return parse


def _address(flag: str) -> Callable[[str], tuple[str, int]]:
    return _checked_by(parse_address, flag, "HOST:PORT")


def _size(flag: str) -> Callable[[str], int]:
    return _checked_by(parse_size, flag, "BYTES")


def _count(value: str) -> int:
    try:
        number = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a whole number") from None
    if number < 0:
        raise argparse.ArgumentTypeError(f"{number} must not be negative")
    return number


def _positive(value: str) -> int:
    number = _count(value)
    if number < 1:
        raise argparse.ArgumentTypeError(f"{number} must be at least 1")
    return number


def _number_of_seconds(value: str) -> float:
    try:
        return float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a number of seconds") from None


def _seconds(value: str) -> float:
    number = _number_of_seconds(value)
    if number <= 0:
        raise argparse.ArgumentTypeError(f"{value} must be more than 0")
    return number


def _seconds_or_off(value: str) -> float:
    number = _number_of_seconds(value)
    if number < 0:
        raise argparse.ArgumentTypeError(f"{value} must not be negative")
    return number


def _user_pass(value: str) -> tuple[str, str]:
    user, sep, password = value.partition(":")
    if not sep or not user:
        raise argparse.ArgumentTypeError("expected USER:PASS")
    return user, password


def build_parser() -> argparse.ArgumentParser:
    """The argument parser; defaults come from ``MAILTRAP_LITE_*`` variables when they are set."""
    parser = _Parser(
        prog=PROG,
        description="Capture mail over SMTP and inspect it in a web UI and a Mailpit-compatible API.",
    )
    add = parser.add_argument
    add("--smtp", type=_address("--smtp"), default="127.0.0.1:1025", metavar="HOST:PORT",
        help="SMTP listener (port 0 picks a free port) [127.0.0.1:1025]")
    add("--http", type=_address("--http"), default="127.0.0.1:8025", metavar="HOST:PORT",
        help="web UI and API listener [127.0.0.1:8025]")
    add("--no-http", action="store_true", help="run SMTP only")
    add("--max-messages", type=_count, default=1000, metavar="N",
        help="keep at most N messages, dropping the oldest (0 = unlimited) [1000]")
    add("--max-message-size", type=_size("--max-message-size"), default=DEFAULT_MAX_MESSAGE_SIZE, metavar="BYTES",
        help="largest message accepted, advertised as SIZE; larger mail gets 552 (units K, M, G allowed) [25M]")
    add("--max-total-size", type=_size("--max-total-size"), default=DEFAULT_MAX_TOTAL_SIZE, metavar="BYTES",
        help="raw bytes of all stored mail; the oldest messages are pruned to make room, a single message "
        "larger than this gets 552 (units K, M, G allowed; 0 = unlimited) [512M]")
    add("--max-recipients", type=_count, default=100, metavar="N",
        help="recipients per message before 452 4.5.3 [100]")
    add("--max-connections", type=_count, default=500, metavar="N",
        help="concurrent SMTP connections before 421 4.7.0 [500]")
    add("--idle-timeout", type=_seconds, default=300.0, metavar="SECONDS",
        help="drop idle SMTP clients with 421 4.4.2 after this long [300]")
    add("--max-connections-per-ip", type=_count, default=None, metavar="N",
        help="concurrent SMTP connections from one client address before 421 4.7.0 (0 = unlimited) "
             f"[{DEFAULT_MAX_CONNECTIONS_PER_IP}, loopback clients unlimited]")
    add("--command-timeout", type=_seconds_or_off, default=DEFAULT_COMMAND_TIMEOUT, metavar="SECONDS",
        help="a started SMTP command line must be complete within this, else 421 4.4.2 (0 = off) "
             f"[{DEFAULT_COMMAND_TIMEOUT:g}]")
    add("--data-timeout", type=_seconds, default=DEFAULT_DATA_TIMEOUT, metavar="SECONDS",
        help=f"the window over which --data-min-rate is measured [{DEFAULT_DATA_TIMEOUT:g}]")
    add("--data-min-rate", type=_count, default=DEFAULT_DATA_MIN_RATE, metavar="BYTES",
        help="message data slower than this many bytes/s over --data-timeout gets 421 4.4.2 (0 = off) "
             f"[{DEFAULT_DATA_MIN_RATE}]")
    add("--max-websocket-clients", type=_count, default=100, metavar="N",
        help="event-stream websocket clients before 503 (0 = unlimited) [100]")
    add("--http-workers", type=_positive, default=32, metavar="N",
        help="threads serving HTTP requests; at most half of them wait in /api/v1/wait at once [32]")
    add("--max-http-connections", type=_count, default=1000, metavar="N",
        help="open HTTP connections before new ones get 503 (0 = unlimited) [1000]")
    add("--http-idle-timeout", type=_seconds, default=60.0, metavar="SECONDS",
        help="close an HTTP connection that sends no request for this long [60]")
    add("--db", type=Path, metavar="PATH", help="keep messages in this SQLite file across restarts")
    add("--smtp-auth", choices=["accept-any"], help="offer AUTH PLAIN/LOGIN and accept any credentials")
    add("--smtp-auth-file", type=Path, metavar="FILE",
        help="require AUTH; FILE holds user:password lines")
    add("--tls", choices=["self-signed"], help="offer STARTTLS with a certificate generated now")
    add("--tls-cert", type=Path, metavar="FILE", help="offer STARTTLS with this certificate (PEM)")
    add("--tls-key", type=Path, metavar="FILE", help="the private key of --tls-cert (PEM)")
    add("--smtps", type=_address("--smtps"), metavar="HOST:PORT", help="also listen for implicit TLS here")
    add("--require-tls", action="store_true", help="refuse MAIL before STARTTLS with 530")
    add("--ui-auth", type=_user_pass, metavar="USER:PASS", help="HTTP Basic auth on the UI, API and websocket")
    add("--ui-auth-file", type=Path, metavar="FILE", help="HTTP Basic auth users, user:password lines")
    add("--relay", metavar="URL", help="smtp[s]://[user:pass@]host:port[?options] where 'release' sends a message; "
        "options: tls-ca=FILE, tls-verify=0, insecure-auth=1 (send the password without TLS)")
    add("--fault", action="append", metavar="RULE",
        help="start with this fault rule, e.g. data:451:times=2 (repeatable)")
    add("--chaos", metavar="TRIGGERS", help="Mailpit-style random failures, e.g. Sender:451:50,Recipient:451:10")
    add("--seed", type=int, metavar="N", help="seed for probabilistic faults, to replay a run")
    add("--api-cors", metavar="ORIGINS", help="comma-separated origins allowed to call the API from a browser")
    add("--allowed-hosts", metavar="NAMES",
        help="comma-separated Host names the UI and API answer besides loopback names and IP addresses, e.g. "
             "mail.test,*.dev.example (* = any) [loopback only; any when --http is not loopback]")
    add("-q", "--quiet", action="store_true", help="only warnings and errors")
    add("-v", "--verbose", action="store_true", help="log every SMTP command and reply")
    _apply_environment(parser)
    return parser


def _env_name(action: argparse.Action) -> str:
    return ENV_PREFIX + action.dest.upper()


def _apply_environment(parser: argparse.ArgumentParser) -> None:
    """Use ``MAILTRAP_LITE_<NAME>`` as each flag's default (argparse runs string defaults through ``type``)."""
    for action in parser._actions:  # argparse offers no public iterator over its actions
        if not action.option_strings or action.dest == "help":
            continue
        value = os.environ.get(_env_name(action))
        if value is None:
            continue
        if isinstance(action, argparse._StoreTrueAction):
            action.default = value.strip().lower() in _TRUE
        elif isinstance(action, argparse._AppendAction):
            action.default = [v for v in value.split(";") if v.strip()]
        else:
            action.default = value
        action.help = f"{action.help} (from ${_env_name(action)})"


def config_from_args(args: argparse.Namespace) -> ServerConfig:
    """Turn parsed flags into a :class:`ServerConfig`; raises ConfigError naming the flag."""
    smtp_host, smtp_port = args.smtp
    http_host, http_port = args.http
    config = ServerConfig(
        smtp_host=smtp_host,
        smtp_port=smtp_port,
        http_host=http_host,
        http_port=None if args.no_http else http_port,
        max_messages=args.max_messages,
        max_message_size=args.max_message_size,
        max_total_size=args.max_total_size,
        max_recipients=args.max_recipients,
        max_connections=args.max_connections,
        idle_timeout=args.idle_timeout,
        max_connections_per_ip=args.max_connections_per_ip,
        command_timeout=args.command_timeout,
        data_timeout=args.data_timeout,
        data_min_rate=args.data_min_rate,
        max_websocket_clients=args.max_websocket_clients,
        http_workers=args.http_workers,
        max_http_connections=args.max_http_connections,
        http_idle_timeout=args.http_idle_timeout,
        tls_cert=args.tls_cert,
        tls_key=args.tls_key,
        tls_self_signed=args.tls == "self-signed",
        require_tls=args.require_tls,
        relay=args.relay,
        faults=list(args.fault or []),
        chaos=args.chaos,
        seed=args.seed,
        db=args.db,
        api_cors=[o.strip() for o in (args.api_cors or "").split(",") if o.strip()],
        allowed_hosts=[h.strip() for h in (args.allowed_hosts or "").split(",") if h.strip()],
        verbosity=-1 if args.quiet else (1 if args.verbose else 0),
    )
    if args.smtps is not None:
        config.smtps_host, config.smtps_port = args.smtps
    if args.smtp_auth_file is not None:
        config.smtp_auth, config.smtp_users = "required", load_users(args.smtp_auth_file)
    elif args.smtp_auth == "accept-any":
        config.smtp_auth = "accept-any"
    if args.ui_auth is not None:
        config.ui_auth = dict([args.ui_auth])
    elif args.ui_auth_file is not None:
        config.ui_auth = load_users(args.ui_auth_file, "--ui-auth-file")
    for flag, path in (("--tls-cert", args.tls_cert), ("--tls-key", args.tls_key)):
        if path is not None and not path.is_file():
            raise ConfigError(flag, f"{path} does not exist or is not a file")
    config.validate()
    return config


def _configure_logging(verbosity: int) -> None:
    level = logging.WARNING if verbosity < 0 else logging.INFO
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(message)s", datefmt="%H:%M:%S")
    # aiosmtpd logs each command and reply at DEBUG on "mail.log"; show that only with -v.
    logging.getLogger("mail.log").setLevel(logging.DEBUG if verbosity > 0 else logging.WARNING)


def _log_new_mail(event: Event) -> None:
    if event.type == "new":
        message = event.data
        logging.getLogger(PROG).info(
            "stored %s from <%s> to %s (%d bytes)",
            message.id, message.envelope.sender, ", ".join(message.envelope.recipients), message.size,
        )


def main(argv: Sequence[str] | None = None) -> int:
    """Run the server until SIGINT or SIGTERM. Returns the process exit status."""
    from mailtrap_lite.server import MailServer

    return_large_frees()
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        config = config_from_args(args)
        _configure_logging(config.verbosity)
        server = MailServer(config)
        server.bus.subscribe(_log_new_mail)
        server.start()
    except ConfigError as error:
        print(f"{PROG}: error: {error}", file=sys.stderr)
        return 2
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    print(f"{PROG}: SMTP on {server.smtp_host}:{server.smtp_port}", flush=True)
    if server.smtps_port is not None:
        print(f"{PROG}: SMTPS on {config.smtps_host}:{server.smtps_port}", flush=True)
    if server.http_url:
        print(f"{PROG}: web UI and API on {server.http_url}", flush=True)
        if config.ui_auth is None and not is_loopback_address(config.http_host):
            logging.getLogger(PROG).warning(
                "the web UI and API listen on %s without --ui-auth: anyone who can reach it can read and delete "
                "the captured mail", config.http_host,
            )
    try:
        stop.wait()
    finally:
        server.stop()
    print(f"{PROG}: stopped", flush=True)
    return 0
