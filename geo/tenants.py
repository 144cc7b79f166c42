"""Tenants: each kommun has its own boundaries, categories and settings.

Settings (JSON in ``kommun.settings``)::

    {"timezone": "Europe/Stockholm",
     "categories": {"<code>": {"label": "...", "weight": 1.0, "serious": false}, ...},
     "public_min_count": 3,          # k: public cells with fewer reports are suppressed
     "extent_buffer_m": 2000}        # extent when the tenant has no kommun polygon
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
from sqlalchemy.engine import Connection

from geo.boundaries import (
    DEFAULT_TENANTS,
    load_boundaries,
    read_boundaries,
    read_boundary_file,
    slugify,
    store_boundaries,
    validate_boundaries,
)
from geo.errors import BoundaryError, NotFoundError
from geo.schema import DEFAULT_CATEGORIES, DEFAULT_TZ
from geo.store.db import bump_version
from geo.store.tenants import insert_tenant, tenant_row, tenant_rows


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
    rows = tenant_rows(conn)
    return [_row_to_tenant(r) for r in rows]


def get_tenant(conn: Connection, key_or_code: str) -> Tenant:
    """Tenant by key (``"norrtalje"``), SCB code (``"0188"``) or name (``"Norrtälje"``)."""
    row = tenant_row(conn, key_or_code, key_or_code, slugify(key_or_code))
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
    insert_tenant(conn, key, name or key.capitalize(), code, merged)
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


_SCB_KOMMUN_CODE = re.compile(r"^\d{4}$")


def import_boundary_file(
    conn: Connection,
    path: str | Path,
    *,
    layer: str | None = None,
    name_field: str | None = None,
    code_field: str | None = None,
    kommun: str | None = None,
    level: str = "locality",
    timezone: str | None = None,
    crs: str | None = None,
) -> list[dict[str, Any]]:
    """Import official polygons from a file and replace a tenant's stored boundaries.

    Parameters
    ----------
    conn
        Open connection (inside the caller's transaction: a failure stores nothing).
    path, layer, name_field, code_field
        Passed to :func:`geo.boundaries.read_boundary_file` (SCB's ``Tatorter_1980_2020.gpkg``
        works with the defaults; any GeoJSON, GeoPackage or Shapefile in any CRS does
        with ``name_field``/``code_field``).
    kommun
        Tenant key (``"norrtalje"``), SCB kommun code (``"0188"``) or a new key
        (``"vancouver"``). A kommun that is not a tenant yet becomes one: key = slug of the
        file's ``KOMMUNNAMN`` if present, else of ``kommun``. Without ``kommun`` the file's
        ``KOMMUN`` field decides, for the kommuner that are tenants already.
    level
        ``"locality"`` or ``"kommun"``.
    timezone
        Time zone of a tenant created here (default Europe/Stockholm).
    crs
        CRS of a file that declares none (e.g. ``"EPSG:3006"``).

    Returns
    -------
    list of dict
        One summary per tenant: ``kommun``, ``name``, ``code``, ``created``, ``level``,
        ``count``, ``replaced``, ``replaced_approximate``, ``file``, ``layer``.
    """
    if level not in ("locality", "kommun"):
        raise BoundaryError(f"level must be 'locality' or 'kommun', got {level!r}")
    frame = read_boundary_file(
        path, layer=layer, name_field=name_field, code_field=code_field, level=level, crs=crs
    )
    ctx = str(frame.attrs.get("context", Path(path).name))
    file_codes = frame["kommun_code"].dropna()
    groups: list[tuple[str, Tenant | None, str | None, gpd.GeoDataFrame]] = []
    if kommun is not None:
        tenant = find_tenant(conn, kommun)
        code = tenant.code if tenant else (kommun if _SCB_KOMMUN_CODE.match(kommun) else None)
        part = frame
        if code and len(file_codes) and level == "locality":
            part = frame[frame["kommun_code"] == code]
            if part.empty:
                found = sorted(set(file_codes))[:20]
                raise BoundaryError(
                    f"no feature has KOMMUN = {code!r} (kommun {kommun!r}); "
                    f"kommun codes in the file: {found}",
                    context=ctx,
                )
        elif code and level == "kommun" and (frame["code"] == code).any():
            part = frame[frame["code"] == code]
        groups.append((kommun, tenant, code, part))
    else:
        if not len(file_codes):
            raise BoundaryError(
                "the file has no KOMMUN field: say which kommun the boundaries belong to "
                "(--kommun CODE or --kommun KEY)",
                context=ctx,
            )
        for code in sorted(set(file_codes)):
            tenant = find_tenant(conn, code)
            if tenant is not None:
                groups.append((code, tenant, code, frame[frame["kommun_code"] == code]))
        if not groups:
            raise BoundaryError(
                f"none of the file's kommuner is a tenant ({sorted(set(file_codes))[:20]}); "
                "choose one with --kommun CODE (it becomes a new tenant)",
                context=ctx,
            )
    summaries = []
    for given, tenant, code, part in groups:
        created = tenant is None
        if tenant is None:
            names = [str(v) for v in part["kommun_name"].dropna()] if "kommun_name" in part else []
            name = names[0] if names else given
            key = slugify(name)
            if not key:
                raise BoundaryError(f"cannot make a tenant key from {name!r}", context=ctx)
            settings = {"timezone": timezone} if timezone else None
            tenant = ensure_tenant(
                conn,
                key,
                name=name if names else given.capitalize(),
                code=code,
                settings=settings,
            )
        previous = read_boundaries(conn, tenant.key, level)
        prev_primary = dict(zip(previous["code"], previous["primary"], strict=True))
        shipped = set(DEFAULT_TENANTS[tenant.key][2]) if tenant.key in DEFAULT_TENANTS else None
        primary = [
            bool(prev_primary[c])
            if c in prev_primary
            else (c in shipped if shipped is not None and level == "locality" else True)
            for c in part["code"]
        ]
        out = gpd.GeoDataFrame(
            {
                "kommun": tenant.key,
                "level": level,
                "code": part["code"].to_numpy(),
                "name": part["name"].to_numpy(),
                "approximate": False,
                "primary": primary,
                "population": part["population"].to_numpy(),
                "feature": part["feature"].to_numpy(),
            },
            geometry=part.geometry.to_numpy(),
            crs=part.crs,
        )
        validate_boundaries(out, context=ctx)
        source = f"import:{Path(path).name}" + (
            f":{frame.attrs['layer']}" if frame.attrs.get("layer") else ""
        )
        count = store_boundaries(conn, out, source=source)
        bump_version(conn, tenant.key)
        summaries.append(
            {
                "kommun": tenant.key,
                "name": tenant.name,
                "code": tenant.code,
                "created": created,
                "level": level,
                "count": count,
                "replaced": int(len(previous)),
                "replaced_approximate": int(previous["approximate"].astype(bool).sum())
                if len(previous)
                else 0,
                "file": str(path),
                "layer": frame.attrs.get("layer"),
            }
        )
    return summaries
