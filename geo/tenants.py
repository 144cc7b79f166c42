"""Tenants: each kommun has its own boundaries, categories and settings.

Settings (JSON in ``kommun.settings``)::

    {"timezone": "Europe/Stockholm",
     "categories": {"<code>": {"label": "...", "weight": 1.0, "serious": false}, ...},
     "public_min_count": 3,          # k: public cells with fewer reports are suppressed
     "extent_buffer_m": 2000}        # extent when the tenant has no kommun polygon
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import Connection

from geo.boundaries import DEFAULT_TENANTS, load_boundaries, slugify, store_boundaries
from geo.errors import NotFoundError
from geo.schema import DEFAULT_CATEGORIES, DEFAULT_TZ
from geo.store.db import utcnow
from geo.store.tables import kommun as kommun_table


def default_settings() -> dict[str, Any]:
    """Settings a new tenant starts with."""
    return {
        "timezone": DEFAULT_TZ,
        "categories": {
            c.code: {"label": c.label_sv, "weight": c.weight, "serious": c.serious}
            for c in DEFAULT_CATEGORIES
        },
        "public_min_count": 3,
        "extent_buffer_m": 2000,
    }


@dataclass(frozen=True)
class Tenant:
    """A kommun served by this installation."""

    key: str
    name: str
    code: str | None = None
    settings: dict[str, Any] = field(default_factory=default_settings)

    @property
    def categories(self) -> dict[str, dict[str, Any]]:
        """Category code -> {label, weight, serious}."""
        return dict(self.settings.get("categories") or default_settings()["categories"])

    @property
    def timezone(self) -> str:
        return str(self.settings.get("timezone", DEFAULT_TZ))

    @property
    def weights(self) -> dict[str, float]:
        """Category code -> severity weight."""
        return {k: float(v.get("weight", 1.0)) for k, v in self.categories.items()}


def _row_to_tenant(row: Any) -> Tenant:
    settings = default_settings()
    settings.update(row.settings or {})
    return Tenant(key=row.key, name=row.name, code=row.code, settings=settings)


def list_tenants(conn: Connection) -> list[Tenant]:
    """All tenants, by key."""
    rows = conn.execute(select(kommun_table).order_by(kommun_table.c.key)).all()
    return [_row_to_tenant(r) for r in rows]


def get_tenant(conn: Connection, key_or_code: str) -> Tenant:
    """Tenant by key (``"norrtalje"``), SCB code (``"0188"``) or name (``"Norrtälje"``)."""
    t = kommun_table
    row = conn.execute(
        select(t).where(
            (t.c.key == key_or_code) | (t.c.code == key_or_code) | (t.c.key == slugify(key_or_code))
        )
    ).first()
    if row is None:
        known = [x.key for x in list_tenants(conn)]
        raise NotFoundError(f"kommun {key_or_code!r} finns inte; kända: {known}")
    return _row_to_tenant(row)


def find_tenant(conn: Connection, key_or_code: str) -> Tenant | None:
    """Like :func:`get_tenant` but returns None when there is no such tenant."""
    try:
        return get_tenant(conn, key_or_code)
    except NotFoundError:
        return None


def ensure_tenant(
    conn: Connection,
    key: str,
    name: str | None = None,
    code: str | None = None,
    settings: dict[str, Any] | None = None,
) -> Tenant:
    """Return the tenant ``key``, creating it (with default settings) if missing."""
    existing = find_tenant(conn, key)
    if existing is not None:
        return existing
    merged = default_settings()
    merged.update(settings or {})
    conn.execute(
        kommun_table.insert().values(
            key=key, name=name or key.capitalize(), code=code, settings=merged, created_at=utcnow()
        )
    )
    return get_tenant(conn, key)


def seed_default_tenants(conn: Connection) -> list[str]:
    """Create the shipped tenants with their approximate boundaries where missing.

    Returns the keys of the tenants that were created.
    """
    created = []
    localities = load_boundaries("locality")
    kommuner = load_boundaries("kommun")
    for key, (code, name, _primary) in DEFAULT_TENANTS.items():
        if find_tenant(conn, key) is not None:
            continue
        ensure_tenant(conn, key, name=name, code=code)
        store_boundaries(conn, kommuner[kommuner["kommun"] == key], source="approx:SCB 2020")
        store_boundaries(conn, localities[localities["kommun"] == key], source="approx:SCB 2020")
        created.append(key)
    return created
