"""Grades set by the weekly meeting and published weeks (audit trail: every decision is kept).

"The latest decision wins": of several decisions for one locality and week, the one
stored last (highest id) counts, everywhere (meeting, public map, reports).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import Connection

from geo.errors import ValidationError
from geo.store.db import insert_row, utcnow
from geo.store.tables import grade_decisions, publications


def set_grade(
    conn: Connection,
    kommun: str,
    period: str,
    locality: str,
    grade: int,
    comment: str | None,
    decided_by: str,
    suggested_grade: int | None = None,
    suggested_explanation: str | None = None,
) -> int:
    """Record the meeting's grade for a locality and week (never overwrites)."""
    try:
        g = int(grade)
    except (TypeError, ValueError):
        g = 0
    problems = []
    if not 1 <= g <= 5:
        problems.append("bedömningen måste vara 1–5")
    if comment is not None and len(comment) > 4000:
        problems.append("kommentaren får vara högst 4000 tecken")
    if problems:
        raise ValidationError(problems, context="bedömning")
    return insert_row(
        conn,
        grade_decisions,
        kommun=kommun,
        period=period,
        locality=locality,
        suggested_grade=suggested_grade,
        suggested_explanation=suggested_explanation,
        grade=g,
        comment=(comment or "").strip() or None,
        decided_by=decided_by,
        decided_at=utcnow(),
    )


def latest_decisions(conn: Connection, kommun: str, period: str) -> dict[str, dict[str, Any]]:
    """Latest decision per locality code for ``kommun`` and ``period``."""
    return {d["locality"]: d for d in decision_history(conn, kommun, period)}


def decision_history(conn: Connection, kommun: str, period: str) -> list[dict[str, Any]]:
    """Every decision of the week, oldest first (the audit trail)."""
    t = grade_decisions
    rows = conn.execute(
        select(t).where((t.c.kommun == kommun) & (t.c.period == period)).order_by(t.c.id)
    )
    return [dict(r._mapping) for r in rows]


def grades_over_weeks(
    conn: Connection, kommun: str, periods: list[str]
) -> dict[str, dict[str, int]]:
    """period -> locality -> latest set grade, for the given periods."""
    t = grade_decisions
    rows = conn.execute(
        select(t.c.period, t.c.locality, t.c.grade)
        .where((t.c.kommun == kommun) & t.c.period.in_(periods))
        .order_by(t.c.id)
    )
    out: dict[str, dict[str, int]] = {}
    for period, locality, grade in rows:
        out.setdefault(period, {})[locality] = int(grade)
    return out


def latest_published_period(conn: Connection, kommun: str) -> str | None:
    """The week of the newest publication of ``kommun`` (None when nothing is published)."""
    t = publications
    period = conn.execute(
        select(t.c.period)
        .where(t.c.kommun == kommun)
        .order_by(t.c.published_at.desc(), t.c.id.desc())
        .limit(1)
    ).scalar_one_or_none()
    return None if period is None else str(period)


def latest_publication(conn: Connection, kommun: str, period: str) -> dict[str, Any] | None:
    """The newest published version of a week (with ``html`` and ``pdf``)."""
    t = publications
    row = conn.execute(
        select(t).where((t.c.kommun == kommun) & (t.c.period == period)).order_by(t.c.id.desc())
    ).first()
    return None if row is None else dict(row._mapping)


def store_publication(
    conn: Connection,
    kommun: str,
    period: str,
    published_by: str,
    data_version: int,
    html: str,
    pdf: bytes,
) -> int:
    return insert_row(
        conn,
        publications,
        kommun=kommun,
        period=period,
        published_by=published_by,
        published_at=utcnow(),
        data_version=data_version,
        html=html,
        pdf=pdf,
    )


def published_grade_per_locality(
    conn: Connection, kommun: str, up_to: str | None = None
) -> dict[str, dict[str, Any]]:
    """The grade the public sees per locality: ``{code: {"grade", "period"}}``.

    For each locality the latest decision that was part of a publication (decided before
    that week's latest publication) of the newest published week that decided it, up to
    and including ``up_to`` (all weeks when None). A locality left undecided in the newest
    publication keeps its last published grade, with the week it was set for.
    """
    pub = publications
    cond = pub.c.kommun == kommun
    if up_to is not None:
        cond = cond & (pub.c.period <= up_to)
    published_at: dict[str, Any] = {}
    for period, at in conn.execute(select(pub.c.period, pub.c.published_at).where(cond)):
        if period not in published_at or at > published_at[period]:
            published_at[period] = at
    if not published_at:
        return {}
    t = grade_decisions
    rows = conn.execute(
        select(t.c.period, t.c.locality, t.c.grade, t.c.decided_at)
        .where((t.c.kommun == kommun) & t.c.period.in_(list(published_at)))
        .order_by(t.c.id)
    )
    out: dict[str, dict[str, Any]] = {}
    for period, locality, grade, decided_at in rows:
        if decided_at is not None and decided_at > published_at[period]:
            continue  # decided after the week was published: not public yet
        seen = out.get(locality)
        if seen is None or period >= seen["period"]:
            out[locality] = {"grade": int(grade), "period": str(period)}
    return out
