"""Backtest protocol: no future information, ties by expected value, paired comparison."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd
import pytest

import analysis.forecast as forecast_module
from analysis._forecast_data import EventSeries
from analysis._ranking import expected_capture, flag_weights, n_star
from analysis.backtest import backtest, paired_differences
from analysis.evaluate import score_forecast
from analysis.forecast import LastKForecast

Series = Callable[[np.ndarray], EventSeries]


# ---------------------------------------------------------------- ties
def test_ties_at_the_cut_off_are_scored_by_their_expected_value() -> None:
    risk = np.array([9.0, 5.0, 5.0, 5.0, 1.0])
    actual = np.array([1.0, 3.0, 0.0, 0.0, 2.0])
    area = np.ones(5)
    # two places: the 9 and one of three tied cells, each flagged with probability 1/3
    w = flag_weights(risk, 2)
    np.testing.assert_allclose(w, [1, 1 / 3, 1 / 3, 1 / 3, 0])
    n, a, m = expected_capture(risk, actual, area, 2.0)
    assert (n, a, m) == (pytest.approx(1 + 3 / 3), pytest.approx(2.0), 2)
    s = score_forecast(risk, actual, area, np.arange(5, dtype=np.uint64), 0.4, 5.0)
    assert s["n"] == pytest.approx(2.0) and s["pei_star"] == pytest.approx(2.0 / 5.0)
    # the score does not depend on the cells' order or their H3 index
    perm = np.array([3, 0, 4, 2, 1])
    again = score_forecast(risk[perm], actual[perm], area, np.arange(5, dtype=np.uint64), 0.4, 5)
    assert again["n"] == pytest.approx(s["n"])


def test_n_star_is_the_most_events_any_m_cells_hold() -> None:
    y = np.array([0.0, 3.0, 1.0, 5.0, 1.0])
    assert [n_star(y, m) for m in (0, 1, 2, 3, 9)] == [0.0, 5.0, 8.0, 9.0, 10.0]
    # the one definition serves both scoring paths: flagged sets and expected capture
    s = score_forecast(y, y, np.ones(5), np.arange(5, dtype=np.uint64), 0.4, 5.0)
    assert s["n_star"] == 8.0 and s["pei_star"] == pytest.approx(1.0)


def test_all_cells_tied_score_the_share_of_the_area() -> None:
    actual = np.array([4.0, 0.0, 0.0, 0.0])
    s = score_forecast(np.zeros(4), actual, np.ones(4), np.arange(4, dtype=np.uint64), 0.25, 4)
    assert s["hit_rate"] == pytest.approx(0.25) and s["pai"] == pytest.approx(1.0)


# ---------------------------------------------------------------- no future information
def test_events_after_an_origin_change_neither_its_cells_nor_its_area(
    monkeypatch: pytest.MonkeyPatch, weekly_series: Series
) -> None:
    seen: list[np.ndarray] = []

    class Spy(LastKForecast):
        name = "spy"

        def fit(self, data):  # type: ignore[no-untyped-def]
            seen.append(data.cells.copy())
            return super().fit(data)

    monkeypatch.setitem(forecast_module.FORECASTERS, "spy", Spy)
    rng = np.random.default_rng(0)
    counts = np.zeros((60, 10))
    counts[:20, :] = rng.poisson(1.0, size=(20, 10))
    later = counts.copy()
    later[30:60, 9] = rng.poisson(3.0, size=30) + 1  # new cells in the test step (step 9)
    kw = {"train_steps": 6, "origins": 1, "coverages": [0.05, 0.2], "methods": {"spy": {"k": 3}}}
    a = backtest(weekly_series(counts), universe="training", **kw)  # type: ignore[arg-type]
    b = backtest(weekly_series(later), universe="training", **kw)  # type: ignore[arg-type]
    np.testing.assert_array_equal(seen[0], seen[1])
    assert seen[0].size == int((counts[:, 3:9].sum(axis=1) > 0).sum())
    for col in ("area_total_m2", "cells", "area_m2", "n", "N", "pei_star"):
        np.testing.assert_allclose(a[col].to_numpy(), b[col].to_numpy())


def test_boundary_universe_keeps_every_cell_and_the_given_area(weekly_series: Series) -> None:
    counts = np.zeros((30, 8))
    counts[:5] = 1.0
    s = backtest(
        weekly_series(counts),
        train_steps=4,
        origins=2,
        coverages=[0.1],
        methods={"count_all": {}},
        total_area_m2=1e6,
    )
    assert (s["area_total_m2"] == 1e6).all()
    assert (s["deviance"] >= 0).all() and (s["cell_steps"] == 30).all()


# ---------------------------------------------------------------- paired comparison
def test_paired_differences_report_median_iqr_interval_and_wilcoxon() -> None:
    rows = []
    rng = np.random.default_rng(1)
    for o in range(25):
        base = rng.uniform(0.3, 0.6)
        for method, score in (("lagesbild", base + 0.05), ("other", base), ("same", base + 0.05)):
            rows.append({"origin": o, "coverage": 0.01, "method": method, "pei_star": score})
    out = {r["other"]: r for r in paired_differences(pd.DataFrame(rows))}
    better = out["other"]
    assert better["median"] == pytest.approx(0.05) and better["q25"] == pytest.approx(0.05)
    assert better["ci95"] == [pytest.approx(0.05), pytest.approx(0.05)]
    assert better["wilcoxon_p"] < 0.001 and better["verdict"] == "ahead"
    assert out["same"]["wilcoxon_p"] == 1.0 and out["same"]["verdict"] == "level"
    assert better["origins"] == 25


def test_flag_weights_of_several_sizes_equal_one_size_at_a_time() -> None:
    from analysis._ranking import flag_weights_many

    risk = np.array([3.0, 1.0, 1.0, 1.0, np.nan, 2.0, 0.5, 1.0])
    sizes = (0, 1, 2, 3, 5, 8, 20)
    for m, w in zip(sizes, flag_weights_many(risk, sizes), strict=True):
        np.testing.assert_array_equal(w, flag_weights(risk, m))
    assert flag_weights_many(risk, (3,))[0].sum() == pytest.approx(3.0)


def test_caught_on_the_cells_with_events_equals_the_dense_weights() -> None:
    from analysis._predictive import poisson_deviance, poisson_deviance_sparse
    from analysis._ranking import caught_many, flag_weights_many

    rng = np.random.default_rng(3)
    risk = rng.choice([0.0, 0.5, 1.0, 2.0, np.nan], size=400)  # many ties, some NaN
    y = np.where(rng.random(400) < 0.1, rng.integers(1, 5, 400), 0).astype(float)
    rows = np.flatnonzero(y)
    sizes = (0, 1, 7, 40, 399, 400, 900)
    dense = [float(w @ y) for w in flag_weights_many(risk, sizes)]
    np.testing.assert_allclose(caught_many(risk, sizes, rows, y[rows]), dense, rtol=1e-12)
    assert sum(dense) > 0
    mu = np.nan_to_num(risk, nan=0.3) + 0.01
    assert poisson_deviance_sparse(rows, y[rows], mu) == pytest.approx(
        poisson_deviance(y, mu), rel=1e-12
    )
    for m in (1, 5, 40, 400):
        assert n_star(y[rows], m) == n_star(y, m)


def test_equal_areas_flag_the_same_cells_as_the_risk_order() -> None:
    risk = np.array([0.2, 3.0, 1.0, 1.0, 0.0, 2.0])
    y = np.array([1.0, 4.0, 2.0, 0.0, 5.0, 1.0])
    n, a, m = expected_capture(risk, y, np.full(6, 2.0), 5.0)
    assert (m, a) == (3, 6.0)
    assert n == pytest.approx(4.0 + 1.0 + 0.5 * 2.0)  # the tie at 1.0 shares its place
    n2, a2, m2 = expected_capture(risk, y, np.array([2.0, 2.0, 2.0, 2.0, 2.0, 4.0]), 5.0)
    assert (m2, a2) == (2, 6.0) and n2 == pytest.approx(5.0)
