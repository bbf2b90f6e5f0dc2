"""Deleting every message gives back what the search index held for them at once (a message with many distinct
words, such as a 23 MiB multipart of 250,000 parts, made the index hold tens of MiB)."""

from __future__ import annotations

import gc
import tracemalloc

from mailtrap_lite.message import Envelope, Message
from mailtrap_lite.store import MessageStore

WORDS = 200_000


def _many_words() -> bytes:
    body = " ".join(f"word{n}" for n in range(WORDS))
    return f"Subject: many words\r\n\r\n{body}\r\n".encode()


def _found(store: MessageStore, word: str) -> list[Message]:
    return store.page(0, 10, store.text_predicate(word))[0]


def test_delete_all_drops_the_indexed_words_of_the_deleted_mail() -> None:
    store = MessageStore(max_messages=0)
    raw = _many_words()
    tracemalloc.start()
    try:
        gc.collect()
        before = tracemalloc.get_traced_memory()[0]
        store.add(raw, Envelope("a@example.com", ("b@example.com",)))
        assert len(_found(store, "word123")) == 1  # the index holds the words now
        store.clear()
        gc.collect()
        left = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    assert left < 2 * 1024 * 1024, f"{left / 2**20:.1f} MiB still held after deleting everything"
    store.add(b"Subject: after\r\n\r\nword123 again\r\n", Envelope("a@example.com", ("b@example.com",)))
    assert [m.subject for m in _found(store, "word123")] == ["after"]
