"""The forecaster chosen per kommun and week (``forecast_choice``), written by analyse."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.engine import Connection

from geo.store.db import utcnow
from geo.store.tables import forecast_choice

#: Columns a caller gives (``computed_at`` is set here).
CHOICE_FIELDS = (
    "method",
    "params",
    "fallback",
    "weeks_checked",
    "weeks_hit",
    "coverage",
    "hit_rate",
    "pei_star",
    "interval_coverage",
)


def save_forecast_choice(
    conn: Connection, kommun: str, week: str, choice: Mapping[str, Any]
) -> None:
    """Record the choice of ``kommun``'s ``week`` (replacing an earlier one of that week)."""
    t = forecast_choice
    values = {name: choice.get(name) for name in CHOICE_FIELDS}
    values["params"] = dict(values["params"] or {})
    values["fallback"] = bool(values["fallback"])
    conn.execute(delete(t).where((t.c.kommun == kommun) & (t.c.week == week)))
    conn.execute(t.insert().values(kommun=kommun, week=week, computed_at=utcnow(), **values))


def latest_forecast_choice(
    conn: Connection, kommun: str, week: str | None = None
) -> dict[str, Any] | None:
    """The choice of ``week`` or, when that week has none, the latest one before it.

    ISO week labels (``2026-W07``) sort as text in time order. None when nothing fits.
    """
    t = forecast_choice
    query = select(t).where(t.c.kommun == kommun)
    if week is not None:
        query = query.where(t.c.week <= week)
    row = conn.execute(query.order_by(t.c.week.desc()).limit(1)).first()
    return None if row is None else dict(row._mapping)


__all__ = ["CHOICE_FIELDS", "latest_forecast_choice", "save_forecast_choice"]
