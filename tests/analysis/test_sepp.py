"""Grid SEPP: EM recovers the self-excitation of simulated data."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analysis._forecast_data import EventSeries
from analysis.sepp import SEPPForecast, SEPPRing1Forecast, fit_sepp_em
from geo.cells import cells_to_disks, points_to_cells

LAT, LON = 59.7580, 18.7050
START = pd.Timestamp("2024-01-01")


def _hawkes(
    n_cells: int, days: float, mu: float, theta: float, omega: float, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    """Cells and times (days) of a per-cell Hawkes process simulated by its clusters."""
    rng = np.random.default_rng(seed)
    cells: list[int] = []
    times: list[float] = []
    for c in range(n_cells):
        gen = list(rng.uniform(0, days, rng.poisson(mu * days)))
        while gen:
            t = gen.pop()
            cells.append(c)
            times.append(t)
            for child in t + rng.exponential(1 / omega, rng.poisson(theta)):
                if child < days:
                    gen.append(float(child))
    return np.array(cells), np.array(times)


def _series(cells: np.ndarray, days: np.ndarray, n_cells: int, weeks: int) -> EventSeries:
    centre = points_to_cells([LAT], [LON], 10)
    _, disk = cells_to_disks(centre, 4)
    universe = np.unique(disk)[:n_cells]
    step = (days // 7).astype(np.int64)
    counts = np.zeros((n_cells, weeks))
    np.add.at(counts, (cells, step), 1.0)
    edges = pd.DatetimeIndex([START + pd.Timedelta(weeks=i) for i in range(weeks + 1)])
    return EventSeries(
        cells=universe,
        counts=counts,
        edges=edges,
        event_index=cells.astype(np.int64),
        event_step=step,
        event_lat=np.full(cells.size, np.nan),
        event_lon=np.full(cells.size, np.nan),
        event_time=np.asarray(START + pd.to_timedelta(days, unit="D"), dtype="datetime64[ns]"),
    )


def test_em_recovers_theta_of_simulated_self_exciting_data() -> None:
    cells, days = _hawkes(40, 364.0, mu=0.05, theta=0.4, omega=0.5, seed=1)
    fit = fit_sepp_em(cells, days, 40, 364.0)
    assert fit["theta"] == pytest.approx(0.4, abs=0.15)
    assert 1 / fit["omega"] == pytest.approx(2.0, rel=0.5)
    assert fit["background_share"] == pytest.approx(0.6, abs=0.15)
    # the forecaster on the same events reports the same figures
    model = SEPPForecast().fit(_series(cells, days, 40, 52))
    assert model.theta_ == pytest.approx(fit["theta"], abs=1e-6)
    assert model.risk_.shape == (40,) and np.all(model.risk_ > 0)


def test_without_self_excitation_theta_goes_to_zero_and_risk_is_the_rate() -> None:
    cells, days = _hawkes(40, 364.0, mu=0.05, theta=0.0, omega=0.5, seed=2)
    model = SEPPForecast().fit(_series(cells, days, 40, 52))
    assert model.theta_ < 0.08
    per_step = np.bincount(cells, minlength=40) / 52.0
    assert np.corrcoef(model.risk_, per_step)[0, 1] > 0.95


def test_recent_event_raises_the_next_week_forecast() -> None:
    cells, days = _hawkes(40, 364.0, mu=0.05, theta=0.4, omega=0.5, seed=3)
    base = SEPPForecast().fit(_series(cells, days, 40, 52))
    late = np.r_[cells, 5, 5], np.r_[days, 363.0, 363.5]
    after = SEPPForecast().fit(_series(late[0], late[1], 40, 52))
    assert after.risk_[5] - base.risk_[5] > 0.3  # about 2 * theta carried into next week


def test_ring1_variant_pools_the_background_with_neighbours() -> None:
    cells, days = _hawkes(40, 364.0, mu=0.05, theta=0.4, omega=0.5, seed=4)
    series = _series(cells, days, 40, 52)
    own = SEPPForecast().fit(series)
    ring = SEPPRing1Forecast().fit(series)
    assert ring.get_params()["ring"] == 1
    assert np.std(ring.mu_) < np.std(own.mu_)  # smoother background
