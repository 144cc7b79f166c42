"""Import runs: one row per file import, its progress, counts and options."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.engine import Connection

from geo.store.db import utcnow
from geo.store.tables import import_run


def runs_of_key(conn: Connection, key: str) -> list[Any]:
    """Runs of ``key`` and its re-imports (``key:n``), newest first.

    Each row has ``id``, ``key``, ``status``, ``rows_done`` and ``counts``.
    """
    t = import_run
    return list(
        conn.execute(
            select(t.c.id, t.c.key, t.c.status, t.c.rows_done, t.c.counts)
            .where(or_(t.c.key == key, t.c.key.like(key + ":%")))
            .order_by(t.c.id.desc())
        ).all()
    )


def start_run(conn: Connection, key: str, file_name: str, options: Mapping[str, Any]) -> int:
    """Insert a running import run and return its id."""
    res = conn.execute(
        import_run.insert().values(
            key=key,
            file_name=file_name,
            kommun=options.get("kommun"),
            source=options.get("source"),
            options=dict(options),
            rows_done=0,
            counts={},
            status="running",
            started_at=utcnow(),
        )
    )
    pk = res.inserted_primary_key
    assert pk is not None
    return int(pk[0])


def record_progress(conn: Connection, run_id: int, rows_done: int, counts: Any) -> None:
    """Store how far run ``run_id`` got and its counts so far."""
    conn.execute(
        import_run.update()
        .where(import_run.c.id == run_id)
        .values(rows_done=rows_done, counts=counts)
    )


def finish_run(conn: Connection, run_id: int, rows_done: int, counts: Any) -> None:
    """Mark run ``run_id`` done with its final row count and counts."""
    conn.execute(
        import_run.update()
        .where(import_run.c.id == run_id)
        .values(status="done", finished_at=utcnow(), rows_done=rows_done, counts=counts)
    )


def run_options(conn: Connection, run_ids: Iterable[int]) -> dict[int, dict[str, Any]]:
    """Import options of each run id (empty mapping when no ids are given)."""
    ids = list(run_ids)
    if not ids:
        return {}
    rows = conn.execute(
        select(import_run.c.id, import_run.c.options).where(import_run.c.id.in_(ids))
    )
    return {int(r.id): dict(r.options or {}) for r in rows}
