"""Kommun and locality (tätort) boundaries.

A *boundary frame* is a :class:`geopandas.GeoDataFrame` in EPSG:4326 with the columns

==============  =========  ====================================================
column          dtype      meaning
==============  =========  ====================================================
kommun          str        tenant key (``"norrtalje"``, ``"vancouver"`` …)
level           str        ``"kommun"`` or ``"locality"``
code            str        official code (SCB ``TATORTSKOD`` / kommun code)
name            str        name (``"Rimbo"``)
approximate     bool       True for the derived stand-ins shipped with lagesbild
primary         bool       localities the weekly lägesbild covers
population      Int64      inhabitants where known
geometry        Polygon    (Multi)Polygon, EPSG:4326
==============  =========  ====================================================

The shipped approximations (package data in ``geo/data/boundaries/``) are produced by
``data/boundaries/make_boundaries.py`` with :func:`derive_approximate_localities`; the
official SCB polygons replace them through :func:`read_boundary_file` and
:func:`store_boundaries` (``lagesbild boundaries import``).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import pandas as pd
import pyogrio
import shapely
from shapely.geometry.base import BaseGeometry
from sqlalchemy.engine import Connection

from geo._validate import Problems
from geo.cells import cells_to_polygons, polygon_to_cells
from geo.errors import BoundaryError
from geo.store.boundaries import boundary_rows, replace_boundaries
from geo.store.db import utcnow

#: Folder with the shipped (approximate) boundary files (package data).
DATA_DIR = Path(__file__).resolve().parent / "data" / "boundaries"
LOCALITIES_FILE = "localities.geojson"
KOMMUNER_FILE = "kommuner.geojson"

BOUNDARY_COLUMNS = ["kommun", "level", "code", "name", "approximate", "primary", "population"]

#: Projected CRS for metric work in Sweden (SWEREF 99 TM).
SWEREF = "EPSG:3006"

#: The tenants shipped with lagesbild: key -> (SCB kommun code, name, primary localities).
DEFAULT_TENANTS: dict[str, tuple[str, str, tuple[str, ...]]] = {
    "norrtalje": ("0188", "Norrtälje", ("0188TC109", "0188TB111", "0188TB106")),
    "kungsor": ("1960", "Kungsör", ("1960TC101",)),
    "solvesborg": ("1083", "Sölvesborg", ("1083TC109",)),
}

#: Overlap between two localities larger than this share of the smaller one is an error.
#: Official data has digitizing slivers (Vancouver's Riley Park and Mount Pleasant share
#: 0.1 %); points in a sliver go to the first polygon.
OVERLAP_TOLERANCE = 0.005


def slugify(name: str) -> str:
    """ASCII key for a name: ``"Sölvesborg"`` -> ``"solvesborg"``."""
    text = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")


def projected_hint(x: npt.ArrayLike, y: npt.ArrayLike, share: float = 0.5) -> str | None:
    """Why coordinates taken as degrees (EPSG:4326) cannot be degrees, or None.

    When more than ``share`` of the finite pairs lie outside longitude/latitude range the
    data are projected without a declared CRS (a GeoJSON without ``crs`` counts as
    WGS 84); the message suggests ``--crs EPSG:3006`` for values that look like SWEREF 99
    TM, otherwise ``--crs`` with the data's EPSG code.
    """
    xs = np.asarray(x, dtype=float)
    ys = np.asarray(y, dtype=float)
    ok = np.isfinite(xs) & np.isfinite(ys)
    if not ok.any():
        return None
    xs, ys = xs[ok], ys[ok]
    outside = (np.abs(xs) > 180) | (np.abs(ys) > 90)
    if outside.mean() <= share:
        return None
    mx, my = float(np.median(xs[outside])), float(np.median(ys[outside]))
    sample = f"t.ex. {mx:.0f}, {my:.0f}"
    sweref = 100_000 <= mx <= 1_100_000 and 6_000_000 <= my <= 7_800_000
    if sweref:
        return (
            f"koordinaterna är inte grader ({sample}) men inget koordinatsystem är angivet; "
            "de ser ut som SWEREF 99 TM: ange --crs EPSG:3006"
        )
    return (
        f"koordinaterna är inte grader ({sample}) men inget koordinatsystem är angivet: "
        "ange det med --crs (t.ex. --crs EPSG:3006 för SWEREF 99 TM)"
    )


def _empty_frame() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {c: pd.Series(dtype=object) for c in BOUNDARY_COLUMNS}, geometry=[], crs="EPSG:4326"
    )


def load_boundaries(level: str = "locality", kommun: str | None = None) -> gpd.GeoDataFrame:
    """The shipped approximate boundaries (``geo/data/boundaries/``) as a boundary frame."""
    if level not in ("locality", "kommun"):
        raise BoundaryError(f"level must be 'locality' or 'kommun', got {level!r}")
    path = DATA_DIR / (LOCALITIES_FILE if level == "locality" else KOMMUNER_FILE)
    frame = gpd.read_file(path)
    frame["level"] = level
    frame["population"] = frame["population"].astype("Int64")
    frame["approximate"] = frame["approximate"].astype(bool)
    frame["primary"] = frame["primary"].astype(bool)
    if kommun is not None:
        frame = frame[frame["kommun"] == kommun]
    return frame[[*BOUNDARY_COLUMNS, "geometry"]].reset_index(drop=True)


def read_boundaries(
    conn: Connection, kommun: str | None = None, level: str = "locality"
) -> gpd.GeoDataFrame:
    """Boundaries stored in the database as a boundary frame."""
    rows = boundary_rows(conn, level, kommun)
    if not rows:
        return _empty_frame()
    frame = pd.DataFrame(rows)
    geoms = shapely.from_wkb(frame["geometry_wkb"].to_list())
    frame["population"] = frame["population"].astype("Int64")
    return gpd.GeoDataFrame(frame[BOUNDARY_COLUMNS], geometry=geoms, crs="EPSG:4326")


def store_boundaries(conn: Connection, frame: gpd.GeoDataFrame, source: str | None = None) -> int:
    """Replace the stored boundaries of each (kommun, level) in ``frame``; return rows written."""
    validate_boundaries(frame)
    now = utcnow()
    frame = frame.to_crs("EPSG:4326")
    rows = [
        {
            "kommun": r.kommun,
            "level": r.level,
            "code": str(r.code),
            "name": str(r.name),
            "geometry_wkb": shapely.to_wkb(r.geometry),
            "approximate": bool(r.approximate),
            "primary": bool(r.primary),
            "source": source,
            "population": None if pd.isna(r.population) else int(r.population),
            "imported_at": now,
        }
        for r in frame.itertuples(index=False)
    ]
    keys = [(k, lv) for (k, lv), _ in frame.groupby(["kommun", "level"])]
    return replace_boundaries(conn, keys, rows)


def validate_boundaries(frame: gpd.GeoDataFrame, context: str = "boundaries") -> None:
    """Check a boundary frame: CRS, fields, polygon geometries, unique codes, no overlaps."""
    problems = Problems(context, error=BoundaryError)
    for col in ("kommun", "level", "code", "name"):
        problems.check(col in frame.columns, f"field '{col}' is missing")
    problems.check(frame.crs is not None, "the layer has no CRS")
    problems.raise_if_any()
    ids = _feature_ids(frame)
    for i, row in zip(ids, frame.itertuples(index=False), strict=True):
        label = f"feature {i} ({row.name!r})"
        geom = row.geometry
        if geom is None or geom.is_empty:
            problems.add(f"{label}, field 'geometry': empty geometry")
            continue
        if geom.geom_type not in ("Polygon", "MultiPolygon"):
            problems.add(
                f"{label}, field 'geometry': {geom.geom_type}, expected Polygon/MultiPolygon"
            )
            continue
        if not geom.is_valid:
            problems.add(
                f"{label}, field 'geometry': invalid geometry ({shapely.is_valid_reason(geom)})"
            )
        if not str(row.code).strip():
            problems.add(f"{label}: field 'code' is empty")
        if not str(row.name).strip():
            problems.add(f"{label}: field 'name' is empty")
    dup = frame.duplicated(["kommun", "level", "code"], keep=False)
    for code in sorted(set(frame.loc[dup, "code"].astype(str))):
        problems.add(f"code {code!r} occurs more than once")
    problems.raise_if_any()
    for (_k, level), part in frame.groupby(["kommun", "level"]):
        if level == "locality":
            _check_overlaps(part, problems)
    problems.raise_if_any()


def _feature_ids(frame: pd.DataFrame) -> list[int]:
    """Feature id in the source file (``feature`` column) or the row position."""
    if "feature" in frame.columns:
        return [int(v) for v in frame["feature"]]
    return list(range(len(frame)))


def _metric_crs(frame: gpd.GeoDataFrame) -> object:
    """SWEREF 99 TM in Sweden, else the local UTM zone (for areas in square metres)."""
    wgs = frame.to_crs("EPSG:4326")
    return SWEREF if _in_sweden(wgs) else wgs.estimate_utm_crs()


def _check_overlaps(frame: gpd.GeoDataFrame, problems: Problems) -> None:
    metric = frame.to_crs(_metric_crs(frame))
    ids = _feature_ids(frame)
    geoms = metric.geometry.to_numpy()
    tree = shapely.STRtree(geoms)
    left, right = tree.query(geoms, predicate="intersects")
    for i, j in zip(left, right, strict=True):
        if i >= j:
            continue
        inter = shapely.intersection(geoms[i], geoms[j]).area
        smaller = min(geoms[i].area, geoms[j].area)
        if smaller > 0 and inter / smaller > OVERLAP_TOLERANCE:
            a, b = frame.iloc[i], frame.iloc[j]
            problems.add(
                f"localities overlap: feature {ids[i]} ({a['name']!r}) and feature {ids[j]} "
                f"({b['name']!r}), field 'geometry': they share {inter:,.0f} m² "
                f"({inter / smaller:.1%} of the smaller)"
            )


def read_boundary_file(
    path: str | Path,
    *,
    layer: str | None = None,
    name_field: str | None = None,
    code_field: str | None = None,
    kommun_field: str | None = None,
    kommun_code: str | None = None,
    level: str = "locality",
    crs: str | None = None,
) -> gpd.GeoDataFrame:
    """Read official polygons (GeoPackage, GeoJSON, Shapefile; any CRS) as a raw frame.

    ``crs`` declares the CRS of a file that has none (or a wrong one); projected
    coordinates in a file without a CRS are an error suggesting ``--crs``
    (:func:`projected_hint`).

    Defaults follow the SCB tätort schema (``TATORT``, ``TATORTSKOD``, ``KOMMUN``,
    ``KOMMUNNAMN``). The result has columns ``code``, ``name``, ``kommun_code`` and
    ``kommun_name`` (or None), ``population``, ``feature`` (the feature id in the file, as
    QGIS shows it), ``level`` and ``geometry`` in EPSG:4326; ``frame.attrs`` holds
    ``file``, ``layer`` and ``context``. Every problem (missing layer, CRS, fields, bad
    geometries) is reported in one :class:`~geo.errors.BoundaryError` naming the file,
    layer, feature and field.
    """
    path = Path(path)
    ctx = f"{path.name}" + (f", layer {layer!r}" if layer else "")
    problems = Problems(ctx, error=BoundaryError)
    if not path.exists() and not str(path).startswith(("zip://", "/vsizip/")):
        raise BoundaryError(f"file not found: {path}")
    try:
        layers = [name for name, _ in pyogrio.list_layers(path)]
    except Exception as exc:  # pyogrio raises DataSourceError and friends
        raise BoundaryError(f"cannot read {path.name}: {exc}") from exc
    if layer is None:
        scb = [name for name in layers if name.startswith("To20")]
        layer = sorted(scb)[-1] if scb else layers[0]
        ctx = f"{path.name}, layer {layer!r}"
        problems.context = ctx
    elif layer not in layers:
        raise BoundaryError(f"layer {layer!r} not found; layers are {layers}", context=path.name)
    try:
        raw = gpd.read_file(path, layer=layer, fid_as_index=True)
    except Exception as exc:  # unreadable features: GDAL names the problem
        raise BoundaryError(f"cannot read the layer: {exc}", context=ctx) from exc
    fields = [c for c in raw.columns if c != "geometry"]
    upper = {c.upper(): c for c in fields}

    def pick(given: str | None, candidates: Sequence[str], what: str) -> str | None:
        if given:
            if given not in raw.columns:
                problems.add(f"field {given!r} ({what}) is missing; fields are {fields}")
                return None
            return given
        for cand in candidates:
            if cand.upper() in upper:
                return upper[cand.upper()]
        problems.add(f"no {what} field found (tried {list(candidates)}); fields are {fields}")
        return None

    name_col = pick(name_field, ["TATORT", "name", "namn", "NAMN"], "name")
    code_col = pick(code_field, ["TATORTSKOD", "code", "kod", "mapid", "id"], "code")
    kommun_col = kommun_field or upper.get("KOMMUN")
    kommun_name_col = upper.get("KOMMUNNAMN")
    if kommun_field and kommun_field not in raw.columns:
        problems.add(f"field {kommun_field!r} (kommun) is missing; fields are {fields}")
    if crs is not None:
        try:
            raw = raw.set_crs(crs, allow_override=True)
        except Exception as exc:  # pyproj's CRSError
            problems.add(f"okänt koordinatsystem {crs!r}: {exc}")
    elif raw.crs is None or raw.crs.is_geographic:
        bounds = raw.geometry.bounds
        hint = projected_hint(
            bounds[["minx", "maxx"]].to_numpy().ravel(), bounds[["miny", "maxy"]].to_numpy().ravel()
        )
        if raw.crs is None:
            problems.add(
                "the layer has no CRS (.prj missing?); "
                + (hint or "ange koordinatsystemet med --crs, t.ex. --crs EPSG:3006")
            )
        elif hint:
            problems.add(hint)
    problems.raise_if_any()
    if raw.empty:
        raise BoundaryError("the layer has no features", context=ctx)
    assert name_col is not None and code_col is not None
    pop_col = upper.get("BEF")
    kommun_codes = None
    if kommun_col:
        kommun_codes = raw[kommun_col].astype(str).str.strip()
        kommun_codes = kommun_codes.where(~kommun_codes.str.isdigit(), kommun_codes.str.zfill(4))
    frame = gpd.GeoDataFrame(
        {
            "code": raw[code_col].astype(str).str.strip(),
            "name": raw[name_col].astype(str).str.strip(),
            "kommun_code": kommun_codes,
            "kommun_name": raw[kommun_name_col].astype(str).str.strip()
            if kommun_name_col
            else None,
            "feature": np.asarray(raw.index, dtype=np.int64),
            "population": pd.to_numeric(raw[pop_col], errors="coerce").astype("Int64")
            if pop_col
            else pd.array([None] * len(raw), dtype="Int64"),
        },
        geometry=raw.geometry.to_numpy(),
        crs=raw.crs,
    )
    if kommun_code is not None and kommun_col:
        frame = frame[frame["kommun_code"] == str(kommun_code)]
        if frame.empty:
            raise BoundaryError(f"no feature has {kommun_col} = {kommun_code!r}", context=ctx)
    for i, row in zip(frame["feature"], frame.itertuples(index=False), strict=True):
        geom = row.geometry
        label = f"feature {i} ({row.name!r}), field 'geometry'"
        if geom is None or geom.is_empty:
            problems.add(f"{label}: empty geometry")
        elif geom.geom_type not in ("Polygon", "MultiPolygon"):
            problems.add(f"{label}: {geom.geom_type}, expected Polygon or MultiPolygon")
        elif not geom.is_valid:
            problems.add(f"{label}: invalid geometry ({shapely.is_valid_reason(geom)})")
    for col, source_col in (("code", code_col), ("name", name_col)):
        empty = frame[col].isin(["", "nan", "None", "<NA>"])
        for i in frame.loc[empty, "feature"]:
            problems.add(f"feature {int(i)}: field {source_col!r} ({col}) is empty")
    problems.raise_if_any()
    frame["level"] = level
    frame = frame.to_crs("EPSG:4326")
    frame.attrs.update({"file": str(path), "layer": layer, "context": ctx})
    return frame


def derive_approximate_localities(
    tatorter: pd.DataFrame,
    kommuner: gpd.GeoDataFrame,
    tenants: dict[str, tuple[str, str, tuple[str, ...]]],
) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """Approximate tätort polygons from SCB representative points and land areas.

    Each tätort of the tenants' kommuner becomes a disc around its SCB representative point
    (EPSG:3006) with the tätort's land area (radius = sqrt(area_ha * 10,000 / pi)), clipped to
    its kommun polygon. Where discs overlap, the more populous tätort keeps the overlap.
    Returns ``(localities, kommuner)`` boundary frames in EPSG:4326.
    """
    codes = {code: key for key, (code, _n, _p) in tenants.items()}
    primary = {loc for _c, _n, locs in tenants.values() for loc in locs}
    kom = kommuner[kommuner["kommun_kod"].isin(codes)].to_crs(SWEREF)
    tat = tatorter[tatorter["mun_code"].astype(str).str.zfill(4).isin(codes)].copy()
    tat["mun_code"] = tat["mun_code"].astype(str).str.zfill(4)
    tat = tat.sort_values(["population", "code"], ascending=[False, True])
    taken: dict[str, BaseGeometry] = {}
    rows = []
    rows_in: Iterator[Any] = tat.itertuples(index=False)
    for r in rows_in:
        radius = float(np.sqrt(r.area_ha * 10_000 / np.pi))
        disc = shapely.Point(r.x_sweref99tm, r.y_sweref99tm).buffer(radius, quad_segs=16)
        kommun_poly = kom.loc[kom["kommun_kod"] == r.mun_code].geometry.iloc[0]
        clipped = disc.intersection(kommun_poly)
        if clipped.area < 0.5 * disc.area:
            # representative point outside the (simplified) kommun polygon: keep the disc
            clipped = disc
        prior = taken.get(r.mun_code)
        if prior is not None:
            clipped = clipped.difference(prior)
        if clipped.is_empty:
            continue
        clipped = shapely.make_valid(clipped)
        if clipped.geom_type == "GeometryCollection":
            clipped = shapely.union_all([g for g in clipped.geoms if g.area > 0])
        taken[r.mun_code] = clipped if prior is None else prior.union(clipped)
        rows.append(
            {
                "kommun": codes[r.mun_code],
                "level": "locality",
                "code": r.code,
                "name": r.name,
                "approximate": True,
                "primary": r.code in primary,
                "population": int(r.population),
                "geometry": clipped,
            }
        )
    localities = gpd.GeoDataFrame(rows, geometry="geometry", crs=SWEREF).to_crs("EPSG:4326")
    kommun_rows = gpd.GeoDataFrame(
        {
            "kommun": [codes[c] for c in kom["kommun_kod"]],
            "level": "kommun",
            "code": kom["kommun_kod"].to_list(),
            "name": kom["kommun"].to_list(),
            "approximate": True,
            "primary": True,
            "population": pd.array([None] * len(kom), dtype="Int64"),
        },
        geometry=kom.geometry.to_numpy(),
        crs=SWEREF,
    ).to_crs("EPSG:4326")
    return localities, kommun_rows


def tenant_extent(
    kommuner: gpd.GeoDataFrame, localities: gpd.GeoDataFrame, buffer_m: float = 2000.0
) -> BaseGeometry | None:
    """The area in which a tenant accepts positions (EPSG:4326).

    The kommun polygon when there is one; otherwise the union of the localities buffered by
    ``buffer_m`` metres (a foreign city imported as neighbourhoods has no kommun outline).
    """
    if len(kommuner):
        return shapely.union_all(kommuner.geometry.to_numpy())
    if not len(localities):
        return None
    metric = localities.to_crs(SWEREF if _in_sweden(localities) else localities.estimate_utm_crs())
    hull = shapely.union_all(metric.geometry.to_numpy()).buffer(buffer_m)
    return gpd.GeoSeries([hull], crs=metric.crs).to_crs("EPSG:4326").iloc[0]


def _in_sweden(frame: gpd.GeoDataFrame) -> bool:
    minx, miny, maxx, maxy = frame.total_bounds
    return bool(minx >= 10 and maxx <= 25 and miny >= 55 and maxy <= 70)


def assign_points(
    lat: npt.ArrayLike,
    lon: npt.ArrayLike,
    polygons: gpd.GeoDataFrame,
    column: str = "code",
    cells: npt.ArrayLike | None = None,
) -> npt.NDArray[np.object_]:
    """Value of ``column`` of the polygon containing each point (None outside all).

    Vectorized. Without ``cells``: one :func:`shapely.contains_xy` pass per polygon on the
    points inside its bounding box (prepared geometries). With ``cells`` (the points' H3
    cells, any resolution, 0 for none), each distinct cell is classified once as inside one
    polygon, outside all, or on a border; only points in border cells are tested one by one.
    That is exact as well, and much faster when many points share few cells. Points on a
    shared border go to the first polygon.
    """
    lat = np.asarray(lat, dtype=np.float64)
    lon = np.asarray(lon, dtype=np.float64)
    values = polygons[column].to_numpy()
    geoms = polygons.geometry.to_numpy()
    if cells is None:
        return _assign_by_points(lat, lon, values, geoms)
    cells = np.asarray(cells, dtype=np.uint64)
    out = np.full(lat.shape[0], None, dtype=object)
    ok = (cells != 0) & np.isfinite(lat) & np.isfinite(lon)
    inverse, unique = pd.factorize(cells[ok])
    if unique.shape[0] * 4 > max(int(ok.sum()), 1):
        # points hardly share cells: testing points directly is cheaper
        return _assign_by_points(lat, lon, values, geoms)
    # hexagons grown by ~0.1 m so points on a cell edge are never misjudged
    hexes = shapely.buffer(cells_to_polygons(unique), 1e-6)
    state = np.full(unique.shape[0], -1, dtype=np.int64)  # -1 outside, -2 border, i inside
    for i, geom in enumerate(geoms):
        if geom is None or geom.is_empty:
            continue
        shapely.prepare(geom)
        touching = shapely.intersects(geom, hexes) & (state == -1)
        inside = touching & shapely.contains_properly(geom, hexes)
        state[inside] = i
        state[touching & ~inside] = -2
    per_point = state[inverse]
    idx = np.flatnonzero(ok)
    inside = per_point >= 0
    out[idx[inside]] = values[per_point[inside]]
    border = idx[per_point == -2]
    if border.size:
        out[border] = _assign_by_points(lat[border], lon[border], values, geoms)
    rest = np.flatnonzero(~ok)
    if rest.size:
        out[rest] = _assign_by_points(lat[rest], lon[rest], values, geoms)
    return out


def _assign_by_points(
    lat: npt.NDArray[np.float64],
    lon: npt.NDArray[np.float64],
    values: npt.NDArray[np.object_],
    geoms: npt.NDArray[np.object_],
) -> npt.NDArray[np.object_]:
    out = np.full(lat.shape[0], None, dtype=object)
    free = np.isfinite(lat) & np.isfinite(lon)
    for value, geom in zip(values, geoms, strict=True):
        if geom is None or geom.is_empty:
            continue
        minx, miny, maxx, maxy = geom.bounds
        cand = np.flatnonzero(free & (lon >= minx) & (lon <= maxx) & (lat >= miny) & (lat <= maxy))
        if cand.size == 0:
            continue
        shapely.prepare(geom)
        hit = cand[shapely.contains_xy(geom, lon[cand], lat[cand])]
        out[hit] = value
        free[hit] = False
    return out


def points_in_geometry(
    lat: npt.ArrayLike, lon: npt.ArrayLike, geometry: BaseGeometry
) -> npt.NDArray[np.bool_]:
    """Whether each point lies inside ``geometry`` (EPSG:4326)."""
    lat = np.asarray(lat, dtype=np.float64)
    lon = np.asarray(lon, dtype=np.float64)
    out = np.zeros(lat.shape[0], dtype=bool)
    ok = np.isfinite(lat) & np.isfinite(lon)
    shapely.prepare(geometry)
    out[ok] = shapely.contains_xy(geometry, lon[ok], lat[ok])
    return out


def localities_to_cells(localities: gpd.GeoDataFrame, res: int) -> pd.DataFrame:
    """Every H3 cell at ``res`` whose centre lies inside a locality.

    Returns a frame with columns ``cell`` (uint64) and ``locality`` (code), sorted by cell;
    a cell belongs to at most one locality (the first in frame order).
    """
    parts = []
    for code, geom in zip(localities["code"], localities.geometry, strict=True):
        cells = polygon_to_cells(geom, res)
        parts.append(pd.DataFrame({"cell": cells, "locality": code}))
    if not parts:
        return pd.DataFrame({"cell": np.zeros(0, np.uint64), "locality": pd.Series(dtype=object)})
    frame = pd.concat(parts, ignore_index=True).drop_duplicates("cell")
    frame["cell"] = frame["cell"].astype(np.uint64)
    return frame.sort_values("cell", ignore_index=True)
