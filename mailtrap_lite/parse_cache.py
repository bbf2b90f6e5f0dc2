"""The parse cache: the full views of recently read messages, keyed by their source and bounded in bytes.

Least recently used views go first once the budget is passed; a view larger than the whole budget is not kept;
deleted mail leaves at once (:meth:`ViewCache.forget`), so the cache never holds mail nobody can ask for.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import Generic, TypeVar

View = TypeVar("View")


class ViewCache(Generic[View]):
    """Views keyed by a message's source, at most ``budget`` bytes of them: each view costs the length of its source
    plus what ``size_of`` says it holds beyond that."""

    def __init__(self, budget: int, size_of: Callable[[View], int]) -> None:
        self.budget = budget
        self.held = 0  # bytes held now
        self._size_of = size_of
        self._lock = threading.Lock()
        self._views: OrderedDict[bytes, tuple[View, int]] = OrderedDict()

    def get(self, raw: bytes) -> View | None:
        """The cached view of ``raw``, if any (and it becomes the most recently used)."""
        with self._lock:
            entry = self._views.get(raw)
            if entry is None:
                return None
            self._views.move_to_end(raw)
            return entry[0]

    def put(self, raw: bytes, view: View) -> None:
        """Keep ``view`` as the view of ``raw``, dropping the least recently used views over the budget."""
        cost = len(raw) + self._size_of(view)
        if cost > self.budget:
            return
        with self._lock:
            old = self._views.pop(raw, None)
            self.held -= old[1] if old else 0
            self._views[raw] = (view, cost)
            self.held += cost
            while self.held > self.budget:
                _, (_, dropped) = self._views.popitem(last=False)
                self.held -= dropped

    def forget(self, raw: bytes) -> None:
        """Drop the view of ``raw`` (a deleted message)."""
        with self._lock:
            entry = self._views.pop(raw, None)
            if entry is not None:
                self.held -= entry[1]
