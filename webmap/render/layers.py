"""Map layer data as compact JSON / GeoJSON (pure functions, no Flask).

Cells travel as columnar JSON with H3 ids as hex strings; the browser turns them into
hexagons with the vendored ``h3-js`` (``static/vendor/h3-js``), so a cell costs about 30
bytes instead of a polygon's ~200. Views that would draw more than ``max_cells``
polygons are aggregated to coarser resolutions (sums of weighted counts, largest Gi*
z) before they are sent.

Public layers (:func:`public_cells_payload`) use :mod:`analysis.public`, the same
k-suppressed aggregation as the citizen map.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely.geometry import mapping

from analysis.grading import GRADE_COLOURS, GRADE_LABELS
from geo.cells import cells_resolution, cells_to_parent, cells_to_strings, strings_to_cells

#: Largest number of polygons a cell view sends before it is coarsened.
MAX_CELLS = 10_000

#: Geometry precision of GeoJSON output (degrees, ~1 m).
PRECISION = 1e-5


def _round_geom(geom: Any, simplify: float = 0.0) -> dict[str, Any]:
    g = geom
    if simplify > 0:
        g = shapely.simplify(g, simplify, preserve_topology=True)
    g = shapely.set_precision(g, PRECISION)
    return dict(mapping(g))


def _num(x: Any, digits: int = 2) -> float | None:
    try:
        v = float(x)
    except (TypeError, ValueError):
        return None
    return round(v, digits) if np.isfinite(v) else None


# --------------------------------------------------------------------------- cells


def coarsen(
    cells: np.ndarray, weighted: np.ndarray, z: np.ndarray, max_cells: int = MAX_CELLS
) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
    """Aggregate cells to parents until at most ``max_cells`` remain.

    Weighted counts are summed; z is the largest child z (the strongest signal in the
    area). Returns ``(cells, weighted, z, res)``.
    """
    cells = np.asarray(cells, np.uint64)
    weighted = np.asarray(weighted, np.float64)
    z = np.asarray(z, np.float64)
    res = cells_resolution(cells) if len(cells) else 9
    while len(cells) > max_cells and res > 5:
        res -= 1
        parents = cells_to_parent(cells, res)
        uniq, inv = np.unique(parents, return_inverse=True)
        w = np.bincount(inv, weights=weighted, minlength=len(uniq))
        zz = np.full(len(uniq), -np.inf)
        np.maximum.at(zz, inv, np.where(np.isfinite(z), z, -np.inf))
        zz[~np.isfinite(zz)] = np.nan
        cells, weighted, z = uniq, w, zz
    return cells, weighted, z, int(res)


def cells_payload(
    cells: np.ndarray,
    weighted: np.ndarray,
    z: np.ndarray,
    max_cells: int = MAX_CELLS,
    extra: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Columnar cell layer: ``{"res", "n", "ids", "w", "z", "coarsened"}``.

    Parameters
    ----------
    cells
        uint64 H3 cells (one resolution).
    weighted, z
        Weighted report counts and Gi* z of each cell (NaN z -> ``null``).
    max_cells
        Aggregate to coarser resolutions above this many cells.
    """
    n_in = len(cells)
    res_in = cells_resolution(np.asarray(cells, np.uint64)) if n_in else None
    c, w, zz, res = coarsen(cells, weighted, z, max_cells)
    order = np.argsort(c)
    c, w, zz = c[order], w[order], zz[order]
    out: dict[str, Any] = {
        "res": res,
        "n": int(len(c)),
        "coarsened": bool(res_in is not None and res != res_in),
        "ids": cells_to_strings(c).tolist() if len(c) else [],
        "w": [round(float(v), 1) for v in w],
        "z": [None if not np.isfinite(v) else round(float(v), 1) for v in zz],
    }
    if extra:
        out.update(extra)
    return out


