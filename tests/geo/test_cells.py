"""H3 cells: vectorized helpers agree with the reference h3 library."""

from __future__ import annotations

import h3  # the reference implementation (geo.cells uses polars-h3 on the hot paths)
import numpy as np
import pytest
import shapely

from geo.boundaries import load_boundaries
from geo.cells import (
    average_area_m2,
    average_edge_m,
    cells_area_m2,
    cells_resolution,
    cells_to_disks,
    cells_to_geodataframe,
    cells_to_neighbour_pairs,
    cells_to_parent,
    cells_to_points,
    cells_to_polygons,
    cells_to_strings,
    is_valid_cells,
    latlng_to_cell_reference,
    points_to_cells,
    polygon_to_cells,
    strings_to_cells,
)
from geo.errors import ValidationError


@pytest.fixture(scope="module")
def points() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(11)
    n = 5_000
    lat = rng.uniform(55.0, 69.0, n)
    lon = rng.uniform(11.0, 24.0, n)
    lat[:3] = [np.nan, 91.0, 59.75]
    lon[:3] = [18.7, 18.7, np.inf]
    return lat, lon


@pytest.mark.parametrize("res", [7, 9, 10, 11])
def test_points_to_cells_equals_reference(points: tuple[np.ndarray, np.ndarray], res: int) -> None:
    lat, lon = points
    cells = points_to_cells(lat, lon, res)
    assert cells.dtype == np.uint64 and cells.shape == lat.shape
    assert (cells[:3] == 0).all()  # NaN, out of range, infinite -> no cell
    ref = np.array(
        [latlng_to_cell_reference(a, b, res) for a, b in zip(lat[3:], lon[3:], strict=True)]
    )
    assert (cells[3:] == ref.astype(np.uint64)).all()
    assert h3.int_to_str(int(cells[3])) == h3.latlng_to_cell(lat[3], lon[3], res)


def test_points_to_cells_errors() -> None:
    with pytest.raises(ValidationError):
        points_to_cells([1.0, 2.0], [1.0], 9)
    with pytest.raises(ValidationError):
        points_to_cells([1.0], [1.0], 16)
    assert points_to_cells([], [], 9).shape == (0,)


def test_parents(points: tuple[np.ndarray, np.ndarray]) -> None:
    lat, lon = points
    cells = points_to_cells(lat, lon, 10)
    parents = cells_to_parent(cells, 9)
    assert parents[0] == 0
    ref = [h3.str_to_int(h3.cell_to_parent(h3.int_to_str(int(c)), 9)) for c in cells[3:]]
    assert (parents[3:] == np.asarray(ref, dtype=np.uint64)).all()
    # H3 is not exactly nested: the parent of a point's res-10 cell is usually, not
    # always, the res-9 cell containing the point
    same = (parents == points_to_cells(lat, lon, 9))[3:].mean()
    assert 0.8 < same < 1.0
    assert cells_resolution(parents) == 9 and cells_resolution(cells) == 10


def test_resolution_mix_is_an_error() -> None:
    a = points_to_cells([59.75], [18.70], 9)
    b = points_to_cells([59.75], [18.70], 10)
    with pytest.raises(ValidationError, match="mix"):
        cells_resolution(np.concatenate([a, b]))
    with pytest.raises(ValidationError):
        cells_resolution(np.zeros(3, np.uint64))


def test_points_and_strings_round_trip(points: tuple[np.ndarray, np.ndarray]) -> None:
    lat, lon = points
    cells = points_to_cells(lat[3:50], lon[3:50], 9)
    clat, clon = cells_to_points(cells)
    for c, a, b in zip(cells, clat, clon, strict=True):
        ra, rb = h3.cell_to_latlng(h3.int_to_str(int(c)))
        assert (a, b) == pytest.approx((ra, rb), abs=1e-9)
    assert (points_to_cells(clat, clon, 9) == cells).all()
    strings = cells_to_strings(cells)
    assert strings[0] == h3.int_to_str(int(cells[0]))
    assert (strings_to_cells(strings) == cells).all()
    with pytest.raises(ValidationError, match="not a valid H3 cell"):
        strings_to_cells(["zzz", "8a0882b262f7fff0"])
    lat0, _lon0 = cells_to_points(np.zeros(1, np.uint64))
    assert np.isnan(lat0[0])
    assert is_valid_cells(cells).all() and not is_valid_cells(np.array([5], np.uint64))[0]


