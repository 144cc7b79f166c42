"""Idempotency keys of patrol observations (table ``patrol_observation``).

The observation itself is a ``patrol`` report written by :func:`geo.ingest.ingest_frame`;
the key row is claimed *first*, in the same transaction, so two concurrent retries
cannot both store a report.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from geo.errors import DuplicateKeyError
from geo.store.tables import patrol_observation
from geo.store.tables import report as report_table


def claim_observation_key(
    conn: Connection, key: str, kommun: str, user_id: int | None, at: dt.datetime
) -> None:
    """Claim ``key`` (no report yet); :class:`DuplicateKeyError` when it is claimed already.

    After the error the caller's transaction must be rolled back.
    """
    try:
        conn.execute(
            patrol_observation.insert().values(
                key=key, report_id=None, kommun=kommun, user_id=user_id, created_at=at
            )
        )
    except IntegrityError as exc:
        raise DuplicateKeyError(f"nyckeln {key} är redan använd") from exc


def set_observation_report(conn: Connection, key: str, report_id: int) -> None:
    """Record the report stored for a claimed key."""
    conn.execute(
        update(patrol_observation)
        .where(patrol_observation.c.key == key)
        .values(report_id=report_id)
    )


def observation_key(conn: Connection, key: str) -> dict[str, Any] | None:
    """``report_id``, ``user_id`` and ``kommun`` stored for ``key`` (None when unknown)."""
    t = patrol_observation
    row = conn.execute(select(t.c.report_id, t.c.user_id, t.c.kommun).where(t.c.key == key)).first()
    return None if row is None else dict(row._mapping)


def user_observations(
    conn: Connection, user_id: int, kommun: str, since: dt.datetime, limit: int = 20
) -> list[dict[str, Any]]:
    """A user's stored observations in ``kommun`` since ``since`` (naive UTC), newest first.

    Each has ``id``, ``category``, ``occurred_at`` and ``description``.
    """
    t, r = patrol_observation, report_table
    rows = conn.execute(
        select(r.c.id, r.c.category, r.c.occurred_at, r.c.description)
        .join(t, t.c.report_id == r.c.id)
        .where(t.c.user_id == user_id, t.c.kommun == kommun, t.c.created_at >= since)
        .order_by(r.c.occurred_at.desc(), r.c.id.desc())
        .limit(limit)
    ).all()
    return [dict(row._mapping) for row in rows]


__all__ = [
    "claim_observation_key",
    "observation_key",
    "set_observation_report",
    "user_observations",
]
