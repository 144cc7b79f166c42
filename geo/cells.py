"""H3 cells: the one module that talks to H3.

Every other module goes through these functions, so the latitude/longitude order is
fixed in one place: **arguments are always ``lat, lon``** (like h3) and shapely
geometries are always ``(lon, lat)`` (x, y). Cells are ``numpy.uint64`` arrays; the
value ``0`` means "no cell" (e.g. a report at locality precision).

The hot paths (points to cells, parents, centres, neighbours) are vectorized with
``polars-h3`` (Rust, multi-threaded); ``h3`` (the reference C library) is used for
polygon fill and as the reference in tests.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import h3
import numpy as np
import numpy.typing as npt
import polars as pl
import polars_h3 as plh3
import shapely
from h3.api import numpy_int as h3_int
from shapely.geometry.base import BaseGeometry

from geo.errors import ValidationError

CellArray = npt.NDArray[np.uint64]
FloatArray = npt.NDArray[np.float64]

#: Resolutions the analysis may use (coarser levels derive from the stored one).
SUPPORTED_RES = (7, 8, 9, 10, 11)


def _as_cells(cells: Iterable[int] | npt.ArrayLike) -> CellArray:
    arr = np.asarray(cells)
    if arr.dtype.kind in "OU":
        return strings_to_cells(arr)
    return arr.astype(np.uint64, copy=False)


def _check_res(res: int) -> None:
    if not 0 <= int(res) <= 15:
        raise ValidationError(f"H3 resolution must be 0..15, got {res}")


def points_to_cells(lat: npt.ArrayLike, lon: npt.ArrayLike, res: int) -> CellArray:
    """Index WGS84 points into H3 cells at ``res``.

    Parameters
    ----------
    lat, lon
        Latitudes and longitudes in degrees (same length). Non-finite or out-of-range
        values give cell ``0``.
    res
        H3 resolution.

    Returns
    -------
    numpy.ndarray of uint64
    """
    _check_res(res)
    lat = np.asarray(lat, dtype=np.float64)
    lon = np.asarray(lon, dtype=np.float64)
    if lat.shape != lon.shape:
        raise ValidationError("lat and lon must have the same length")
    ok = np.isfinite(lat) & np.isfinite(lon) & (np.abs(lat) <= 90) & (np.abs(lon) <= 180)
    out = np.zeros(lat.shape[0], dtype=np.uint64)
    if ok.any():
        frame = pl.DataFrame({"lat": lat[ok], "lon": lon[ok]})
        cells = frame.select(
            plh3.latlng_to_cell("lat", "lon", int(res), return_dtype=pl.UInt64).alias("c")
        )["c"].to_numpy()
        out[ok] = cells
    return out


def cells_to_parent(cells: npt.ArrayLike, res: int) -> CellArray:
    """Parent of each cell at the coarser resolution ``res`` (``0`` stays ``0``)."""
    _check_res(res)
    arr = _as_cells(cells)
    out = np.zeros(arr.shape[0], dtype=np.uint64)
    ok = arr != 0
    if ok.any():
        frame = pl.DataFrame({"c": arr[ok]})
        out[ok] = frame.select(plh3.cell_to_parent("c", int(res)).alias("p"))["p"].to_numpy()
    return out


def cells_resolution(cells: npt.ArrayLike) -> int:
    """The common resolution of ``cells``; raises if they mix resolutions."""
    arr = _as_cells(cells)
    arr = arr[arr != 0]
    if arr.size == 0:
        raise ValidationError("no cells given")
    # resolution lives in bits 52-55 of the index
    res = (arr >> np.uint64(52)) & np.uint64(0xF)
    if res.min() != res.max():
        found = sorted(int(r) for r in np.unique(res))
        raise ValidationError(f"cells mix resolutions {found}")
    return int(res[0])


def cells_to_points(cells: npt.ArrayLike) -> tuple[FloatArray, FloatArray]:
    """Centre ``(lat, lon)`` of each cell (``NaN`` for cell ``0``)."""
    arr = _as_cells(cells)
    lat = np.full(arr.shape[0], np.nan)
    lon = np.full(arr.shape[0], np.nan)
    ok = arr != 0
    if ok.any():
        frame = pl.DataFrame({"c": arr[ok]}).select(
            plh3.cell_to_lat("c").alias("lat"), plh3.cell_to_lng("c").alias("lon")
        )
        lat[ok] = frame["lat"].to_numpy()
        lon[ok] = frame["lon"].to_numpy()
    return lat, lon


def cells_to_polygons(cells: npt.ArrayLike) -> npt.NDArray[np.object_]:
    """Hexagon of each cell as a shapely ``Polygon`` in ``(lon, lat)`` order."""
    arr = _as_cells(cells)
    if arr.size == 0:
        return np.empty(0, dtype=object)
    bounds = pl.DataFrame({"c": arr}).select(plh3.cell_to_boundary("c").alias("b"))["b"]
    rings = []
    for ring in bounds.to_list():
        coords = np.asarray(ring, dtype=np.float64)[:, ::-1]  # (lat, lng) -> (lon, lat)
        rings.append(np.vstack([coords, coords[:1]]))
    return np.asarray([shapely.Polygon(r) for r in rings], dtype=object)


def cells_to_outline(cells: npt.ArrayLike) -> BaseGeometry:
    """The union of the cells' hexagons as one (Multi)Polygon (EPSG:4326), traced by H3.

    The same area as ``shapely.union_all(cells_to_polygons(cells))`` without the
    polygon overlay (tens of times faster for zones of many cells).
    """
    arr = _as_cells(cells)
    if arr.size == 0:
        return shapely.Polygon()
    geom = shapely.geometry.shape(h3_int.cells_to_geo(np.unique(arr)))
    if isinstance(geom, shapely.MultiPolygon) and len(geom.geoms) == 1:
        return geom.geoms[0]
    return geom


def cells_to_strings(cells: npt.ArrayLike) -> npt.NDArray[np.str_]:
    """Hexadecimal strings of cells (the usual text form, e.g. ``8a0882b262f7fff``)."""
    arr = _as_cells(cells)
    if arr.size and arr.min() >= 1 << 56 and arr.max() < 1 << 60:  # 15 digits each (H3)
        text = arr.astype(">u8").tobytes().hex().encode("ascii")  # 16 digits per cell
        digits = np.frombuffer(text, dtype=np.uint8).reshape(-1, 16)[:, 1:]
        return np.ascontiguousarray(digits).view("S15").ravel().astype(str)
    return np.asarray([format(int(c), "x") for c in arr], dtype=str)


def strings_to_cells(strings: Iterable[str] | npt.ArrayLike) -> CellArray:
    """Parse hexadecimal cell strings; raises :class:`ValidationError` on invalid ones."""
    values = [str(s) for s in np.asarray(strings, dtype=object).ravel()]
    out = np.zeros(len(values), dtype=np.uint64)
    bad: list[str] = []
    for i, s in enumerate(values):
        try:
            out[i] = int(s, 16)
        except ValueError:
            bad.append(s)
            continue
        if not h3.is_valid_cell(s):
            bad.append(s)
    if bad:
        raise ValidationError([f"not a valid H3 cell: {b!r}" for b in bad[:20]])
    return out


def is_valid_cells(cells: npt.ArrayLike) -> npt.NDArray[np.bool_]:
    """Whether each value is a valid H3 cell index."""
    arr = _as_cells(cells)
    if arr.size == 0:
        return np.zeros(0, dtype=bool)
    return pl.DataFrame({"c": arr}).select(plh3.is_valid_cell("c").alias("v"))["v"].to_numpy()


def cells_area_m2(cells: npt.ArrayLike) -> FloatArray:
    """Exact area of each cell in square metres."""
    arr = _as_cells(cells)
    if arr.size == 0:
        return np.zeros(0)
    return pl.DataFrame({"c": arr}).select(plh3.cell_area("c", "m^2").alias("a"))["a"].to_numpy()


def average_edge_m(res: int) -> float:
    """Average hexagon edge length at ``res`` in metres."""
    return float(h3.average_hexagon_edge_length(int(res), unit="m"))


def average_area_m2(res: int) -> float:
    """Average hexagon area at ``res`` in square metres."""
    return float(h3.average_hexagon_area(int(res), unit="m^2"))


def cells_to_disks(cells: npt.ArrayLike, k: int = 1) -> tuple[CellArray, CellArray]:
    """All ``(origin, neighbour)`` pairs with grid distance ``<= k`` (origin included).

    Returns two aligned arrays: ``origin[i]`` and the cell ``disk[i]`` within ``k`` of it.
    """
    arr = _as_cells(cells)
    if arr.size == 0:
        return np.zeros(0, np.uint64), np.zeros(0, np.uint64)
    frame = (
        pl.DataFrame({"o": arr})
        .with_columns(plh3.grid_disk("o", int(k)).alias("d"))
        .explode("d", empty_as_null=False)
    )
    return frame["o"].to_numpy().astype(np.uint64), frame["d"].to_numpy().astype(np.uint64)


def cells_to_neighbour_pairs(
    cells: npt.ArrayLike, k: int = 1, include_self: bool = True
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """Index pairs ``(i, j)`` of cells in ``cells`` that lie within ``k`` steps.

    Only pairs where both cells belong to ``cells`` are returned; this is the k-ring
    neighbourhood used for Gi* weights. ``cells`` must be unique.
    """
    arr = _as_cells(cells)
    order = np.argsort(arr, kind="stable")
    sorted_cells = arr[order]
    if sorted_cells.size and (np.diff(sorted_cells) == 0).any():
        raise ValidationError("cells must be unique to build neighbour pairs")
    origin, disk = cells_to_disks(arr, k)
    pos = np.searchsorted(sorted_cells, disk)
    pos[pos >= sorted_cells.size] = 0
    inside = sorted_cells[pos] == disk if sorted_cells.size else np.zeros(0, bool)
    i = np.searchsorted(sorted_cells, origin[inside])
    i = order[i]
    j = order[pos[inside]]
    if not include_self:
        keep = i != j
        i, j = i[keep], j[keep]
    return i.astype(np.int64), j.astype(np.int64)


def polygon_to_cells(geometry: BaseGeometry | dict[str, Any], res: int) -> CellArray:
    """Cells at ``res`` whose centre lies inside a (Multi)Polygon in EPSG:4326."""
    _check_res(res)
    geom = geometry if isinstance(geometry, BaseGeometry) else shapely.geometry.shape(geometry)
    if geom.is_empty:
        return np.zeros(0, dtype=np.uint64)
    cells = h3_int.geo_to_cells(shapely.geometry.mapping(geom), int(res))
    return np.sort(np.asarray(cells, dtype=np.uint64))


def polygons_to_cells(geometries: Sequence[BaseGeometry], res: int) -> list[CellArray]:
    """:func:`polygon_to_cells` for each geometry."""
    return [polygon_to_cells(g, res) for g in geometries]


def cells_to_geodataframe(cells: npt.ArrayLike, **columns: Any) -> Any:
    """A GeoDataFrame (EPSG:4326) with one hexagon per cell plus ``columns``."""
    import geopandas as gpd

    arr = _as_cells(cells)
    data = {"cell": cells_to_strings(arr), **columns}
    return gpd.GeoDataFrame(data, geometry=cells_to_polygons(arr), crs="EPSG:4326")


def latlng_to_cell_reference(lat: float, lon: float, res: int) -> int:
    """Single point via the reference ``h3`` library (for tests and the naive benchmark)."""
    return int(h3.str_to_int(h3.latlng_to_cell(lat, lon, res)))
