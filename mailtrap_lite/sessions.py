"""SMTP session transcripts and delivery attempts, kept in bounded rings.

A :class:`SessionRecord` is written by the SMTP protocol as the conversation happens: each client line, each
reply, each fault that fired. From that stream it also derives :class:`Attempt` objects, one per mail
transaction (MAIL ... final DATA reply, or wherever the transaction ended), which is what a retry test asserts
on: ``[a.reply_code for a in attempts] == [451, 451, 250]``. Rejected attempts are recorded even though no
message was stored.
"""

from __future__ import annotations

import functools
import itertools
import re
import threading
import time
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import NamedTuple

from mailtrap_lite import replies
from mailtrap_lite.events import Event, EventBus
from mailtrap_lite.timestamps import local_time

_MAX_LINE = 512
# A client may keep one connection for thousands of messages (or send thousands of refused RCPTs): its transcript
# keeps the first lines (greeting, EHLO, AUTH) and the most recent ones, and counts the lines between that it
# dropped, so a record stays bounded in bytes however long the session lives: at most MAX_TRANSCRIPT_LINES lines
# and MAX_TRANSCRIPT_CHARS characters of transcript, and at most MAX_SESSION_ATTEMPTS attempts holding at most
# MAX_SESSION_ATTEMPT_CHARS characters of addresses (the server's attempt log keeps every attempt, by count).
_TRANSCRIPT_HEAD = 50
MAX_TRANSCRIPT_LINES = 1000
MAX_TRANSCRIPT_CHARS = 128 * 1024
MAX_SESSION_ATTEMPTS = 500
MAX_SESSION_ATTEMPT_CHARS = 256 * 1024
_ATTEMPT_COST = 64  # what an attempt costs besides its addresses, in the same rough characters
# An attempt keeps this many accepted and refused recipients; the rest are only counted.
MAX_ATTEMPT_RECIPIENTS = 100
MAX_ATTEMPT_REFUSED = 20
DISCARDED_PREFIX = "(discarded: sent before the TLS handshake) "
_BEGIN_VERBS = frozenset({"MAIL", "RSET", "QUIT", "HELO", "EHLO"})  # the commands whose start matters (_begin)
_PATH_RE = re.compile(r"<([^>]*)>")


@functools.lru_cache(maxsize=1024)
def _shared_text(text: str) -> str:
    """One copy of each recurring address: attempts keep thousands of copies of the same few senders."""
    return text


@functools.lru_cache(maxsize=1024)
def _with_recipient(recipients: tuple[str, ...], recipient: str) -> tuple[str, ...]:
    """``recipients`` and one more, one copy of each such list: thousands of attempts have the same few."""
    return (*recipients, recipient)


def _masked(verb: str, line: str) -> str:
    """The line as the transcript shows it: an AUTH line without its credentials."""
    if verb != "AUTH":
        return line
    words = line.split(" ", 3)
    return f"{words[0]} {words[1]} ***" if len(words) > 2 else line


def _cost(attempt: Attempt) -> int:
    """A rough size of an attempt: the characters of its addresses plus a fixed part."""
    cost = _ATTEMPT_COST + len(attempt.sender or "") + sum(map(len, attempt.recipients))
    if attempt.rejected_recipients:
        cost += sum(len(address) for address, _ in attempt.rejected_recipients)
    return cost


class TranscriptLine(NamedTuple):
    """One line of a session: ``direction`` is ``C`` (client), ``S`` (server) or ``F`` (a fault fired)."""

    elapsed: float
    direction: str
    text: str