def step_cells(
    cells: pd.DataFrame,
    z: np.ndarray,
    weighted: np.ndarray,
    step: int,
    min_abs_z: float = 1.0,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Cells worth drawing at ``step``: any reports in that step, or ``|z| >= min_abs_z``."""
    if len(cells) == 0:
        empty = np.zeros(0)
        return np.zeros(0, np.uint64), empty, empty
    zs = z[:, step].astype(np.float64)
    ws = weighted[:, step].astype(np.float64)
    keep = (ws > 0) | (np.abs(np.nan_to_num(zs)) >= min_abs_z)
    ids = strings_to_cells(cells["cell_id"].to_numpy()[keep])
    return ids, ws[keep], zs[keep]


def public_cells_payload(
    reports: pd.DataFrame, k: int, res: int = 9, as_of: Any = None
) -> dict[str, Any]:
    """Public, k-suppressed counts per cell (``{"res", "k", "n", "ids", "c"}``).

    Uses :func:`analysis.public.public_table` (view ``alla``/``12m``) so ``/`` and the
    citizen map publish exactly the same numbers.
    """
    from analysis.public import public_table, snapshot_time

    if as_of is None:  # weekly snapshot: numbers change once a week (no differencing)
        as_of = snapshot_time(pd.Timestamp.now(tz="UTC"), "week")
    table = public_table(reports, k=k, res=res, as_of=as_of)
    view = table.view()
    return {
        "res": int(res),
        "k": int(k),
        "n": int(len(view)),
        "as_of": table.as_of.isoformat(),
        "ids": view["cell_id"].astype(str).tolist(),
        "c": [int(v) for v in view["count"]],
    }


# --------------------------------------------------------------------------- GeoJSON


def locality_geometries(
    localities: gpd.GeoDataFrame, simplify: float = 0.0002
) -> list[dict[str, Any]]:
    """Simplified, rounded GeoJSON geometries of the localities (in row order)."""
    return [_round_geom(geom, simplify) for geom in localities.geometry]


def localities_geojson(
    localities: gpd.GeoDataFrame,
    grades: Mapping[str, Mapping[str, Any]] | None = None,
    decisions: Mapping[str, Mapping[str, Any]] | None = None,
    simplify: float = 0.0002,
    geometries: Sequence[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """Localities with their grade of the period (set by the meeting, else suggested).

    ``grades``: locality code -> suggested grade row (``grade``, ``label``,
    ``explanation``, ``count``, ``series``); ``decisions``: code -> latest decision
    (``grade``, ``comment``, ``decided_by``, ``decided_at``). ``geometries``: the
    outlines from :func:`locality_geometries` (computed here when not given).
    """
    grades = grades or {}
    decisions = decisions or {}
    if geometries is None:
        geometries = locality_geometries(localities, simplify)
    features = []
    for row, geometry in zip(localities.itertuples(index=False), geometries, strict=True):
        code = str(row.code)
        g = grades.get(code) or {}
        d = decisions.get(code) or {}
        grade = d.get("grade") or g.get("grade")
        features.append(
            {
                "type": "Feature",
                "geometry": geometry,
                "properties": {
                    "code": code,
                    "name": str(row.name),
                    "primary": bool(getattr(row, "primary", True)),
                    "approximate": bool(getattr(row, "approximate", False)),
                    "grade": int(grade) if grade else None,
                    "label": GRADE_LABELS.get(int(grade)) if grade else None,
                    "colour": GRADE_COLOURS.get(int(grade)) if grade else "#888888",
                    "suggested_grade": g.get("grade"),
                    "explanation": g.get("explanation"),
                    "count": g.get("count"),
                    "series": g.get("series") or [],
                    "set_by_meeting": bool(d),
                    "comment": d.get("comment"),
                },
            }
        )
    return {"type": "FeatureCollection", "features": features}


def zones_geojson(
    zones: Sequence[Mapping[str, Any]],
    actions_by_zone: Mapping[str, list[dict[str, Any]]] | None = None,
    latest_by_zone: Mapping[str, list[dict[str, Any]]] | None = None,
    step_starts: Sequence[str] = (),
) -> dict[str, Any]:
    """Hotspot zones with grade, pattern, explanation, trend series and actions."""
    actions_by_zone = actions_by_zone or {}
    latest_by_zone = latest_by_zone or {}
    features = []
    for z in zones:
        zid = str(z["id"])
        features.append(
            {
                "type": "Feature",
                "geometry": z["geometry"],
                "properties": {
                    "id": zid,
                    "name": z.get("name"),
                    "locality": z.get("locality"),
                    "pattern": z.get("pattern"),
                    "pattern_sv": z.get("pattern_sv"),
                    "grade": z.get("grade"),
                    "label": z.get("label"),
                    "colour": z.get("colour"),
                    "explanation": z.get("explanation"),
                    "trend": z.get("trend"),
                    "hot_now": bool(z.get("hot_now")),
                    "count_window": z.get("count_window"),
                    "window_weeks": z.get("window_weeks"),
                    "series": z.get("series") or [],
                    "series_start": step_starts[0] if step_starts else None,
                    "lat": z.get("lat"),
                    "lon": z.get("lon"),
                    "actions": [
                        {
                            "id": a["id"],
                            "title": a["title"],
                            "status": a["status"],
                            "status_sv": a.get("status_sv"),
                            "icon": a.get("icon"),
                        }
                        for a in actions_by_zone.get(zid, [])
                    ],
                    "latest": latest_by_zone.get(zid, []),
                },
            }
        )
    return {"type": "FeatureCollection", "features": features}


def actions_geojson(
    actions: Iterable[Mapping[str, Any]], localities: gpd.GeoDataFrame | None = None
) -> dict[str, Any]:
    """Actions as points (a point), areas (polygon or cells) or locality outlines."""
    from webmap.planner.actions import action_geometry

    features = []
    for a in actions:
        geom = action_geometry(a, localities)
        if geom is None:
            continue
        place = (
            "area"
            if a.get("geometry_geojson") or a.get("cells")
            else ("point" if a.get("lat") is not None else "locality")
        )
        features.append(
            {
                "type": "Feature",
                "geometry": _round_geom(geom, 0.0002 if place == "locality" else 0.0),
                "properties": {
                    "id": a["id"],
                    "title": a["title"],
                    "kind": a["kind"],
                    "kind_sv": a.get("kind_sv"),
                    "status": a["status"],
                    "status_sv": a.get("status_sv"),
                    "icon": a.get("icon"),
                    "responsible": a.get("responsible"),
                    "planned_start": str(a["planned_start"]) if a.get("planned_start") else None,
                    "planned_end": str(a["planned_end"]) if a.get("planned_end") else None,
                    "zone_id": a.get("zone_id"),
                    "public": bool(a.get("public")),
                    "place": place,
                },
            }
        )
    return {"type": "FeatureCollection", "features": features}


def police_geojson(
    police: pd.DataFrame,
    localities: gpd.GeoDataFrame,
    kommun_area: gpd.GeoDataFrame | None = None,
) -> dict[str, Any]:
    """Police events as context: counted per locality (or kommun), drawn as areas.

    The Polisen API gives a kommun or county centroid, never the event position, so no
    event becomes a pin: each locality (or the kommun) shows the number of events with
    the precision written out.
    """
    features: list[dict[str, Any]] = []
    if len(police) == 0:
        return {"type": "FeatureCollection", "features": features}
    loc = police["locality"].astype("string")
    by_loc = loc.dropna().value_counts()
    names = dict(zip(localities["code"].astype(str), localities["name"].astype(str), strict=False))
    geoms = dict(zip(localities["code"].astype(str), localities.geometry, strict=False))
    for code, n in by_loc.items():
        if code not in geoms:
            continue
        cats = police.loc[loc == code, "category"].astype(str).value_counts().head(3)
        features.append(
            {
                "type": "Feature",
                "geometry": _round_geom(geoms[code], 0.0005),
                "properties": {
                    "level": "locality",
                    "code": code,
                    "name": names.get(code, code),
                    "count": int(n),
                    "precision_sv": "position känd bara på tätortsnivå",
                    "categories": [{"code": c, "count": int(k)} for c, k in cats.items()],
                },
            }
        )
    rest = int(loc.isna().sum())
    if rest and kommun_area is not None and len(kommun_area):
        features.append(
            {
                "type": "Feature",
                "geometry": _round_geom(kommun_area.geometry.iloc[0], 0.002),
                "properties": {
                    "level": "kommun",
                    "code": str(kommun_area["code"].iloc[0]),
                    "name": str(kommun_area["name"].iloc[0]),
                    "count": rest,
                    "precision_sv": "position känd bara på kommunnivå",
                    "categories": [],
                },
            }
        )
    return {"type": "FeatureCollection", "features": features}
