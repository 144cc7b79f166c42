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
from geo.store.tables import citizen_contact, citizen_report


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
