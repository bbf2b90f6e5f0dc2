"""Slow clients ("slow loris") cannot hold connections: a command line must arrive whole within
``--command-timeout``, DATA must keep up ``--data-min-rate`` over each ``--data-timeout``, and one client address
may hold at most ``--max-connections-per-ip`` connections. Each is answered ``421`` and closed, while normal
senders keep delivering. The lorises here trickle bytes at their own pace: that is the behaviour under test."""

from __future__ import annotations

import select
import smtplib
import socket
import threading
import time
from collections.abc import Iterator

import pytest
from test_smtp_bad_input import RawClient

from mailtrap_lite import MailServer
from mailtrap_lite.cli import build_parser, config_from_args
from mailtrap_lite.limits import DEFAULT_MAX_CONNECTIONS_PER_IP, ConnectionCounter

MESSAGE = b"From: app@example.com\r\nTo: bob@example.com\r\nSubject: normal\r\n\r\nhello\r\n"
GIVE_UP = 20.0  # a loris that is not cut by then has won: the test fails


class Loris(threading.Thread):
    """Connects, says ``prelude`` (one command at a time), then trickles ``trickle`` one byte every ``pace``
    seconds, forever, until the server answers something; ``reply`` is that answer, ``closed`` whether the server
    closed the connection after it."""

    def __init__(self, server: MailServer, prelude: list[bytes], trickle: bytes, pace: float,
                 source: str = "127.0.0.1") -> None:
        super().__init__(daemon=True)
        self.sock = socket.create_connection((server.smtp_host, server.smtp_port), timeout=10,
                                             source_address=(source, 0))
        self.file = self.sock.makefile("rb")
        self.greeting = self._reply()
        self.prelude, self.trickle, self.pace = prelude, trickle, pace
        self.reply = ""
        self.closed = False
        self.trickled = 0

    def _reply(self) -> str:
        while True:
            line = self.file.readline().decode()
            if line[3:4] != "-":
                return line.rstrip("\r\n")

    def run(self) -> None:
        for command in self.prelude:
            self.sock.sendall(command + b"\r\n")
            self._reply()
        deadline = time.monotonic() + GIVE_UP
        while time.monotonic() < deadline:
            readable, _, _ = select.select([self.sock], [], [], self.pace)
            if readable:
                self.reply = self._reply()
                self.closed = self._server_closed()
                return
            try:
                self.sock.sendall(self.trickle[self.trickled % len(self.trickle):][:1])
            except OSError:  # the server closed while we wrote: its reply is still to be read
                continue
            self.trickled += 1

    def _server_closed(self) -> bool:
        """Whether the connection ends after the reply: end of stream, or a reset (the server closed while a
        trickled byte was on its way, so its kernel answered that byte with RST)."""
        try:
            return self.file.readline() == b""
        except ConnectionResetError:
            return True

    def finish(self) -> str:
        """Wait for the server's answer (at most GIVE_UP seconds) and close; returns the answer."""
        self.join(GIVE_UP + 5)
        self.file.close()
        self.sock.close()
        return self.reply


def deliver(server: MailServer, **connect: object) -> dict[str, tuple[int, bytes]]:
    """One normal message over smtplib; returns the refused recipients (none expected)."""
    with smtplib.SMTP(server.smtp_host, server.smtp_port, timeout=10, **connect) as client:  # type: ignore[arg-type]
        return client.sendmail("app@example.com", ["bob@example.com"], MESSAGE)


@pytest.fixture
def strict() -> Iterator[MailServer]:
    """A server with one-second deadlines (the defaults are 30 s) and a small connection cap."""
    with MailServer(command_timeout=1.0, data_timeout=1.0, data_min_rate=1000, max_connections=10) as server:
        yield server


def test_command_lines_trickled_a_byte_at_a_time_are_cut_with_421_while_normal_senders_deliver(
    strict: MailServer,
) -> None:
    lorises = [Loris(strict, [], b"EHLO loris.example.com\r\n", pace=0.2) for _ in range(4)]
    for loris in lorises:
        loris.start()
    assert deliver(strict) == {}  # while they trickle
    for loris in lorises:
        assert loris.finish().startswith("421 4.4.2 Command line not completed within 1 s")
        assert loris.closed
        assert loris.trickled < 24  # cut before the line was ever complete
    assert deliver(strict) == {}
    assert len(strict.store) == 2
    cut = [s for s in strict.sessions.sessions() if any("421 4.4.2 Command line" in line.text for line in s.lines)]
    assert len(cut) == 4  # each cut is in the transcripts


def test_lorises_filling_max_connections_are_cut_and_then_a_normal_sender_gets_in(strict: MailServer) -> None:
    lorises = [Loris(strict, [], b"HELO x\r\n", pace=0.3) for _ in range(10)]  # all 10 slots
    for loris in lorises:
        loris.start()
    with socket.create_connection((strict.smtp_host, strict.smtp_port), timeout=10) as extra:
        assert extra.makefile("rb").readline().startswith(b"421 4.7.0 Too many connections")
    for loris in lorises:
        assert loris.finish().startswith("421 4.4.2")
    assert deliver(strict) == {}


