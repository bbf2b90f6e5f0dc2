"""The in-memory message store: thread-safe, capped, ordered oldest to newest, observable.

Every change is published on the :class:`~mailtrap_lite.events.EventBus` while the store's lock is held, so
subscribers see changes in exactly the order they happened. Waiters block on a condition variable that each new
message signals: no polling anywhere.
"""

from __future__ import annotations

import collections
import itertools
import logging
import re
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import datetime
from typing import Protocol

from mailtrap_lite.errors import OverBudgetError, TagLimitError
from mailtrap_lite.events import Event, EventBus
from mailtrap_lite.ids import new_id
from mailtrap_lite.message import Envelope, Message, Predicate, SmtpFacts, Summary
from mailtrap_lite.raw_view import header_end
from mailtrap_lite.search_index import SearchIndex
from mailtrap_lite.timestamps import local_time

PRUNE_THRESHOLD = 200  # as Mailpit: one change to more messages than this is announced as a single "prune"
# Mailpit caps neither; ours keep one hostile X-Tags header from putting thousands of tags in every list page.
MAX_TAGS = 50  # tags per message
MAX_TAG_LENGTH = 100  # characters in one tag, after cleaning
log = logging.getLogger("mailtrap_lite.store")
_TAG_CLEANUP = re.compile(r"[^\w\-. ]+", re.UNICODE)


def clean_tag(tag: str) -> str:
    """Normalise a tag name the way Mailpit does: odd characters dropped, whitespace collapsed."""
    return " ".join(_TAG_CLEANUP.sub("", tag).split())


def _plus_tags(recipients: Iterable[str]) -> list[str]:
    tags = []
    for recipient in recipients:
        local = recipient.rsplit("@", 1)[0]
        if "+" in local:
            tags.append(local.split("+", 1)[1])
    return tags


def _tag_limit_problem(tags: tuple[str, ...]) -> str | None:
    """Why these (cleaned, unique) tags cannot be set on one message, or None when they are within the caps."""
    if len(tags) > MAX_TAGS:
        return f"too many tags: {len(tags)}, at most {MAX_TAGS} per message"
    too_long = next((tag for tag in tags if len(tag) > MAX_TAG_LENGTH), None)
    if too_long is not None:
        return f"tag too long: {len(too_long)} characters, at most {MAX_TAG_LENGTH}"
    return None


class Journal(Protocol):
    """Where durable mode writes each change before the store makes it (see :mod:`mailtrap_lite.persistence`).

    Each method raises :class:`~mailtrap_lite.errors.StorageError` when it cannot write; the store then changes
    nothing, so memory never holds what the file lacks.
    """

    def added(self, message: Message, tags: tuple[str, ...], evicted: Iterable[str]) -> None: ...
    def deleted(self, ids: Iterable[str]) -> None: ...
    def cleared(self) -> None: ...
    def read_changed(self, ids: Iterable[str], read: bool) -> None: ...
    def tags_changed(self, tags_by_id: Mapping[str, tuple[str, ...]]) -> None: ...


class _State:
    """The mutable facts about a stored message (the message itself never changes). Its tags are set through the
    store's ``_set_state_tags``, which keeps the store's count of tags in use."""

    __slots__ = ("message", "read", "tags")

    def __init__(self, message: Message) -> None:
        self.message = message
        self.read = False
        self.tags: tuple[str, ...] = ()


