"""The word index behind plain-word search: each distinct word of the stored messages' search text, and the
sequence numbers of the messages that hold it.

A plain search term matches when it is a substring of a message's search text (lower-cased, whitespace
collapsed; see :func:`mailtrap_lite.message.search_words`). A term without a space is a substring of that text
exactly when it is a substring of one of its words, so the index scans its vocabulary (one ``"\\n"``-joined
string, searched with ``str.find``) for the words that contain the term and unions their postings. A phrase
(a term with spaces) is narrowed the same way (its first word as a suffix, the middle words exactly, its last word
as a prefix) and each candidate is then confirmed against its search text, computed on the spot; the answers for
the latest phrase searched are kept (a byte per message), so its next page or a refresh reads only new candidates.

The index is built lazily: the first search that tests more than a few messages indexes every stored message,
later ones only what arrived since. It keeps no text per message; postings are a bare ``int`` for a word seen
once and an ``array('I')`` otherwise.
Deleted messages stay in the postings (a search only ever tests the messages still stored) until they outnumber
the stored ones, when the next search drops them, so a capped store with churn does not grow the index.

Searches run on the HTTP threads while SMTP stores mail on its own thread. The index has a lock of its own, not the
store's: adding the words of a huge message (hundreds of thousands) takes 100+ ms, and under the store's lock that
held up every message being stored, and so every SMTP reply. A search reads the words of new mail without the lock
and takes it only to add them and to answer. Dropping deleted mail is done under it in one go; the index's lock is
taken before the store's, never after.
"""

from __future__ import annotations

import threading
from array import array
from collections.abc import Iterable, Iterator
from typing import Protocol, TypeAlias

from mailtrap_lite.message import Message, Predicate, search_words

_READ_DIRECTLY = 64  # new messages a predicate may read itself before it turns to the index

Postings: TypeAlias = "int | array[int]"  # one sequence number, or an array('I') of them in order


class MessageSource(Protocol):
    """What the index reads from the store: how many messages it holds, the newest sequence number, the messages
    stored after a sequence number, and all of them (to drop deleted ones from the postings)."""

    def __len__(self) -> int: ...

    @property
    def last_seq(self) -> int:
        """The sequence number of the newest message ever stored."""
        ...

    def since(self, seq: int) -> list[Message]:
        """Messages stored after sequence number ``seq``, oldest first."""
        ...

    def snapshot(self) -> list[Message]:
        """Every stored message."""
        ...


