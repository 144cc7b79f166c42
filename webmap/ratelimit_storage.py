"""An in-process rate-limit storage that cleans up once a second (``lagesbild-memory://``).

``limits``' ``memory://`` storage starts a timer thread 10 ms after every hit that walks
*all* counters to drop expired ones. Expiry is also checked lazily on every read, so the
walk only frees memory; at a few hundred requests a second it costs about a tenth of the
server's CPU (measured by ``benchmarks/load.py``). This subclass does the same walk at
most once a second, in a daemon thread. Counting and limits are unchanged.

Importing this module registers the scheme; set
``RATELIMIT_STORAGE_URI = "lagesbild-memory://"`` to use it. Like ``memory://`` it counts
per process; several server processes (on one or several hosts) need a shared storage,
``redis://…``, for exact per-client limits.

A limit is only shared if every process also derives the same client key, so with a
Redis storage the daily salt of :func:`webmap.privacy.client_key` is shared too:
:func:`shared_salt_store` gives a :class:`SharedSaltStore` on the same Redis, where the
first process of the day puts a random nonce (``SET … NX`` with a two-day expiry) and
every process reads it. Only that nonce and the keyed hashes are in Redis, never an
address; the salt itself is an HMAC of the nonce under the app's secret key, so a copy
of the Redis data alone cannot be used to test addresses against the counters.
"""

from __future__ import annotations

import datetime as dt
import secrets
import threading
from functools import lru_cache
from typing import Any

from limits.storage import MemoryStorage, storage_from_string

#: URI schemes of the Redis storages of ``limits`` (single server, TLS, socket, Sentinel).
REDIS_SCHEMES: tuple[str, ...] = ("redis://", "rediss://", "redis+unix://", "redis+sentinel://")
#: Redis key of a day's salt nonce (``{day}`` is the ISO date, UTC).
SALT_KEY = "lagesbild:daily-salt:{day}"
#: Lifetime of a nonce in Redis: long enough for the whole day in every time zone.
SALT_TTL_SECONDS = 2 * 24 * 3600


class LazyExpiryMemoryStorage(MemoryStorage):
    """``memory://`` with a one-second cleanup interval."""

    STORAGE_SCHEME = ["lagesbild-memory"]
    #: Seconds between two clean-up walks over the counters.
    EXPIRY_INTERVAL = 1.0

    def _MemoryStorage__schedule_expiry(self) -> None:  # noqa: N802 - overrides a private hook
        if not self.timer.is_alive():
            self.timer = threading.Timer(
                self.EXPIRY_INTERVAL,
                self._MemoryStorage__expire_events,  # type: ignore[attr-defined]
            )
            self.timer.daemon = True
            self.timer.start()


class SharedSaltStore:
    """The daily salt nonce, kept in the Redis storage of the rate limits.

    Parameters
    ----------
    client
        A Redis client (``redis.Redis`` or compatible: ``set(..., nx=True, ex=...)``
        and ``get``).
    """

    def __init__(self, client: Any) -> None:
        self._client = client

    def nonce(self, day: dt.date) -> bytes:
        """The nonce of ``day``: created by the first process that asks, then shared."""
        key = SALT_KEY.format(day=day.isoformat())
        self._client.set(key, secrets.token_bytes(32), nx=True, ex=SALT_TTL_SECONDS)
        value = self._client.get(key)
        if not value:  # expired between the two calls (clock skew): try once more
            self._client.set(key, secrets.token_bytes(32), nx=True, ex=SALT_TTL_SECONDS)
            value = self._client.get(key)
        return bytes(value)


@lru_cache(maxsize=8)
def shared_salt_store(uri: str | None) -> SharedSaltStore | None:
    """A :class:`SharedSaltStore` on the rate-limit storage ``uri`` if it is Redis, else None.

    The Redis client is the one ``limits`` builds for the same URI, so the salt lives
    exactly where the counters live.
    """
    if not uri or not uri.startswith(REDIS_SCHEMES):
        return None
    storage = storage_from_string(uri)
    return SharedSaltStore(storage.storage)  # type: ignore[union-attr,attr-defined]


__all__ = [
    "SALT_KEY",
    "LazyExpiryMemoryStorage",
    "SharedSaltStore",
    "shared_salt_store",
]
