"""Stored cell universes: read back while the boundaries are the same, new when they change."""

from __future__ import annotations

import os
from pathlib import Path

import geopandas as gpd
import pandas as pd
import shapely

from geo.boundaries import localities_to_cells
from geo.universe import StoredCellFill, StoredRings, universe_key


def _frame(east: float = 18.712) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"code": ["A", "B"], "name": ["Norra", "Södra"]},
        geometry=[
            shapely.box(18.700, 59.758, east, 59.764),
            shapely.box(18.700, 59.752, 18.712, 59.7585),  # overlaps A: first wins
        ],
        crs="EPSG:4326",
    )


def test_a_stored_universe_equals_a_fresh_fill_and_is_read_back(tmp_path: Path) -> None:
    fill = StoredCellFill(tmp_path / "universe")
    first = fill(_frame(), 10)
    pd.testing.assert_frame_equal(first, localities_to_cells(_frame(), 10))
    (stored,) = (tmp_path / "universe").glob("*.parquet")
    # the file is what the next fill returns: marked by a row only it holds
    marked = pd.concat([first, first.iloc[:1].assign(locality="X")], ignore_index=True)
    marked.to_parquet(stored, index=False)
    again = fill(_frame(), 10)
    assert list(again["locality"])[-1] == "X"
    assert not [p for p in os.listdir(tmp_path / "universe") if p.startswith(".tmp-")]


def test_a_changed_boundary_resolution_or_code_gets_its_own_universe(tmp_path: Path) -> None:
    fill = StoredCellFill(tmp_path)
    base = universe_key(_frame(), 10)
    moved = _frame(east=18.720)
    renamed = _frame().assign(code=["A", "C"])
    keys = {base, universe_key(moved, 10), universe_key(_frame(), 9), universe_key(renamed, 10)}
    assert len(keys) == 4
    assert universe_key(_frame(), 10) == base  # the same boundaries, the same key
    wider = fill(moved, 10)
    assert len(wider) > len(fill(_frame(), 10))
    pd.testing.assert_frame_equal(wider, localities_to_cells(moved, 10))
    assert len(list(tmp_path.glob("*.parquet"))) == 2


def test_stored_ring_weights_equal_fresh_ones_and_follow_the_cells(tmp_path: Path) -> None:
    from analysis.cube import ring_weights

    cells = localities_to_cells(_frame(), 10)["cell"].to_numpy()
    rings = StoredRings(tmp_path, ring_weights)
    fresh = ring_weights(cells, 2, True)
    for _ in range(2):  # built and kept, then read back
        w = rings(cells, 2, True)
        assert w.shape == fresh.shape and (w != fresh).nnz == 0
        assert w.has_sorted_indices
    assert len(list(tmp_path.glob("ring-*.npz"))) == 1
    fewer = rings(cells[1:], 2, True)
    assert (fewer != ring_weights(cells[1:], 2, True)).nnz == 0
    assert (rings(cells, 1, False) != ring_weights(cells, 1, False)).nnz == 0
    assert len(list(tmp_path.glob("ring-*.npz"))) == 3
