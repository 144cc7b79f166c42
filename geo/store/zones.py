"""Hotspot zones of an analysed week, kept in the store for GIS clients."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import shapely
from sqlalchemy import delete, select
from sqlalchemy.engine import Connection

from geo.store.db import utcnow
from geo.store.tables import hotspot_zone


def replace_zones(
    conn: Connection,
    kommun: str,
    week: str,
    data_version: int,
    zones: Iterable[Mapping[str, Any]],
) -> int:
    """Replace the stored zones of ``kommun`` and ``week``; return how many were stored.

    Each zone is a mapping with ``id``, ``geometry`` (GeoJSON, EPSG:4326) and optionally
    ``name``, ``locality``, ``pattern``, ``grade`` and ``cells``.
    """
    now = utcnow()
    rows = [
        {
            "kommun": kommun,
            "week": week,
            "zone_id": str(z["id"]),
            "name": z.get("name"),
            "locality": z.get("locality"),
            "pattern": z.get("pattern"),
            "grade": None if z.get("grade") is None else int(z["grade"]),
            "n_cells": len(z.get("cells") or ()),
            "geometry_wkb": shapely.to_wkb(shapely.geometry.shape(z["geometry"])),
            "data_version": int(data_version),
            "computed_at": now,
        }
        for z in zones
    ]
    t = hotspot_zone
    conn.execute(delete(t).where(t.c.kommun == kommun, t.c.week == week))
    if rows:
        conn.execute(t.insert(), rows)
    return len(rows)


def read_zones(conn: Connection, kommun: str, week: str) -> list[dict[str, Any]]:
    """Stored zones of ``kommun`` and ``week`` (geometry as a shapely object), by id."""
    t = hotspot_zone
    rows = conn.execute(
        select(t).where(t.c.kommun == kommun, t.c.week == week).order_by(t.c.zone_id)
    ).mappings()
    out = []
    for r in rows:
        item = dict(r)
        item["geometry"] = shapely.from_wkb(item.pop("geometry_wkb"))
        out.append(item)
    return out


__all__ = ["read_zones", "replace_zones"]
