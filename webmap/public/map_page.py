"""The public citizen map ``/karta/publik`` and its JSON layers (no login).

What the public sees:

* aggregated H3 cells with counts, **k-suppressed across every filter combination**
  (:mod:`analysis.public`; k = tenant setting ``public_min_count``, default 3) – never a
  single report, never a pin, never a kommun or locality total (a total minus the shown
  cells would reveal the suppressed rest);
* each primary locality's **published** grade (the meeting's decision for the period of
  the latest publication, when the meeting tables exist and something was published);
* actions marked public (title, kind, status, expected completion, locality);
* no free text written by citizens.

Tenant settings used: ``public_min_count`` (k), ``public_res`` (H3 resolution 7-9,
default 9), ``public_snapshot`` (``week`` | ``day`` | ``live``, default ``week``; the app
setting ``PUBLIC_SNAPSHOT`` is the fallback) and ``public_sources`` (default citizen,
actor and patrol reports; police events are context only and never shown).
:func:`public_table_for` is the one place other public views should take numbers from.
"""

from __future__ import annotations

import datetime as dt
import threading
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import shapely
from flask import Blueprint, abort, current_app, jsonify, render_template, request, url_for

from analysis.grading import GRADE_LABELS
from analysis.public import (
    ALL,
    GROUP_CODES,
    LONG,
    PERIODS,
    PUBLIC_RES,
    SNAPSHOTS,
    PublicTable,
    group_labels,
    period_labels,
    public_table,
    snapshot_time,
)
from analysis.zones import nearest_place_names
from geo.boundaries import assign_points
from geo.cells import cells_to_polygons
from geo.errors import NotFoundError, ValidationError
from geo.schema import Source
from geo.store.actions import select_actions
from geo.store.db import current_version
from geo.store.grades import latest_published_period, published_grade_per_locality
from geo.store.reports import read_public_reports
from geo.store.tables import ACTION_STATUSES
from webmap.citizen.submissions import KommunGeo, runtime, tenant_choices
from webmap.payloads import cached_page, json_payload, memo
from webmap.public.replay import replayable
from webmap.state import default_kommun, get_engine
from webmap.web import base_map_config, place_labels
from webmap.weeks import week_text_sv

if TYPE_CHECKING:
    from sqlalchemy import Engine
    from sqlalchemy.engine import Connection

bp = Blueprint("public_map", __name__)

#: Status of a cancelled action (never shown to the public).
CANCELLED = "avbruten"

PUBLIC_ENDPOINTS = ("public_map.map", "public_map.cells", "public_map.summary")


def read_limit() -> str:
    """Per-client limit of the public read APIs (setting ``API_READ_RATE_LIMIT``)."""
    return str(current_app.config.get("API_READ_RATE_LIMIT") or "120/minute")


RATE_LIMITS = {
    "public_map.cells": (read_limit, ["GET"]),
    "public_map.summary": (read_limit, ["GET"]),
}

DEFAULT_SOURCES: tuple[str, ...] = (
    Source.CITIZEN.value,
    Source.ACTOR.value,
    Source.PATROL.value,
)

#: Colour classes of the public map (lower bound of count -> fill colour).
COLOUR_CLASSES: tuple[tuple[int, str], ...] = (
    (0, "#fde0c5"),
    (5, "#f9b27c"),
    (10, "#f1803f"),
    (20, "#d4571c"),
    (40, "#9c3208"),
)


# -- settings and data ------------------------------------------------------------------


def public_settings(geo: KommunGeo) -> dict[str, Any]:
    """k, resolution, snapshot mode and sources of a tenant (validated)."""
    s = geo.tenant.settings
    try:
        k = int(s.get("public_min_count", 3))
    except (TypeError, ValueError):  # a typo in the settings must not expose anything
        k = 3
    try:
        res = int(s.get("public_res", 9))
    except (TypeError, ValueError):
        res = 9
    if res not in PUBLIC_RES:
        res = 9
    snapshot = snapshot_mode(geo.tenant)
    sources = tuple(s.get("public_sources") or DEFAULT_SOURCES)
    sources = tuple(x for x in sources if x != Source.POLICE.value)
    return {"k": max(k, 1), "res": res, "snapshot": snapshot, "sources": sources}


