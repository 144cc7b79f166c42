"""Stored administrative boundaries: read one level, replace whole (kommun, level) sets."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.engine import Connection

from geo.store.tables import boundary


def boundary_rows(conn: Connection, level: str, kommun: str | None = None) -> list[dict[str, Any]]:
    """Stored boundary rows of ``level`` (optionally one kommun), ordered by kommun and code."""
    t = boundary
    query = select(t).where(t.c.level == level).order_by(t.c.kommun, t.c.code)
    if kommun is not None:
        query = query.where(t.c.kommun == kommun)
    return [dict(r) for r in conn.execute(query).mappings().all()]


def replace_boundaries(
    conn: Connection,
    keys: Iterable[tuple[str, str]],
    rows: Sequence[Mapping[str, Any]],
) -> int:
    """Delete the boundaries of each (kommun, level) in ``keys``, insert ``rows``; return count."""
    for kommun_key, level in keys:
        conn.execute(
            delete(boundary).where((boundary.c.kommun == kommun_key) & (boundary.c.level == level))
        )
    if rows:
        conn.execute(boundary.insert(), list(rows))
    return len(rows)