class SearchIndex:
    """Words to message sequence numbers for the messages of one store; safe to search from several threads."""

    def __init__(self, source: MessageSource) -> None:
        self._source = source
        self._lock = threading.Lock()  # a search holds it to read or change the index, not to read messages
        self._postings: dict[str, Postings] = {}
        self._vocabulary = "\n"  # every word, each followed by "\n"
        self._new_words: list[str] = []  # words not yet in _vocabulary
        self._indexed_upto = 0  # every message stored with a sequence number up to this one is indexed
        self._held = 0  # messages whose words are in the postings, deleted ones included
        self._confirmed: _Confirmations | None = None  # of the latest phrase searched

    def predicate(self, value: str) -> Predicate:
        """A test of whether ``value`` (lower-cased, whitespace collapsed) occurs in a message's search text.

        When much mail is not indexed yet, the first few new messages tested are read directly, so a wait for
        new mail or a look at the newest message stays cheap however large the store. Past those, or at the first
        message the index holds, the index is consulted (and brought up to date) once; messages stored after that
        are read directly.
        """
        if not value:
            return _anything
        phrase = " " in value
        hits: set[int] | None = None
        upto = 0
        read_directly = 0
        confirm: Predicate = _anything

        def matches(message: Message) -> bool:
            nonlocal hits, upto, read_directly, confirm
            seq = message.seq
            if hits is None:
                if seq > self._indexed_upto and read_directly < _READ_DIRECTLY and self._catch_up_is_long():
                    read_directly += 1
                    return value in message.search_text
                hits, upto = self.lookup(value)
                if phrase:
                    confirm = self._confirmations(value, hits).confirm
            if seq > upto:
                return value in message.search_text
            return seq in hits and (not phrase or confirm(message))

        return matches

    def lookup(self, value: str) -> tuple[set[int], int]:
        """Sequence numbers of the messages that may contain ``value`` (exactly those, when it has no space),
        and the sequence number up to which that answer covers every stored message."""
        self._catch_up()
        with self._lock:
            self._drop_deleted()
            self._fold_new_words()
            return self._candidates(value), self._indexed_upto

    # -- keeping up with the store ----------------------------------------------------------------------------

    def _catch_up_is_long(self) -> bool:
        """Whether more messages may wait to be indexed than a predicate reads directly."""
        return self._source.last_seq - self._indexed_upto > _READ_DIRECTLY

    def _catch_up(self) -> None:
        """Index the messages stored since the last search. Their words are read without the lock (that is the
        slow part) and added under it one message at a time, so mail keeps arriving meanwhile; two searches
        catching up at once may both read a message, and only the first adds it."""
        for message in self._source.since(self._indexed_upto):
            words = set(search_words(message))  # dropped at once: kept alive longer, they cost the GC more
            with self._lock:
                if message.seq > self._indexed_upto:
                    self._add(message.seq, words)

    def _add(self, seq: int, words: set[str]) -> None:
        postings = self._postings
        for word in words:
            held = postings.get(word)
            if held is None:
                postings[word] = seq
                self._new_words.append(word)
            elif isinstance(held, int):
                postings[word] = array("I", (held, seq))
            else:
                held.append(seq)
        self._held += 1
        self._indexed_upto = seq

    def _drop_deleted(self) -> None:
        """Once the deleted messages in the postings outnumber the stored ones, keep only the stored ones'."""
        if self._held <= 2 * len(self._source):
            return
        live = {m.seq for m in self._source.snapshot() if m.seq <= self._indexed_upto}
        self._postings = _without_deleted(self._postings, live)
        self._vocabulary = "\n" + "".join(word + "\n" for word in self._postings)
        self._new_words = []
        self._held = len(live)
        self._confirmed = None

    def _fold_new_words(self) -> None:
        if self._new_words:
            self._vocabulary += "".join(word + "\n" for word in self._new_words)
            self._new_words = []

    # -- answering ----------------------------------------------------------------------------------------------

    def _confirmations(self, value: str, candidates: set[int]) -> _Confirmations:
        """Where a phrase's candidates are confirmed against their text. The answers are kept for the latest phrase
        searched: the next page of it, or the refresh the UI makes when mail arrives, reads only new candidates."""
        with self._lock:
            if self._confirmed is None or self._confirmed.value != value:
                # Later candidates of this phrase are newer than these (and the postings only shrink until a
                # clean-up, which forgets these answers), so none falls below this base.
                self._confirmed = _Confirmations(value, min(candidates, default=self._indexed_upto + 1))
            return self._confirmed

    def _candidates(self, value: str) -> set[int]:
        if " " not in value:
            return self._union(self._words_with(value))
        first, *middle, last = value.split(" ")
        groups = [
            self._union(self._words_with(first + "\n")),
            *(self._union([word] if word in self._postings else []) for word in middle),
            self._union(self._words_with("\n" + last)),
        ]
        groups.sort(key=len)
        return groups[0].intersection(*groups[1:])

    def _words_with(self, pattern: str) -> Iterator[str]:
        """Vocabulary words containing ``pattern``; a leading or trailing ``"\\n"`` anchors it to the word's start
        or end."""
        vocabulary = self._vocabulary
        inside = 1 if pattern.startswith("\n") else 0  # where the word's own characters begin in a hit
        at = vocabulary.find(pattern)
        while at != -1:
            start = vocabulary.rfind("\n", 0, at + inside) + 1
            end = vocabulary.find("\n", at + inside)
            yield vocabulary[start:end]
            at = vocabulary.find(pattern, end)

    def _union(self, words: Iterable[str]) -> set[int]:
        found: set[int] = set()
        for word in words:
            held = self._postings[word]
            if isinstance(held, int):
                found.add(held)
            else:
                found.update(held)
        return found


class _Confirmations:
    """Whether each candidate of one phrase really holds it: one byte per sequence number from ``base`` on
    (0 not read yet, 1 yes, 2 no), so 100,000 answers take 100 KB."""

    __slots__ = ("base", "known", "value")

    def __init__(self, value: str, base: int) -> None:
        self.value = value
        self.base = base
        self.known = bytearray()

    def confirm(self, message: Message) -> bool:
        """Whether the phrase occurs in the message's search text, read once per message."""
        at = message.seq - self.base
        if at < 0:  # only when a clean-up and another search of the phrase overtook this one's lookup
            return self.value in message.search_text
        if at >= len(self.known):
            self.known.extend(bytes(at + 1 - len(self.known)))
        answer = self.known[at]
        if not answer:
            answer = 1 if self.value in message.search_text else 2
            self.known[at] = answer
        return answer == 1


def _without_deleted(postings: dict[str, Postings], live: set[int]) -> dict[str, Postings]:
    """The postings of the messages in ``live`` only; words no stored message holds are dropped."""
    kept: dict[str, Postings] = {}
    if not live:
        return kept
    for word, held in postings.items():
        if isinstance(held, int):
            if held in live:
                kept[word] = held
            continue
        remaining = array("I", [seq for seq in held if seq in live])
        if len(remaining) > 1:
            kept[word] = remaining
        elif remaining:
            kept[word] = remaining[0]
    return kept


def _anything(message: Message) -> bool:
    return True
