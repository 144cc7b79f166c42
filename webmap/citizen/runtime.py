"""Per-app objects of the citizen channel: the SQLite writer, its lock and checkpoints."""

from __future__ import annotations

import os
import threading
import time
import weakref
from collections.abc import Mapping
from contextlib import suppress
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.engine import Connection

from geo.schema import Precision
from geo.store.citizen import (
    checkpoint,
    sqlite_writer,
)
from webmap.citizen.kommun_geo import GeoCache
from webmap.citizen.submissions import Receipt, Submission, store_submission


class WriteLock:
    """Serialises citizen writes: a thread lock, plus an ``flock`` for SQLite file databases.

    SQLite allows one writer at a time. Without coordination, concurrent writers (threads
    or several server processes on the same database) meet ``SQLITE_BUSY`` and SQLite's
    busy handler sleeps in growing steps (1, 2, 5, 10 … ms). Waiting on a thread lock and
    an exclusive ``flock`` on ``<database>-citizen.lock`` instead wakes the next writer as
    soon as the previous one commits.
    """

    def __init__(self, path: str | None = None) -> None:
        self._thread = threading.Lock()
        self._fd: int | None = None
        if path is not None:
            self._fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)

    def __enter__(self) -> WriteLock:
        self._thread.acquire()
        if self._fd is not None:
            try:
                import fcntl

                fcntl.flock(self._fd, fcntl.LOCK_EX)
            except BaseException:
                self._thread.release()
                raise
        return self

    def __exit__(self, *exc: object) -> None:
        try:
            if self._fd is not None:
                import fcntl

                fcntl.flock(self._fd, fcntl.LOCK_UN)
        finally:
            self._thread.release()

    def __del__(self) -> None:
        if self._fd is not None:
            with suppress(OSError):
                os.close(self._fd)


@dataclass
class CitizenRuntime:
    """Per-app objects of the citizen channel (``AppState.citizen``, built by :meth:`open`).

    For an SQLite file database, submissions are written through ``writer``, one
    long-lived connection used only under ``write_lock`` (SQLite has one writer at a time
    anyway). With the engine's ``NullPool`` each request would otherwise open a
    connection (pragmas included) and close it, and closing the *last* connection of a
    WAL database checkpoints and deletes the WAL file with an fsync every time (≈4 ms a
    request on this machine). The writer does not checkpoint itself either
    (``wal_autocheckpoint=0``): a daemon thread runs a PASSIVE checkpoint every
    ``SQLITE_CHECKPOINT_SECONDS`` (default 1) on its own connection, so no submission
    waits for the checkpoint's fsync (measured: p95 300 → 60 ms under load). Durability
    is unchanged: every submission is its own transaction, committed to the WAL before
    the response, exactly as with SQLite's automatic checkpoints.
    """

    geo: GeoCache = field(default_factory=GeoCache)
    write_lock: WriteLock = field(default_factory=WriteLock)
    writer: Connection | None = None
    places: Any = None  # () -> Gazetteer, the app's shared gazetteer

    @classmethod
    def open(cls, engine: Engine, config: Mapping[str, Any], places: Any) -> CitizenRuntime:
        """The runtime of an app: the SQLite writer and its checkpoint thread start here.

        ``places`` returns the app's gazetteer (loaded once, see
        :class:`webmap.state.SharedGazetteer`).
        """
        writer = sqlite_writer(engine)
        lock_path = f"{engine.url.database}-citizen.lock" if writer else None
        rt = cls(write_lock=WriteLock(lock_path), writer=writer, places=places)
        if writer is not None:
            interval = float(config.get("SQLITE_CHECKPOINT_SECONDS") or 1.0)
            _start_checkpointer(engine, rt, interval)
        return rt

    def store(self, engine: Engine, sub: Submission) -> Receipt:
        """:func:`store_submission` through this app's writer and lock."""
        return store_submission(engine, sub, lock=self.write_lock, writer=self.writer)

    def gazetteer(self) -> Any:
        """The offline gazetteer (the app's shared one; loaded on first use)."""
        if self.places is None:
            from geo.gazetteer import Gazetteer

            self.places = Gazetteer.default
        return self.places()

    def geocode(self, text: str, kommun: str) -> tuple[float, float, str, str | None] | None:
        """Position of a place named in ``text`` (point, street or locality precision)."""
        match = self.gazetteer().lookup(text, kommun=kommun)
        if match is None or match.kommun != kommun or match.precision == Precision.KOMMUN.value:
            return None
        return float(match.lat), float(match.lon), str(match.precision), match.locality

    def search(self, query: str, kommun: str, limit: int = 6) -> list[dict[str, Any]]:
        """Places of ``kommun`` matching ``query`` (best match first, then name prefixes)."""
        from geo.gazetteer import fold

        gaz = self.gazetteer()
        out: list[dict[str, Any]] = []
        seen: set[tuple[str, float, float]] = set()

        def add(name: str, lat: float, lon: float, precision: str, approximate: bool) -> None:
            key = (name, round(lat, 5), round(lon, 5))
            if key in seen or len(out) >= limit:
                return
            seen.add(key)
            out.append(
                {
                    "name": name,
                    "lat": round(float(lat), 6),
                    "lon": round(float(lon), 6),
                    "precision": precision,
                    "approximate": bool(approximate),
                }
            )

        best = gaz.lookup(query, kommun=kommun)
        if best is not None and best.kommun == kommun and best.precision != "kommun":
            add(best.name, best.lat, best.lon, best.precision, best.approximate)
        folded = fold(query)
        if folded:
            for place in gaz.places:
                if place.kommun != kommun or place.source in ("postal", "kommun"):
                    continue
                names = (place.name, *place.aliases)
                if any(fold(n).startswith(folded) for n in names):
                    add(place.name, place.lat, place.lon, place.precision, place.approximate)
        return out


def _checkpoint_loop(engine: Engine, owner: weakref.ref[Any], interval: float) -> None:
    """Run a PASSIVE WAL checkpoint every ``interval`` s while ``owner`` lives.

    PASSIVE copies committed WAL frames into the database without waiting for (or
    blocking) writers; the WAL stays small and no submission waits for an fsync.
    """
    conn = engine.connect()
    try:
        while owner() is not None:
            time.sleep(interval)
            checkpoint(conn)
    finally:
        conn.close()


def _start_checkpointer(engine: Engine, owner: Any, interval: float) -> threading.Thread:
    thread = threading.Thread(
        target=_checkpoint_loop,
        args=(engine, weakref.ref(owner), interval),
        name="lagesbild-wal-checkpoint",
        daemon=True,
    )
    thread.start()
    return thread
