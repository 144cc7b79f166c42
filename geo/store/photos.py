"""Queries of citizens' photos (``citizen_photo``); the files themselves live on disk.

A row names a re-encoded JPEG under ``<instance>/photos/`` by its random ``name``. Only
the photo code reads this table: the moderation view shows every photo of a pending
report, the public only approved ones (looked up by name).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.engine import Connection

from geo.store.db import utcnow
from geo.store.reports import chunks
from geo.store.tables import citizen_photo, citizen_report

#: Photo statuses: a moderator decides each photo of a report.
PHOTO_STATUSES = ("pending", "approved", "rejected")

_COLUMNS = (
    citizen_photo.c.id,
    citizen_photo.c.report_id,
    citizen_photo.c.name,
    citizen_photo.c.width,
    citizen_photo.c.height,
    citizen_photo.c.bytes,
    citizen_photo.c.status,
    citizen_photo.c.created_at,
    citizen_photo.c.decided_by,
    citizen_photo.c.decided_at,
)


def add_photo(
    conn: Connection,
    report_id: int,
    name: str,
    width: int,
    height: int,
    nbytes: int,
    now: dt.datetime | None = None,
) -> int:
    """Store the row of one photo (``pending``); returns its id."""
    result = conn.execute(
        citizen_photo.insert().values(
            report_id=int(report_id),
            name=name,
            width=int(width),
            height=int(height),
            bytes=int(nbytes),
            status="pending",
            created_at=(now or utcnow()).replace(microsecond=0),
        )
    )
    pk = result.inserted_primary_key
    assert pk is not None
    return int(pk[0])


def photo_count(conn: Connection, report_id: int) -> int:
    """Photos stored for report ``report_id`` (any status)."""
    query = select(func.count()).where(citizen_photo.c.report_id == int(report_id))
    return int(conn.execute(query).scalar_one())


def photos_of(
    conn: Connection, report_ids: Iterable[int], status: str | None = None
) -> list[dict[str, Any]]:
    """Rows of the photos of ``report_ids`` (oldest first), optionally of one status."""
    ids = [int(i) for i in report_ids]
    out: list[dict[str, Any]] = []
    for part in chunks(ids, 500):
        query = select(*_COLUMNS).where(citizen_photo.c.report_id.in_(list(part)))
        if status is not None:
            query = query.where(citizen_photo.c.status == status)
        out.extend(dict(r._mapping) for r in conn.execute(query.order_by(citizen_photo.c.id)))
    return out


def photo_by_id(conn: Connection, photo_id: int) -> dict[str, Any] | None:
    """One photo row with its report's ``kommun`` and ``receipt``, or None."""
    query = (
        select(*_COLUMNS, citizen_report.c.kommun, citizen_report.c.receipt)
        .join(citizen_report, citizen_report.c.report_id == citizen_photo.c.report_id)
        .where(citizen_photo.c.id == int(photo_id))
    )
    row = conn.execute(query).first()
    return None if row is None else dict(row._mapping)


def photo_by_name(conn: Connection, name: str) -> dict[str, Any] | None:
    """One photo row by its random file name, or None."""
    row = conn.execute(select(*_COLUMNS).where(citizen_photo.c.name == name)).first()
    return None if row is None else dict(row._mapping)


def set_photo_status(
    conn: Connection, photo_id: int, status: str, actor: str, when: dt.datetime | None = None
) -> bool:
    """Decide a *pending* photo; False when it is gone or already decided."""
    if status not in PHOTO_STATUSES[1:]:
        raise ValueError(f"unknown photo status {status!r}")
    result = conn.execute(
        update(citizen_photo)
        .where(citizen_photo.c.id == int(photo_id), citizen_photo.c.status == "pending")
        .values(
            status=status, decided_by=actor, decided_at=(when or utcnow()).replace(microsecond=0)
        )
    )
    return bool(result.rowcount)


def delete_photo_rows(conn: Connection, photo_ids: Iterable[int]) -> None:
    """Delete the rows of ``photo_ids``."""
    ids = [int(i) for i in photo_ids]
    for part in chunks(ids, 500):
        conn.execute(delete(citizen_photo).where(citizen_photo.c.id.in_(list(part))))


__all__ = [
    "PHOTO_STATUSES",
    "add_photo",
    "delete_photo_rows",
    "photo_by_id",
    "photo_by_name",
    "photo_count",
    "photos_of",
    "set_photo_status",
]
