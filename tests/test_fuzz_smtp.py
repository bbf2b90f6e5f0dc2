"""The SMTP side under random command sequences and byte junk, over a real socket: every reply is a well-formed
SMTP reply with a proper code, no command makes the server raise or hang, and it still delivers afterwards."""

from __future__ import annotations

import contextlib
import logging
import os
import re
import socket
import threading
from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from mailtools import make_message, send

from mailtrap_lite import MailServer

EXAMPLES = int(os.environ.get("MAILTRAP_FUZZ_EXAMPLES", "60"))  # `make soak` raises it
FUZZ = settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
REPLY = re.compile(rb"^[2-5]\d\d([ -].*)?$")
# What SMTP may answer junk with; a 451 "local error" or aiosmtpd's "500 Error: (SomeException)" would be a bug.
ALLOWED_CODES = {b"220", b"221", b"235", b"250", b"251", b"252", b"334", b"354", b"421", b"452", b"454", b"500",
                 b"501", b"502", b"503", b"504", b"530", b"535", b"538", b"552", b"554", b"555"}

VERBS = [b"EHLO", b"HELO", b"MAIL FROM:", b"RCPT TO:", b"DATA", b"RSET", b"NOOP", b"VRFY", b"EXPN", b"HELP",
         b"AUTH PLAIN", b"AUTH LOGIN", b"AUTH CRAM-MD5", b"STARTTLS", b"BDAT 10", b"ehlo", b"MAIL", b"RCPT", b"."]
ARGUMENTS = [b"", b" example.com", b"<a@example.com>", b"<>", b"<a@example.com> SIZE=999999999999",
             b"<a@example.com> BODY=8BITMIME SMTPUTF8", b"<\xff\xfe@\x00>", b" =", b"AHVzZXIAcGFzcw==", b"*",
             b"<" + b"a" * 300 + b"@example.com>", b" " + b"x" * 1200]

command_lines = st.one_of(
    st.builds(lambda verb, argument: verb + argument + b"\r\n", st.sampled_from(VERBS), st.sampled_from(ARGUMENTS)),
    st.binary(max_size=120).map(lambda junk: junk + b"\r\n"),
    st.binary(max_size=300),  # not even a line
    st.just(b"\r\n.\r\n"),
)


class Errors(logging.Handler):
    """Collects errors that the SMTP layer logs (an exception in a session would land here)."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []
        self.lock = threading.Lock()

    def emit(self, record: logging.LogRecord) -> None:
        with self.lock:
            self.records.append(record)


@pytest.fixture(scope="module")
def server() -> Iterator[MailServer]:
    with MailServer(max_message_size=4096, max_messages=100) as running:
        yield running


@pytest.fixture(scope="module")
def errors() -> Iterator[Errors]:
    handler = Errors()
    loggers = [logging.getLogger(name) for name in ("mail.log", "mailtrap_lite", "asyncio")]
    for logger in loggers:
        logger.addHandler(handler)
    yield handler
    for logger in loggers:
        logger.removeHandler(handler)


def converse(server: MailServer, chunks: list[bytes]) -> list[bytes]:
    """Send every chunk, close our sending side, and read replies until the server closes (timeouts = a hang)."""
    with socket.create_connection((server.smtp_host, server.smtp_port), timeout=10) as sock:
        for chunk in chunks:
            try:
                sock.sendall(chunk)
            except (BrokenPipeError, ConnectionResetError):
                break  # the server closed first (QUIT, 421, or a limit): fine
        with contextlib.suppress(OSError):  # already closed by the server
            sock.shutdown(socket.SHUT_WR)
        received = b""
        while True:
            try:
                data = sock.recv(65536)
            except ConnectionResetError:
                break
            if not data:
                break
            received += data
    return received.split(b"\r\n")[:-1] if received.endswith(b"\r\n") else received.split(b"\r\n")


@FUZZ
@given(chunks=st.lists(command_lines, min_size=1, max_size=25))
def test_random_commands_and_junk_get_proper_replies(server: MailServer, errors: Errors, chunks: list[bytes]) -> None:
    lines = converse(server, chunks)
    assert lines and lines[0].startswith(b"220 "), lines[:1]
    for line in lines:
        assert REPLY.match(line), line
        assert line[:3] in ALLOWED_CODES, line
        assert b"Error: (" not in line, line  # aiosmtpd's wording for an exception inside a command
    assert not errors.records, [r.getMessage() for r in errors.records]


def test_the_server_still_delivers_after_the_fuzzing(server: MailServer) -> None:
    send(server, make_message(subject="after the fuzzing"))
    latest = server.store.latest()
    assert latest is not None and latest.subject == "after the fuzzing"
