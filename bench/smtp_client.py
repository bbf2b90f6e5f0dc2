"""A timed SMTP client for the soak: every reply is timed, every delivery noted with when it was sent and acked.

``Delivery`` records are what the soak's accounting works from: the queue id the server gave (its message id), the
moment before the message's last byte was handed to the socket and the moment its ``250`` arrived.
"""

from __future__ import annotations

import asyncio
import time
from typing import NamedTuple

from bench.mail import on_the_wire


class Delivery(NamedTuple):
    """One message acknowledged with 250: the queue id, what sent it, and when it was sent and acknowledged."""

    queue_id: str
    kind: str
    sent_at: float
    acked_at: float


class Refused(Exception):
    """The server answered a step with an unexpected code (``code`` 0: it closed the connection)."""

    def __init__(self, code: int, line: str) -> None:
        super().__init__(line)
        self.code = code


class Conversation:
    """One SMTP connection; ``latencies`` collects the seconds each reply took (greeting excluded)."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, timeout: float) -> None:
        self.reader, self.writer, self.timeout = reader, writer, timeout
        self.latencies: list[float] = []

    @classmethod
    async def open(cls, host: str, port: int, source: str, timeout: float) -> Conversation:
        """Connect from the loopback address ``source``, read the greeting, say EHLO."""
        reader, writer = await asyncio.wait_for(
            asyncio.open_connection(host, port, local_addr=(source, 0)), timeout
        )
        conversation = cls(reader, writer, timeout)
        try:
            await conversation.expect(220, await conversation.reply())
            await conversation.command(b"EHLO soak.example\r\n", 250)
        except BaseException:
            conversation.close()
            raise
        return conversation

    async def reply(self) -> tuple[int, str]:
        """Read one (possibly multi-line) reply; (0, ...) when the server closed the connection."""
        while True:
            line = await asyncio.wait_for(self.reader.readline(), self.timeout)
            if not line:
                return 0, "connection closed"
            if line[3:4] != b"-":
                return int(line[:3]), line.decode(errors="replace").strip()

    @staticmethod
    async def expect(code: int, answer: tuple[int, str]) -> str:
        """The reply's text when its code is ``code``; raises Refused otherwise."""
        if answer[0] != code:
            raise Refused(*answer)
        return answer[1]

    async def command(self, data: bytes, code: int) -> str:
        """Send ``data``, time the reply, and check its code."""
        self.writer.write(data)
        await self.writer.drain()
        started = time.monotonic()
        answer = await self.reply()
        self.latencies.append(time.monotonic() - started)
        return await self.expect(code, answer)

    async def deliver(self, raw: bytes, kind: str) -> Delivery:
        """One MAIL/RCPT/DATA transaction for ``raw``; the Delivery once the server answered 250."""
        await self.command(b"MAIL FROM:<%s@soak.example>\r\n" % kind.encode(), 250)
        await self.command(b"RCPT TO:<inbox@soak.example>\r\n", 250)
        await self.command(b"DATA\r\n", 354)
        sent_at = time.monotonic()
        line = await self.command(on_the_wire(raw), 250)
        return Delivery(line.rsplit(" ", 1)[-1], kind, sent_at, time.monotonic())

    def close(self) -> None:
        """Close the socket (no QUIT: the soak ends connections however it likes)."""
        self.writer.close()
