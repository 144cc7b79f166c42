"""Answer anonymous public GETs from recorded Flask responses (a small WSGI layer).

The public pages and APIs (``/``, ``/karta/publik``, ``/api/public/cells``,
``/api/public/summary``, ``/api/publik/<kommun>/celler`` and ``…/tatorter``) are
snapshots: the same bytes for every anonymous visitor until the data change. Flask's
request machinery (routing, sessions, login, limiter, Babel, header hooks) costs more
than a millisecond per answer, so :class:`PublicReplay` sits in front of it:

* the first anonymous ``GET`` of a URL goes through Flask as usual, and a ``200``
  without ``Set-Cookie`` whose view called :func:`replayable` (a snapshot: not a
  tenant with ``public_snapshot = "live"``) is **recorded**: status, every header and
  the body;
* later requests of that URL are answered from the record, with this answer's own
  CSP nonce (a fresh random nonce replaces the recorded one in the
  ``Content-Security-Policy`` header and the page), so the headers are those of Flask
  (security headers, CSP, ``Cache-Control``, ``ETag``, ``Last-Modified``, ``Vary``);
* ``If-None-Match`` naming the record's ``ETag`` is answered with Flask's recorded
  ``304`` for that URL (recorded the first time Flask answers it so);
* the route's rate limits (``RATE_LIMITS`` of its blueprint) are counted in the app's
  limiter storage under the same key as Flask-Limiter (client key, endpoint); a client
  over a limit is handed to Flask, which answers ``429`` as always;
* a record is used for at most ``seconds`` (setting ``PUBLIC_REPLAY_SECONDS``, default
  1): then the next request records again through Flask (one request at a time; the
  others keep the previous record meanwhile), so a new analysis, moderation or
  publication is public within that time. ``0`` turns the layer off.

Anything else (other methods and paths, a request with a cookie or an
``Authorization`` header, i.e. a visitor with a session, language choice or login)
goes to Flask unchanged.
"""

from __future__ import annotations

import base64
import os
import re
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from werkzeug.http import parse_etags

#: Paths answered from records (exact paths, then patterns).
PUBLIC_PATHS: frozenset[str] = frozenset(
    {"/", "/karta/publik", "/api/public/cells", "/api/public/summary"}
)
PUBLIC_PATTERN = re.compile(r"^/api/publik/[^/]+/(?:celler|tatorter)$")
#: Most URLs kept (a record per path and query string; dropped all at once when full).
MAX_RECORDS = 128

#: WSGI environ key a view sets (:func:`replayable`) when its answer may be replayed.
REPLAY_KEY = "lagesbild.replayable"

_NONCE = re.compile(r"'nonce-([A-Za-z0-9_\-]+)'")

StartResponse = Callable[..., Any]
Environ = dict[str, Any]


@dataclass(frozen=True)
class Record:
    """One recorded answer of Flask."""

    status: str
    headers: tuple[tuple[str, str], ...]
    parts: tuple[bytes, ...]  # the body split at the recorded nonce
    nonce: str
    endpoint: str
    etag: str | None
    at: float

    @classmethod
    def of(
        cls, status: str, headers: list[tuple[str, str]], body: bytes, endpoint: str, at: float
    ) -> Record:
        found = None
        for name, value in headers:
            if name.lower() == "content-security-policy":
                found = _NONCE.search(value)
        nonce = found.group(1) if found else ""
        parts = tuple(body.split(nonce.encode())) if nonce else (body,)
        etag = next((v for n, v in headers if n.lower() == "etag"), None)
        return cls(status, tuple(headers), parts, nonce, endpoint, etag, at)

    def answer(self) -> tuple[list[tuple[str, str]], bytes]:
        """Headers and body with a fresh nonce in place of the recorded one."""
        if not self.nonce:
            return list(self.headers), self.parts[0]
        nonce = fresh_nonce()
        return self.headers_for(nonce), nonce.encode().join(self.parts)

    def headers_for(self, nonce: str, length: int | None = None) -> list[tuple[str, str]]:
        """The recorded headers with ``nonce`` in the CSP (and ``Content-Length``)."""
        out = []
        for name, value in self.headers:
            low = name.lower()
            if low == "content-security-policy" and self.nonce:
                value = value.replace(self.nonce, nonce)
            elif low == "content-length" and length is not None:
                value = str(length)
            out.append((name, value))
        return out


