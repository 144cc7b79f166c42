"""An in-process rate-limit storage that cleans up once a second (``lagesbild-memory://``).

``limits``' ``memory://`` storage starts a timer thread 10 ms after every hit that walks
*all* counters to drop expired ones. Expiry is also checked lazily on every read, so the
walk only frees memory; at a few hundred requests a second it costs about a tenth of the
server's CPU (measured by ``benchmarks/load.py``). This subclass does the same walk at
most once a second, in a daemon thread. Counting and limits are unchanged.

Importing this module registers the scheme; set
``RATELIMIT_STORAGE_URI = "lagesbild-memory://"`` to use it. Like ``memory://`` it counts
per process; several server processes need a shared storage (e.g. Redis) for exact
per-client limits.
"""

from __future__ import annotations

import threading

from limits.storage import MemoryStorage


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


__all__ = ["LazyExpiryMemoryStorage"]
