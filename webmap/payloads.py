"""Compute once, serve many: ready payloads keyed by what they depend on.

A map API or page of one kommun depends on its reports (the data version, bumped by
every import, moderation and retention run), its actions and follow-ups, the meeting's
grade decisions and publications. :func:`state_token` reads all of these with one
query; a payload is stored under a key of (kind, kommun, token, request parameters):

* :func:`json_payload` answers a JSON API from ready bytes (memory, then
  ``<instance>/cache/payloads/<kommun>/``, compressed; built once when missing) with an
  ``ETag`` (the key's hash), ``Last-Modified`` (when the data version last changed) and
  ``Cache-Control`` (public snapshots: ``public, max-age``; internal data: ``private,
  no-cache``, so the browser asks again and gets ``304 Not Modified`` while nothing
  changed). ``If-None-Match`` with the current ETag is answered ``304`` without a body.
* :func:`memo` keeps any picklable object the same way (a patrol plan, the public map's
  first view), shared by every server process through the disk.

New data give a new token, so old payloads are never served; files of older data
versions are removed when the first payload of a new version is written. ``lagesbild
analyse`` fills the cache ahead of the first request (:func:`warm`).
"""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import pickle
import shutil
import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import pandas as pd
from flask import Flask, Response, g, request

from geo.store.state import state_token
from webmap.lru import SingleFlightLru

#: Bumped when a payload's layout changes (old files are then ignored).
PAYLOAD_FORMAT = 1


class PayloadCache:
    """Memory LRU over an on-disk store of payloads (see the module docstring)."""

    def __init__(self, folder: Path | str, memory_items: int = 256) -> None:
        self.folder = Path(folder)
        self.memory_items = memory_items
        self._memory: SingleFlightLru[str, Any] = SingleFlightLru(memory_items)

    def _path(self, kommun: str, version: str, name: str) -> Path:
        return self.folder / kommun / f"v{version}" / name

    def get(
        self, kommun: str, version: str, digest: str, suffix: str, build: Callable[[], Any]
    ) -> Any:
        """The stored value of ``digest`` (built, stored and returned when missing).

        A miss reads the file, or builds and stores it, once: concurrent requests for the
        same payload wait for that one build.
        """
        path = self._path(kommun, version, f"{digest}.{suffix}")

        def load_or_build() -> Any:
            value = _load(path)
            if value is None:
                value = build()
                _store(path, value)
                self._prune(kommun, version)
            return value

        return self._memory.get_or_compute(path.name, load_or_build)

    def _prune(self, kommun: str, keep_version: str) -> None:
        folder = self.folder / kommun
        for child in folder.iterdir() if folder.exists() else ():
            if child.name != f"v{keep_version}":
                shutil.rmtree(child, ignore_errors=True)


def _load(path: Path) -> Any:
    try:
        data = gzip.decompress(path.read_bytes())
    except (OSError, EOFError):
        return None
    if path.suffix == ".pickle":
        return pickle.loads(data)  # noqa: S301 - our own cache folder, written below
    return data


def _store(path: Path, value: Any) -> None:
    data = pickle.dumps(value) if path.suffix == ".pickle" else bytes(value)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=path.parent)
    with os.fdopen(fd, "wb") as fh:
        fh.write(gzip.compress(data, compresslevel=5))
    os.replace(tmp, path)


def payload_cache() -> PayloadCache:
    """The current app's :class:`PayloadCache` (``<instance>/cache/payloads``)."""
    from webmap.state import current_state

    return current_state().payloads


def _token(kommun: str) -> tuple[Any, ...]:
    """:func:`state_token` once per request."""
    from webmap.state import get_engine

    tokens = g.setdefault("payload_tokens", {})
    if kommun not in tokens:
        with get_engine().connect() as conn:
            tokens[kommun] = state_token(conn, kommun)
    return tokens[kommun]  # type: ignore[no-any-return]


