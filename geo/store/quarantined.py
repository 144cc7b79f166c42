"""Quarantined input rows: the table's queries (the rules are in :mod:`geo.quarantine`)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.engine import Connection

from geo.store.reports import chunks
from geo.store.tables import import_run
from geo.store.tables import quarantine as quarantine_table


def quarantine_rows(
    conn: Connection,
    columns: Sequence[str],
    *,
    reason: str | None = None,
    kommun: str | None = None,
    ids: Sequence[int] | None = None,
    resolved: bool | None = False,
    limit: int | None = None,
) -> list[Any]:
    """Quarantine rows (``columns``; ``file_name`` from the import run), oldest first.

    ``resolved`` False selects open rows, True resolved ones, None both.
    """
    q, r = quarantine_table, import_run
    query = (
        select(*[q.c[c] for c in columns if c != "file_name"], r.c.file_name)
        .select_from(q.outerjoin(r, q.c.import_id == r.c.id))
        .order_by(q.c.id)
    )
    if reason is not None:
        query = query.where(q.c.reason == reason)
    if kommun is not None:
        query = query.where(q.c.kommun == kommun)
    if ids is not None:
        query = query.where(q.c.id.in_([int(i) for i in ids]))
    if resolved is False:
        query = query.where(q.c.resolved_at.is_(None))
    elif resolved is True:
        query = query.where(q.c.resolved_at.is_not(None))
    if limit is not None:
        query = query.limit(int(limit))
    rows = conn.execute(query).all()
    return list(rows)


def quarantine_counts(conn: Connection, kommun: str | None = None) -> dict[str, int]:
    """Open (unresolved) quarantined rows per reason code."""
    q = quarantine_table
    query = select(q.c.reason, func.count()).where(q.c.resolved_at.is_(None)).group_by(q.c.reason)
    if kommun is not None:
        query = query.where(q.c.kommun == kommun)
    return {str(reason): int(n) for reason, n in conn.execute(query)}


def existing_raw_fingerprints(conn: Connection, fingerprints: Sequence[str]) -> dict[str, int]:
    """Raw fingerprint -> quarantine id for those already quarantined."""
    q = quarantine_table
    found: dict[str, int] = {}
    for part in chunks(list(fingerprints)):
        res = conn.execute(
            select(q.c.raw_fingerprint, q.c.id).where(q.c.raw_fingerprint.in_(list(part)))
        )
        found.update({str(fp): int(i) for fp, i in res})
    return found


def insert_quarantine(
    conn: Connection, rows: list[dict[str, Any]], return_ids: bool = True
) -> list[int]:
    """Insert quarantine rows; return their ids in order (read back by raw fingerprint)."""
    if not rows:
        return []
    conn.execute(quarantine_table.insert(), rows)
    if not return_ids:
        return []
    found = existing_raw_fingerprints(conn, [r["raw_fingerprint"] for r in rows])
    return [found[r["raw_fingerprint"]] for r in rows]


def resolve_quarantine(
    conn: Connection, pairs: Sequence[tuple[int, int]], when: dt.datetime
) -> None:
    """Mark quarantine rows resolved: ``pairs`` of (quarantine id, report id)."""
    q = quarantine_table
    for qid, rid in pairs:
        conn.execute(
            update(q).where(q.c.id == int(qid)).values(resolved_at=when, report_id=int(rid))
        )


def update_quarantine_reason(conn: Connection, rows: Sequence[tuple[int, str, str | None]]) -> None:
    """Record a new reason/detail for quarantine rows: ``rows`` of (id, reason, detail)."""
    q = quarantine_table
    for qid, reason, detail in rows:
        conn.execute(update(q).where(q.c.id == int(qid)).values(reason=reason, detail=detail))
