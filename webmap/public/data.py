"""Public start page ``/``: localities and aggregated report counts (privacy-safe).

Only k-suppressed counts per H3 cell are published, taken from the citizen map's public
table (:func:`webmap.public.map_page.public_table_for`: same sources, resolution, snapshot
and suppression as ``/karta/publik``), cached per data version. No report text, no
individual position and no area totals reach this page.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, abort, current_app, g, render_template, request, url_for

from analysis.public import ALL, LONG
from geo.errors import NotFoundError
from geo.tenants import list_tenants
from webmap.citizen.submissions import runtime
from webmap.payloads import cached_page
from webmap.public.map_page import public_settings, public_table_for, read_limit, snapshot_mode
from webmap.public.replay import replayable
from webmap.render.layers import localities_geojson
from webmap.render.maps import build_public_map, map_parts
from webmap.state import current_state, default_kommun
from webmap.web import bounds_of, json_bytes, json_response, localities_of, place_labels

PUBLIC_ENDPOINTS = ("public.index", "public.localities", "public.cells")
#: The public APIs are cheap (cached) but still rate-limited per client key (setting
#: ``API_READ_RATE_LIMIT``, default 120/minute, as the public map's APIs).
RATE_LIMITS = {"public.cells": (read_limit, ["GET"]), "public.localities": (read_limit, ["GET"])}

bp = Blueprint("public", __name__)


def _tenant(key: str | None) -> Any:
    """The tenant from the app's cache of kommun data (as the public map reads it)."""
    key = key or default_kommun()
    try:
        return runtime().geo.get(current_state().engine, key).tenant
    except NotFoundError:
        abort(404)


@bp.get("/")
def index() -> Any:
    """Start page: a map of the localities and public counts per area, and a login link."""
    tenant = _tenant(request.args.get("kommun"))
    if snapshot_mode(tenant) != "live":
        replayable()
    return cached_page("index", tenant.key, (request.full_path,), lambda: _index(tenant))


def _index(tenant: Any) -> str:
    with current_state().engine.connect() as conn:
        tenants = list_tenants(conn)
    localities = localities_of(tenant.key)
    primary = localities[localities["primary"].astype(bool)] if len(localities) else localities
    try:
        geo = runtime().geo.get(current_state().engine, tenant.key)
    except NotFoundError:
        abort(404)
    k = int(public_settings(geo)["k"])  # the k the published table uses
    m = build_public_map(
        url_for("public.localities", kommun=tenant.key).rsplit("/", 1)[0],
        k=k,
        bounds=bounds_of(primary if len(primary) else localities),
        tiles=str(current_app.config.get("TILES") or ""),
        tiles_attribution=str(current_app.config.get("TILES_ATTRIBUTION") or ""),
        options={"kommun": tenant.key},
        labels=place_labels(tenant.key),
    )
    parts = map_parts(m, nonce=getattr(g, "csp_nonce", ""))
    return render_template("public/index.html", parts=parts, tenant=tenant, tenants=tenants, k=k)


@bp.get("/api/publik/<kommun>/tatorter")
def localities(kommun: str) -> Response:
    """Locality outlines (names only)."""
    tenant = _tenant(kommun)
    cache = current_state().caches.public_localities
    frame = localities_of(tenant.key)  # a new frame when the boundaries change
    hit = cache.get(tenant.key)
    if hit is None or hit[0] is not frame:
        fc = localities_geojson(frame)
        for f in fc["features"]:
            f["properties"] = {"code": f["properties"]["code"], "name": f["properties"]["name"]}
        hit = (frame, json_bytes(fc))
        cache[tenant.key] = hit
    replayable()
    return json_response(hit[1], max_age=300)


@bp.get("/api/publik/<kommun>/celler")
def cells(kommun: str) -> Response:
    """Published counts per cell: the citizen map's table, view ``alla``/``12m``.

    The numbers come from :func:`webmap.public.map_page.public_table_for`, so ``/`` and
    ``/karta/publik`` publish from one k-suppressed table (same sources, resolution and
    snapshot) and cannot be differenced against each other.
    """
    tenant = _tenant(kommun)
    state = current_state()
    try:
        geo = runtime().geo.get(state.engine, tenant.key)
    except NotFoundError:
        abort(404)
    table = public_table_for(geo)
    cache = state.caches.public_cells
    cached = cache.get(tenant.key)
    if cached is not None and cached[0] is table:  # same table object: same numbers
        body = cached[1]
    else:
        view = table.view(ALL, LONG)
        body = json_bytes(
            {
                "res": int(table.res),
                "k": int(table.k),
                "n": int(len(view)),
                "as_of": table.as_of.isoformat(),
                "ids": view["cell_id"].astype(str).tolist(),
                "c": [int(v) for v in view["count"]],
            }
        )
        cache[tenant.key] = (table, body)
    if public_settings(geo)["snapshot"] != "live":
        replayable()
    return json_response(body, max_age=300)
