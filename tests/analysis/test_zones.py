"""Hotspot zones: merging, stable ids across weeks, names, polygons, event clustering."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
import shapely

from analysis.cube import SpaceTimeCube
from analysis.zones import (
    HotspotZones,
    cells_to_components,
    cells_to_dbscan,
    cluster_events,
    lonlat_to_sweref,
    match_zones,
    split_at_saddles,
)
from geo.cells import (
    cells_area_m2,
    cells_to_disks,
    cells_to_points,
    cells_to_strings,
    points_to_cells,
)
from geo.errors import ValidationError

CENTRE = (59.7577, 18.6990)
M = 1 / 111_320
T = 6


def _cell(dy_m: float, dx_m: float, res: int = 10) -> int:
    lat = CENTRE[0] + dy_m * M
    lon = CENTRE[1] + dx_m * M / np.cos(np.radians(CENTRE[0]))
    return int(points_to_cells([lat], [lon], res)[0])


@pytest.fixture(scope="module")
def cube() -> SpaceTimeCube:
    _, disk = cells_to_disks(points_to_cells([CENTRE[0]], [CENTRE[1]], 10), 12)
    cells = np.unique(disk)
    rng = np.random.default_rng(1)
    values = rng.poisson(0.2, size=(cells.size, T)).astype(float)
    cube = SpaceTimeCube.from_arrays(cells, values, locality=np.full(cells.size, "0188TC109"))
    return cube


def _ring(cube: SpaceTimeCube, cell: int) -> np.ndarray:
    i = cube.cell_index([cell])[0]
    return cube.weights(1)[i].indices


def _emerging(cube: SpaceTimeCube, hot_final: np.ndarray) -> SimpleNamespace:
    """A fitted-EmergingHotspots stand-in with chosen hot cells in the final step."""
    n = cube.n_cells
    hot = np.zeros((n, T), bool)
    hot[hot_final, -1] = True
    return SimpleNamespace(
        hot_=hot,
        cold_=np.zeros((n, T), bool),
        recurring_=np.zeros(n, bool),
        too_few_=np.zeros(n, bool),
        pattern_=np.where(hot[:, -1], "new_hot", "no_pattern").astype(object),
        z_=np.where(hot, 3.0, 0.0),
        alpha=0.05,
        hot_share=0.9,
    )


def _fit(cube, hot, previous=None, **kw) -> pd.DataFrame:
    model = HotspotZones(source="latest", **kw).fit(
        cube, previous_zones=previous, emerging=_emerging(cube, hot)
    )
    return model.zones_


def test_graph_and_dbscan_give_the_same_zones(cube: SpaceTimeCube) -> None:
    a = _ring(cube, _cell(0, 0))
    b = _ring(cube, _cell(0, 400))
    single = cube.cell_index([_cell(-400, 0)])
    members = np.unique(np.r_[a, b, single])
    graph = cells_to_components(cube.weights(1), members)
    dbscan = cells_to_dbscan(cube.cells[members])
    assert len(set(graph)) == 3
    # same partition (labels may be numbered differently)
    pairs = {(int(g), int(d)) for g, d in zip(graph, dbscan, strict=True)}
    assert len(pairs) == 3
    zones_g = _fit(cube, members, method="graph")
    zones_d = _fit(cube, members, method="dbscan")
    assert sorted(map(sorted, zones_g["cells"])) == sorted(map(sorted, zones_d["cells"]))


def test_zone_ids_stable_when_a_cell_joins_and_leaves(cube: SpaceTimeCube) -> None:
    a = _ring(cube, _cell(0, 0))
    b = _ring(cube, _cell(0, 450))
    week1 = _fit(cube, np.r_[a, b])
    assert sorted(week1["id"]) == ["Z0001", "Z0002"]
    id_a = week1.loc[week1["cells"].map(lambda c: cells_to_strings(cube.cells[a])[0] in c), "id"]
    id_a = id_a.iloc[0]

    # week 2: zone A loses one cell and gains a neighbouring one, B disappears, C appears
    extra = np.setdiff1d(_ring(cube, cube.cells[a[1]]), a)[:1]
    a2 = np.r_[a[1:], extra]
    c = _ring(cube, _cell(-450, 0))
    week2 = _fit(cube, np.r_[a2, c], previous=week1)
    row_a = week2[week2["cells"].map(lambda s: cells_to_strings(cube.cells[a2])[0] in s)]
    assert row_a["id"].iloc[0] == id_a
    assert row_a["matched"].iloc[0] and 0.5 < row_a["jaccard"].iloc[0] < 1
    assert row_a["first_seen"].iloc[0] == week1.loc[week1["id"] == id_a, "first_seen"].iloc[0]
    new_ids = set(week2["id"]) - {id_a}
    assert new_ids == {"Z0003"}  # numbering continues, B's id is not reused

    # week 3: B comes back; with the history of both weeks it gets its old id
    history = pd.concat([week1, week2], ignore_index=True)
    week3 = _fit(cube, np.r_[a2, b], previous=history)
    id_b = ({"Z0001", "Z0002"} - {id_a}).pop()
    assert set(week3["id"]) == {id_a, id_b}


def test_match_rule_best_overlap_then_age() -> None:
    base = np.unique(cells_to_disks(points_to_cells([CENTRE[0]], [CENTRE[1]], 10), 1)[1])
    prev = pd.DataFrame(
        {
            "id": ["Z0007", "Z0003"],
            "cells": [list(cells_to_strings(base)), list(cells_to_strings(base))],
            "first_seen": [
                pd.Timestamp("2024-01-02", tz="UTC"),
                pd.Timestamp("2024-03-05", tz="UTC"),
            ],
        }
    )
    # equal overlap with both previous zones: the older one (Z0007) wins
    ids, jac, first = match_zones([base], prev)
    assert ids == ["Z0007"] and jac == [1.0]
    assert first[0] == pd.Timestamp("2024-01-02", tz="UTC")
    # a split: the larger part keeps the id, the other gets the next free number
    big, small = base[:5], base[5:]
    ids, _, _ = match_zones([small, big], prev.iloc[:1])
    assert ids == ["Z0008", "Z0007"]
    # below min_jaccard: a new id
    ids, _, _ = match_zones([base[:1]], prev.iloc[:1], min_jaccard=0.5)
    assert ids == ["Z0008"]
    # comparison across resolutions uses the coarser one
    parent_prev = pd.DataFrame(
        {"id": ["Z0001"], "cells": [[int(points_to_cells([CENTRE[0]], [CENTRE[1]], 9)[0])]]}
    )
    ids, _, _ = match_zones([base], parent_prev)
    assert ids == ["Z0001"]


def test_names_polygons_and_evidence(cube: SpaceTimeCube) -> None:
    a = _ring(cube, _cell(0, 0))
    b = _ring(cube, _cell(0, 450))
    lat_a, lon_a = cells_to_points(cube.cells[a[:1]])
    places = pd.DataFrame(
        {
            "name": ["Busstorget", "Långt bort"],
            "lat": [lat_a[0] + 0.0005, 59.9],
            "lon": [lon_a[0], 18.0],
        }
    )
    zones = _fit(
        cube,
        np.r_[a, b],
        places=places,
        locality_names={"0188TC109": "Norrtälje"},
        name_max_m=300,
    )
    names = set(zones["name"])
    assert "Busstorget" in names
    assert any(n.startswith("Norrtälje zon Z") for n in names)
    assert zones.crs.to_epsg() == 4326
    row = zones[zones["name"] == "Busstorget"].iloc[0]
    geom = row["geometry"]
    assert isinstance(geom, shapely.Polygon)  # dissolved into one polygon
    x, y = lonlat_to_sweref(*np.asarray(geom.exterior.coords).T)
    area = shapely.Polygon(np.c_[x, y]).area
    assert area == pytest.approx(cells_area_m2(cube.cells[a]).sum(), rel=0.02)
    assert row["n_cells"] == 7 and row["pattern"] == "new_hot" and row["hot_now"]
    assert row["count_window"] == int(cube.counts[a, -4:].sum())
    # two zones close to the same place get distinct names
    both = _fit(cube, np.r_[a, b], places=places.iloc[:1], name_max_m=5000)
    assert both["name"].is_unique


def test_invalid_parameters(cube: SpaceTimeCube) -> None:
    with pytest.raises(ValidationError) as err:
        HotspotZones(source="x", method="y", places=pd.DataFrame({"namn": []})).fit(  # type: ignore[arg-type]
            cube, emerging=_emerging(cube, np.zeros(0, int))
        )
    assert len(err.value.problems) == 3


def test_cluster_events_on_weighted_cells() -> None:
    rng = np.random.default_rng(0)
    blobs = []
    for dy, dx in ((0, 0), (1200, 0)):
        lat = CENTRE[0] + (dy + rng.normal(0, 40, 400)) * M
        lon = CENTRE[1] + (dx + rng.normal(0, 40, 400)) * M / np.cos(np.radians(CENTRE[0]))
        blobs.append((lat, lon))
    noise_lat = CENTRE[0] + rng.uniform(-3000, 3000, 150) * M
    noise_lon = CENTRE[1] + rng.uniform(-3000, 3000, 150) * M / np.cos(np.radians(CENTRE[0]))
    lat = np.concatenate([blobs[0][0], blobs[1][0], noise_lat])
    lon = np.concatenate([blobs[0][1], blobs[1][1], noise_lon])
    labels = cluster_events(lat, lon, eps_m=100, min_events=30, res=11)
    assert labels.shape == lat.shape
    first, second = labels[:400], labels[400:800]
    assert (first >= 0).mean() > 0.9 and (second >= 0).mean() > 0.9
    assert np.bincount(first[first >= 0]).argmax() != np.bincount(second[second >= 0]).argmax()
    assert (labels[800:] == -1).mean() > 0.9


def test_split_at_saddles_separates_two_peaks_not_a_plateau(cube: SpaceTimeCube) -> None:
    lat, lon = cells_to_points(cube.cells)
    x, y = lonlat_to_sweref(lon, lat)
    ax, ay = lonlat_to_sweref([CENTRE[1]], [CENTRE[0]])
    bx = ax + 600.0
    da = np.hypot(x - ax, y - ay)
    db = np.hypot(x - bx, y - ay)
    members = np.flatnonzero((da < 400) | (db < 400)).astype(np.int64)
    W = cube.weights(1)
    one = cells_to_components(W, members)
    assert len(set(one)) == 1  # one connected area
    score = 10 * np.exp(-(da**2) / 150**2) + 10 * np.exp(-(db**2) / 150**2)
    two = split_at_saddles(W, members, one, score, saddle_ratio=0.5)
    assert len(set(two)) == 2
    near_a = members[da[members] < 150]
    near_b = members[db[members] < 150]
    assert len(set(two[np.isin(members, near_a)])) == 1
    assert set(two[np.isin(members, near_a)]).isdisjoint(two[np.isin(members, near_b)])
    # a low pass merges nothing away when the ratio is 0
    assert len(set(split_at_saddles(W, members, one, score, saddle_ratio=0.0))) == 1
    # a noisy plateau is one zone
    rng = np.random.default_rng(0)
    flat = 10 + rng.uniform(0, 1, cube.n_cells)
    assert len(set(split_at_saddles(W, members, one, flat, saddle_ratio=0.5))) == 1


def test_zones_are_hotspots_as_a_whole() -> None:
    from analysis.config import AnalysisConfig
    from analysis.cube import reports_to_cube
    from analysis.demo import synthetic_reports
    from analysis.emerging import EmergingHotspots
    from geo.boundaries import load_boundaries, localities_to_cells

    reports, _ = synthetic_reports(seed=4)
    loc = load_boundaries("locality", kommun="norrtalje")
    cfg = AnalysisConfig()
    c = reports_to_cube(reports, localities_to_cells(loc[loc["primary"]], 10), cfg)
    eh = EmergingHotspots.from_config(cfg).fit(c)
    kept = HotspotZones.from_config(cfg).fit(c, emerging=eh)
    everything = HotspotZones.from_config(cfg, drop_no_pattern=False).fit(c, emerging=eh)
    assert (kept.zones_["pattern"] != "no_pattern").all()
    assert len(everything.zones_) == len(kept.zones_) + kept.dropped_
    new = kept.zones_[kept.zones_["pattern"] == "new_hot"]
    assert len(new) and new["hot_now"].all() and (new["steps_hot"] == 1).all()
    assert (kept.zones_["first_seen"] <= kept.zones_["last_seen"]).all()
