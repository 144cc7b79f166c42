"""Tenants (kommuner) and their settings."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import Connection

from geo.store.db import utcnow
from geo.store.tables import kommun


def tenant_rows(conn: Connection) -> list[Any]:
    """All tenant rows, by key."""
    return list(conn.execute(select(kommun).order_by(kommun.c.key)).all())


def tenant_row(conn: Connection, key: str, code: str, slug: str) -> Any | None:
    """The tenant whose key is ``key`` or ``slug`` or whose SCB code is ``code``."""
    t = kommun
    return conn.execute(
        select(t).where((t.c.key == key) | (t.c.code == code) | (t.c.key == slug))
    ).first()


def insert_tenant(
    conn: Connection, key: str, name: str, code: str | None, settings: Mapping[str, Any]
) -> None:
    """Insert one tenant."""
    conn.execute(
        kommun.insert().values(
            key=key, name=name, code=code, settings=dict(settings), created_at=utcnow()
        )
    )


def update_settings(conn: Connection, key: str, values: Mapping[str, Any]) -> None:
    """Merge ``values`` into the settings of tenant ``key`` (other settings are kept)."""
    current = conn.execute(select(kommun.c.settings).where(kommun.c.key == key)).scalar_one()
    conn.execute(kommun.update().where(kommun.c.key == key).values(settings={**current, **values}))