def snapshot_mode(tenant: Any) -> str:
    """``week`` | ``day`` | ``live``: the tenant's setting, else the app's (validated)."""
    s = tenant.settings
    snapshot = str(s.get("public_snapshot") or current_app.config.get("PUBLIC_SNAPSHOT") or "week")
    if snapshot not in SNAPSHOTS:  # fall back to the most private mode, not to a 500
        snapshot = "week"
    return snapshot


class PublicCache:
    """Public tables per (kommun, data version, snapshot, k, res, sources)."""

    def __init__(self, size: int = 32) -> None:
        self.size = size
        self._lock = threading.Lock()
        self._items: dict[tuple[Any, ...], PublicTable] = {}

    def get(self, engine: Engine, geo: KommunGeo, now: dt.datetime | None = None) -> PublicTable:
        cfg = public_settings(geo)
        snap = snapshot_time(
            now or pd.Timestamp.now(tz="UTC"), cfg["snapshot"], geo.tenant.timezone
        )
        with engine.connect() as conn:
            version = current_version(conn, geo.tenant.key)
            key = (geo.tenant.key, version, snap.isoformat(), cfg["k"], cfg["res"], cfg["sources"])
            with self._lock:
                hit = self._items.get(key)
            if hit is not None and cfg["snapshot"] != "live":
                return hit
            start = dt.datetime(1970, 1, 1)  # whole history: the weekly snapshots are replayed
            frame = read_public_reports(conn, geo.tenant.key, start, cfg["sources"])
        table = public_table(frame, cfg["k"], cfg["res"], snap, tz=geo.tenant.timezone)
        with self._lock:
            if len(self._items) >= self.size:
                self._items.clear()
            self._items[key] = table
        return table


def public_cache() -> PublicCache:
    """The current app's :class:`PublicCache`."""
    from webmap.state import current_state

    return current_state().public_cache


def public_table_for(geo: KommunGeo) -> PublicTable:
    """The current public table of a kommun (cached per data version and snapshot)."""
    cfg = public_settings(geo)
    if cfg["snapshot"] == "live":
        return public_cache().get(get_engine(), geo)
    snap = snapshot_time(pd.Timestamp.now(tz="UTC"), cfg["snapshot"], geo.tenant.timezone)
    key = (snap.isoformat(), cfg["k"], cfg["res"], cfg["sources"])
    # built once per snapshot for every server process (a city's table takes seconds)
    return memo(  # type: ignore[no-any-return]
        "public-table", geo.tenant.key, key, lambda: public_cache().get(get_engine(), geo)
    )


def _default_kommun() -> str:
    return default_kommun()


def _geo(key: str | None) -> KommunGeo | None:
    try:
        return runtime().geo.get(get_engine(), key or _default_kommun())
    except NotFoundError:
        return None


def colour_for(count: int) -> str:
    """Fill colour of a count."""
    colour = COLOUR_CLASSES[0][1]
    for lower, c in COLOUR_CLASSES:
        if count >= lower:
            colour = c
    return colour


#: A published cell is named after a known place at most this far from its centre.
NEAR_PLACE_M = 300.0


def cells_geojson(
    table: PublicTable,
    geo: KommunGeo,
    group: str,
    period: str,
    places: pd.DataFrame | None = None,
) -> dict[str, Any]:
    """GeoJSON FeatureCollection of the published cells of one view.

    ``places`` (``DataFrame[name, lat, lon]``) gives each cell a ``near`` name: the
    nearest known place within :data:`NEAR_PLACE_M` (else ``None``).
    """
    view = table.view(group, period)
    near = nearest_place_names(view["lat"], view["lon"], places, NEAR_PLACE_M)
    polys = cells_to_polygons(view["cell"].to_numpy(np.uint64))
    names = {
        str(c): str(n) for c, n in zip(geo.localities["code"], geo.localities["name"], strict=True)
    }
    codes = (
        assign_points(view["lat"].to_numpy(), view["lon"].to_numpy(), geo.localities)
        if len(view) and len(geo.localities)
        else np.full(len(view), None, dtype=object)
    )
    ids = view["cell_id"].astype(str).tolist()
    counts = [int(v) for v in view["count"]]
    features = []
    for i, (cell_id, count) in enumerate(zip(ids, counts, strict=True)):
        geom = shapely.set_precision(polys[i], 1e-6)
        features.append(
            {
                "type": "Feature",
                "id": cell_id,
                "geometry": shapely.geometry.mapping(geom),
                "properties": {
                    "cell": cell_id,
                    "count": count,
                    "locality": names.get(str(codes[i])) if codes[i] is not None else None,
                    "near": near[i],
                    "colour": colour_for(count),
                },
            }
        )
    return {
        "type": "FeatureCollection",
        "kommun": geo.tenant.key,
        "group": group,
        "period": period,
        "k": table.k,
        "res": table.res,
        "as_of": table.as_of.isoformat().replace("+00:00", "Z"),
        "cells": len(features),
        "features": features,
    }