class _NoncePool:
    """CSP nonces (16 random bytes, URL-safe base64) cut from one ``os.urandom`` read
    of 4 kB at a time instead of one system call per answer."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._buffer = b""
        self._at = 0

    def __call__(self) -> str:
        with self._lock:
            if self._at + 16 > len(self._buffer):
                self._buffer, self._at = os.urandom(4096), 0
            raw = self._buffer[self._at : self._at + 16]
            self._at += 16
        return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


#: A fresh CSP nonce (as :func:`secrets.token_urlsafe` ``(16)``).
fresh_nonce = _NoncePool()


def call_app(
    wsgi_app: Callable[[Environ, StartResponse], Iterable[bytes]], environ: Environ
) -> tuple[str, list[tuple[str, str]], bytes]:
    """Status, headers and whole body of ``wsgi_app``'s answer to ``environ``."""
    got: dict[str, Any] = {}

    def capture(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
        got["status"], got["headers"] = status, list(headers)  # sent by the caller

    chunks = wsgi_app(environ, capture)
    try:
        body = b"".join(chunks)
    finally:
        close = getattr(chunks, "close", None)
        if close is not None:
            close()
    return got["status"], got["headers"], body


def sets_cookie(headers: Iterable[tuple[str, str]]) -> bool:
    """Whether an answer sets a cookie (such an answer is never replayed)."""
    return any(name.lower() == "set-cookie" for name, _value in headers)


class RouteLimits:
    """The routes' rate limits counted outside Flask, as Flask-Limiter counts them.

    Parameters
    ----------
    app
        The Flask app (its limiter, secret key and ``TRUSTED_PROXY_HEADER``).
    items
        Endpoint -> parsed limit items (see :func:`route_limits`).
    """

    def __init__(self, app: Any, items: dict[str, list[Any]]) -> None:
        self.app = app
        self.items = items
        header = str(app.config.get("TRUSTED_PROXY_HEADER") or "")
        self._header = "HTTP_" + header.upper().replace("-", "_") if header else ""

    def allowed(self, environ: Environ, endpoint: str) -> bool:
        """Count this request against ``endpoint``'s limits; False when one is exceeded
        (the same key as Flask-Limiter's: client key and endpoint)."""
        items = self.items.get(endpoint)
        if not items:
            return True
        from webmap.privacy import client_key_for

        limiter = self.app.extensions["lagesbild"].limiter
        if not limiter.enabled:
            return True
        key = client_key_for(self.app, self._address(environ))
        return all(limiter.limiter.hit(item, key, endpoint) for item in items)

    def _address(self, environ: Environ) -> str:
        """The client address as :func:`webmap.privacy.client_address` reads it."""
        if self._header:
            parts = [p.strip() for p in environ.get(self._header, "").split(",") if p.strip()]
            if parts:
                return parts[-1]
        return str(environ.get("REMOTE_ADDR") or "okänd")


class PublicReplay:
    """WSGI middleware answering anonymous public GETs from records (module docstring).

    Parameters
    ----------
    app
        The Flask app (its limiter, rate limits and URL map are used).
    wsgi_app
        The WSGI callable to pass requests to (``app.wsgi_app``).
    seconds
        How long a record is used before Flask answers again.
    limits
        The routes' rate limits (counted for every replayed answer).
    clock
        Monotonic clock (seconds).
    """

    def __init__(
        self,
        app: Any,
        wsgi_app: Callable[[Environ, StartResponse], Iterable[bytes]],
        seconds: float,
        limits: RouteLimits,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.app = app
        self.wsgi_app = wsgi_app
        self.seconds = float(seconds)
        self.limits = limits
        self.clock = clock
        self.replayed = 0
        self.recorded = 0
        self._records: dict[tuple[str, str, bool], Record] = {}
        self._refreshing: set[tuple[str, str, bool]] = set()
        self._lock = threading.Lock()

    def __call__(self, environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        path = environ.get("PATH_INFO") or "/"
        if (
            environ.get("REQUEST_METHOD") != "GET"
            or (path not in PUBLIC_PATHS and not PUBLIC_PATTERN.match(path))
            or "HTTP_COOKIE" in environ
            or "HTTP_AUTHORIZATION" in environ
            or self.seconds <= 0
        ):
            return self.wsgi_app(environ, start_response)
        query = environ.get("QUERY_STRING") or ""
        key = (path, query, False)
        record = self._records.get(key)
        inm = environ.get("HTTP_IF_NONE_MATCH")
        if inm:
            if record is None:
                return self.wsgi_app(environ, start_response)  # nothing to compare with yet
            if _matches(inm, record.etag):  # Flask answers 304: replay its recorded 304
                key = (path, query, True)
                record = self._records.get(key)
        now = self.clock()
        if record is None or (now - record.at >= self.seconds and self._claim(key)):
            return self._record(key, environ, start_response, now)
        if not self.limits.allowed(environ, record.endpoint):
            return self.wsgi_app(environ, start_response)  # Flask answers 429
        headers, body = record.answer()
        self.replayed += 1
        start_response(record.status, headers)
        return [body]

    # -- recording -------------------------------------------------------------------------

    def _claim(self, key: tuple[str, str, bool]) -> bool:
        """Whether this request refreshes ``key`` (one request at a time does)."""
        with self._lock:
            if key in self._refreshing:
                return False
            self._refreshing.add(key)
            return True

    def _record(
        self,
        key: tuple[str, str, bool],
        environ: Environ,
        start_response: StartResponse,
        now: float,
    ) -> Iterable[bytes]:
        """Pass the request to Flask and keep its answer when it can be replayed."""
        try:
            status, headers, body = call_app(self.wsgi_app, environ)
            wanted = "304" if key[2] else "200"
            if status.startswith(wanted) and not sets_cookie(headers) and environ.get(REPLAY_KEY):
                endpoint = self._endpoint(environ)
                with self._lock:
                    if len(self._records) >= MAX_RECORDS:
                        self._records.clear()
                    self._records[key] = Record.of(status, headers, body, endpoint, now)
                self.recorded += 1
        finally:
            with self._lock:
                self._refreshing.discard(key)
        start_response(status, headers)
        return [body]

    def _endpoint(self, environ: Environ) -> str:
        adapter = self.app.url_map.bind_to_environ(environ)
        try:
            endpoint, _args = adapter.match(environ.get("PATH_INFO") or "/", method="GET")
        except Exception:  # noqa: BLE001 - a 200 was routed by Flask; keep no limits then
            return ""
        return str(endpoint)


def replayable() -> None:
    """Mark the current request's answer as a snapshot :class:`PublicReplay` may replay."""
    from flask import request

    request.environ[REPLAY_KEY] = True


def _matches(if_none_match: str, etag: str | None) -> bool:
    """Whether ``If-None-Match`` names ``etag`` (as :func:`webmap.payloads.json_payload`)."""
    if etag is None:
        return False
    return parse_etags(if_none_match).contains(etag.strip('"'))


def route_limits(
    app: Any, specs: Iterable[tuple[str, Any]], method: str = "GET"
) -> dict[str, list[Any]]:
    """Endpoint -> parsed limits of ``method`` requests (specs as in ``RATE_LIMITS``)."""
    from limits import parse_many

    out: dict[str, list[Any]] = {}
    with app.app_context():
        for endpoint, spec in specs:
            limit, methods = (spec, None) if isinstance(spec, str) else (spec[0], spec[1])
            if methods is not None and method not in {m.upper() for m in methods}:
                continue
            text = limit() if callable(limit) else str(limit)
            out.setdefault(endpoint, []).extend(parse_many(text))
    return out


def install(app: Any, specs: Iterable[tuple[str, Any]]) -> None:
    """Put :class:`PublicReplay` (setting ``PUBLIC_REPLAY_SECONDS``; 0: not) and
    :class:`webmap.citizen.fast_submit.FastSubmit` (setting ``FAST_SUBMIT``) in front of
    ``app.wsgi_app``."""
    from webmap.citizen.fast_submit import FastSubmit

    specs = list(specs)
    seconds = float(app.config.get("PUBLIC_REPLAY_SECONDS", 1.0) or 0)
    if seconds > 0:
        limits = RouteLimits(app, route_limits(app, specs, "GET"))
        app.wsgi_app = PublicReplay(app, app.wsgi_app, seconds, limits)
    if app.config.get("FAST_SUBMIT", True):
        limits = RouteLimits(app, route_limits(app, specs, "POST"))
        app.wsgi_app = FastSubmit(app, app.wsgi_app, limits)


__all__ = [
    "PUBLIC_PATHS",
    "REPLAY_KEY",
    "PublicReplay",
    "Record",
    "install",
    "replayable",
    "route_limits",
]
