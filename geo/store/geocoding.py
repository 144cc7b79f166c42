"""Answers of an online geocoder kept so each query is asked once per provider."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, select
from sqlalchemy.exc import IntegrityError

from geo.store.db import utcnow
from geo.store.tables import geocode_cache


def cached_answer(engine: Engine, provider: str, query: str) -> Any | None:
    """The cached row (``lat``, ``lon``, ``precision``, ``label``) or ``None``."""
    t = geocode_cache
    with engine.connect() as conn:
        return conn.execute(
            select(t.c.lat, t.c.lon, t.c.precision, t.c.label).where(
                (t.c.provider == provider) & (t.c.query == query)
            )
        ).first()


def store_answer(
    engine: Engine,
    provider: str,
    query: str,
    lat: float | None,
    lon: float | None,
    precision: str | None,
    label: str | None,
) -> None:
    """Cache one answer; a concurrent writer that stored the same query first wins."""
    try:
        with engine.begin() as conn:
            conn.execute(
                geocode_cache.insert().values(
                    provider=provider,
                    query=query,
                    lat=lat,
                    lon=lon,
                    precision=precision,
                    label=label,
                    created_at=utcnow(),
                )
            )
    except IntegrityError:  # another process stored the same query meanwhile
        pass
