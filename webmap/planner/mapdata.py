"""Layer APIs of the planner map (``/api/karta/<kommun>/...``; planners and readers).

Responses are built from cached analysis results (:mod:`webmap.results`) and cached
again as bytes per result, so repeated requests cost a dictionary lookup.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import shapely
from flask import Blueprint, Response, abort, request
from shapely.geometry import shape

from geo.cells import cells_resolution, cells_to_parent, strings_to_cells
from geo.errors import ValidationError
from geo.store.grades import latest_decisions
from geo.store.reports import read_reports
from webmap.auth.views import role_required
from webmap.payloads import json_payload
from webmap.planner.actions import action_cells, list_actions
from webmap.render.layers import (
    MAX_CELLS,
    actions_geojson,
    cells_payload,
    localities_geojson,
    locality_geometries,
    police_geojson,
    step_cells,
    zones_geojson,
)
from webmap.results import CachedResult, Filters, filters_from_args
from webmap.state import current_state
from webmap.web import json_bytes, json_response, localities_of, requested_week, resolve_kommun
from webmap.web import result_store as _store

bp = Blueprint("mapdata", __name__, url_prefix="/api/karta/<kommun>")

READ_ROLES = ("planner", "reader")


def _filters() -> Filters:
    """The request's filters; a Swedish 400 naming the bad one."""
    try:
        return filters_from_args(request.args)
    except ValidationError as exc:
        abort(400, description=f"Ogiltigt filter: {exc}")


def _request(kommun: str) -> tuple[str, Filters]:
    """Week and filters of the request, read once per request."""
    return requested_week(kommun), _filters()


def _result(kommun: str, week: str, filters: Filters) -> CachedResult:
    res = _store().get(kommun, week, filters)
    assert res is not None
    return res


def _payload_key(week: str, filters: Filters, *extra: Any) -> tuple[Any, ...]:
    """Week and filters of the request (the key of its stored payload)."""
    return (week, filters.to_dict(), *extra)


@bp.get("/tatorter")
@role_required(*READ_ROLES)
def localities(kommun: str) -> Response:
    """Localities with the period's grade (meeting decision over suggestion)."""
    tenant = resolve_kommun(kommun)
    week, filters = _request(tenant.key)
    return json_payload(
        "tatorter",
        tenant.key,
        _payload_key(week, filters),
        lambda: _localities(tenant.key, _result(tenant.key, week, filters)),
    )


def _localities(kommun: str, res: CachedResult) -> dict[str, Any]:
    with current_state().engine.connect() as conn:
        decisions = latest_decisions(conn, kommun, res.week)
    grades = {g["locality"]: g for g in res.localities}
    frame = localities_of(kommun)
    cached = current_state().caches.locality_geometries.get(kommun)
    if cached is None or cached[0] is not frame:  # outlines change only with the boundaries
        cached = (frame, locality_geometries(frame))
        current_state().caches.locality_geometries[kommun] = cached
    payload = localities_geojson(frame, grades, decisions, geometries=cached[1])
    payload["meta"] = {
        "week": res.week,
        "period_start": res.meta["period_start"],
        "period_end": res.meta["period_end"],
    }
    return payload


def _actions_by_zone(kommun: str, res: CachedResult) -> dict[str, list[dict[str, Any]]]:
    with current_state().engine.connect() as conn:
        acts = list_actions(conn, kommun)
    out: dict[str, list[dict[str, Any]]] = {}
    if not res.zones:
        return out
    zone_geoms = {z["id"]: shape(z["geometry"]) for z in res.zones}
    zone_cells = {
        z["id"]: set(strings_to_cells(z["cells"]).tolist()) if z.get("cells") else set()
        for z in res.zones
    }
    res_z = int(res.meta["res"])
    for a in acts:
        linked = set()
        if a.get("zone_id") in zone_geoms:
            linked.add(a["zone_id"])
        cells = action_cells(a, res=res_z)
        cset = set(np.asarray(cells, np.uint64).tolist())
        for zid, zc in zone_cells.items():
            if cset & zc:
                linked.add(zid)
        if a.get("lat") is not None and a.get("lon") is not None:
            pt = shapely.Point(float(a["lon"]), float(a["lat"]))
            for zid, g in zone_geoms.items():
                if g.buffer(0.0005).contains(pt):
                    linked.add(zid)
        for zid in linked:
            out.setdefault(zid, []).append(a)
    return out