def published_grades_with_weeks(
    conn: Connection, kommun: str
) -> tuple[str | None, dict[str, dict[str, Any]]]:
    """``(latest published week, {locality code: {"grade", "period"}})``: what the public
    sees. A locality left undecided in the latest publication keeps its last published
    grade and that grade's week (:func:`geo.store.grades.published_grade_per_locality`).
    """
    period = latest_published_period(conn, kommun)
    if period is None:
        return None, {}
    return period, published_grade_per_locality(conn, kommun, period)


def public_actions(conn: Connection, kommun: str) -> list[dict[str, Any]]:
    """Actions marked public and not cancelled, the soonest planned end first."""
    shown = [x for x in ACTION_STATUSES if x != CANCELLED]
    rows = sorted(
        select_actions(conn, kommun, public_only=True, statuses=shown),
        key=lambda r: (r["planned_end"] is None, r["planned_end"] or dt.date.min, r["id"]),
    )
    out = []
    for r in rows:
        end = r["planned_end"]
        if r["status"] == "genomförd":
            expected = f"genomförd {end.year}" if end is not None else "genomförd"
        elif end is not None:  # planned or under way: a planned end is not a finished one
            expected = f"{r['status']}, beräknas vara klar {end.year}"
        else:
            expected = str(r["status"])
        out.append(
            {
                "title": r["title"],
                "kind": r["kind"],
                "status": r["status"],
                "expected": expected,
                "planned_end": end.isoformat() if end is not None else None,
                "locality": r["locality"],
                "description": r["description"],
            }
        )
    return out


def top_areas(features: list[dict[str, Any]], n: int = 10) -> list[dict[str, Any]]:
    """The ``n`` areas with most reports, by name: cells with the same locality and nearby
    place are one row (``count`` summed, ``cells`` how many), so no name repeats."""
    rows: dict[tuple[Any, Any], dict[str, Any]] = {}
    for f in features:
        p = f["properties"]
        key = (p.get("locality"), p.get("near"))
        row = rows.setdefault(key, {"locality": key[0], "near": key[1], "count": 0, "cells": 0})
        row["count"] += int(p["count"])
        row["cells"] += 1
    return sorted(rows.values(), key=lambda r: -r["count"])[:n]


def summary_payload(geo: KommunGeo) -> dict[str, Any]:
    """Published grades of the primary localities and the public actions."""
    with get_engine().connect() as conn:
        period, per = published_grades_with_weeks(conn, geo.tenant.key)
        acts = public_actions(conn, geo.tenant.key)
    names = {
        str(c): str(n) for c, n in zip(geo.localities["code"], geo.localities["name"], strict=True)
    }
    localities = []
    if len(geo.localities):
        primary = geo.localities[geo.localities["primary"].astype(bool)]
        for code, name in zip(
            primary["code"].astype(str), primary["name"].astype(str), strict=True
        ):
            got = per.get(code)
            grade = int(got["grade"]) if got else None
            week = str(got["period"]) if got else None
            localities.append(
                {
                    "code": code,
                    "name": name,
                    "grade": grade,
                    "label": GRADE_LABELS.get(grade) if grade else None,
                    "week": week,
                    "week_text": week_text_sv(week) if week and week != period else None,
                }
            )
    for a in acts:
        a["locality_name"] = names.get(str(a["locality"])) if a["locality"] else None
    return {
        "kommun": geo.tenant.key,
        "name": geo.tenant.name,
        "period": period,
        "period_text": week_text_sv(period) if period else None,
        "localities": localities,
        "actions": acts,
    }


