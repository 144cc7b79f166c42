"""Stored actions (åtgärder) and their follow-up notes (tables ``actions``, ``action_followups``).

Rows come back as plain dicts; validation and labels belong to the caller (the actions
service of the web app).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.engine import Connection

from geo.store.db import insert_row, utcnow
from geo.store.tables import action_followups, actions


def insert_action(
    conn: Connection,
    kommun: str,
    row: Mapping[str, Any],
    created_by: str | None = None,
    external_key: str | None = None,
) -> int:
    """Store a new action from validated fields; return its id."""
    now = utcnow()
    return insert_row(
        conn,
        actions,
        kommun=kommun,
        created_by=created_by,
        created_at=now,
        updated_at=now,
        external_key=external_key,
        **row,
    )


def update_action_row(conn: Connection, action_id: int, row: Mapping[str, Any]) -> None:
    """Replace the given fields of an action (and its ``updated_at``)."""
    conn.execute(
        update(actions).where(actions.c.id == action_id).values(updated_at=utcnow(), **row)
    )


def insert_missing_actions(
    conn: Connection, kommun: str, items: Iterable[Mapping[str, Any]], created_by: str
) -> int:
    """Insert the items whose ``external_key`` is not stored for ``kommun`` yet.

    Keys of an item that are not columns of ``actions`` are ignored; ISO date strings of
    ``planned_start``/``planned_end`` become dates. Returns the number inserted.
    """
    names = set(actions.c.keys())
    existing = set(
        conn.execute(select(actions.c.external_key).where(actions.c.kommun == kommun)).scalars()
    )
    now = utcnow()
    stored = 0
    for item in items:
        if item["external_key"] in existing:
            continue
        row: dict[str, Any] = {k: v for k, v in item.items() if k in names}
        for key in ("planned_start", "planned_end"):
            if isinstance(row.get(key), str):
                row[key] = dt.date.fromisoformat(row[key])
        row.update({"kommun": kommun, "created_by": created_by})
        row.update({"created_at": now, "updated_at": now})
        conn.execute(actions.insert().values(**row))
        stored += 1
    return stored


def action_row(conn: Connection, action_id: int) -> dict[str, Any] | None:
    """The stored action ``action_id`` (None when there is none)."""
    row = conn.execute(select(actions).where(actions.c.id == action_id)).first()
    return None if row is None else dict(row._mapping)


def action_id_by_key(conn: Connection, kommun: str, external_key: str) -> int | None:
    """Id of the action loaded with ``external_key`` for ``kommun``."""
    found = conn.execute(
        select(actions.c.id).where(
            (actions.c.kommun == kommun) & (actions.c.external_key == external_key)
        )
    ).scalar_one_or_none()
    return None if found is None else int(found)


def followups(conn: Connection, action_id: int) -> list[dict[str, Any]]:
    """Follow-ups of an action, newest meeting first."""
    return [
        dict(r._mapping)
        for r in conn.execute(
            select(action_followups)
            .where(action_followups.c.action_id == action_id)
            .order_by(action_followups.c.meeting_date.desc(), action_followups.c.id.desc())
        )
    ]


def select_actions(
    conn: Connection,
    kommun: str,
    public_only: bool = False,
    statuses: Iterable[str] | None = None,
) -> list[dict[str, Any]]:
    """Actions of a kommun, newest planned start first."""
    q = select(actions).where(actions.c.kommun == kommun)
    if public_only:
        q = q.where(actions.c.public.is_(True))
    if statuses is not None:
        q = q.where(actions.c.status.in_(list(statuses)))
    q = q.order_by(actions.c.planned_start.desc(), actions.c.id.desc())
    return [dict(r._mapping) for r in conn.execute(q)]


def last_followups(conn: Connection, ids: list[int]) -> dict[int, dict[str, Any]]:
    """The latest follow-up of each of the actions ``ids`` (by meeting date, then id)."""
    if not ids:
        return {}
    out: dict[int, dict[str, Any]] = {}
    q = (
        select(action_followups)
        .where(action_followups.c.action_id.in_(ids))
        .order_by(action_followups.c.meeting_date, action_followups.c.id)
    )
    for r in conn.execute(q):
        out[int(r.action_id)] = dict(r._mapping)
    return out


def followup_keys(conn: Connection, action_id: int) -> set[tuple[dt.date, str]]:
    """``(meeting_date, note)`` of every follow-up stored for an action."""
    return {
        (r.meeting_date, r.note)
        for r in conn.execute(
            select(action_followups.c.meeting_date, action_followups.c.note).where(
                action_followups.c.action_id == action_id
            )
        )
    }


def insert_followup(
    conn: Connection,
    action_id: int,
    meeting_date: dt.date | None,
    note: str,
    status: str | None = None,
    author: str | None = None,
    apply_status: bool = True,
) -> int:
    """Store a follow-up note; with ``apply_status`` its ``status`` becomes the action's."""
    now = utcnow()
    key = insert_row(
        conn,
        action_followups,
        action_id=action_id,
        meeting_date=meeting_date,
        note=note,
        status=status or None,
        author=author,
        created_at=now,
    )
    if status and apply_status:
        conn.execute(
            update(actions).where(actions.c.id == action_id).values(status=status, updated_at=now)
        )
    return key


__all__ = [
    "action_id_by_key",
    "action_row",
    "insert_missing_actions",
    "followup_keys",
    "followups",
    "insert_action",
    "insert_followup",
    "last_followups",
    "select_actions",
    "update_action_row",
]