@dataclass(slots=True)
class Attempt:
    """One mail transaction as the client experienced it.

    Kept for every transaction (thousands of them), so it holds tuples that start out as the shared empty tuple,
    its start time as a plain number (``at`` turns it into a datetime when asked), and no reply text for a stored
    message: that reply is always "queued as <id>", rebuilt by ``reply_text`` when asked."""

    seq: int
    session_id: str
    sender: str | None
    recipients: tuple[str, ...] = ()  # the first MAX_ATTEMPT_RECIPIENTS accepted ones
    rejected_recipients: tuple[tuple[str, int], ...] = ()  # the first MAX_ATTEMPT_REFUSED refused ones
    recipient_count: int = 0  # every accepted recipient, kept or not
    rejected_count: int = 0  # every refused recipient, kept or not
    reply_code: int | None = None
    kept_reply_text: str | None = field(default=None, repr=False)  # None: no reply yet, or "queued as" a message
    fault: str | None = None
    message_id: str | None = None
    started: float = field(default_factory=time.time)

    @property
    def reply_text(self) -> str:
        """The final reply without its code (``2.0.0 Ok: queued as ...`` for a stored message)."""
        if self.kept_reply_text is None and self.message_id is not None:
            return replies.queued(self.message_id)[4:]
        return self.kept_reply_text or ""

    @property
    def at(self) -> datetime:
        """When the transaction started (MAIL FROM), in the local zone."""
        return local_time(self.started)

    @property
    def accepted(self) -> bool:
        """True when the message was stored (the final reply was 2xx)."""
        return self.reply_code is not None and 200 <= self.reply_code < 300


