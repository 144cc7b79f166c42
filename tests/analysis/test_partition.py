"""Partitioned emerging hot spots (analysis.partition) equal the unpartitioned run."""

from __future__ import annotations

import multiprocessing
from concurrent.futures import ProcessPoolExecutor

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

from analysis.cube import SpaceTimeCube
from analysis.emerging import EmergingHotspots
from analysis.getis_ord import _window_stats
from analysis.partition import GiTask, PartitionedEmerging, partition_cells, partition_gistar
from analysis.zones import HotspotZones
from geo.cells import cells_to_disks, cells_to_parent, points_to_cells
from geo.errors import ValidationError


def _tenant(seed: int = 0, steps: int = 16) -> SpaceTimeCube:
    """About 2,800 cells of resolution 9 (several parents at 6), hotspots near borders."""
    rng = np.random.default_rng(seed)
    centre = points_to_cells(np.array([59.76]), np.array([18.70]), 9)
    _, disk = cells_to_disks(centre, 30)
    cells = np.unique(disk)
    n = cells.size
    counts = rng.poisson(0.05, size=(n, steps))
    for _ in range(12):  # clusters of reports, some growing over time
        i = rng.integers(0, n)
        _, near = cells_to_disks(cells[i : i + 1], 2)
        idx = np.searchsorted(cells, near)
        idx = idx[(idx < n) & (cells[np.minimum(idx, n - 1)] == near)]
        growth = np.linspace(0.5, 3.0, steps) if rng.random() < 0.5 else np.full(steps, 2.0)
        counts[idx] += rng.poisson(growth, size=(idx.size, steps))
    return SpaceTimeCube.from_arrays(cells, sp.csr_matrix(counts * 1.5), counts=counts)


def test_partitions_cover_every_cell_once_with_a_one_ring_halo() -> None:
    cube = _tenant()
    parts = partition_cells(cube.cells, 6)
    assert len(parts) >= 3
    own = np.concatenate([p.own for p in parts])
    assert np.array_equal(np.sort(own), np.arange(cube.n_cells))
    W = cube.weights(1)
    for p in parts:
        needed = np.unique(W[p.own].indices)  # every neighbour of an own cell
        assert set(needed) <= set(p.local)
        assert set(p.halo).isdisjoint(p.own)
        assert (cells_to_parent(cube.cells[p.own], 6) == p.parent).all()
        assert set(p.halo) <= set(needed)  # nothing beyond one ring


@pytest.mark.parametrize(("window", "fdr"), [("cube", True), ("cube", False), ("step", True)])
def test_partitioned_equals_unpartitioned(window: str, fdr: bool) -> None:
    cube = _tenant(seed=1)
    ref = EmergingHotspots(window=window, fdr=fdr).fit(cube)  # type: ignore[arg-type]
    calls: list[int] = []

    def counting_map(f, tasks):  # type: ignore[no-untyped-def]
        calls.append(len(tasks))
        return [f(t) for t in tasks]

    model = EmergingHotspots(window=window, fdr=fdr)  # type: ignore[arg-type]
    part = PartitionedEmerging(model, parent_res=6, map_fn=counting_map)
    part.fit(cube)
    assert len(part.partitions_) >= 3 and calls == [len(part.partitions_)] * 2
    assert np.abs(part.z_ - ref.z_).max() <= 1e-9
    assert np.array_equal(part.significant_, ref.gistar_.significant_)
    assert np.array_equal(part.hot_, ref.hot_) and np.array_equal(part.cold_, ref.cold_)
    assert np.array_equal(part.ring_counts_, ref.ring_counts_)
    assert list(part.pattern_) == list(ref.pattern_)
    assert np.array_equal(part.trend_, ref.trend_)
    np.testing.assert_allclose(part.tau_, ref.tau_, atol=1e-12)
    assert np.array_equal(part.recurring_, ref.recurring_)
    assert np.array_equal(part.too_few_, ref.too_few_)
    # the data make real patterns, so the equality above is not one of empty arrays
    assert ref.hot_.any() and len(set(ref.pattern_)) >= 3


def test_partition_tasks_run_in_other_processes() -> None:
    """The tasks are plain picklable functions of arrays: a process pool (as a Dask
    cluster would, with ``client.map``) gives the same exact result."""
    cube = _tenant(seed=3)
    ref = EmergingHotspots(fdr=True).fit(cube)  # type: ignore[arg-type]
    ctx = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=2, mp_context=ctx) as pool:
        part = PartitionedEmerging(
            EmergingHotspots(fdr=True), parent_res=6, map_fn=lambda f, t: list(pool.map(f, t))
        ).fit(cube)
    assert np.abs(part.z_ - ref.z_).max() <= 1e-9
    assert list(part.pattern_) == list(ref.pattern_)


def test_zones_built_after_merging_equal_the_unpartitioned_zones() -> None:
    cube = _tenant(seed=2)
    model = EmergingHotspots(fdr=True)
    ref = HotspotZones().fit(cube, emerging=EmergingHotspots(fdr=True).fit(cube))
    part = PartitionedEmerging(model, parent_res=6).fit(cube)
    got = HotspotZones().fit(cube, emerging=part)  # type: ignore[arg-type]
    assert len(ref.zones_) >= 2
    pd.testing.assert_frame_equal(
        got.zones_.drop(columns="geometry"), ref.zones_.drop(columns="geometry")
    )
    assert got.zones_.geometry.geom_equals(ref.zones_.geometry).all()
    assert np.array_equal(got.zone_ids_, ref.zone_ids_)


def test_partition_needs_its_halo_and_the_tenant_wide_window() -> None:
    """Leaving out the halo or using the partition's own window changes z: the equality
    above depends on both (the data put reports across partition borders)."""
    cube = _tenant(seed=1)
    ref = EmergingHotspots(fdr=True).fit(cube)  # type: ignore[arg-type]
    Y, C = cube.sparse("values"), cube.sparse("counts")
    mean, std, N = _window_stats(sp.csr_matrix(Y), "cube")
    part = max(partition_cells(cube.cells, 6), key=lambda p: ref.ring_counts_[p.halo].sum())
    assert ref.ring_counts_[part.halo].sum() > 0

    def z_of(rows: np.ndarray, window: tuple[float, float, float]) -> np.ndarray:
        task = GiTask(cube.cells[rows], np.searchsorted(rows, part.own), Y[rows], C[rows],
                      1, *window)  # fmt: skip
        return partition_gistar(task)[0]

    exact = z_of(part.local, (mean, std, N))
    assert np.abs(exact - ref.z_[part.own]).max() <= 1e-9
    assert np.abs(z_of(part.own, (mean, std, N)) - ref.z_[part.own]).max() > 0.1
    local_stats = _window_stats(sp.csr_matrix(Y[part.own]), "cube")
    assert np.abs(z_of(part.local, local_stats) - ref.z_[part.own]).max() > 0.1


def test_parent_resolution_is_checked() -> None:
    with pytest.raises(ValidationError, match="parent_res"):
        PartitionedEmerging(parent_res=12).fit(_tenant())
    with pytest.raises(ValidationError, match="not partitioned"):
        PartitionedEmerging(EmergingHotspots(time_lag=1)).fit(_tenant())