def test_neighbour_pairs_match_grid_disk() -> None:
    centre = points_to_cells([59.7577], [18.6990], 9)[0]
    disk = [h3.str_to_int(c) for c in h3.grid_disk(h3.int_to_str(int(centre)), 2)]
    rng = np.random.default_rng(3)
    cells = np.asarray(rng.permutation(disk), dtype=np.uint64)  # 19 cells, shuffled
    i, j = cells_to_neighbour_pairs(cells, k=1, include_self=True)
    got = {(int(cells[a]), int(cells[b])) for a, b in zip(i, j, strict=True)}
    ref = set()
    members = {int(c) for c in cells}
    for c in members:
        for d in h3.grid_disk(h3.int_to_str(c), 1):
            if h3.str_to_int(d) in members:
                ref.add((c, h3.str_to_int(d)))
    assert got == ref
    assert len(got) == 19 + 2 * 42  # self pairs + each of the 42 adjacent pairs both ways
    i2, j2 = cells_to_neighbour_pairs(cells, k=1, include_self=False)
    assert len(i2) == len(i) - 19 and (i2 != j2).all()
    with pytest.raises(ValidationError, match="unique"):
        cells_to_neighbour_pairs(np.concatenate([cells, cells[:1]]))


def test_disks() -> None:
    cells = points_to_cells([59.7577, 60.05], [18.6990, 18.60], 9)
    origin, disk = cells_to_disks(cells, 1)
    assert len(origin) == 14 and set(origin.tolist()) == set(cells.tolist())
    ref = {h3.str_to_int(c) for c in h3.grid_disk(h3.int_to_str(int(cells[0])), 1)}
    assert set(disk[origin == cells[0]].tolist()) == ref


def test_polygon_fill_uses_centre_containment() -> None:
    loc = load_boundaries("locality", "norrtalje")
    rimbo = loc[loc["code"] == "0188TB111"].geometry.iloc[0]
    cells = polygon_to_cells(rimbo, 9)
    assert cells.dtype == np.uint64 and len(cells) > 10
    lat, lon = cells_to_points(cells)
    assert shapely.contains_xy(rimbo, lon, lat).all()
    # every res-9 cell around Rimbo whose centre is inside is in the fill
    ring_ids = [h3.str_to_int(c) for c in h3.grid_disk(h3.int_to_str(int(cells[0])), 12)]
    ring = np.asarray(ring_ids, dtype=np.uint64)
    rlat, rlon = cells_to_points(ring)
    inside = set(ring[shapely.contains_xy(rimbo, rlon, rlat)].tolist())
    assert inside == set(cells.tolist())
    # area of the fill approximates the polygon's area
    metric = loc[loc["code"] == "0188TB111"].to_crs("EPSG:3006").geometry.iloc[0].area
    assert cells_area_m2(cells).sum() == pytest.approx(metric, rel=0.15)
    assert polygon_to_cells(shapely.Polygon(), 9).shape == (0,)
    assert (polygon_to_cells(shapely.geometry.mapping(rimbo), 9) == cells).all()


def test_polygons_and_geodataframe() -> None:
    cells = points_to_cells([59.7577, 59.7515], [18.6990, 18.7040], 9)
    polys = cells_to_polygons(cells)
    assert all(p.geom_type == "Polygon" and len(p.exterior.coords) == 7 for p in polys)
    lat, lon = cells_to_points(cells)
    assert shapely.contains_xy(polys[0], lon[0], lat[0])
    gdf = cells_to_geodataframe(cells, count=[3, 4])
    assert gdf.crs.to_epsg() == 4326 and list(gdf["count"]) == [3, 4]
    assert list(gdf["cell"]) == list(cells_to_strings(cells))


def test_average_sizes_match_domain() -> None:
    # h3 v4 defines the edge exactly (201 m at res 9; v3 listed 174 m)
    assert average_edge_m(9) == pytest.approx(h3.average_hexagon_edge_length(9, "m"))
    assert 150 < average_edge_m(9) < 210
    assert average_area_m2(9) == pytest.approx(105_000, rel=0.02)
    assert average_area_m2(10) == pytest.approx(15_000, rel=0.02)
