"""The analysis cache keeps the step arrays compact on disk and gives them back dense."""

from __future__ import annotations

import json

import numpy as np
import pytest

from analysis.config import AnalysisConfig
from analysis.demo import synthetic_reports
from analysis.hotspots import analyse
from geo.boundaries import load_boundaries
from webmap.results import CachedResult, StepArrays, _read, _write, result_to_cached


@pytest.fixture(scope="module")
def result():
    localities = load_boundaries("locality", kommun="norrtalje")
    localities = localities[localities["primary"]].reset_index(drop=True)
    reports, _truth = synthetic_reports(seed=3)
    return analyse(reports, localities, AnalysisConfig(kommun="norrtalje"))


def test_cached_result_gives_the_dense_gi_star_and_weighted_arrays(result) -> None:
    cached = result_to_cached(result, "norrtalje", "2026-W47", 7)
    z_dense = np.asarray(result.emerging.z_, dtype=np.float32)
    weighted = result.cube.dense("values").astype(np.float32)
    assert cached.z.shape == z_dense.shape == weighted.shape
    assert np.array_equal(cached.z, z_dense)
    assert np.array_equal(cached.weighted, weighted)
    # compact: cells without reports in their neighbourhood share z rows
    assert cached.steps.z_rows_data.shape[0] < z_dense.shape[0]


def test_step_arrays_survive_the_disk_round_trip(result, tmp_path) -> None:
    cached = result_to_cached(result, "norrtalje", "2026-W47", 7)
    _write(tmp_path / "res", cached)
    back = _read(tmp_path / "res")
    assert back is not None
    assert np.array_equal(back.z, cached.z)
    assert np.array_equal(back.weighted, cached.weighted)
    assert json.dumps(back.zones, default=str) == json.dumps(cached.zones, default=str)
    assert back.cells.equals(cached.cells)


def test_dense_arrays_are_still_accepted() -> None:
    z = np.array([[0.5, -1.0], [2.0, 0.0]], dtype=np.float32)
    w = np.array([[0.0, 1.0], [3.0, 0.0]], dtype=np.float32)
    res = CachedResult("k", "2026-W01", 1, {"step_starts": []}, cells=None, z=z, weighted=w)
    assert np.array_equal(res.z, z)
    assert np.array_equal(res.weighted, w)
    steps = StepArrays.from_dense(z, w)
    assert np.array_equal(steps.weighted(), w)
    with pytest.raises(TypeError):
        CachedResult("k", "2026-W01", 1, {}, cells=None, z=z)


def test_reports_read_give_the_part_a_later_window_needs() -> None:
    import pandas as pd

    from webmap.results import ReportsRead

    when = pd.to_datetime(
        ["2026-01-05 00:00:00", "2026-01-11 23:59:59.999999", "2026-01-12 00:00:00", "2026-01-20"],
        format="ISO8601",
        utc=True,
    )
    frame = pd.DataFrame({"occurred_at": when, "cell": [1, 2, 3, 4]})
    read = ReportsRead("k", pd.Timestamp("2026-01-01", tz="UTC"), when[-1], frame)
    part = read.between("k", pd.Timestamp("2026-01-05"), pd.Timestamp("2026-01-12"))
    assert part is not None and list(part["cell"]) == [1, 2]  # naive times are UTC
    # a window reaching outside what was read, or another kommun, is read again
    assert read.between("k", pd.Timestamp("2025-12-31"), pd.Timestamp("2026-01-12")) is None
    assert read.between("k", pd.Timestamp("2026-01-05"), pd.Timestamp("2026-01-21")) is None
    assert read.between("other", pd.Timestamp("2026-01-05"), pd.Timestamp("2026-01-12")) is None
