"""MAIL FROM and RCPT TO answer exactly as aiosmtpd does, though everyday paths are read by our own fast code.

Each generated argument goes to a bare aiosmtpd server and to ours over plain sockets; both must give the same
reply code, and when the transaction goes through, both must have kept the same sender or recipient.
"""

from __future__ import annotations

import asyncio
import socket
import threading
from collections.abc import Iterator

import pytest
from aiosmtpd.smtp import SMTP, Envelope, Session
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mailtrap_lite import MailServer

SIZE_LIMIT = 100_000


class KeepEnvelopes:
    """The bare aiosmtpd handler: remembers each accepted envelope's sender and recipients."""

    def __init__(self) -> None:
        self.accepted: list[tuple[str, tuple[str, ...]]] = []

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        self.accepted.append((envelope.mail_from or "", tuple(envelope.rcpt_tos)))
        return "250 OK"


class LineClient:
    """Sends one command at a time and returns the reply's code."""

    def __init__(self, port: int) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        self.file = self.sock.makefile("rb")
        self.reply()
        assert self.command("EHLO client.test") == 250

    def reply(self) -> int:
        while True:
            line = self.file.readline()
            if line[3:4] != b"-":
                return int(line[:3])

    def command(self, text: str) -> int:
        self.sock.sendall(text.encode("utf-8", "surrogateescape") + b"\r\n")
        return self.reply()

    def transaction(self, mail_arg: str, rcpt_arg: str) -> tuple[int, ...]:
        """MAIL, RCPT and (when both passed) DATA; the reply codes, then RSET for the next one."""
        codes = [self.command(f"MAIL {mail_arg}")]
        codes.append(self.command(f"RCPT {rcpt_arg}"))
        if codes == [250, 250]:
            codes.append(self.command("DATA"))
            codes.append(self.command("Subject: t\r\n\r\nbody\r\n."))
        assert self.command("RSET") == 250
        return tuple(codes)

    def close(self) -> None:
        self.file.close()
        self.sock.close()


Servers = tuple[KeepEnvelopes, MailServer, LineClient, LineClient]


@pytest.fixture(scope="module")
def servers() -> Iterator[Servers]:
    handler = KeepEnvelopes()
    loop = asyncio.new_event_loop()
    bare = loop.run_until_complete(loop.create_server(
        lambda: SMTP(handler, data_size_limit=SIZE_LIMIT, enable_SMTPUTF8=True), "127.0.0.1", 0
    ))
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    with MailServer(max_message_size=SIZE_LIMIT) as ours:
        theirs, mine = LineClient(bare.sockets[0].getsockname()[1]), LineClient(ours.smtp_port)
        yield handler, ours, theirs, mine
        theirs.close()
        mine.close()
    loop.call_soon_threadsafe(loop.stop)
    thread.join(10)


atom = st.text("abcXYZ019!#$%&'*+/=?^_`{|}~-", min_size=1, max_size=8)
dot_atom = st.lists(atom, min_size=1, max_size=3).map(".".join)
everyday = st.builds("<{}@{}>".format, dot_atom, dot_atom)
odd = st.sampled_from([
    "<>", "a@example.com", "<a@example.com", "< a@example.com >", '<"quoted name"@example.com>', "<a..b@example.com>",
    "<.a@example.com>", "<a@[192.0.2.1]>", "<a(comment)@example.com>", "<ü@example.com>", "<a@exämple.com>",
    "<a@b@c>", "<@relay.example:a@example.com>", "<a@example.com>junk", "", "<a@example.com>\t",
])
path = st.one_of(everyday, everyday, odd)
keyword_spacing = st.sampled_from(["", " ", "  "])
mail_params = st.lists(st.sampled_from([
    "SIZE=100", "size=99999", "SIZE=100001", "SIZE=", "SIZE=abc", "SIZE=²", "BODY=8BITMIME", "body=7bit", "BODY=9BIT",
    "SMTPUTF8", "SMTPUTF8=yes", "FOO=1", "AUTH=<>", "RET=HDRS",
]), max_size=3)
rcpt_params = st.lists(st.sampled_from(["NOTIFY=NEVER", "ORCPT=rfc822;a@example.com", "X"]), max_size=1)


def argument(keyword: str, spacing: str, address: str, params: list[str]) -> str:
    return " ".join([f"{keyword}{spacing}{address}", *params])


def both_answer_alike(servers: Servers, mail_arg: str, rcpt_arg: str) -> bool:
    """Run one transaction on each server, require the same reply codes; True when both stored the message."""
    _, _, theirs, mine = servers
    expected = theirs.transaction(mail_arg, rcpt_arg)
    assert mine.transaction(mail_arg, rcpt_arg) == expected, (mail_arg, rcpt_arg)
    return expected == (250, 250, 354, 250)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    keyword=st.sampled_from(["FROM:", "from:", "From:", "FROM"]),
    spacing=keyword_spacing, address=path, params=mail_params,
)
def test_mail_from_answers_and_keeps_the_sender_as_aiosmtpd_does(
    servers: Servers, keyword: str, spacing: str, address: str, params: list[str]
) -> None:
    handler, ours, _, _ = servers
    if both_answer_alike(servers, argument(keyword, spacing, address, params), "TO:<rcpt@example.org>"):
        assert ours.store.latest().envelope.sender == handler.accepted[-1][0]


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(keyword=st.sampled_from(["TO:", "to:", "TO"]), spacing=keyword_spacing, address=path, params=rcpt_params)
def test_rcpt_to_answers_and_keeps_the_recipient_as_aiosmtpd_does(
    servers: Servers, keyword: str, spacing: str, address: str, params: list[str]
) -> None:
    handler, ours, _, _ = servers
    if both_answer_alike(servers, "FROM:<sender@example.com>", argument(keyword, spacing, address, params)):
        assert ours.store.latest().envelope.recipients == handler.accepted[-1][1]


def test_the_order_of_commands_is_still_enforced(servers: Servers) -> None:
    _, _, _, mine = servers
    assert mine.command("RCPT TO:<a@example.com>") == 503  # no MAIL yet
    assert mine.command("MAIL FROM:<a@example.com>") == 250
    assert mine.command("MAIL FROM:<b@example.com>") == 503  # nested MAIL
    assert mine.command("RSET") == 250


def test_mail_before_ehlo_is_refused() -> None:
    with MailServer() as server, socket.create_connection(("127.0.0.1", server.smtp_port), timeout=10) as sock:
        reader = sock.makefile("rb")
        reader.readline()
        sock.sendall(b"MAIL FROM:<a@example.com>\r\n")
        assert reader.readline().startswith(b"503")


def test_help_lists_every_command_the_server_takes(servers: Servers) -> None:
    _, _, _, mine = servers
    mine.sock.sendall(b"HELP\r\n")
    listed = mine.file.readline().decode()
    for command in ("DATA", "EHLO", "HELO", "MAIL", "RCPT", "RSET", "QUIT"):
        assert command in listed.split(), listed
    mine.sock.sendall(b"HELP MAIL\r\n")
    assert mine.file.readline().decode().startswith("250 2.0.0 Syntax: MAIL FROM: <address>")
