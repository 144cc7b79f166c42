"""Tenants with their boundaries, loaded once per import.

Resolves kommun names/keys/codes found in input files to tenant keys and keeps, per
tenant, the locality and kommun polygons, the accepted extent
(:func:`geo.boundaries.tenant_extent`) and representative points used for reports at
locality or kommun precision.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cached_property

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely.geometry.base import BaseGeometry
from sqlalchemy.engine import Connection

from geo.boundaries import read_boundaries, slugify, tenant_extent
from geo.tenants import Tenant, list_tenants

_KOMMUN_SUFFIX = re.compile(r"\s+(kommun|stad|municipality)$", re.IGNORECASE)


@dataclass
class TenantGeo:
    """One tenant's boundaries."""

    tenant: Tenant
    localities: gpd.GeoDataFrame
    kommuner: gpd.GeoDataFrame

    @cached_property
    def extent(self) -> BaseGeometry | None:
        """Area in which positions are accepted (None: the tenant has no boundaries)."""
        buffer_m = float(self.tenant.settings.get("extent_buffer_m", 2000))
        return tenant_extent(self.kommuner, self.localities, buffer_m=buffer_m)

    @cached_property
    def centre(self) -> tuple[float, float] | None:
        """``(lat, lon)`` of a point inside the kommun (or the extent)."""
        geom = (
            shapely.union_all(self.kommuner.geometry.to_numpy())
            if len(self.kommuner)
            else self.extent
        )
        if geom is None or geom.is_empty:
            return None
        pt = shapely.point_on_surface(geom)
        return float(pt.y), float(pt.x)

    @cached_property
    def locality_points(self) -> pd.DataFrame:
        """Index = locality code; columns ``name``, ``lat``, ``lon`` (a point inside each)."""
        if not len(self.localities):
            return pd.DataFrame({"name": [], "lat": [], "lon": []}, index=pd.Index([], dtype=str))
        pts = shapely.point_on_surface(self.localities.geometry.to_numpy())
        return pd.DataFrame(
            {
                "name": self.localities["name"].astype(str).to_numpy(),
                "lat": shapely.get_y(pts),
                "lon": shapely.get_x(pts),
            },
            index=pd.Index(self.localities["code"].astype(str).to_numpy()),
        )

    @cached_property
    def locality_names(self) -> dict[str, str]:
        """Lower-cased locality name (and each part of a combined name) -> code."""
        out: dict[str, str] = {}
        for code, name in zip(
            self.localities["code"].astype(str), self.localities["name"].astype(str), strict=True
        ):
            out.setdefault(name.casefold(), code)
            for part in re.split(r",\s*|\s+och\s+", name):
                if part.strip():
                    out.setdefault(part.strip().casefold(), code)
        return out

    def locality_codes(self, values: pd.Series) -> pd.Series:
        """Map locality codes or names to codes (None when unknown)."""
        codes = set(self.localities["code"].astype(str))
        names = self.locality_names
        uniq = {
            v: (v if v in codes else names.get(str(v).strip().casefold()))
            for v in values.dropna().unique()
        }
        return values.map(uniq).astype(object).where(values.notna(), None)


class TenantIndex:
    """All tenants of a database with their boundaries."""

    def __init__(self, conn: Connection) -> None:
        self.tenants: dict[str, Tenant] = {t.key: t for t in list_tenants(conn)}
        self._localities = read_boundaries(conn, None, "locality")
        self._kommuner = read_boundaries(conn, None, "kommun")
        self._geo: dict[str, TenantGeo] = {}
        names: dict[str, str] = {}
        for t in self.tenants.values():
            for alias in (t.key, t.code, t.name, slugify(t.name)):
                if alias:
                    names[str(alias).casefold()] = t.key
        self._names = names

    def resolve_one(self, value: object) -> str | None:
        """Tenant key for a key, SCB code or name (``"Norrtälje kommun"``), else None."""
        if value is None or (isinstance(value, float) and np.isnan(value)):
            return None
        text = str(value).strip()
        if not text:
            return None
        for cand in (text, _KOMMUN_SUFFIX.sub("", text)):
            for c in (cand, slugify(cand), cand.zfill(4) if cand.isdigit() else cand):
                key = self._names.get(c.casefold())
                if key:
                    return key
            if cand.endswith("s"):  # genitive: "Sölvesborgs kommun"
                key = self._names.get(slugify(cand[:-1]))
                if key:
                    return key
        return None

    def resolve(self, values: pd.Series) -> pd.Series:
        """Tenant key for each value (None when no tenant matches)."""
        uniq = {v: self.resolve_one(v) for v in values.dropna().unique()}
        return values.map(uniq).astype(object).where(values.notna(), None)

    def geo(self, key: str) -> TenantGeo:
        """Boundaries of tenant ``key``."""
        if key not in self._geo:
            loc = self._localities[self._localities["kommun"] == key].reset_index(drop=True)
            kom = self._kommuner[self._kommuner["kommun"] == key].reset_index(drop=True)
            self._geo[key] = TenantGeo(self.tenants[key], loc, kom)
        return self._geo[key]


__all__ = ["TenantGeo", "TenantIndex"]
