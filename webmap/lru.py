"""A bounded in-memory LRU cache whose misses are computed once per key.

Several requests that miss the same key at the same time wait for one computation
instead of each starting their own (single flight); different keys compute in parallel.
Used for the analysis results (:class:`webmap.results.ResultStore`), the ready payloads
(:class:`webmap.payloads.PayloadCache`) and the patrol plans
(:class:`webmap.patrol.plan.PatrolRuntime`).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class SingleFlightLru(Generic[K, V]):
    """At most ``max_items`` values, least recently used dropped first.

    Parameters
    ----------
    max_items
        How many values to keep (at least 1).
    """

    def __init__(self, max_items: int) -> None:
        self.max_items = max(1, int(max_items))
        self._items: OrderedDict[K, V] = OrderedDict()
        self._guard = threading.Lock()
        self._key_locks: dict[K, threading.Lock] = {}

    def __len__(self) -> int:
        with self._guard:
            return len(self._items)

    def get(self, key: K) -> V | None:
        """The value of ``key`` (now the most recently used), or None."""
        with self._guard:
            hit = self._items.get(key)
            if hit is not None:
                self._items.move_to_end(key)
            return hit

    def put(self, key: K, value: V) -> None:
        """Keep ``value`` under ``key``, dropping the least recently used beyond the bound."""
        with self._guard:
            self._items[key] = value
            self._items.move_to_end(key)
            while len(self._items) > self.max_items:
                self._items.popitem(last=False)

    def get_or_compute(self, key: K, compute: Callable[[], V | None]) -> V | None:
        """The value of ``key``; on a miss ``compute()`` runs once and its value is kept.

        Concurrent callers with the same key wait for that one call. A ``compute`` that
        returns None (nothing to keep) or raises leaves the cache unchanged.
        """
        hit = self.get(key)
        if hit is not None:
            return hit
        with self._guard:
            key_lock = self._key_locks.setdefault(key, threading.Lock())
        try:
            with key_lock:
                hit = self.get(key)
                if hit is None:
                    hit = compute()
                    if hit is None:
                        return None
                    self.put(key, hit)
                return hit
        finally:
            with self._guard:
                self._key_locks.pop(key, None)

    def clear(self) -> None:
        """Drop every value."""
        with self._guard:
            self._items.clear()


__all__ = ["SingleFlightLru"]
