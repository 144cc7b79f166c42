"""Privacy helpers: a client key that is never the client's address.

Rate limits (and anything else that needs to recognise "the same client for a while")
use :func:`client_key`: an HMAC of the client address under a random salt that is
replaced every day (UTC). The raw address is never stored or logged, and yesterday's keys
cannot be linked to today's, nor reversed by anyone who reads the configuration, because
the salt is not derived from any setting alone.

With the in-process storage the salt exists only in the process's memory. With a Redis
storage (``RATELIMIT_STORAGE_URI = "redis://…"``) every process and host must derive the
same key for a client, or each would count separately (N processes would give a client
N times the limit): the day's random nonce is then kept in that Redis
(:class:`webmap.ratelimit_storage.SharedSaltStore`, expires after two days) and the salt
is ``HMAC(secret key, nonce)``. Neither the nonce nor the salt is ever written together
with an address, and the Redis data alone (nonce and hashed keys) cannot be used to test
addresses without the secret key. If Redis cannot be reached the process falls back to
a salt of its own for that day (limits then count per process) and tries again after a
minute.

Behind a reverse proxy set ``TRUSTED_PROXY_HEADER`` (e.g. ``"X-Forwarded-For"``);
the header is honoured only then, and only its last entry (the address the trusted
proxy saw) is used, so a client cannot choose its own key by sending the header.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import logging
import secrets
import threading
import time
from collections.abc import Callable
from typing import Any

from flask import current_app, has_request_context, request

from webmap.ratelimit_storage import SharedSaltStore, shared_salt_store

log = logging.getLogger(__name__)

#: Key used outside a request (CLI, tests without a request context).
NO_CLIENT = "ingen-klient"


#: Seconds before a process retries an unreachable shared salt store.
SHARED_RETRY_SECONDS = 60.0


class DailySalt:
    """A random salt replaced when the (UTC) day changes; thread-safe.

    Parameters
    ----------
    today
        Callable returning the current date (injectable for tests).
    """

    def __init__(self, today: Callable[[], dt.date] | None = None) -> None:
        self._today = today or (lambda: dt.datetime.now(dt.UTC).date())
        self._lock = threading.Lock()
        self._day: dt.date | None = None
        self._salt = b""
        self._shared = False  # True when today's salt came from the shared store
        self._retry_at = 0.0

    def current(self, shared: SharedSaltStore | None = None, secret: bytes = b"") -> bytes:
        """The salt of today (a new random one after midnight UTC).

        Parameters
        ----------
        shared
            Store of the day's nonce shared by every process (Redis); None: a salt of
            this process only.
        secret
            The app's secret key; with ``shared`` the salt is ``HMAC(secret, nonce)``.
        """
        day = self._today()
        with self._lock:
            stale = day != self._day
            retry = shared is not None and not self._shared and time.monotonic() >= self._retry_at
            if stale or retry:
                self._day, self._shared = day, False
                if shared is not None:
                    try:
                        nonce = shared.nonce(day)
                        self._salt = hmac.new(secret, nonce, hashlib.sha256).digest()
                        self._shared = True
                    except Exception as exc:  # noqa: BLE001 - limits still work per process
                        log.warning("delat salt kunde inte läsas (%s); salt per process", exc)
                        self._retry_at = time.monotonic() + SHARED_RETRY_SECONDS
                if not self._shared and (stale or not self._salt):
                    self._salt = secrets.token_bytes(32)
            return self._salt


def address_to_key(address: str, salt: bytes) -> str:
    """Keyed hash of ``address`` (hex, 24 characters); the address cannot be recovered."""
    digest = hmac.new(salt, address.encode("utf-8", "replace"), hashlib.sha256).hexdigest()
    return digest[:24]


def client_address() -> str:
    """The client address of the current request (trusted proxy header only if configured).

    Only for hashing: never store or log the return value.
    """
    header = current_app.config.get("TRUSTED_PROXY_HEADER") or ""
    if header:
        raw = request.headers.get(header, "")
        parts = [p.strip() for p in raw.split(",") if p.strip()]
        if parts:
            return parts[-1]
    return request.remote_addr or "okänd"


def client_key() -> str:
    """Salted, daily rotating hash of the client address (the rate-limit key)."""
    if not has_request_context():
        return NO_CLIENT
    return client_key_for(current_app, client_address())


def client_key_for(app: Any, address: str) -> str:
    """:func:`client_key` of ``address`` for ``app`` (also outside a request context)."""
    state = app.extensions.get("lagesbild")
    salt: DailySalt | None = getattr(state, "salt", None)
    if salt is None:  # app not built by create_app: use a per-app salt
        salt = app.extensions.setdefault("lagesbild_salt", DailySalt())
    shared = shared_salt_store(app.config.get("RATELIMIT_STORAGE_URI"))
    secret = str(app.secret_key or "").encode()
    return address_to_key(address, salt.current(shared, secret))
