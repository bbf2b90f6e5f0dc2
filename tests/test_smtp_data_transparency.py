"""DATA transparency: the end marker is found wherever TCP splits it, and stuffed dots are removed exactly once.

The first tests drive the bulk DATA reader with an ``asyncio.StreamReader`` fed in chunks (every split point,
and random ones), the way the transport feeds it; the last ones go through a running server with smtplib.
"""

from __future__ import annotations

import asyncio
import smtplib
from collections.abc import Iterator

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mailtrap_lite import MailServer
from mailtrap_lite.smtp_data import DataOutcome, read_message_data

LINE_LIMIT = 1001  # aiosmtpd's line_length_limit, also the StreamReader limit it builds


def stuff(content: bytes) -> bytes:
    """What a client puts on the wire for ``content`` (which ends with CRLF): dots doubled, end marker added."""
    lines = content.split(b"\r\n")
    return b"\r\n".join(b"." + line if line.startswith(b".") else line for line in lines) + b".\r\n"


def read_in_chunks(wire: bytes, chunks: list[int], after: bytes = b"") -> tuple[DataOutcome, bytes]:
    """Feed ``wire`` + ``after`` to a StreamReader in pieces of the given sizes; return the outcome and the rest."""

    async def run() -> tuple[DataOutcome, bytes]:
        reader = asyncio.StreamReader(limit=LINE_LIMIT)
        data = wire + after
        position = 0
        for size in chunks:
            reader.feed_data(data[position : position + size])
            position += size
        reader.feed_data(data[position:])
        reader.feed_eof()
        outcome = await read_message_data(reader, None, LINE_LIMIT)
        return outcome, await reader.read()

    return asyncio.run(run())


def test_a_lone_dot_split_at_every_byte_boundary_ends_the_message_and_nothing_after_it_is_consumed() -> None:
    content = b"Subject: split\r\n\r\nline one.\r\n.leading dot\r\n"
    wire = stuff(content)
    for split in range(len(wire) + 1):
        outcome, rest = read_in_chunks(wire, [split], after=b"QUIT\r\n")
        assert outcome.content == content, split
        assert rest == b"QUIT\r\n", split


def test_a_message_sent_one_byte_at_a_time_arrives_whole() -> None:
    content = b"Subject: bytes\r\n\r\n.x\r\nend.\r\n"
    wire = stuff(content)
    outcome, rest = read_in_chunks(wire, [1] * len(wire))
    assert outcome.content == content
    assert rest == b""


@pytest.mark.parametrize(
    ("wire", "content"),
    [
        (b".\r\n", b""),  # an empty message: the lone dot is the first line
        (b"..\r\n.\r\n", b".\r\n"),  # a line that is just a dot
        (b"..leading\r\n.\r\n", b".leading\r\n"),  # a stuffed dot on the first line
        (b"a\r\n...two\r\n.\r\n", b"a\r\n..two\r\n"),  # only the first dot of a line is removed
        (b"a\r\n.single\r\n.\r\n", b"a\r\nsingle\r\n"),  # an unstuffed leading dot is dropped, as aiosmtpd does
        (b"a.\r\nb\r\n.\r\n", b"a.\r\nb\r\n"),  # a dot ending a line is content
        (b"a\n.\r\nb\r\n.\r\n", b"a\n.\r\nb\r\n"),  # after a bare LF a lone dot does not end the message
    ],
)
def test_dots_are_unstuffed_exactly_as_rfc_5321_says(wire: bytes, content: bytes) -> None:
    outcome, _ = read_in_chunks(wire, [])
    assert outcome.content == content


line = st.binary(max_size=120).filter(lambda b: b"\r\n" not in b and not b.endswith(b"\r"))


@settings(max_examples=150, deadline=None)
@given(
    lines=st.lists(line, max_size=40),
    chunks=st.lists(st.integers(min_value=0, max_value=700), max_size=12),
)
def test_any_content_survives_any_chunking_unchanged(lines: list[bytes], chunks: list[int]) -> None:
    content = b"".join(line + b"\r\n" for line in lines)
    outcome, rest = read_in_chunks(stuff(content), chunks, after=b"RSET\r\n")
    assert outcome.content == content
    assert rest == b"RSET\r\n"


@pytest.fixture
def server() -> Iterator[MailServer]:
    with MailServer() as running:
        yield running


def test_a_server_stores_stuffed_lines_once_unstuffed(server: MailServer) -> None:
    content = b"Subject: dots\r\n\r\n.hidden? no: shown\r\n..\r\nlast.\r\n"
    with smtplib.SMTP(server.smtp_host, server.smtp_port, timeout=10) as client:
        client.sendmail("a@example.com", ["b@example.com"], content)
    stored = server.store.latest()
    assert stored is not None
    assert stored.raw == content


def test_commands_pipelined_behind_the_end_marker_are_answered(server: MailServer) -> None:
    with smtplib.SMTP(server.smtp_host, server.smtp_port, timeout=10) as client:
        client.ehlo()
        client.mail("a@example.com")
        client.rcpt("b@example.com")
        assert client.docmd("DATA")[0] == 354
        end_of_first = b"Subject: one\r\n\r\nfirst\r\n.\r\n"
        client.send(end_of_first + b"MAIL FROM:<c@example.com>\r\nRCPT TO:<d@example.com>\r\nDATA\r\n")  # one write
        assert client.getreply()[0] == 250
        assert client.getreply()[0] == 250
        assert client.getreply()[0] == 250
        assert client.getreply()[0] == 354
        client.send(b"Subject: two\r\n\r\nsecond\r\n.\r\n")
        assert client.getreply()[0] == 250
    assert [m.subject for m in server.store.snapshot()] == ["one", "two"]
