"""Actors' weekly coverage (EST): who reported, who had nothing to report, who is missing.

An actor is an active user with role ``reporter`` and an organisation; ``actor_contact``
gives the actor's locality and mail address per kommun. A week counts as reported when a
report of the actor's organisation (source ``actor``) was stored in the week's reporting
period; ``actor_week`` records "Inget att rapportera denna vecka".
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.engine import Connection

from geo.store.db import utcnow
from geo.store.tables import actor_contact, actor_week, mail_reminder_run, report, users


def set_actor(
    conn: Connection,
    user_id: int,
    kommun: str,
    locality: str | None,
    email: str | None,
) -> None:
    """Set the locality and mail address of actor ``user_id`` (replaces earlier values)."""
    conn.execute(delete(actor_contact).where(actor_contact.c.user_id == user_id))
    conn.execute(
        actor_contact.insert().values(
            user_id=user_id, kommun=kommun, locality=locality, email=email, updated_at=utcnow()
        )
    )


def mark_nothing(conn: Connection, user_id: int, kommun: str, week: str) -> bool:
    """Record "nothing to report" of ``user_id`` for ``week``; False when already recorded."""
    exists = conn.execute(
        select(actor_week.c.at).where(
            actor_week.c.user_id == user_id,
            actor_week.c.kommun == kommun,
            actor_week.c.week == week,
        )
    ).first()
    if exists is not None:
        return False
    conn.execute(actor_week.insert().values(user_id=user_id, kommun=kommun, week=week, at=utcnow()))
    return True


def actor_coverage(
    conn: Connection, kommun: str, week: str, start: dt.datetime, end: dt.datetime
) -> list[dict[str, Any]]:
    """Every actor of ``kommun`` with the state of ``week`` (``reported``/``nothing``/``missing``).

    Parameters
    ----------
    start, end
        The week's reporting period (naive UTC, ``start`` inclusive, ``end`` exclusive).

    Returns
    -------
    list of dict
        ``user_id``, ``username``, ``org``, ``locality``, ``email``, ``reports`` and
        ``state``, sorted by locality and organisation.
    """
    rows = conn.execute(
        select(
            users.c.id,
            users.c.username,
            users.c.reporter_org,
            users.c.kommuner,
            actor_contact.c.kommun,
            actor_contact.c.locality,
            actor_contact.c.email,
        )
        .outerjoin(actor_contact, actor_contact.c.user_id == users.c.id)
        .where(
            users.c.role == "reporter", users.c.active.is_(True), users.c.reporter_org.is_not(None)
        )
    ).all()
    orgs = sorted({str(row.reporter_org) for row in rows})
    counts: dict[str, int] = {}
    if orgs:  # counted in the database, only for the actors' organisations
        counted = conn.execute(
            select(report.c.reporter_org, func.count())
            .where(
                report.c.kommun == kommun,
                report.c.source == "actor",
                report.c.created_at >= start,
                report.c.created_at < end,
                report.c.reporter_org.in_(orgs),
            )
            .group_by(report.c.reporter_org)
        )
        counts = {str(org): int(n) for org, n in counted}
    nothing = set(
        conn.execute(
            select(actor_week.c.user_id).where(
                actor_week.c.kommun == kommun, actor_week.c.week == week
            )
        ).scalars()
    )
    out = []
    for row in rows:
        belongs = row.kommun == kommun if row.kommun else kommun in (row.kommuner or [kommun])
        if not belongs:
            continue
        n = counts.get(str(row.reporter_org), 0)
        state = "reported" if n else ("nothing" if row.id in nothing else "missing")
        out.append(
            {
                "user_id": int(row.id),
                "username": str(row.username),
                "org": str(row.reporter_org),
                "locality": row.locality,
                "email": row.email,
                "reports": n,
                "state": state,
            }
        )
    return sorted(out, key=lambda a: (a["locality"] or "", a["org"], a["username"]))


def claim_reminder_run(conn: Connection, kommun: str, week: str) -> bool:
    """Record the automatic reminder round of ``kommun`` and ``week``; False if it ran."""
    done = conn.execute(
        select(mail_reminder_run.c.at).where(
            mail_reminder_run.c.kommun == kommun, mail_reminder_run.c.week == week
        )
    ).first()
    if done is not None:
        return False
    conn.execute(
        mail_reminder_run.insert().values(kommun=kommun, week=week, at=utcnow(), reminded=0)
    )
    return True


def record_reminded(conn: Connection, kommun: str, week: str, count: int) -> None:
    """Store how many actors the round of ``kommun`` and ``week`` reminded."""
    conn.execute(
        mail_reminder_run.update()
        .where(mail_reminder_run.c.kommun == kommun, mail_reminder_run.c.week == week)
        .values(reminded=count)
    )
