"""Citizens' e-mail addresses, kept apart from their reports (``citizen_contact``).

Only the mail code reads this table: no planner page, export or public API joins it.
An address is deleted when its report is closed (after the last mail was queued) and by
retention.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.engine import Connection

from geo.store.db import utcnow
from geo.store.tables import citizen_contact, citizen_report, report


def add_contact(
    conn: Connection, report_id: int, email: str, token_hash: str, now: dt.datetime | None = None
) -> None:
    """Store the address of report ``report_id`` with the hash of its confirmation token."""
    conn.execute(
        citizen_contact.insert().values(
            report_id=report_id,
            email=email,
            token_hash=token_hash,
            confirmed_at=None,
            created_at=now or utcnow(),
        )
    )


def confirm_contact(
    conn: Connection, token_hash: str, now: dt.datetime | None = None
) -> str | None:
    """Mark the address with ``token_hash`` confirmed; returns the report's receipt or None."""
    row = conn.execute(
        select(citizen_contact.c.report_id, citizen_report.c.receipt)
        .join(citizen_report, citizen_report.c.report_id == citizen_contact.c.report_id)
        .where(citizen_contact.c.token_hash == token_hash)
    ).first()
    if row is None:
        return None
    conn.execute(
        update(citizen_contact)
        .where(
            citizen_contact.c.report_id == row.report_id, citizen_contact.c.confirmed_at.is_(None)
        )
        .values(confirmed_at=now or utcnow())
    )
    return str(row.receipt)


def contact_of(conn: Connection, report_id: int) -> dict[str, Any] | None:
    """``email`` and ``confirmed_at`` of report ``report_id``, or None."""
    row = conn.execute(
        select(citizen_contact.c.email, citizen_contact.c.confirmed_at).where(
            citizen_contact.c.report_id == report_id
        )
    ).first()
    return None if row is None else dict(row._mapping)


def erase_contacts(conn: Connection, report_ids: list[int]) -> int:
    """Delete the addresses of ``report_ids``; returns how many were deleted."""
    if not report_ids:
        return 0
    res = conn.execute(delete(citizen_contact).where(citizen_contact.c.report_id.in_(report_ids)))
    return int(res.rowcount or 0)


def moderated_before(conn: Connection, cutoff: dt.datetime) -> list[int]:
    """Reports with an address whose moderation decision is older than ``cutoff``."""
    rows = conn.execute(
        select(citizen_contact.c.report_id)
        .join(citizen_report, citizen_report.c.report_id == citizen_contact.c.report_id)
        .where(citizen_report.c.moderated_at.is_not(None), citizen_report.c.moderated_at < cutoff)
    )
    return [int(r.report_id) for r in rows]


def followed_reports(
    conn: Connection, kommun: str, approved_since: dt.datetime
) -> list[dict[str, Any]]:
    """Reports of ``kommun`` approved since ``approved_since`` with a confirmed address:
    ``report_id``, ``receipt``, ``email``, ``lat``, ``lon``, ``locality`` (only the mail
    code reads this)."""
    rows = conn.execute(
        select(
            citizen_contact.c.report_id,
            citizen_contact.c.email,
            citizen_report.c.receipt,
            report.c.lat,
            report.c.lon,
            report.c.locality,
        )
        .join(citizen_report, citizen_report.c.report_id == citizen_contact.c.report_id)
        .join(report, report.c.id == citizen_contact.c.report_id)
        .where(
            report.c.kommun == kommun,
            report.c.status == "approved",
            citizen_report.c.moderated_at >= approved_since,
            citizen_contact.c.confirmed_at.is_not(None),
        )
        .order_by(citizen_contact.c.report_id)
    ).mappings()
    return [dict(r) for r in rows]
