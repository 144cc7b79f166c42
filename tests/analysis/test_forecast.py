"""Risk forecasts: the product's estimator and the baselines."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.neighbors import KernelDensity

from analysis._forecast_data import EventSeries, events_to_series
from analysis._predictive import calibrated_level, common_dispersion
from analysis.cube import SpaceTimeCube
from analysis.forecast import (
    FALLBACK_HALF_LIFE,
    HALF_LIFE_GRID,
    GiStarForecast,
    KDEForecast,
    LastKForecast,
    ProspectiveForecast,
    RiskForecast,
    estimate_kappa,
    hit_text_sv,
    make_forecaster,
    negbin_interval,
    sum_interval,
)
from analysis.getis_ord import GetisOrdGiStar
from geo.cells import average_edge_m, cells_to_disks, points_to_cells
from geo.errors import ValidationError

LAT, LON = 59.7580, 18.7050  # Norrtälje centre
START = pd.Timestamp("2024-01-01")


def _disk(k: int = 2) -> np.ndarray:
    """A centre cell at res 10 and its k-ring, sorted (centre is found by _centre)."""
    centre = points_to_cells([LAT], [LON], 10)
    _, disk = cells_to_disks(centre, k)
    return np.unique(disk)


def _centre() -> int:
    return int(points_to_cells([LAT], [LON], 10)[0])


def _series(counts: np.ndarray, cells: np.ndarray, step_days: int = 7) -> EventSeries:
    T = counts.shape[1]
    edges = pd.DatetimeIndex([START + pd.Timedelta(days=step_days * i) for i in range(T + 1)])
    return EventSeries(cells=cells, counts=counts.astype(float), edges=edges)


def test_risk_forecast_equals_hand_computed_posterior_mean() -> None:
    cells = _disk(1)  # the centre and its six neighbours
    c = int(np.flatnonzero(cells == _centre())[0])
    counts = np.zeros((7, 2))
    counts[c] = [2, 4]
    f = RiskForecast(half_life_weeks=1.0, k=1, shrinkage=2.0).fit(_series(counts, cells))
    w = np.array([0.5, 1.0])  # age 1 week and 0 weeks, half-life 1 week
    e = counts[c] @ w  # 5
    E = w.sum()  # 1.5
    m = e / (7 * E)  # the centre's 1-ring holds all 7 cells
    expected = (e + 2.0) / (E + 2.0 / m)
    assert f.risk_[c] == pytest.approx(expected)
    assert f.exposure_ == pytest.approx(1.5)
    # a neighbour without events borrows from the centre (its ring holds the centre)
    other = (c + 1) % 7
    assert 0 < f.risk_[other] < f.risk_[c]
    series = f.predict()
    assert series.index.name == "cell" and series.loc[np.uint64(cells[c])] == f.risk_[c]


def test_risk_forecast_prefers_recent_and_persistent_cells() -> None:
    cells = _disk(3)
    rng = np.random.default_rng(1)
    counts = rng.poisson(0.05, size=(cells.size, 20)).astype(float)
    old, recent = 0, cells.size - 1
    counts[old] = 0
    counts[recent] = 0
    counts[old, :4] = 5  # 20 events long ago
    counts[recent, -4:] = 5  # 20 events in the last month
    f = RiskForecast().fit(_series(counts, cells))
    assert f.risk_[recent] > f.risk_[old]
    assert np.argmax(f.risk_) == recent


def test_empirical_bayes_shrinks_single_events_more_than_rich_cells() -> None:
    cells = _disk(4)
    rng = np.random.default_rng(2)
    counts = rng.poisson(0.02, size=(cells.size, 26)).astype(float)
    lonely, rich = 3, 40
    counts[lonely] = 0
    counts[lonely, -1] = 1  # one event, neighbourhood almost empty
    counts[rich] = 2  # two events every week
    f = RiskForecast().fit(_series(counts, cells))
    raw = f.rate_
    assert f.risk_[lonely] < 0.8 * raw[lonely]  # pulled towards the quiet neighbourhood
    assert f.risk_[rich] == pytest.approx(raw[rich], rel=0.25)  # keeps its own rate
    assert 0 < f.kappa_ < 1e6


def test_estimate_kappa_is_large_without_extra_poisson_variation() -> None:
    m = np.full(100, 0.5)
    e = m * 10  # rates exactly at the prior
    assert estimate_kappa(e, 10.0, m) == 1e6
    spread = np.r_[np.zeros(50), np.full(50, 10.0)]
    assert estimate_kappa(spread, 10.0, m) < 10


def test_last_k_counts_the_last_k_steps() -> None:
    cells = _disk(1)
    counts = np.zeros((7, 5))
    counts[0] = [9, 0, 0, 1, 1]
    counts[1] = [0, 0, 0, 0, 3]
    f = LastKForecast(k=2).fit(_series(counts, cells))
    assert f.risk_[0] == 2 and f.risk_[1] == 3
    assert LastKForecast(k=50).fit(_series(counts, cells)).risk_[0] == 11


def test_kde_window_sum_equals_one_fit_on_all_points() -> None:
    rng = np.random.default_rng(3)
    n = 300
    lat = LAT + rng.normal(0, 0.002, n)
    lon = LON + rng.normal(0, 0.004, n)
    times = START + pd.to_timedelta(rng.uniform(0, 28, n), unit="D")
    series = events_to_series(points_to_cells(lat, lon, 10), times, "1w", lat=lat, lon=lon)
    f = KDEForecast(bandwidth_m=200.0, rtol=1e-8).fit(series)
    kde = KernelDensity(bandwidth=200.0).fit(series.events_xy())
    expected = kde.score_samples(series.centres_xy()) + np.log(series.event_index.size)
    np.testing.assert_allclose(f.risk_, expected, rtol=1e-6)
    # the densest cell is near the centre of the cloud
    top = series.centres_xy()[np.argmax(f.risk_)]
    assert np.hypot(*top) < 300


def test_risk_forecast_fits_a_space_time_cube_like_its_counts() -> None:
    cells = _disk(2)
    rng = np.random.default_rng(6)
    counts = rng.poisson(0.8, size=(cells.size, 10)).astype(float)
    cube = SpaceTimeCube.from_arrays(cells, counts * 1.5, counts=counts)  # weighted values
    from_cube = RiskForecast().fit(cube)
    from_series = RiskForecast().fit(_series(counts, cells))
    np.testing.assert_allclose(from_cube.risk_, from_series.risk_)  # counts, not weights
    assert list(from_cube.cells_) == list(cells)


def test_kde_on_a_cube_uses_cell_centres() -> None:
    cells = _disk(3)
    c = int(np.flatnonzero(cells == _centre())[0])
    values = np.zeros((cells.size, 3))
    values[c] = 4
    cube = SpaceTimeCube.from_arrays(cells, values)
    f = KDEForecast().fit(cube)
    assert np.argmax(f.risk_) == c


def test_prospective_weights_by_distance_and_age() -> None:
    cells = _disk(5)
    c = int(np.flatnonzero(cells == _centre())[0])
    counts = np.zeros((cells.size, 10))
    counts[c, -1] = 1  # this week
    f = ProspectiveForecast().fit(_series(counts, cells))
    assert f.risk_[c] == pytest.approx(1.0)
    width = np.sqrt(3) * average_edge_m(10)
    d = np.hypot(*(_series(counts, cells).centres_xy() - _series(counts, cells).centres_xy()[c]).T)
    ring1 = (d > 0) & (d < 1.2 * width)
    assert np.allclose(f.risk_[ring1], 1 / (1 + d[ring1] / width))
    assert (f.risk_[d > 400] == 0).all()
    assert (f.risk_[(d <= 400)] > 0).all()
    counts2 = np.zeros_like(counts)
    counts2[c, -3] = 1  # two weeks older
    assert ProspectiveForecast().fit(_series(counts2, cells)).risk_[c] == pytest.approx(1 / 3)
    counts3 = np.zeros_like(counts)
    counts3[c, 0] = 1  # 9 weeks old: outside the 8-week bandwidth
    assert ProspectiveForecast().fit(_series(counts3, cells)).risk_.max() == 0


def test_gistar_forecast_is_the_latest_gi_z() -> None:
    cells = _disk(3)
    rng = np.random.default_rng(4)
    counts = rng.poisson(1.0, size=(cells.size, 6)).astype(float)
    series = _series(counts, cells)
    f = GiStarForecast().fit(series)
    gi = GetisOrdGiStar(k=1).fit(SpaceTimeCube.from_arrays(cells, counts))
    np.testing.assert_allclose(f.risk_, gi.z_[:, -1])


def test_fit_accepts_event_frames_and_report_frames() -> None:
    cell = _centre()
    frame = pd.DataFrame(
        {
            "cell": np.array([cell, cell, 0, cell], dtype=np.uint64),
            "occurred_at": pd.to_datetime(
                ["2024-01-01", "2024-01-09", "2024-01-10", "2024-01-12"], utc=True
            ),
            "status": ["approved", "approved", "approved", "pending"],
        }
    )
    f = LastKForecast(k=5).fit(frame)
    assert list(f.cells_) == [cell]
    assert f.risk_[0] == 2  # the cell-less and the pending report are left out


def test_errors_are_clear() -> None:
    with pytest.raises(ValidationError, match="not fitted"):
        RiskForecast().predict()
    with pytest.raises(ValidationError, match="half_life_weeks"):
        RiskForecast(half_life_weeks=0).fit(_series(np.ones((7, 2)), _disk(1)))
    with pytest.raises(ValidationError, match="select_by"):
        RiskForecast(select_by="luck").fit(_series(np.ones((7, 2)), _disk(1)))
    with pytest.raises(ValidationError, match="unknown forecast method"):
        make_forecaster("oracle")
    with pytest.raises(ValidationError, match="column 'cell'"):
        RiskForecast().fit(pd.DataFrame({"time": [START]}))


# ---------------------------------------------------------------- the product's choices
def test_auto_memory_is_short_when_places_change_and_wins_its_inner_backtest() -> None:
    rng = np.random.default_rng(0)
    cells = _disk(8)
    rate = rng.gamma(0.5, 1.0, size=(cells.size, 1))
    stable = rng.poisson(np.broadcast_to(rate, (cells.size, 30)))
    model = RiskForecast().fit(_series(stable, cells))
    assert set(model.selection_) == {str(h) for h in HALF_LIFE_GRID}
    best = max(model.selection_.values())
    assert model.selection_[str(model.half_life_weeks_chosen_)] == best
    assert model.half_life_weeks_chosen_ >= 8  # nothing changed: not the shortest memory
    moved = stable.copy()
    moved[:, 18:] = rng.poisson(np.broadcast_to(rate[::-1], (cells.size, 12)))
    quick = RiskForecast().fit(_series(moved, cells))
    assert quick.half_life_weeks_chosen_ == 4  # the places changed 12 weeks ago
    # a fixed half-life is used as given
    fixed = RiskForecast(half_life_weeks=13).fit(_series(moved, cells))
    assert fixed.half_life_weeks_chosen_ == 13


def test_80_percent_intervals_hold_about_80_percent_of_next_week_counts() -> None:
    rng = np.random.default_rng(6)
    cells = _disk(6)
    rate = rng.gamma(1.0, 1.5, size=(cells.size, 1))
    counts = rng.poisson(rng.gamma(4.0, np.broadcast_to(rate, (cells.size, 31)) / 4.0))
    model = RiskForecast().fit(_series(counts[:, :30], cells))
    assert model.dispersion_ == pytest.approx(0.25, abs=0.12)  # gamma shape 4
    sel = model.risk_ >= 0.5
    y = counts[sel, 30]
    inside = (y >= model.lower_[sel]) & (y <= model.upper_[sel])
    assert 0.7 <= inside.mean() <= 0.9
    assert np.all(model.lower_ <= model.upper_)


def test_interval_of_counts_is_the_one_closest_to_the_level() -> None:
    lo, hi = negbin_interval(np.array([1.0, 20.0]), 0.0, 0.8)
    # Poisson(1): 0..1 holds 73.6 %, 0..2 holds 92.0 %: 0..1 is closer to 80 %
    assert (lo[0], hi[0]) == (0, 1)
    assert lo[1] < 20 < hi[1]
    # the total of cells: a Poisson total without extra dispersion
    assert sum_interval([0.5, 0.5], 0.0) == (0.0, 1.0)
    assert sum_interval([0.0], 0.3) == (0.0, 0.0)
    wide = sum_interval([2.0, 2.0], 1.0)
    assert wide[1] > sum_interval([2.0, 2.0], 0.0)[1]
    assert "av händelserna" in hit_text_sv(0.4, 0.05, 8) and "40 %" in hit_text_sv(0.4, 0.05, 8)


def test_intervals_are_calibrated_on_past_counts_only_when_there_are_enough() -> None:
    rng = np.random.default_rng(3)
    mu = rng.uniform(0.5, 6.0, size=4000)
    y = rng.poisson(mu).astype(float)  # Poisson counts, but a too large dispersion given
    lo, hi = negbin_interval(mu, 0.3, 0.8)
    wide = float(np.mean((y >= lo) & (y <= hi)))
    assert wide > 0.85  # the nominal level over-covers
    level = calibrated_level(mu, y, 0.3, 0.8)
    assert level < 0.8
    lo, hi = negbin_interval(mu, 0.3, level)
    assert abs(float(np.mean((y >= lo) & (y <= hi))) - 0.8) < abs(wide - 0.8)
    assert abs(float(np.mean((y >= lo) & (y <= hi))) - 0.8) < 0.05
    # too few past cell-steps (or all expecting < 0.5): the level as asked
    assert calibrated_level(mu[:20], y[:20], 0.6, 0.8) == 0.8
    assert calibrated_level(mu * 0.01, y, 0.6, 0.8) == 0.8


def test_a_shock_all_cells_share_widens_the_interval_of_their_total() -> None:
    rng = np.random.default_rng(4)
    mu = rng.uniform(0.2, 2.0, size=300)
    # every step all cells are busier or quieter together (relative variance 0.04)
    shocks = rng.gamma(25.0, 1 / 25.0, size=40)
    past = [(mu, rng.poisson(mu * g).astype(float)) for g in shocks]
    common = common_dispersion(past, 0.0)
    assert common == pytest.approx(0.04, abs=0.025)
    assert common_dispersion(past[:3], 0.0) == 0.0  # too few steps to tell
    steady = [(mu, rng.poisson(mu).astype(float)) for _ in range(40)]
    assert common_dispersion(steady, 0.0) < 0.005
    # the totals' interval holds about 80 % of the totals only with the shared shock
    totals = np.array([y.sum() for _, y in past])
    for c, low, high in ((0.0, 0.0, 0.6), (common, 0.65, 0.95)):
        lo, hi = sum_interval(mu, 0.0, 0.8, c)
        assert low <= float(np.mean((totals >= lo) & (totals <= hi))) <= high


def test_too_little_history_falls_back_to_the_stated_memory() -> None:
    cells = _disk(2)
    counts = np.zeros((cells.size, 6))
    counts[0, :] = 1.0  # six events: too few to choose a memory by backtest
    model = RiskForecast().fit(_series(counts, cells))
    assert model.half_life_weeks_chosen_ == FALLBACK_HALF_LIFE
    assert model.hit_share_ == pytest.approx(1.0)  # the one busy cell is always flagged


def test_windows_sharing_a_cache_fit_as_separate_series() -> None:
    # the inner backtest of nested windows is scored once per series family: a window
    # fitted after its parent (and at an offset) equals the same counts fitted alone
    cells = _disk(3)
    rng = np.random.default_rng(5)
    counts = rng.poisson(0.4, size=(cells.size, 30)).astype(float)
    counts[:5, -6:] += 3.0
    parent = _series(counts, cells)
    RiskForecast().fit(parent)
    for start, stop in ((0, 24), (0, 29), (3, 27)):
        shared = RiskForecast().fit(parent.window(start, stop))
        alone = RiskForecast().fit(_series(counts[:, start:stop].copy(), cells))
        assert shared.half_life_weeks_chosen_ == alone.half_life_weeks_chosen_
        assert shared.selection_ == alone.selection_
        np.testing.assert_allclose(shared.risk_, alone.risk_, rtol=1e-12, atol=0)
        np.testing.assert_array_equal(shared.lower_, alone.lower_)
        np.testing.assert_array_equal(shared.upper_, alone.upper_)
        assert shared.dispersion_ == pytest.approx(alone.dispersion_, rel=1e-12)