class MessageStore:
    """Messages in arrival order, at most ``max_messages`` of them holding at most ``max_total_size`` raw bytes
    (0 = unlimited), oldest dropped first."""

    def __init__(
        self,
        bus: EventBus | None = None,
        max_messages: int = 1000,
        journal: Journal | None = None,
        max_total_size: int = 0,
    ) -> None:
        self.bus = bus or EventBus()
        self.max_messages = max_messages
        self.max_total_size = max_total_size
        self.journal = journal
        self._total_size = 0
        self._lock = threading.RLock()
        self._changed = threading.Condition(self._lock)
        self._states: dict[str, _State] = {}
        self._tag_counts: collections.Counter[str] = collections.Counter()
        self._seq = itertools.count(1)
        self._last_seq = 0
        self._unread = 0
        self.deleted_total = 0
        self._search_index = SearchIndex(self)

    # -- writing ----------------------------------------------------------------------------------------------

    def add(
        self,
        raw: bytes,
        envelope: Envelope,
        smtp: SmtpFacts | None = None,
        tags: Iterable[str] = (),
        received_at: datetime | None = None,
        on_stored: Callable[[Message], None] | None = None,
        summary: Summary | None = None,
    ) -> Message:
        """Store one message (the path shared by SMTP, the send API and imports) and announce it as ``new``.

        ``on_stored`` runs once the message is in the store but before anyone is told, so what it records (the
        SMTP attempt that delivered it) is visible to every reader that wakes up for the message. The oldest
        messages make room when a cap is reached (one ``prune`` event names them); a message larger than the whole
        ``max_total_size`` raises :class:`~mailtrap_lite.errors.OverBudgetError` and changes nothing. Tags past
        ``MAX_TAGS`` or longer than ``MAX_TAG_LENGTH`` are dropped (the message is kept), with one log line.
        ``summary`` is the message's summary when the caller worked it out beforehand (see
        :func:`~mailtrap_lite.message.summarise`).
        """
        if self.max_total_size and len(raw) > self.max_total_size:
            raise OverBudgetError(len(raw), self.max_total_size)
        when = received_at or local_time()
        with self._lock:
            seq = next(self._seq)
            message = Message(new_id(), raw, envelope, smtp or SmtpFacts(), when, seq, summary)
            initial = [*tags, *_plus_tags(envelope.recipients)]
            if b"x-tags" in raw[: header_end(raw)].lower():  # the header block, where any parser reads it
                initial.extend(message.summary.header_tags)
            unique = _capped_tags(message.id, _unique_tags(initial))
            evicted = self._overflow(1, message.size)
            if self.journal is not None:
                self.journal.added(message, unique, evicted)
            state = _State(message)
            self._set_state_tags(state, unique)
            self._states[message.id] = state
            self._total_size += message.size
            self._last_seq = seq
            self._unread += 1
            self._prune(evicted)
            if on_stored is not None:
                on_stored(message)
            self.bus.publish(Event("new", message))
            self._changed.notify_all()
        return message

    def restore(self, message: Message, read: bool, tags: tuple[str, ...]) -> None:
        """Put back a message read from the durable file at start-up (no event: nobody is listening yet)."""
        with self._lock:
            seq = next(self._seq)
            restored = Message(message.id, message.raw, message.envelope, message.smtp, message.received_at, seq)
            state = _State(restored)
            self._set_state_tags(state, tags)
            state.read = read
            self._states[restored.id] = state
            self._total_size += restored.size
            self._last_seq = seq
            self._unread += not read

    def enforce_limits(self) -> list[str]:
        """Drop the oldest messages until the caps hold (after a restart with lower caps); returns their ids."""
        with self._lock:
            evicted = self._overflow(0, 0)
            if self.journal is not None and evicted:
                self.journal.deleted(evicted)
            self._prune(evicted)
            return evicted

    def _overflow(self, count: int, size: int) -> list[str]:
        """Ids of the oldest messages both caps drop once ``count`` more messages of ``size`` bytes arrive."""
        excess_count = len(self._states) + count - self.max_messages if self.max_messages else 0
        excess_size = self._total_size + size - self.max_total_size if self.max_total_size else 0
        evicted = []
        for message_id, state in self._states.items():  # oldest first
            if excess_count <= 0 and excess_size <= 0:
                break
            evicted.append(message_id)
            excess_count -= 1
            excess_size -= state.message.size
        return evicted

    def _prune(self, ids: list[str]) -> None:
        """Remove messages a cap dropped and announce them in one ``prune`` event."""
        for message_id in ids:
            self._remove(message_id)
        if ids:
            self.bus.publish(Event("prune", tuple(ids)))

    def _remove(self, message_id: str) -> Message:
        state = self._states.pop(message_id)
        self._total_size -= state.message.size
        state.message.forget_views()
        self._set_state_tags(state, ())
        if not state.read:
            self._unread -= 1
        self.deleted_total += 1
        return state.message

    def delete(self, ids: Iterable[str]) -> list[str]:
        """Delete these messages; unknown ids are ignored. Returns the ids actually deleted."""
        with self._lock:
            deleted = [i for i in dict.fromkeys(ids) if i in self._states]
            if self.journal is not None and deleted:
                self.journal.deleted(deleted)
            for message_id in deleted:
                self._remove(message_id)
            self._announce("delete", deleted, lambda message_id: message_id)
            return deleted

    def clear(self) -> int:
        """Delete every message (Mailpit's ``truncate``). Returns how many were deleted."""
        with self._lock:
            if self.journal is not None:
                self.journal.cleared()
            count = len(self._states)
            self.deleted_total += count
            for state in self._states.values():
                state.message.forget_views()
            self._states.clear()
            self._search_index = SearchIndex(self)  # deleted mail's words go now, not at a later search
            self._total_size = 0
            self._tag_counts.clear()
            self._unread = 0
            self.bus.publish(Event("truncate"))
            return count

    def set_read(self, ids: Iterable[str] | None, read: bool) -> list[str]:
        """Mark messages read or unread (``None`` = all). Returns the ids whose state actually changed."""
        with self._lock:
            targets = self._states.keys() if ids is None else [i for i in ids if i in self._states]
            changed = [i for i in dict.fromkeys(targets) if self._states[i].read != read]
            if self.journal is not None and changed:
                self.journal.read_changed(changed, read)
            for message_id in changed:
                self._states[message_id].read = read
                self._unread += -1 if read else 1
            self._announce("update", changed, lambda message_id: {"ID": message_id, "Read": read})
            return changed

    def set_tags(self, ids: Iterable[str], tags: Iterable[str]) -> None:
        """Replace the tags of these messages (an empty list clears them). Raises TagLimitError, changing nothing,
        when the tags are past the caps."""
        new_tags = _unique_tags(tags)
        problem = _tag_limit_problem(new_tags)
        if problem is not None:
            raise TagLimitError(problem)
        with self._lock:
            targets = [i for i in dict.fromkeys(ids) if i in self._states]
            if self.journal is not None and targets:
                self.journal.tags_changed(dict.fromkeys(targets, new_tags))
            for message_id in targets:
                self._set_state_tags(self._states[message_id], new_tags)
            self._announce("update", targets, lambda message_id: {"ID": message_id, "Tags": list(new_tags)})

    def rename_tag(self, old: str, new: str) -> None:
        """Rename a tag on every message (case-insensitive match). Raises KeyError when no message has it, and
        TagLimitError when the new name is too long."""
        new = clean_tag(new)
        problem = _tag_limit_problem((new,))
        if problem is not None:
            raise TagLimitError(problem)
        with self._lock:
            self._retag(
                {
                    message_id: _unique_tags(new if t.lower() == old.lower() else t for t in state.tags)
                    for message_id, state in self._states.items()
                    if any(t.lower() == old.lower() for t in state.tags)
                },
                old,
            )

    def delete_tag(self, tag: str) -> None:
        """Remove a tag from every message (the messages stay). Raises KeyError when no message has it."""
        with self._lock:
            self._retag(
                {
                    message_id: kept
                    for message_id, state in self._states.items()
                    if len(kept := tuple(t for t in state.tags if t.lower() != tag.lower())) != len(state.tags)
                },
                tag,
            )

    def _announce(self, kind: str, ids: list[str], payload: Callable[[str], object]) -> None:
        """Publish a ``kind`` event per changed message, or a single ``prune`` (reload your list) when one change
        touched more than ``PRUNE_THRESHOLD`` messages, so a bulk change does not flood the clients."""
        if len(ids) > PRUNE_THRESHOLD:
            self.bus.publish(Event("prune", tuple(ids)))
            return
        for message_id in ids:
            self.bus.publish(Event(kind, payload(message_id)))

    def _retag(self, tags_by_id: dict[str, tuple[str, ...]], tag: str) -> None:
        """Give these messages new tags (a tag renamed or removed everywhere); KeyError when none had ``tag``."""
        if not tags_by_id:
            raise KeyError(tag)
        if self.journal is not None:
            self.journal.tags_changed(tags_by_id)
        for message_id, tags in tags_by_id.items():
            self._set_state_tags(self._states[message_id], tags)
        self.bus.publish(Event("prune"))

    def _set_state_tags(self, state: _State, tags: tuple[str, ...]) -> None:
        """Set a message's tags and keep the count of tags in use, so listing them never visits every message (at
        100,000 messages that walk cost more than the rest of a list page)."""
        self._tag_counts.subtract(state.tags)
        self._tag_counts.update(tags)
        state.tags = tags

    # -- reading ----------------------------------------------------------------------------------------------

    def get(self, message_id: str) -> Message | None:
        """The message with this id, or None."""
        state = self._states.get(message_id)
        return state.message if state else None

    def __len__(self) -> int:
        return len(self._states)

    def __contains__(self, message_id: object) -> bool:
        return message_id in self._states

    @property
    def total_size(self) -> int:
        """Raw bytes of every stored message (what ``max_total_size`` counts)."""
        return self._total_size

    @property
    def unread(self) -> int:
        """How many stored messages are unread."""
        return self._unread

    @property
    def last_seq(self) -> int:
        """The sequence number of the newest message ever stored (a watermark for "since now" views)."""
        return self._last_seq

    def is_read(self, message_id: str) -> bool:
        """Whether the message has been read (False for unknown ids)."""
        state = self._states.get(message_id)
        return bool(state and state.read)

    def tags_of(self, message_id: str) -> tuple[str, ...]:
        """The message's tags (empty for unknown ids)."""
        state = self._states.get(message_id)
        return state.tags if state else ()

    def text_predicate(self, value: str) -> Predicate:
        """A test of whether ``value`` (lower-cased, whitespace collapsed) occurs in a message's search text,
        answered from the store's word index."""
        return self._search_index.predicate(value)

    def all_tags(self) -> list[str]:
        """Every tag in use, sorted case-insensitively."""
        with self._lock:
            tags = [tag for tag, count in self._tag_counts.items() if count > 0]
        return sorted(tags, key=str.lower)

    def tag_counts(self) -> dict[str, int]:
        """How many messages carry each tag."""
        with self._lock:
            return {tag: count for tag, count in self._tag_counts.items() if count > 0}

    def snapshot(self) -> list[Message]:
        """All messages, oldest first (a copy: safe to iterate while mail arrives)."""
        with self._lock:
            return [state.message for state in self._states.values()]

    def newest_first(self) -> Iterator[Message]:
        """All messages, newest first, from a snapshot taken now."""
        with self._lock:
            messages = [state.message for state in reversed(self._states.values())]
        return iter(messages)

    def page(self, start: int, limit: int, predicate: Predicate | None = None) -> tuple[list[Message], int, int]:
        """Newest-first page of messages matching ``predicate`` (``limit`` 0 = all).

        Returns (page, number of matches, number of unread matches).
        """
        end = None if limit == 0 else start + limit
        with self._lock:
            if predicate is None:  # walk only as far as the page reaches, not the whole store
                newest = itertools.islice(reversed(self._states.values()), start, end)
                return [s.message for s in newest], len(self._states), self._unread
            states = list(reversed(self._states.values()))
        matches = [s for s in states if predicate(s.message)]
        unread = sum(1 for s in matches if not s.read)
        return [s.message for s in matches[start:end]], len(matches), unread

    def latest(self, predicate: Predicate | None = None) -> Message | None:
        """The newest message (matching ``predicate`` when given), or None."""
        if predicate is None:
            with self._lock:
                newest = next(reversed(self._states.values()), None)
            return newest.message if newest is not None else None
        for message in self.newest_first():
            if predicate(message):
                return message
        return None

    def since(self, seq: int) -> list[Message]:
        """Messages stored after sequence number ``seq``, oldest first."""
        with self._lock:
            return self._stored_after(seq)

    def _stored_after(self, seq: int) -> list[Message]:
        """``since`` for a caller that holds the lock: read from the newest back, stopping at what was seen."""
        fresh = []
        for state in reversed(self._states.values()):
            if state.message.seq <= seq:
                break
            fresh.append(state.message)
        fresh.reverse()
        return fresh

    def wait_for(
        self, predicate: Predicate, count: int = 1, timeout: float = 5.0, since_seq: int = 0
    ) -> tuple[list[Message], bool]:
        """Block until ``count`` messages stored after ``since_seq`` match, or ``timeout`` seconds pass.

        Returns (the matches oldest first, whether ``count`` was reached). Wakes on each new message; never polls.
        """
        deadline = time.monotonic() + timeout
        matches: list[Message] = []
        scanned = since_seq
        while True:
            with self._lock:
                fresh = self._stored_after(scanned)
                scanned = self._last_seq
            # Tested outside the lock: a slow predicate (the first text search of a large store builds its index)
            # must not hold up the SMTP side, which takes the lock to store each message.
            matches.extend(m for m in fresh if predicate(m))
            if len(matches) >= count:
                return matches, True
            with self._changed:
                while self._last_seq == scanned:
                    remaining = deadline - time.monotonic()
                    if remaining <= 0:
                        return matches, False
                    self._changed.wait(remaining)

    def notify_waiters(self) -> None:
        """Wake every waiter (used at shutdown so blocked long-polls answer at once)."""
        with self._changed:
            self._changed.notify_all()


def _capped_tags(message_id: str, tags: tuple[str, ...]) -> tuple[str, ...]:
    """The tags a new message keeps: the first ``MAX_TAGS`` that are at most ``MAX_TAG_LENGTH`` long."""
    kept = tuple(tag for tag in tags if len(tag) <= MAX_TAG_LENGTH)[:MAX_TAGS]
    if len(kept) < len(tags):
        log.warning(
            "message %s: dropped %d of its %d tags (at most %d tags of %d characters each)",
            message_id, len(tags) - len(kept), len(tags), MAX_TAGS, MAX_TAG_LENGTH,
        )
    return kept


def _unique_tags(tags: Iterable[str]) -> tuple[str, ...]:
    seen: dict[str, str] = {}
    for tag in tags:
        cleaned = clean_tag(tag)
        if cleaned and cleaned.lower() not in seen:
            seen[cleaned.lower()] = cleaned
    return tuple(seen.values())
