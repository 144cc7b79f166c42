"""The single-flight LRU cache of results and patrol plans."""

from __future__ import annotations

import threading
import time

import pytest

from webmap.lru import SingleFlightLru


def test_least_recently_used_goes_first() -> None:
    cache: SingleFlightLru[str, int] = SingleFlightLru(2)
    cache.put("a", 1)
    cache.put("b", 2)
    assert cache.get("a") == 1  # "b" is now the least recently used
    cache.put("c", 3)
    assert cache.get("b") is None
    assert (cache.get("a"), cache.get("c"), len(cache)) == (1, 3, 2)
    cache.clear()
    assert len(cache) == 0


def test_concurrent_misses_of_one_key_compute_once() -> None:
    cache: SingleFlightLru[str, str] = SingleFlightLru(4)
    calls: list[str] = []
    start = threading.Barrier(8)

    def slow() -> str:
        calls.append("x")
        time.sleep(0.2)
        return "value"

    results: list[str | None] = []

    def worker() -> None:
        start.wait()
        results.append(cache.get_or_compute("k", slow))

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert calls == ["x"]
    assert results == ["value"] * 8


def test_nothing_is_kept_when_compute_gives_none_or_fails() -> None:
    cache: SingleFlightLru[str, int] = SingleFlightLru(4)
    assert cache.get_or_compute("k", lambda: None) is None
    assert len(cache) == 0

    def boom() -> int:
        raise RuntimeError("no")

    with pytest.raises(RuntimeError):
        cache.get_or_compute("k", boom)
    assert len(cache) == 0
    assert cache.get_or_compute("k", lambda: 7) == 7
    assert cache.get_or_compute("k", boom) == 7  # kept: no second computation
