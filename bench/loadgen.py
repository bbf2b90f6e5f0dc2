"""Our SMTP load generator: asyncio streams, N concurrent connections, every reply code checked.

Each connection says EHLO, then runs MAIL/RCPT/DATA for its share of the messages (or one message per
connection), waiting for each reply as ordinary clients do. Every message must be answered 250; anything else
is counted as an error, so a run where a message went missing cannot pass for a fast one.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field

_SENDER = b"MAIL FROM:<bench@example.com>\r\n"
_RECIPIENT = b"RCPT TO:<inbox@example.org>\r\n"


@dataclass
class LoadResult:
    """What a load run achieved: messages accepted, errors, wall time, and when each DATA ended (by queue id)."""

    accepted: int = 0
    errors: list[str] = field(default_factory=list)
    seconds: float = 0.0
    sent_at: dict[str, float] = field(default_factory=dict)
    server_cpu_us: float = 0.0  # filled in by the caller, which can see the server process
    event_arrivals: dict[str, float] = field(default_factory=dict)  # websocket ``new`` events, by message id

    @property
    def per_second(self) -> float:
        """Accepted messages per second of wall time."""
        return self.accepted / self.seconds if self.seconds else 0.0


class ReplyError(Exception):
    """The server answered something other than what the step expects."""


async def _reply(reader: asyncio.StreamReader, expected: int) -> bytes:
    """Read one (possibly multi-line) reply and check its code; returns the last line."""
    while True:
        line = await reader.readline()
        if not line:
            raise ReplyError(f"connection closed while waiting for {expected}")
        if line[3:4] != b"-":
            break
    if int(line[:3]) != expected:
        raise ReplyError(f"expected {expected}, got {line.decode(errors='replace').strip()}")
    return line


async def _session(host: str, port: int, wires: list[bytes], result: LoadResult) -> None:
    reader, writer = await asyncio.open_connection(host, port)
    try:
        await _reply(reader, 220)
        writer.write(b"EHLO bench.example.com\r\n")
        await _reply(reader, 250)
        for wire in wires:
            writer.write(_SENDER)
            await _reply(reader, 250)
            writer.write(_RECIPIENT)
            await _reply(reader, 250)
            writer.write(b"DATA\r\n")
            await _reply(reader, 354)
            writer.write(wire)
            ended = time.monotonic()
            last = await _reply(reader, 250)
            result.accepted += 1
            queue_id = last.rsplit(b" ", 1)[-1].strip().decode()
            result.sent_at[queue_id] = ended
        writer.write(b"QUIT\r\n")
        await _reply(reader, 221)
    except (ReplyError, OSError) as error:
        result.errors.append(str(error))
    finally:
        writer.close()


async def _worker(host: str, port: int, wires: list[bytes], result: LoadResult, per_connection: int) -> None:
    for start in range(0, len(wires), per_connection):
        await _session(host, port, wires[start : start + per_connection], result)


def run_load(host: str, port: int, wires: list[bytes], connections: int, one_per_connection: bool) -> LoadResult:
    """Send every message in ``wires`` over ``connections`` concurrent connections and time it."""
    result = LoadResult()
    shares = [wires[i::connections] for i in range(connections)]

    async def main() -> None:
        started = time.monotonic()
        await asyncio.gather(
            *(_worker(host, port, share, result, 1 if one_per_connection else len(share) or 1) for share in shares)
        )
        result.seconds = time.monotonic() - started

    asyncio.run(main())
    return result