def _latest_by_zone(kommun: str, res: CachedResult, n: int = 5) -> dict[str, list[dict[str, Any]]]:
    """The latest report texts in each zone (internal view; inert text only)."""
    if not res.zones:
        return {}
    end = pd.Timestamp(res.meta["period_end"])
    start = end - pd.Timedelta(weeks=8)
    with current_state().engine.connect() as conn:
        reports = read_reports(conn, kommun, start=start, end=end, status="approved")
    reports = reports[reports["cell"].to_numpy(np.uint64) != 0]
    if reports.empty:
        return {}
    res_z = int(res.meta["res"])
    parents = cells_to_parent(reports["cell"].to_numpy(np.uint64), res_z)
    out: dict[str, list[dict[str, Any]]] = {}
    for z in res.zones:
        zc = strings_to_cells(z["cells"]) if z.get("cells") else np.zeros(0, np.uint64)
        if len(zc) and cells_resolution(zc) != res_z:
            zc = cells_to_parent(zc, res_z)
        sel = reports[np.isin(parents, zc)].sort_values("occurred_at", ascending=False).head(n)
        out[z["id"]] = [
            {
                "date": r.occurred_at.tz_convert("Europe/Stockholm").strftime("%Y-%m-%d"),
                "category": str(r.category),
                "text": None if pd.isna(r.description) else str(r.description)[:300],
            }
            for r in sel.itertuples(index=False)
        ]
    return out


@bp.get("/zoner")
@role_required(*READ_ROLES)
def zones(kommun: str) -> Response:
    """Hotspot zones of the week with grade, pattern, explanation, trend and actions."""
    tenant = resolve_kommun(kommun)
    week, filters = _request(tenant.key)
    return json_payload(
        "zoner",
        tenant.key,
        _payload_key(week, filters),
        lambda: _zones(tenant.key, _result(tenant.key, week, filters)),
    )


def _zones(kommun: str, res: CachedResult) -> dict[str, Any]:
    latest = res.payload_cache.get(("latest",))
    if latest is None:
        latest = _latest_by_zone(kommun, res)
        res.payload_cache[("latest",)] = latest
    payload = zones_geojson(
        res.zones, _actions_by_zone(kommun, res), latest, res.meta["step_starts"]
    )
    payload["meta"] = {"week": res.week, "period_end": res.meta["period_end"]}
    return payload


@bp.get("/celler")
@role_required(*READ_ROLES)
def cells(kommun: str) -> Response:
    """H3 cells of the week: compact ids, weighted counts and Gi* z (coarsened above
    ``max`` cells, default 10,000)."""
    tenant = resolve_kommun(kommun)
    try:
        max_cells = min(50_000, max(100, int(request.args.get("max", MAX_CELLS))))
    except ValueError:
        abort(400)
    week, filters = _request(tenant.key)

    def build() -> dict[str, Any]:
        res = _result(tenant.key, week, filters)
        step = res.z.shape[1] - 1 if res.z.ndim == 2 and res.z.shape[1] else 0
        if res.z.size == 0:
            return cells_payload(np.zeros(0, np.uint64), np.zeros(0), np.zeros(0))
        ids, w, z = step_cells(res.cells, res.z, res.weighted, step)
        return cells_payload(ids, w, z, max_cells, extra={"step": res.meta["step_starts"][step]})

    return json_payload("celler", tenant.key, _payload_key(week, filters, max_cells), build)


@bp.get("/atgarder")
@role_required(*READ_ROLES)
def actions(kommun: str) -> Response:
    """Actions of the kommun (all, with status icons)."""
    tenant = resolve_kommun(kommun)
    with current_state().engine.connect() as conn:
        acts = list_actions(conn, tenant.key)
    return json_response(json_bytes(actions_geojson(acts, localities_of(tenant.key))))


@bp.get("/polisen")
@role_required(*READ_ROLES)
def police(kommun: str) -> Response:
    """Police events of the last four weeks of the period, per locality or kommun."""
    tenant = resolve_kommun(kommun)
    week, filters = _request(tenant.key)

    def build() -> dict[str, Any]:
        res = _result(tenant.key, week, filters)
        end = pd.Timestamp(res.meta["period_end"])
        with current_state().engine.connect() as conn:
            frame = read_reports(
                conn, tenant.key, start=end - pd.Timedelta(weeks=4), end=end, sources=["police"]
            )
        return police_geojson(frame, localities_of(tenant.key), localities_of(tenant.key, "kommun"))

    return json_payload("polisen", tenant.key, _payload_key(week, filters), build)
