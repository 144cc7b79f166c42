"""Forecast accuracy metrics, the coverage and tie rules, input checks and the backtest."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from pyproj import Transformer
from shapely.geometry import box

import analysis.forecast as forecast_module
from analysis.evaluate import (
    backtest,
    evaluate_events,
    flag_cells,
    prepare_series,
    rank_cells,
    read_events,
    score_flags,
    score_forecast,
    select_methods,
)
from analysis.forecast import LastKForecast
from geo.errors import ValidationError

LAT, LON = 59.7580, 18.7050


# ---------------------------------------------------------------- hand-computed metrics
def test_hit_rate_pai_and_pei_star_by_hand() -> None:
    # 10 cells of 1 m² each, A = 10 m²; coverage 20 % -> the two riskiest cells
    risk = np.array([9, 8, 7, 6, 5, 4, 3, 2, 1, 0], dtype=float)
    actual = np.array([1, 0, 3, 0, 0, 2, 0, 0, 0, 4], dtype=float)
    area = np.ones(10)
    cells = np.arange(10, dtype=np.uint64)
    s = score_forecast(risk, actual, area, cells, coverage=0.2, total_area_m2=10.0)
    assert s["cells"] == 2
    assert s["n"] == 1 and s["N"] == 10
    assert s["hit_rate"] == pytest.approx(0.1)
    assert s["pai"] == pytest.approx(0.1 / 0.2)
    assert s["n_star"] == 7  # the best two cells hold 4 + 3
    assert s["pei_star"] == pytest.approx(1 / 7)
    # flagging the two best cells is perfect
    best = score_forecast(actual, actual, area, cells, 0.2, 10.0)
    assert best["pei_star"] == 1.0 and best["pai"] == pytest.approx(0.7 / 0.2)


def test_pai_uses_the_boundary_area_when_it_is_larger_than_the_cells() -> None:
    s = score_flags([0], [2.0, 2.0], [1.0, 1.0], total_area_m2=20.0)
    assert s["hit_rate"] == 0.5
    assert s["pai"] == pytest.approx(0.5 / (1 / 20))


def test_undefined_scores_are_nan() -> None:
    s = score_flags([0], [0.0, 0.0], [1.0, 1.0], 2.0)
    assert math.isnan(s["hit_rate"]) and math.isnan(s["pai"]) and math.isnan(s["pei_star"])


# ---------------------------------------------------------------- tie and coverage rules
def test_display_order_breaks_ties_by_the_smaller_cell_index() -> None:
    risk = np.array([1.0, 5.0, 5.0, 5.0, np.nan])
    cells = np.array([10, 40, 20, 30, 5], dtype=np.uint64)
    assert list(rank_cells(risk, cells)) == [2, 3, 1, 0, 4]
    flagged = flag_cells(risk, np.ones(5), cells, coverage=0.4, total_area_m2=5.0)
    assert list(cells[flagged]) == [20, 30]
    # the rule does not depend on the input order
    perm = np.array([3, 0, 4, 1, 2])
    again = flag_cells(risk[perm], np.ones(5), cells[perm], 0.4, 5.0)
    assert sorted(cells[perm][again]) == [20, 30]


def test_coverage_takes_the_shortest_prefix_reaching_the_area() -> None:
    risk = np.array([3.0, 2.0, 1.0, 0.5])
    area = np.array([1.0, 2.0, 3.0, 4.0])
    cells = np.arange(4, dtype=np.uint64)
    A = 10.0
    assert len(flag_cells(risk, area, cells, 0.25, A)) == 2  # 1 < 2.5 <= 1 + 2
    assert len(flag_cells(risk, area, cells, 0.1, A)) == 1  # exactly one cell's area
    assert len(flag_cells(risk, area, cells, 0.001, A)) == 1  # never fewer than one cell
    assert len(flag_cells(risk, area, cells, 1.0, A)) == 4
    with pytest.raises(ValidationError, match="coverage"):
        flag_cells(risk, area, cells, 0.0, A)


# ---------------------------------------------------------------- input
def _raw(n: int = 60, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    to_3006 = Transformer.from_crs(4326, 3006, always_xy=True)
    x, y = to_3006.transform(LON + rng.normal(0, 0.003, n), LAT + rng.normal(0, 0.0015, n))
    t = pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.uniform(0, 70, n), unit="D")
    return pd.DataFrame(
        {
            "YEAR": t.year,
            "MONTH": t.month,
            "DAY": t.day,
            "HOUR": t.hour,
            "MINUTE": t.minute,
            "when": t.strftime("%Y-%m-%d %H:%M"),
            "X": x,
            "Y": y,
        }
    )


def test_unlocated_rows_are_dropped_and_counted_not_mapped_to_zero() -> None:
    raw = _raw(20)
    raw.loc[0:2, ["X", "Y"]] = 0.0
    raw.loc[3, ["X", "Y", "YEAR"]] = np.nan  # an empty row: no place and no time
    events, summary = read_events(
        raw,
        time_parts=["YEAR", "MONTH", "DAY", "HOUR", "MINUTE"],
        x_col="X",
        y_col="Y",
        crs="EPSG:3006",
    )
    assert summary == {"rows": 20, "unlocated": 4, "located": 16}
    assert len(events) == 16
    assert events["lat"].between(59, 60).all() and events["lon"].between(18, 19).all()
    # the parts give the same time as the text column
    assert events["time"].iloc[0] == pd.Timestamp(str(raw["when"].iloc[4]))


def test_time_column_and_lat_lon_columns() -> None:
    raw = _raw(10)
    raw["lat"], raw["lon"] = LAT, LON
    events, summary = read_events(raw, time_col="when", lat_col="lat", lon_col="lon")
    assert summary["located"] == 10
    assert (events["lat"] == LAT).all()


def test_bad_input_lists_every_problem_at_once() -> None:
    raw = _raw(10)
    raw.loc[1, "when"] = "inte ett datum"
    raw["X"] = raw["X"].astype(object)
    raw.loc[2, "X"] = "abc"
    with pytest.raises(ValidationError) as err:
        read_events(raw, time_col="when", x_col="X", y_col="Y", crs="EPSG:3006")
    text = str(err.value)
    assert "1 rows have a time that cannot be parsed" in text and "inte ett datum" in text
    assert "not numbers" in text
    with pytest.raises(ValidationError) as err:
        read_events(raw, time_col="TID", x_col="X", y_col="Y")
    assert len(err.value.problems) == 2
    assert "'TID' is missing" in str(err.value) and "--crs" in str(err.value)
    with pytest.raises(ValidationError, match="either a time column"):
        read_events(raw, lat_col="Y", lon_col="X")


def test_positions_outside_wgs84_range_are_errors() -> None:
    raw = _raw(5)
    raw["lat"], raw["lon"] = 95.0, LON
    with pytest.raises(ValidationError, match="outside WGS84"):
        read_events(raw, time_col="when", lat_col="lat", lon_col="lon")


# ---------------------------------------------------------------- series and backtest
def _events(weeks: int = 12, seed: int = 1) -> pd.DataFrame:
    """A persistent hot spot plus background noise around Norrtälje."""
    rng = np.random.default_rng(seed)
    start = pd.Timestamp("2024-01-01")
    hot_t = start + pd.to_timedelta(rng.uniform(0, 7 * weeks, 10 * weeks), unit="D")
    bg_t = start + pd.to_timedelta(rng.uniform(0, 7 * weeks, 6 * weeks), unit="D")
    lat = np.r_[np.full(hot_t.size, LAT), LAT + rng.uniform(-0.01, 0.01, bg_t.size)]
    lon = np.r_[np.full(hot_t.size, LON), LON + rng.uniform(-0.02, 0.02, bg_t.size)]
    return pd.DataFrame({"time": hot_t.append(bg_t), "lat": lat, "lon": lon})


def test_series_is_anchored_at_the_end_with_complete_steps() -> None:
    events = _events(weeks=10)
    series, info = prepare_series(events, res=10, step="1w")
    end = series.edges[-1]
    assert end == (events["time"].max() + pd.Timedelta(microseconds=1)).ceil("D")
    assert series.n_steps == info["available_steps"]
    assert info["used"] + info["outside_window"] == len(events)
    assert info["area_basis"] == "cells with an event in each training window"


def test_boundary_sets_the_area_and_drops_outside_events() -> None:
    events = _events(weeks=10)
    region = box(LON - 0.005, LAT - 0.003, LON + 0.005, LAT + 0.003)
    series, info = prepare_series(events, res=10, step="1w", boundary=region)
    assert info["area_basis"] == "boundary"
    assert info["area_m2"] == pytest.approx(
        0.01 * 0.006 * 111_320**2 * np.cos(np.radians(LAT)), rel=0.02
    )
    assert info["outside_boundary"] > 0
    assert series.n_cells > np.unique(series.cells[series.event_index]).size  # empty cells too


def test_backtest_never_shows_the_test_step_to_a_method(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[tuple[pd.Timestamp, pd.Timestamp]] = []

    class Spy(LastKForecast):
        name = "spy"

        def fit(self, data):  # type: ignore[no-untyped-def]
            seen.append((data.edges[0], data.edges[-1]))
            return super().fit(data)

    monkeypatch.setitem(forecast_module.FORECASTERS, "spy", Spy)
    series, _ = prepare_series(_events(weeks=12), res=10)
    scores = backtest(series, train_steps=4, origins=3, methods={"spy": {"k": 2}})
    tests = sorted(scores["test_start"].unique())
    assert len(seen) == 3 and len(tests) == 3
    for (lo, hi), test_start in zip(seen, tests, strict=True):
        assert hi == test_start  # training ends where the test step begins
        assert (hi - lo) == pd.Timedelta(weeks=4)
    assert tests[-1] == series.edges[-2]  # the last origin scores the last step


def test_backtest_finds_the_persistent_hot_spot() -> None:
    series, info = prepare_series(_events(weeks=12), res=10)
    methods = select_methods(["lagesbild", "last_k", "kde", "prospective", "gistar"])
    scores = backtest(series, train_steps=6, origins=4, coverages=[0.001], methods=methods)
    lb = scores[scores["method"] == "lagesbild"]
    assert (lb["cells"] == 1).all()  # the smallest coverage flags one cell
    assert (lb["pei_star"] == 1.0).all() and (lb["hit_rate"] > 0.4).all()
    assert set(scores["method"]) == {"lagesbild", "last_k", "kde", "prospective", "gistar"}


def test_too_few_steps_and_empty_windows_are_reported() -> None:
    series, _ = prepare_series(_events(weeks=6), res=10)
    with pytest.raises(ValidationError, match="too few steps"):
        backtest(series, train_steps=4, origins=4)
    with pytest.raises(ValidationError) as err:
        evaluate_events(_events(weeks=6), train_steps=0, origins=0, coverages=[0, 2])
    assert len(err.value.problems) == 4
    with pytest.raises(ValidationError, match="no located events"):
        evaluate_events(_events().iloc[:0])


def test_evaluate_events_summary_shape() -> None:
    out = evaluate_events(
        _events(weeks=12),
        train_steps=6,
        origins=4,
        coverages=[0.01, 0.05],
        methods=select_methods(["lagesbild", "count_all", "sepp", "last_k", "gistar"]),
    )
    assert out["origins"] == 4 and out["res"] == 10
    assert (
        out["area_basis"] == "cells with an event in each training window" and out["area_km2"] > 0
    )
    assert len(out["results"]) == 5 * 2
    row = out["results"][0]
    assert set(row) >= {"method", "coverage", "hit_rate", "pai", "pei_star"}
    assert out["methods"]["last_k"] == {"k": 8}
    paired = {(r["other"], r["coverage"]) for r in out["paired"]}
    assert paired == {
        (m, c) for m in ("count_all", "sepp", "last_k", "gistar") for c in (0.01, 0.05)
    }
    assert set(out["fitted"]["sepp"]) == {"theta", "omega", "background_share"}
    assert out["fitted"]["lagesbild"]["half_life_weeks_chosen"] > 0


def test_unknown_methods_are_named() -> None:
    with pytest.raises(ValidationError, match="nosuch"):
        select_methods(["lagesbild", "nosuch"])