def _digest(kind: str, kommun: str, token: tuple[Any, ...], key: Iterable[Any]) -> str:
    text = json.dumps([PAYLOAD_FORMAT, kind, kommun, token, list(key)], default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def memo(kind: str, kommun: str, key: Iterable[Any], build: Callable[[], Any]) -> Any:
    """``build()`` once per (kind, kommun, state of its data, key), shared by processes."""
    token = _token(kommun)
    digest = _digest(kind, kommun, token, key)
    return payload_cache().get(kommun, str(token[0]), digest, "pickle", build)


def json_payload(
    kind: str,
    kommun: str,
    key: Iterable[Any],
    build: Callable[[], Any],
    *,
    public: bool = False,
    max_age: int = 60,
) -> Response:
    """A JSON response from ready bytes, with ``ETag``, ``Last-Modified`` and caching.

    Parameters
    ----------
    kind, kommun, key
        What the payload is (with the kommun's :func:`state_token` they form its key).
    build
        Makes the payload (a JSON-ready object) when it is not stored yet.
    public
        A public snapshot (``Cache-Control: public, max-age``) rather than internal
        data (``private, no-cache``: the browser revalidates with the ETag).
    """
    from webmap.web import json_bytes

    token = _token(kommun)
    digest = _digest(kind, kommun, token, key)
    etag = f'"{digest}"'
    headers = {
        "ETag": etag,
        "Cache-Control": f"public, max-age={max_age}" if public else "private, no-cache",
        "Vary": "Cookie" if not public else "Accept-Encoding",
    }
    if token[1]:
        stamp = pd.Timestamp(token[1])
        stamp = stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp
        headers["Last-Modified"] = stamp.strftime("%a, %d %b %Y %H:%M:%S GMT")
    if etag in request.if_none_match or digest in request.if_none_match:
        return Response(status=304, headers=headers)
    body = payload_cache().get(
        kommun, str(token[0]), digest, "json.gz", lambda: json_bytes(build())
    )
    return Response(body, mimetype="application/json", headers=headers)


#: Stands for the request's CSP nonce in a stored page (replaced on every answer).
NONCE_PLACEHOLDER = "lagesbild-nonce-placeholder"


def cached_page(kind: str, kommun: str, key: Iterable[Any], render: Callable[[], str]) -> Any:
    """An anonymous visitor's page from stored HTML, with this request's CSP nonce.

    Only requests without a login or session (no language choice, no messages) share
    pages; anything else is rendered as usual. The page is rendered once with a
    placeholder nonce, and each answer gets a fresh nonce in its place, so the
    Content-Security-Policy stays per request.
    """
    from flask import session
    from flask_login import current_user

    if current_user.is_authenticated or session:
        return render()
    nonce = getattr(g, "csp_nonce", "")

    def build() -> bytes:
        g.csp_nonce = NONCE_PLACEHOLDER
        try:
            return render().encode("utf-8")
        finally:
            g.csp_nonce = nonce

    token = _token(kommun)
    digest = _digest(kind, kommun, token, [request.path, *key])
    html = payload_cache().get(kommun, str(token[0]), digest, "html.gz", build)
    body = html.replace(NONCE_PLACEHOLDER.encode(), nonce.encode())
    return Response(body, mimetype="text/html")


#: Stands for the request's CSRF token in a stored page of a logged-in user.
CSRF_PLACEHOLDER = "lagesbild-csrf-placeholder"


def user_page(kind: str, kommun: str, key: Iterable[Any], render: Callable[[], str]) -> Any:
    """A logged-in user's page from stored HTML, with this request's nonce and CSRF token.

    The page is stored per user, role, language, address and ``key`` (with the kommun's
    :func:`state_token`), rendered once with placeholders for the CSP nonce and the CSRF
    token, which each answer replaces with its own. A request with flashed messages is
    rendered as usual.
    """
    from flask import current_app, session
    from flask_login import current_user
    from flask_wtf.csrf import generate_csrf

    if not current_user.is_authenticated or session.get("_flashes"):
        return render()
    nonce = getattr(g, "csp_nonce", "")
    field = str(current_app.config.get("WTF_CSRF_FIELD_NAME") or "csrf_token")

    def build() -> bytes:
        had = g.pop(field, None)
        g.csp_nonce = NONCE_PLACEHOLDER
        setattr(g, field, CSRF_PLACEHOLDER)  # what Flask-WTF's csrf_token() returns now
        try:
            return render().encode("utf-8")
        finally:
            g.csp_nonce = nonce
            g.pop(field, None)
            if had is not None:
                setattr(g, field, had)

    token = _token(kommun)
    who = [current_user.get_id(), current_user.role, current_user.username, session.get("lang")]
    digest = _digest(kind, kommun, token, [request.full_path, *who, *key])
    html = payload_cache().get(kommun, str(token[0]), digest, "html.gz", build)
    body = html.replace(NONCE_PLACEHOLDER.encode(), nonce.encode())
    body = body.replace(CSRF_PLACEHOLDER.encode(), generate_csrf().encode())
    return Response(body, mimetype="text/html")


def warm(app: Flask, kommun: str, week: str, paths: Iterable[str] = ()) -> dict[str, int]:
    """Request the kommun's pages and map APIs once, so their payloads are stored.

    Planner APIs are requested as an active planner or reader, the patrol page as an
    active patrol user, when such users exist; the public ones anonymously. Returns
    the status of each path.
    """
    from webmap.auth.views import SESSION_EPOCH_KEY, list_users

    with app.extensions["lagesbild"].engine.connect() as conn:
        users = [u for u in list_users(conn) if u.active]
    by_role = {u.role: u for u in reversed(users)}
    planner = by_role.get("planner") or by_role.get("reader")
    api = f"/api/karta/{kommun}"
    plan = [
        (planner, f"{api}/tatorter?vecka={week}"),
        (planner, f"{api}/zoner?vecka={week}"),
        (planner, f"{api}/celler?vecka={week}"),
        (planner, f"{api}/polisen?vecka={week}"),
        (planner, f"/lagesbild/{week}?kommun={kommun}"),
        (by_role.get("patrol"), f"/patrull?kommun={kommun}"),
        (None, f"/karta/publik?kommun={kommun}"),
        (None, f"/api/public/cells?kommun={kommun}"),
        (None, f"/api/public/summary?kommun={kommun}"),
        (None, f"/api/publik/{kommun}/celler"),
        *((None, p) for p in paths),
    ]
    out: dict[str, int] = {}
    for user, path in plan:
        if user is None and not (path.startswith("/api/publi") or "/publik" in path):
            continue
        client = app.test_client()
        if user is not None:
            with client.session_transaction() as session:
                session["_user_id"] = str(user.get_id())
                session["_fresh"] = True
                session[SESSION_EPOCH_KEY] = user.session_epoch  # a current session
        out[path] = client.get(path, headers={"Accept": "application/json"}).status_code
    return out


__all__ = [
    "CSRF_PLACEHOLDER",
    "NONCE_PLACEHOLDER",
    "PayloadCache",
    "cached_page",
    "json_payload",
    "memo",
    "payload_cache",
    "state_token",
    "user_page",
    "warm",
]
