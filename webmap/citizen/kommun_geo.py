"""Geography of a kommun for the citizen and patrol pages: extent, localities, cache."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import shapely
from shapely.geometry.base import BaseGeometry
from sqlalchemy import Engine

from geo.boundaries import read_boundaries, tenant_extent
from geo.errors import NotFoundError
from geo.tenants import Tenant, find_tenant


@dataclass
class KommunGeo:
    """What validation needs of one tenant: extent, localities, settings."""

    tenant: Tenant
    extent: BaseGeometry | None
    localities: Any  # GeoDataFrame
    bounds: tuple[float, float, float, float] | None  # (south, west, north, east)
    centre: tuple[float, float] | None
    outline_geojson: dict[str, Any] | None

    def contains(self, lat: float, lon: float) -> bool:
        if self.extent is None:
            return False
        return bool(shapely.contains_xy(self.extent, lon, lat))

    def locality_of(self, lat: float, lon: float) -> str | None:
        """Locality code of one point (same rule as :func:`geo.boundaries.assign_points`:
        the first locality containing the point)."""
        for code, (minx, miny, maxx, maxy), geom in self._locality_index():
            if minx <= lon <= maxx and miny <= lat <= maxy and shapely.contains_xy(geom, lon, lat):
                return code
        return None

    def _locality_index(self) -> list[tuple[str, tuple[float, float, float, float], Any]]:
        index = self.__dict__.get("_index")
        if index is None:
            index = [
                (str(code), tuple(geom.bounds), geom)
                for code, geom in zip(
                    self.localities["code"], self.localities.geometry.to_numpy(), strict=True
                )
                if geom is not None and not geom.is_empty
            ]
            self.__dict__["_index"] = index
        return index  # type: ignore[no-any-return]


class GeoCache:
    """Per-app cache of :class:`KommunGeo` (refreshed after ``ttl`` seconds)."""

    def __init__(self, ttl: float = 60.0) -> None:
        self.ttl = ttl
        self._lock = threading.Lock()
        self._items: dict[str, tuple[float, KommunGeo]] = {}

    def get(self, engine: Engine, kommun: str) -> KommunGeo:
        now = time.monotonic()
        with self._lock:
            hit = self._items.get(kommun)
            if hit is not None and now - hit[0] < self.ttl:
                return hit[1]
        geo = load_kommun_geo(engine, kommun)
        with self._lock:
            self._items[kommun] = (now, geo)
        return geo

    def clear(self) -> None:
        with self._lock:
            self._items.clear()


def load_kommun_geo(engine: Engine, kommun: str) -> KommunGeo:
    """Read a tenant and its boundaries (raises :class:`NotFoundError` if unknown)."""
    with engine.connect() as conn:
        tenant = find_tenant(conn, kommun)
        if tenant is None:
            raise NotFoundError(f"kommunen {kommun!r} finns inte")
        localities = read_boundaries(conn, tenant.key, "locality")
        kommuner = read_boundaries(conn, tenant.key, "kommun")
    buffer_m = float(tenant.settings.get("extent_buffer_m", 2000))
    extent = tenant_extent(kommuner, localities, buffer_m=buffer_m)
    bounds = centre = outline = None
    if extent is not None and not extent.is_empty:
        shapely.prepare(extent)
        minx, miny, maxx, maxy = extent.bounds
        bounds = (miny, minx, maxy, maxx)
        pt = shapely.point_on_surface(extent)
        centre = (float(pt.y), float(pt.x))
        if len(localities):
            primary = localities[localities["primary"].astype(bool)]
            if len(primary):  # start where most people live (Norrtälje, not Hallstavik)
                pop = pd.to_numeric(primary["population"], errors="coerce").fillna(-1)
                primary = primary.iloc[np.argsort(-pop.to_numpy(), kind="stable")]
                pt = shapely.point_on_surface(primary.geometry.iloc[0])
                centre = (float(pt.y), float(pt.x))
        outline = shapely.geometry.mapping(shapely.simplify(extent, 0.0005))
    for geom in localities.geometry.to_numpy():
        shapely.prepare(geom)
    return KommunGeo(tenant, extent, localities, bounds, centre, outline)


def tenant_choices(engine: Engine) -> list[tuple[str, str]]:
    """``(key, name)`` of every tenant, by name."""
    from geo.tenants import list_tenants

    with engine.connect() as conn:
        return sorted(((t.key, t.name) for t in list_tenants(conn)), key=lambda kv: kv[1])
