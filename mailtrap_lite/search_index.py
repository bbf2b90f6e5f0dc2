"""The word index behind plain-word search: each distinct word of the stored messages' search text, and the
sequence numbers of the messages that hold it.

A plain search term matches when it is a substring of a message's search text (lower-cased, whitespace
collapsed; see :func:`mailtrap_lite.message.search_words`). A term without a space is a substring of that text
exactly when it is a substring of one of its words, so the index scans its vocabulary (one ``"\\n"``-joined
string, searched with ``str.find``) for the words that contain the term and unions their postings. A phrase
(a term with spaces) is narrowed the same way (its first word as a suffix, the middle words exactly, its last word
as a prefix) and each candidate is then confirmed against its search text, computed on the spot.

The index is built lazily: the first search indexes every stored message, later ones only what arrived since. It
keeps no text per message; postings are a bare ``int`` for a word seen once and an ``array('I')`` otherwise.
Deleted messages stay in the postings (a search only ever tests the messages still stored) until they outnumber
the stored ones, when the next search drops them, so a capped store with churn does not grow the index.
"""

from __future__ import annotations

import threading
from array import array
from collections.abc import Callable, Iterable, Iterator
from typing import Protocol, TypeAlias

from mailtrap_lite.message import Message, search_words

Predicate = Callable[[Message], bool]
Postings: TypeAlias = "int | array[int]"  # one sequence number, or an array('I') of them in order


class MessageSource(Protocol):
    """What the index reads from the store: how many messages it holds, the ones stored after a sequence number,
    and all of them (to drop deleted ones from the postings)."""

    def __len__(self) -> int: ...

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
        self._lock = threading.Lock()  # one catch-up at a time; ingest never waits for it
        self._postings: dict[str, Postings] = {}
        self._vocabulary = "\n"  # every word, each followed by "\n"
        self._new_words: list[str] = []  # words not yet in _vocabulary
        self._indexed_upto = 0  # every message stored with a sequence number up to this one is indexed
        self._held = 0  # messages whose words are in the postings, deleted ones included

    def predicate(self, value: str) -> Predicate:
        """A test of whether ``value`` (lower-cased, whitespace collapsed) occurs in a message's search text.

        The index is consulted on the first call, so a predicate built and never used costs nothing; messages
        stored after that call are read directly.
        """
        if not value:
            return _anything
        phrase = " " in value
        hits: set[int] | None = None
        upto = 0

        def matches(message: Message) -> bool:
            nonlocal hits, upto
            if hits is None:
                hits, upto = self.lookup(value)
            seq = message.seq
            if seq > upto:
                return value in message.search_text
            return seq in hits and (not phrase or value in message.search_text)

        return matches

    def lookup(self, value: str) -> tuple[set[int], int]:
        """Sequence numbers of the messages that may contain ``value`` (exactly those, when it has no space),
        and the sequence number up to which that answer covers every stored message."""
        with self._lock:
            self._catch_up()
            self._drop_deleted()
            self._fold_new_words()
            return self._candidates(value), self._indexed_upto

    # -- keeping up with the store ----------------------------------------------------------------------------

    def _catch_up(self) -> None:
        for message in self._source.since(self._indexed_upto):
            self._add(message)
            self._indexed_upto = message.seq

    def _add(self, message: Message) -> None:
        seq = message.seq
        postings = self._postings
        for word in set(search_words(message)):
            held = postings.get(word)
            if held is None:
                postings[word] = seq
                self._new_words.append(word)
            elif isinstance(held, int):
                postings[word] = array("I", (held, seq))
            else:
                held.append(seq)
        self._held += 1

    def _drop_deleted(self) -> None:
        """Once the deleted messages in the postings outnumber the stored ones, keep only the stored ones'."""
        if self._held <= 2 * len(self._source):
            return
        live = {m.seq for m in self._source.snapshot() if m.seq <= self._indexed_upto}
        kept: dict[str, Postings] = {}
        for word, held in self._postings.items():
            remaining = _kept(held, live)
            if remaining is not None:
                kept[word] = remaining
        self._postings = kept
        self._vocabulary = "\n" + "".join(word + "\n" for word in kept)
        self._new_words = []
        self._held = len(live)

    def _fold_new_words(self) -> None:
        if self._new_words:
            self._vocabulary += "".join(word + "\n" for word in self._new_words)
            self._new_words = []

    # -- answering ----------------------------------------------------------------------------------------------

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


def _kept(held: Postings, live: set[int]) -> Postings | None:
    """The postings of ``held`` still stored: an int, an array, or None when none is."""
    if isinstance(held, int):
        return held if held in live else None
    remaining = array("I", [seq for seq in held if seq in live])
    if len(remaining) > 1:
        return remaining
    return remaining[0] if remaining else None


def _anything(message: Message) -> bool:
    return True
