"""Privacy helpers: a client key that is never the client's address.

Rate limits (and anything else that needs to recognise "the same client for a while")
use :func:`client_key`: an HMAC of the client address under a random salt that exists
only in memory and is replaced every day (UTC). The raw address is never stored or
logged, and yesterday's keys cannot be linked to today's, nor reversed by anyone who
reads the configuration, because the salt is not derived from any setting.

Behind a reverse proxy set ``TRUSTED_PROXY_HEADER`` (e.g. ``"X-Forwarded-For"``);
the header is honoured only then, and only its last entry (the address the trusted
proxy saw) is used, so a client cannot choose its own key by sending the header.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
import threading
from collections.abc import Callable

from flask import current_app, has_request_context, request

#: Key used outside a request (CLI, tests without a request context).
NO_CLIENT = "ingen-klient"


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

    def current(self) -> bytes:
        """The salt of today (a new random one after midnight UTC)."""
        day = self._today()
        with self._lock:
            if day != self._day:
                self._day = day
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
    state = current_app.extensions.get("lagesbild")
    salt: DailySalt | None = getattr(state, "salt", None)
    if salt is None:  # app not built by create_app: use a per-app salt
        salt = current_app.extensions.setdefault("lagesbild_salt", DailySalt())
    return address_to_key(client_address(), salt.current())
