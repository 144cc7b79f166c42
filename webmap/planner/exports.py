"""Exports for QGIS/GDAL: reports, cells, zones and actions as CSV, GeoJSON or GeoPackage.

:func:`export_layer` builds a GeoDataFrame (EPSG:4326) and :func:`frame_to_bytes` writes
it with pyogrio (GeoPackage, GeoJSON) or pandas (CSV with WKT geometry). The web routes
``/export/<what>.<format>`` (planners and readers) and the CLI both use them.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
from flask import Blueprint, Response, abort, render_template, request
from shapely.geometry import shape

from geo.cells import cells_to_polygons, strings_to_cells
from geo.errors import ValidationError
from geo.store.reports import read_reports
from webmap.auth.views import role_required
from webmap.planner.actions import action_geometry, list_actions
from webmap.results import CachedResult
from webmap.state import current_state
from webmap.web import localities_of, requested_week, resolve_kommun, result_store

bp = Blueprint("exports", __name__)

NAV = [("exports.index", "Export", ("planner", "reader"))]

LAYERS = ("rapporter", "celler", "zoner", "atgarder")
FORMATS = {
    "csv": "text/csv",
    "geojson": "application/geo+json",
    "gpkg": "application/geopackage+sqlite3",
}


def reports_frame(reports: pd.DataFrame) -> gpd.GeoDataFrame:
    """Report frame -> GeoDataFrame of points (reports without position: empty geometry)."""
    out = reports.copy()
    for col in ("occurred_at", "reported_at"):
        out[col] = pd.to_datetime(out[col], utc=True).dt.strftime("%Y-%m-%dT%H:%M:%SZ")
    out["cell"] = [format(int(c), "x") if int(c) else None for c in out["cell"].to_numpy(np.uint64)]
    out["id"] = out["id"].astype("Int64")
    for col in out.columns:
        if str(out[col].dtype) == "string":
            out[col] = out[col].astype(object)
    geom = gpd.points_from_xy(out["lon"], out["lat"])
    return gpd.GeoDataFrame(out, geometry=geom, crs="EPSG:4326")


def cells_frame(res: CachedResult) -> gpd.GeoDataFrame:
    """Analysis cells of the final step with pattern, z and counts as hexagons."""
    cells = res.cells.copy()
    step = res.z.shape[1] - 1 if res.z.ndim == 2 and res.z.shape[1] else None
    if step is not None:
        cells["z_last"] = res.z[:, step].astype(float)
        cells["weighted_last"] = res.weighted[:, step].astype(float)
    keep = (cells.get("weighted", 0) > 0) | cells["pattern"].str.endswith("_hot")
    cells = cells[keep].reset_index(drop=True)
    polys: Any = cells_to_polygons(strings_to_cells(cells["cell_id"])) if len(cells) else []
    for col in cells.columns:
        if cells[col].dtype == bool:
            cells[col] = cells[col].astype(int)
    return gpd.GeoDataFrame(cells, geometry=list(polys), crs="EPSG:4326")


def zones_frame(res: CachedResult) -> gpd.GeoDataFrame:
    rows = []
    for z in res.zones:
        rows.append(
            {
                "id": z["id"],
                "name": z.get("name"),
                "locality": z.get("locality"),
                "pattern": z.get("pattern"),
                "pattern_sv": z.get("pattern_sv"),
                "grade": z.get("grade"),
                "label": z.get("label"),
                "explanation": z.get("explanation"),
                "trend": z.get("trend"),
                "hot_now": int(bool(z.get("hot_now"))),
                "count_window": z.get("count_window"),
                "n_cells": len(z.get("cells") or []),
                "cells": " ".join(z.get("cells") or []),
                "week": res.week,
                "geometry": shape(z["geometry"]),
            }
        )
    cols = [
        "id",
        "name",
        "locality",
        "pattern",
        "pattern_sv",
        "grade",
        "label",
        "explanation",
        "trend",
        "hot_now",
        "count_window",
        "n_cells",
        "cells",
        "week",
        "geometry",
    ]
    frame = pd.DataFrame(rows, columns=cols)
    return gpd.GeoDataFrame(frame, geometry="geometry", crs="EPSG:4326")


def actions_frame(actions: list[dict[str, Any]], localities: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    rows = []
    for a in actions:
        rows.append(
            {
                "id": a["id"],
                "title": a["title"],
                "kind": a["kind"],
                "status": a["status"],
                "responsible": a.get("responsible"),
                "planned_start": str(a["planned_start"]) if a.get("planned_start") else None,
                "planned_end": str(a["planned_end"]) if a.get("planned_end") else None,
                "locality": a.get("locality"),
                "zone_id": a.get("zone_id"),
                "public": int(bool(a.get("public"))),
                "description": a.get("description"),
                "geometry": action_geometry(a, localities),
            }
        )
    cols = [
        "id",
        "title",
        "kind",
        "status",
        "responsible",
        "planned_start",
        "planned_end",
        "locality",
        "zone_id",
        "public",
        "description",
        "geometry",
    ]
    frame = pd.DataFrame(rows, columns=cols)
    return gpd.GeoDataFrame(frame, geometry="geometry", crs="EPSG:4326")


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _inert_in_spreadsheets(value: Any) -> Any:
    """Prefix text a spreadsheet would run as a formula (``=HYPERLINK(...)``) with ``'``.

    Report descriptions come from citizens and actors; a planner opening the CSV in
    Excel or LibreOffice must see the text, not have it evaluated (CSV injection).
    """
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def frame_to_bytes(frame: gpd.GeoDataFrame, fmt: str, layer: str) -> bytes:
    """Write ``frame`` as ``csv`` (geometry as WKT), ``geojson`` or ``gpkg`` (pyogrio)."""
    if fmt == "csv":
        out = pd.DataFrame(frame.drop(columns="geometry"))
        for col in out.columns:
            if out[col].dtype == object:
                out[col] = out[col].map(_inert_in_spreadsheets)
        out["wkt"] = [g.wkt if g is not None and not g.is_empty else "" for g in frame.geometry]
        # BOM: Excel with Swedish settings then reads å, ä, ö as UTF-8
        return out.to_csv(index=False).encode("utf-8-sig")
    if fmt not in ("geojson", "gpkg"):
        raise ValidationError(f"okänt format {fmt!r}; välj csv, geojson eller gpkg")
    import pyogrio

    suffix = ".gpkg" if fmt == "gpkg" else ".geojson"
    driver = "GPKG" if fmt == "gpkg" else "GeoJSON"
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"{layer}{suffix}"
        # geometry type is mixed for reports without position; GeoPackage wants one type
        pyogrio.write_dataframe(
            frame, path, driver=driver, layer=layer, promote_to_multi=False, geometry_type="Unknown"
        )
        return path.read_bytes()


def export_layer(what: str, kommun: str, week: str | None = None) -> gpd.GeoDataFrame:
    """The export frame ``what`` (rapporter, celler, zoner, atgarder) of a kommun."""
    state = current_state()
    if what == "rapporter":
        with state.engine.connect() as conn:
            return reports_frame(read_reports(conn, kommun, status="approved"))
    if what == "atgarder":
        with state.engine.connect() as conn:
            acts = list_actions(conn, kommun)
        return actions_frame(acts, localities_of(kommun))
    res = result_store().get(kommun, week)
    assert res is not None
    return cells_frame(res) if what == "celler" else zones_frame(res)


@bp.get("/export")
@role_required("planner", "reader")
def index() -> Any:
    tenant = resolve_kommun()
    week = requested_week(tenant.key)
    return render_template(
        "exports/index.html", tenant=tenant, week=week, layers=LAYERS, formats=FORMATS
    )


@bp.get("/export/<what>.<fmt>")
@role_required("planner", "reader")
def download(what: str, fmt: str) -> Response:
    if what not in LAYERS or fmt not in FORMATS:
        abort(404)
    tenant = resolve_kommun()
    week = requested_week(tenant.key) if what in ("celler", "zoner") else None
    frame = export_layer(what, tenant.key, week)
    name = f"{what}-{tenant.key}{'-' + week if week else ''}.{fmt}"
    body = frame_to_bytes(frame, fmt, what)
    resp = Response(body, mimetype=FORMATS[fmt])
    resp.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    _ = request
    return resp
