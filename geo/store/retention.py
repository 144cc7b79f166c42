"""Queries of the retention of citizen free text (the rules are in :mod:`geo.retention`)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import ColumnElement, and_, bindparam, delete, func, not_, select, update
from sqlalchemy.engine import Connection

from geo.store.tables import quarantine, report


def reports_to_purge(
    conn: Connection, kommun: str, source: str, cutoff: dt.datetime, done_prefix: str
) -> list[Any]:
    """Reports of ``source`` submitted before ``cutoff`` whose fingerprint is not yet purged.

    Each row has ``id``, ``cell``, ``description``, ``location_text`` and ``lat``.
    """
    t = report
    submitted = func.coalesce(t.c.reported_at, t.c.created_at)
    return list(
        conn.execute(
            select(t.c.id, t.c.cell, t.c.description, t.c.location_text, t.c.lat).where(
                and_(
                    t.c.kommun == kommun,
                    t.c.source == source,
                    submitted < cutoff,
                    not_(t.c.fingerprint.startswith(done_prefix)),
                )
            )
        ).all()
    )


def strip_report_text(conn: Connection, params: Sequence[Mapping[str, Any]]) -> None:
    """Clear reports' free text (``params``: ``rid``, ``new_lat``, ``new_lon``, ``new_fp``)."""
    t = report
    conn.execute(
        update(t)
        .where(t.c.id == bindparam("rid"))
        .values(
            description=None,
            location_text=None,
            reporter_org=None,
            lat=bindparam("new_lat"),
            lon=bindparam("new_lon"),
            fingerprint=bindparam("new_fp"),
        ),
        list(params),
    )


def _quarantined_before(kommun: str, source: str, cutoff: dt.datetime) -> ColumnElement[bool]:
    q = quarantine
    return and_(q.c.kommun == kommun, q.c.source == source, q.c.created_at < cutoff)


def count_quarantined_before(
    conn: Connection, kommun: str, source: str, cutoff: dt.datetime
) -> int:
    """Quarantined rows of ``kommun`` and ``source`` created before ``cutoff``."""
    where = _quarantined_before(kommun, source, cutoff)
    return int(conn.execute(select(func.count()).select_from(quarantine).where(where)).scalar_one())


def delete_quarantined_before(
    conn: Connection, kommun: str, source: str, cutoff: dt.datetime
) -> None:
    """Delete the quarantined rows :func:`count_quarantined_before` counts."""
    conn.execute(delete(quarantine).where(_quarantined_before(kommun, source, cutoff)))
