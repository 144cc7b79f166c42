"""Helpers shared by the planner views: kommun access, result store, week, JSON bytes."""

from __future__ import annotations

import json
from typing import Any

import geopandas as gpd
from flask import Response, abort, current_app, request
from flask_login import current_user

from geo.boundaries import read_boundaries
from geo.errors import NotFoundError, ValidationError
from geo.gazetteer import map_labels
from geo.store.db import current_version
from geo.tenants import Tenant, get_tenant, list_tenants
from webmap.render.maps import resolve_tiles
from webmap.results import ResultStore
from webmap.state import current_state, default_kommun
from webmap.weeks import canonical_week, shift_week, weeks_between


def result_store() -> ResultStore:
    """The app's :class:`ResultStore`."""
    return current_state().results


def allowed_tenants() -> list[Tenant]:
    """Tenants the current user may see."""
    with current_state().engine.connect() as conn:
        tenants = list_tenants(conn)
    return [t for t in tenants if current_user.can_access(t.key)]


def resolve_kommun(key: str | None = None) -> Tenant:
    """The requested (or default) kommun; 404 when unknown, 403 without access."""
    key = key or request.args.get("kommun") or None
    if key is None:
        preferred = current_user.kommuner[0] if current_user.kommuner else None
        key = preferred or default_kommun()
    try:
        with current_state().engine.connect() as conn:
            tenant = get_tenant(conn, key)
    except NotFoundError:
        abort(404)
    if not current_user.can_access(tenant.key):
        abort(403)
    return tenant


def localities_of(kommun: str, level: str = "locality") -> gpd.GeoDataFrame:
    """Stored boundaries of a kommun, cached per app and data version.

    ``lagesbild boundaries import`` bumps the kommun's data version, so a running server
    picks up new boundaries at the next request without a restart.
    """
    state = current_state()
    cache = state.caches.boundaries
    with state.engine.connect() as conn:
        version = current_version(conn, kommun)
        key = (kommun, level)
        hit = cache.get(key)
        if hit is None or hit[0] != version:
            hit = (version, read_boundaries(conn, kommun, level))
            cache[key] = hit
    return hit[1]  # type: ignore[no-any-return]


def place_labels(kommun: str) -> list[tuple[str, float, float, str]]:
    """Place names of a kommun for maps without tiles (cached per app; from files)."""
    cache = current_state().caches.place_labels
    if kommun not in cache:
        frame = map_labels(kommun)
        cache[kommun] = [
            (str(r.name), float(r.lat), float(r.lon), str(r.kind))
            for r in frame.itertuples(index=False)
        ]
    return cache[kommun]  # type: ignore[no-any-return]


def base_map_config(kommun: str) -> dict[str, Any]:
    """Background of a standalone Leaflet page: ``tiles`` (URL template, a preset such as
    ``osm`` resolved; ``""`` = none), ``attribution`` and place ``labels``."""
    url, attr = resolve_tiles(
        str(current_app.config.get("TILES") or ""),
        str(current_app.config.get("TILES_ATTRIBUTION") or "") or None,
    )
    return {"tiles": url, "attribution": attr, "labels": place_labels(kommun)}


def requested_week(kommun: str, arg: str = "vecka") -> str:
    """The ``vecka`` argument (validated, canonical spelling) or the kommun's latest week."""
    raw = request.args.get(arg)
    if raw:
        try:
            return canonical_week(raw)
        except ValidationError:
            abort(400, description=f"Ogiltig vecka {raw[:20]!r}: ange ISO-vecka som 2026-W05.")
    return result_store().latest_week(kommun)


def week_choices(kommun: str, selected: str, back: int = 104) -> list[str]:
    """Weeks offered by the selector: from the first report (at most ``back`` weeks
    before the latest) to the latest week, newest last; always includes ``selected``."""
    store = result_store()
    latest = store.latest_week(kommun)
    first, _ = store.report_range(kommun)
    start = shift_week(latest, -back)
    if first is not None:
        from webmap.weeks import week_of

        start = max(start, week_of(first))
    weeks = weeks_between(start, latest, limit=back + 1)
    if selected not in weeks:
        weeks.append(selected)
        weeks.sort()
    return weeks


def json_bytes(payload: Any) -> bytes:
    """Compact UTF-8 JSON."""
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":"), default=str).encode()


def json_response(body: bytes, max_age: int = 0) -> Response:
    resp = Response(body, mimetype="application/json")
    if max_age:
        resp.headers["Cache-Control"] = f"private, max-age={max_age}"
    return resp


def bounds_of(frame: gpd.GeoDataFrame) -> list[list[float]] | None:
    """``[[south, west], [north, east]]`` of a frame (None when empty)."""
    if frame is None or len(frame) == 0:
        return None
    minx, miny, maxx, maxy = frame.total_bounds
    return [
        [round(float(miny), 5), round(float(minx), 5)],
        [round(float(maxy), 5), round(float(maxx), 5)],
    ]