# -- views --------------------------------------------------------------------------------


@bp.get("/karta/publik", endpoint="map")
def public_map() -> Any:
    """The public map: k-suppressed cells, published grades and public actions."""
    geo = _geo(request.args.get("kommun"))
    if geo is None:
        abort(404)
    cfg = public_settings(geo)
    if cfg["snapshot"] == "live":
        return _public_map(geo)
    snap = snapshot_time(pd.Timestamp.now(tz="UTC"), cfg["snapshot"], geo.tenant.timezone)
    key = (request.full_path, snap.isoformat())
    replayable()
    return cached_page("public-map", geo.tenant.key, key, lambda: _public_map(geo))


def _public_map(geo: KommunGeo) -> str:
    table = public_table_for(geo)
    cfg = public_settings(geo)
    group = request.args.get("group", ALL)
    period = request.args.get("period", LONG)
    if group not in GROUP_CODES or period not in PERIODS:
        group, period = ALL, LONG
    snap = (cfg["snapshot"], table.as_of.isoformat(), group, period)
    first = (
        cells_geojson(table, geo, group, period, _places(geo))
        if cfg["snapshot"] == "live"  # a new view every time: nothing to keep
        else memo(
            "public-first",
            geo.tenant.key,
            snap,
            lambda: cells_geojson(table, geo, group, period, _places(geo)),
        )
    )
    map_config = {
        "kommun": geo.tenant.key,
        "centre": geo.centre,
        "bounds": geo.bounds,
        "outline": geo.outline_geojson,
        **base_map_config(geo.tenant.key),
        "cellsUrl": url_for("public_map.cells"),
        "k": table.k,
    }
    return render_template(
        "public/map.html",
        geo=geo,
        k=table.k,
        snapshot=cfg["snapshot"],
        as_of=table.as_of.tz_convert(geo.tenant.timezone),
        groups=group_labels(),
        periods=period_labels(),
        group=group,
        period=period,
        summary=memo("public-summary", geo.tenant.key, (), lambda: summary_payload(geo)),
        first=first,
        top=top_areas(first["features"]),
        map_config=map_config,
        colour_classes=COLOUR_CLASSES,
        kommuner=tenant_choices(get_engine()),
    )


def _places(geo: KommunGeo) -> pd.DataFrame:
    """Named points and streets of the kommun (Busstorget …) that name public cells."""
    rows = [(n, lat, lon) for n, lat, lon, kind in place_labels(geo.tenant.key) if kind == "plats"]
    return pd.DataFrame(rows, columns=["name", "lat", "lon"])


@bp.get("/api/public/cells", endpoint="cells")
def cells() -> Any:
    """Published cells of one view (GeoJSON); only the fixed filters are accepted."""
    group = request.args.get("group", ALL)
    period = request.args.get("period", LONG)
    if group not in GROUP_CODES or period not in PERIODS:
        return jsonify(
            {"error": f"Välj grupp bland {list(GROUP_CODES)} och period bland {list(PERIODS)}."}
        ), 400
    geo = _geo(request.args.get("kommun"))
    if geo is None:
        return jsonify({"error": "Kommunen finns inte."}), 404
    try:
        table = public_table_for(geo)
    except ValidationError as exc:
        return jsonify({"error": str(exc)}), 400
    snapshot = public_settings(geo)["snapshot"]
    if snapshot != "live":
        replayable()
    snap = (snapshot, table.as_of.isoformat(), group, period)
    return json_payload(
        "public-cells",
        geo.tenant.key,
        snap,
        lambda: cells_geojson(table, geo, group, period, _places(geo)),
        public=True,
        max_age=300,
    )


@bp.get("/api/public/summary", endpoint="summary")
def summary() -> Any:
    """Published grades per locality and public actions of a kommun."""
    geo = _geo(request.args.get("kommun"))
    if geo is None:
        return jsonify({"error": "Kommunen finns inte."}), 404
    replayable()
    return json_payload(
        "public-summary", geo.tenant.key, (), lambda: summary_payload(geo), public=True, max_age=300
    )