def test_message_data_trickled_too_slowly_is_cut_and_nothing_is_stored(strict: MailServer) -> None:
    prelude = [b"EHLO loris.example.com", b"MAIL FROM:<loris@example.com>", b"RCPT TO:<bob@example.com>", b"DATA"]
    lorises = [Loris(strict, prelude, b"Subject: slow\r\n\r\n" + b"x" * 70 + b"\r\n", pace=0.05) for _ in range(3)]
    for loris in lorises:
        loris.start()
    assert deliver(strict) == {}  # while they trickle at 20 bytes/s
    for loris in lorises:
        assert loris.finish().startswith("421 4.4.2 Message data slower than 1000 bytes/s")
        assert loris.closed
    assert [m.envelope.sender for m in strict.store.snapshot()] == ["app@example.com"]
    refused = [a for a in strict.sessions.attempts() if a.sender == "loris@example.com"]
    assert [a.reply_code for a in refused] == [421, 421, 421]


def test_a_long_upload_above_the_minimum_rate_is_stored(strict: MailServer) -> None:
    chunk = b"y" * 78 + b"\r\n"  # 80 bytes; 40 of them every 0.1 s is 32,000 bytes/s, for about 2.5 s
    with socket.create_connection((strict.smtp_host, strict.smtp_port), timeout=10) as sock:
        client = sock.makefile("rb")
        client.readline()
        for command in (b"HELO up.example.com", b"MAIL FROM:<up@example.com>", b"RCPT TO:<bob@example.com>",
                        b"DATA"):
            sock.sendall(command + b"\r\n")
            client.readline()
        sock.sendall(b"Subject: long upload\r\n\r\n")
        for _ in range(25):
            sock.sendall(chunk * 40)
            select.select([sock], [], [], 0.1)  # the pace of a slow link; a reply now would be a failure
        sock.sendall(b".\r\n")
        assert client.readline().startswith(b"250")
    (stored,) = strict.store.snapshot()
    assert stored.subject == "long upload" and stored.size > 25 * 40 * 80


def test_a_slow_server_reply_after_data_is_not_the_clients_fault() -> None:
    with MailServer(data_timeout=0.5, data_min_rate=1000) as server:
        server.faults.delay(2, stage="data_end")  # longer than the DATA window: the client is waiting, not slow
        assert deliver(server) == {}
        assert len(server.store) == 1


def test_connections_over_the_per_address_cap_get_421_while_other_addresses_connect() -> None:
    with MailServer(max_connections_per_ip=3) as server:
        held = [RawClient(server) for _ in range(3)]
        extra = socket.create_connection((server.smtp_host, server.smtp_port), timeout=10)
        with extra.makefile("rb") as reply:
            assert reply.readline().startswith(b"421 4.7.0 Too many connections from your address")
            assert reply.readline() == b""
        extra.close()
        assert deliver(server, source_address=("127.0.0.2", 0)) == {}  # another address is unaffected
        assert held[0].command(b"QUIT").startswith("221")
        assert held[0].file.readline() == b""  # its slot is free again
        assert deliver(server) == {}
        for client in held:
            client.close()
        refused = [s for s in server.sessions.sessions()
                   if any("421 4.7.0 Too many connections from your address" in line.text for line in s.lines)]
        assert len(refused) == 1
        assert len(server.store) == 2


def test_by_default_loopback_clients_have_no_per_address_cap() -> None:
    count = DEFAULT_MAX_CONNECTIONS_PER_IP + 10
    with MailServer() as server:
        held = [RawClient(server) for _ in range(count)]  # RawClient has read each greeting
        try:
            assert deliver(server) == {}
        finally:
            for client in held:
                client.close()


def test_by_default_a_remote_address_may_hold_50_connections() -> None:
    counter = ConnectionCounter(0, None)
    assert [counter.admit("192.0.2.7") for _ in range(DEFAULT_MAX_CONNECTIONS_PER_IP)] == [None] * 50
    assert counter.admit("192.0.2.7") == "421 4.7.0 Too many connections from your address, try again later"
    assert counter.admit("192.0.2.8") is None
    counter.release("192.0.2.7")
    assert counter.admit("192.0.2.7") is None
    assert all(counter.admit(address) is None for address in ["127.0.0.1", "::1", "::ffff:127.0.0.1"] * 60)


def test_the_flags_and_their_environment_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MAILTRAP_LITE_DATA_MIN_RATE", "2048")
    args = build_parser().parse_args(["--command-timeout", "10", "--max-connections-per-ip", "5",
                                      "--data-timeout", "60"])
    config = config_from_args(args)
    assert (config.command_timeout, config.max_connections_per_ip, config.data_timeout, config.data_min_rate) == (
        10.0, 5, 60.0, 2048)
    defaults = config_from_args(build_parser().parse_args([]))
    assert (defaults.command_timeout, defaults.max_connections_per_ip, defaults.data_timeout) == (30.0, None, 30.0)


@pytest.mark.parametrize("flag", ["--command-timeout", "--max-connections-per-ip", "--data-min-rate",
                                  "--data-timeout"])
def test_a_bad_value_is_one_line_naming_the_flag(flag: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        build_parser().parse_args([flag, "-1"])
    assert exit_info.value.code == 2
    error = capsys.readouterr().err.strip()
    assert len(error.splitlines()) == 1 and flag in error
