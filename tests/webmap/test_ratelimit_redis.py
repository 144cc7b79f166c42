"""Shared rate limits: several server processes on one Redis enforce one limit per client.

A real ``redis-server --save ""`` (no file is ever written) is started on a free port for
this module and stopped at the end; ``make system-deps`` installs Debian's redis-server.
"""

from __future__ import annotations

import datetime as dt
import shutil
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from _servers import free_port, listening_pids, serve

from webmap.privacy import DailySalt, address_to_key
from webmap.ratelimit_storage import SALT_KEY, shared_salt_store

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """URL of a throwaway redis-server (no persistence), stopped after the module."""
    exe = shutil.which("redis-server")
    assert exe, "redis-server saknas: kör `make system-deps` (Debian-paketet redis-server)"
    port = free_port()
    folder = tmp_path_factory.mktemp("redis")
    proc = subprocess.Popen(
        [exe, "--save", "", "--appendonly", "no", "--port", str(port)]
        + ["--bind", "127.0.0.1", "--dir", str(folder)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"redis://127.0.0.1:{port}/0"
    client = redis.Redis.from_url(url)
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                client.ping()
                break
            except redis.ConnectionError:
                assert proc.poll() is None and time.monotonic() < deadline, "redis did not start"
                time.sleep(0.1)
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    assert not list(folder.iterdir())  # nothing written to disk


def test_processes_share_one_daily_salt(redis_url: str) -> None:
    redis.Redis.from_url(redis_url).flushdb()
    store = shared_salt_store(redis_url)
    assert store is not None and shared_salt_store("lagesbild-memory://") is None
    day = [dt.date(2026, 11, 23)]
    a, b = DailySalt(today=lambda: day[0]), DailySalt(today=lambda: day[0])
    first = a.current(store, b"secret")
    assert b.current(store, b"secret") == first  # another process, same salt
    assert address_to_key("192.0.2.17", first) == address_to_key("192.0.2.17", first)
    # the nonce kept in Redis is not the salt (the secret key is needed as well)
    nonce = redis.Redis.from_url(redis_url).get(SALT_KEY.format(day="2026-11-23"))
    assert nonce and len(nonce) == 32 and nonce != first
    assert DailySalt(today=lambda: day[0]).current(store, b"other") != first
    ttl = redis.Redis.from_url(redis_url).ttl(SALT_KEY.format(day="2026-11-23"))
    assert 0 < ttl <= 2 * 24 * 3600
    day[0] = dt.date(2026, 11, 24)  # a new day: a new salt, again shared
    second = a.current(store, b"secret")
    assert second != first and b.current(store, b"secret") == second


def test_unreachable_store_falls_back_to_a_salt_per_process() -> None:
    store = shared_salt_store(f"redis://127.0.0.1:{free_port()}/0")
    salt = DailySalt()
    one = salt.current(store, b"secret")
    assert len(one) == 32 and salt.current(store, b"secret") == one  # stable until retry


def _status(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=30) as r:
            return int(r.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)


@pytest.mark.slow
def test_two_processes_give_a_client_exactly_the_limit(redis_url: str, tmp_path: Path) -> None:
    client = redis.Redis.from_url(redis_url)
    client.flushdb()
    proc, port = serve(
        tmp_path,
        2,
        LAGESBILD_RATELIMIT_STORAGE_URI=redis_url,
        LAGESBILD_API_READ_RATE_LIMIT="12/hour",
    )
    try:
        deadline = time.monotonic() + 90
        listeners: set[int] = set()
        while time.monotonic() < deadline and len(listeners) < 2:
            assert proc.poll() is None, proc.stderr.read().decode() if proc.stderr else ""
            listeners = listening_pids(proc, port)
            time.sleep(0.2)
        assert len(listeners) == 2
        url = f"http://127.0.0.1:{port}/api/public/summary?kommun=norrtalje"
        # a new connection per request: the kernel spreads them over both workers
        statuses = [_status(url) for _ in range(40)]
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    assert statuses.count(200) == 12, statuses
    assert statuses.count(429) == 28
    # one salt for the day and one counter for the client (per process: two of each)
    keys = [k.decode() for k in client.keys("*")]
    assert len([k for k in keys if k.startswith("lagesbild:daily-salt:")]) == 1
    counters = [k for k in keys if "summary" in k or "LIMITS" in k]
    assert len(counters) == 1, keys
    assert "127.0.0.1" not in " ".join(keys)  # never the address