class SessionRecord:
    """The transcript of one SMTP connection, fed by the protocol as lines go back and forth."""

    def __init__(self, log: SessionLog, session_id: str, seq: int, peer: str) -> None:
        self._log = log
        self.id = session_id
        self.seq = seq
        self.peer = peer
        self.started_at = local_time()
        self.ended_at: datetime | None = None
        self.helo = ""
        self.tls = False
        self.auth_user = ""
        self._lines: list[tuple[float, str, str]] = []  # (monotonic time, direction, text): cheap to append
        self.lines_dropped = 0  # lines not kept between the first _TRANSCRIPT_HEAD and the latest
        self._chars = 0  # characters in _lines
        self._attempt_chars = 0  # estimated size of self.attempts (see _cost)
        self.faults: list[str] = []
        self.attempts: list[Attempt] = []
        self._start = time.monotonic()
        # Commands not answered yet, oldest first, each (verb, its sender or recipient): a pipelining client sends
        # many before the first is answered, and the server starts on each only when the one before is answered.
        self._pending: deque[tuple[str, str]] = deque()
        self._in_data = False
        self._data_arrived = False
        self._in_auth = False
        self._data_requested = False
        self._open: Attempt | None = None
        self._last_failure: tuple[int, str] | None = None

    # -- what the protocol reports ------------------------------------------------------------------------------

    def client_line(self, line: str) -> str | None:
        """A line the client sent outside DATA. Returns its verb when it is a command (not AUTH data or message
        content pipelined behind DATA), else None."""
        if self._in_auth:
            self._add("C", "*** (auth data)")
            return None
        if self._data_requested:
            return None  # message content pipelined behind DATA: never logged as commands
        verb = line.partition(" ")[0].partition(":")[0].upper()
        self._add("C", _masked(verb, line))
        self._data_requested = verb == "DATA"
        address = ""
        if verb == "MAIL" or verb == "RCPT":
            match = _PATH_RE.search(line)
            address = _shared_text(match.group(1) if match else line[10 if verb == "MAIL" else 8:].strip())
        pending = self._pending
        pending.append((verb, address))
        if len(pending) == 1 and verb in _BEGIN_VERBS:  # nothing before it to answer: the server starts on it now
            self._begin(verb, address)
        return verb

    def discarded_line(self, line: str) -> None:
        """A line the client sent in plaintext after STARTTLS, before the handshake: shown, never executed."""
        self._add("C", DISCARDED_PREFIX + _masked(line.partition(" ")[0].upper(), line))

    def data_finished(self, size: int) -> None:
        """The client ended DATA (the content itself is not logged, only its size)."""
        self._data_arrived = True
        self._add("C", f"<{size} bytes of message data>")

    def server_reply(self, line: str) -> str | None:
        """A reply line the server sent. Returns the verb of the command it answers when it is a final reply
        (``""`` when none was pending, e.g. the greeting), else None."""
        self._add("S", line)
        if not line[:3].isdigit():
            return None
        self._data_requested = False
        if line[3:4] == "-":  # a line of a multi-line reply, not its last
            return None
        code = int(line[:3])
        if code == 354:
            self._in_data, self._data_arrived = True, False
            return None
        if code == 334:
            self._in_auth = True
            return None
        self._in_auth = False
        self._in_data = False
        pending = self._pending
        verb, address = pending.popleft() if pending else ("", "")
        self._on_reply(verb, address, code, line[4:])
        if pending and pending[0][0] in _BEGIN_VERBS:  # the server goes on with the next pipelined command
            self._begin(*pending[0])
        return verb

    def fault_fired(self, rule_id: str, description: str) -> None:
        """A fault rule fired in this session."""
        self.faults.append(rule_id)
        self._add("F", f"fault {rule_id}: {description}")
        if self._open is not None:
            self._open.fault = rule_id

    def message_stored(self, message_id: str) -> None:
        """The open transaction's message was stored: the attempt ends now with the 250 "queued as" reply about to
        be sent.

        Closing it here, rather than when the reply line goes out, means a reader woken by the new message already
        sees the attempt that delivered it.
        """
        if self._open is not None:
            self._open.message_id = message_id
            self._finish_open(replies.QUEUED_CODE, None)

    def set_helo(self, name: str) -> None:
        """Record the HELO/EHLO name."""
        self.helo = name

    def close(self) -> None:
        """The connection ended: close any open transaction and move the record to the finished ring."""
        if self.ended_at is not None:
            return
        self._close_open()
        if not self.attempts and self.faults:
            code, text = self._last_failure or (None, "")
            self._finish(Attempt(self._log.next_attempt_seq(), self.id, None, reply_code=code, kept_reply_text=text,
                                 fault=self.faults[-1]))
        self.ended_at = local_time()
        self._add("S", "(connection closed)")
        self._log.finished(self)

    # -- derived state ------------------------------------------------------------------------------------------

    @property
    def lines(self) -> list[TranscriptLine]:
        """The transcript so far, each line with the seconds since the connection opened; where lines were not
        kept, one line with direction ``-`` says how many."""
        start = self._start
        lines = [TranscriptLine(round(at - start, 6), direction, text) for at, direction, text in list(self._lines)]
        dropped = self.lines_dropped
        if dropped and len(lines) > _TRANSCRIPT_HEAD:
            gap = TranscriptLine(lines[_TRANSCRIPT_HEAD].elapsed, "-", f"... {dropped:,} lines not kept ...")
            lines.insert(_TRANSCRIPT_HEAD, gap)
        return lines

    @property
    def in_data(self) -> bool:
        """True between the 354 reply and the reply to the message data."""
        return self._in_data

    @property
    def receiving_data(self) -> bool:
        """True between the 354 reply and the end of the message data (not while the server answers it)."""
        return self._in_data and not self._data_arrived

    @property
    def message_ids(self) -> list[str]:
        """Ids of the messages this session stored."""
        return [a.message_id for a in self.attempts if a.message_id]

    @property
    def elapsed(self) -> float:
        """Seconds from connect to close (or to now, while open)."""
        end = self.ended_at.timestamp() if self.ended_at else time.time()
        return max(0.0, end - self.started_at.timestamp())

    def _add(self, direction: str, text: str) -> None:
        if len(text) > _MAX_LINE:
            text = text[:_MAX_LINE] + f"... ({len(text)} chars)"
        lines = self._lines
        lines.append((time.monotonic(), direction, text))
        self._chars += len(text)
        if len(lines) >= MAX_TRANSCRIPT_LINES or self._chars > MAX_TRANSCRIPT_CHARS:  # >=: room for the gap line
            self._trim()

    def _trim(self) -> None:
        """Drop half the lines after the head at once, so that trimming costs O(1) per line on average."""
        lines = self._lines
        cut = (len(lines) - _TRANSCRIPT_HEAD) // 2
        if cut > 0:
            middle = slice(_TRANSCRIPT_HEAD, _TRANSCRIPT_HEAD + cut)
            self._chars -= sum(len(line[2]) for line in lines[middle])
            del lines[middle]
            self.lines_dropped += cut

    def _begin(self, verb: str, address: str) -> None:
        """The server starts on a command: MAIL opens an attempt (so a fault it fires belongs to it), RSET, QUIT
        and HELO/EHLO end the open one."""
        if verb == "MAIL":
            self._close_open()
            self._open = Attempt(self._log.next_attempt_seq(), self.id, address)
        elif verb in ("RSET", "QUIT", "HELO", "EHLO"):
            self._close_open()

    def _on_reply(self, verb: str, recipient: str, code: int, text: str) -> None:
        if code >= 400:
            self._last_failure = (code, text)
        attempt = self._open
        if attempt is None:
            return
        if verb == "MAIL" and code >= 400:
            self._finish_open(code, text)
        elif verb == "RCPT":
            if code < 400:
                attempt.recipient_count += 1
                if attempt.recipient_count <= MAX_ATTEMPT_RECIPIENTS:
                    attempt.recipients = _with_recipient(attempt.recipients, recipient)
            else:
                attempt.rejected_count += 1
                if attempt.rejected_count <= MAX_ATTEMPT_REFUSED:
                    attempt.rejected_recipients += ((recipient, code),)
                attempt.reply_code, attempt.kept_reply_text = code, text
        elif verb in ("DATA", "BDAT", ""):
            self._finish_open(code, text)

    def _finish_open(self, code: int | None, text: str | None) -> None:
        attempt = self._open
        if attempt is None:
            return
        self._open = None
        attempt.reply_code, attempt.kept_reply_text = code, text
        self._finish(attempt)

    def _close_open(self) -> None:
        """A transaction that ends without a final DATA reply keeps its last failure, else no code (aborted)."""
        if self._open is not None:
            self._finish_open(self._open.reply_code, self._open.kept_reply_text)

    def _finish(self, attempt: Attempt) -> None:
        attempts = self.attempts
        attempts.append(attempt)
        self._attempt_chars += _cost(attempt)
        if len(attempts) > MAX_SESSION_ATTEMPTS or self._attempt_chars > MAX_SESSION_ATTEMPT_CHARS:
            cut = max(1, len(attempts) // 2)  # the log's own ring still has them
            self._attempt_chars -= sum(map(_cost, attempts[:cut]))
            del attempts[:cut]
        self._log.attempt_finished(attempt)


class SessionLog:
    """Bounded rings of finished sessions and attempts, plus the sessions still open."""

    def __init__(self, bus: EventBus | None = None, capacity: int = 1000) -> None:
        self.bus = bus or EventBus()
        self._lock = threading.Lock()
        self._finished: deque[SessionRecord] = deque(maxlen=capacity)
        self._open: dict[str, SessionRecord] = {}
        self._attempts: deque[Attempt] = deque(maxlen=capacity * 10)
        self._session_seq = itertools.count(1)
        self._attempt_counter = 0
        self.accepted = 0
        self.rejected = 0

    def start(self, session_id: str, peer: str) -> SessionRecord:
        """Open a record for a new connection."""
        with self._lock:
            record = SessionRecord(self, session_id, next(self._session_seq), peer)
            self._open[session_id] = record
        return record

    def next_attempt_seq(self) -> int:
        """A number for a new attempt (attempts are ordered by when they started)."""
        with self._lock:
            self._attempt_counter += 1
            return self._attempt_counter

    def attempt_finished(self, attempt: Attempt) -> None:
        """Called by a record when one of its transactions ends."""
        with self._lock:
            self._attempts.append(attempt)
            if attempt.accepted:
                self.accepted += 1
            else:
                self.rejected += 1

    def finished(self, record: SessionRecord) -> None:
        """Called by a record when its connection closes."""
        with self._lock:
            self._open.pop(record.id, None)
            self._finished.append(record)
        self.bus.publish(Event("session", record))

    def get(self, session_id: str) -> SessionRecord | None:
        """A session, open or finished, by id."""
        with self._lock:
            if session_id in self._open:
                return self._open[session_id]
            for record in self._finished:
                if record.id == session_id:
                    return record
        return None

    def sessions(self) -> list[SessionRecord]:
        """Finished sessions oldest first, followed by the open ones."""
        with self._lock:
            return [*self._finished, *self._open.values()]

    def attempts(self, since_seq: int = 0) -> list[Attempt]:
        """Finished attempts that started after ``since_seq``, in the order they started."""
        with self._lock:
            found: Iterable[Attempt] = (a for a in self._attempts if a.seq > since_seq)
            return sorted(found, key=lambda a: a.seq)

    @property
    def last_attempt_seq(self) -> int:
        """The highest attempt number handed out so far (a watermark for per-test views)."""
        return self._attempt_counter

    def clear(self) -> None:
        """Forget finished sessions and attempts (open sessions stay)."""
        with self._lock:
            self._finished.clear()
            self._attempts.clear()
