"""The kommun's forecaster: chosen on its own history, checked on the recent weeks."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest

from analysis._forecast_data import EventSeries
from analysis.forecast import FALLBACK_HALF_LIFE
from analysis.forecast_choice import ForecastChoice, choose_forecast
from geo.errors import ValidationError

Series = Callable[[np.ndarray], EventSeries]


def _hotspots(weeks: int, seed: int = 0) -> np.ndarray:
    """80 cells: four steady hotspots (3 a week) and a sparse background."""
    rng = np.random.default_rng(seed)
    rate = np.full(80, 0.05)
    rate[[3, 17, 40, 66]] = 3.0
    return rng.poisson(rate[:, None], size=(80, weeks)).astype(float)


def test_steady_hotspots_are_found_and_the_figures_say_so(weekly_series: Series) -> None:
    choice, fitted = choose_forecast(weekly_series(_hotspots(40)), coverage=0.05)
    assert choice.method == "lagesbild" and not choice.fallback
    assert choice.weeks_checked == 10
    # four of the 80 cells (5 %) hold 12 of ~15.8 events a week; the forecast flags them
    assert choice.hit_rate is not None and 0.65 < choice.hit_rate < 0.85
    assert choice.pei_star is not None and choice.pei_star > 0.9
    assert choice.interval_coverage is not None and 0.5 <= choice.interval_coverage <= 1.0
    assert 5 <= choice.weeks_hit <= 10
    assert choice.params["half_life_weeks"] == (
        None
        if not np.isfinite(fitted.half_life_weeks_chosen_)
        else round(fitted.half_life_weeks_chosen_, 3)
    )
    text = choice.text_sv()
    assert text.startswith(f"Prognosen träffade {choice.weeks_hit} av 10 veckor")
    assert f"{round(100 * choice.hit_rate)} %" in text


def test_the_check_uses_only_weeks_before_each_checked_week(weekly_series: Series) -> None:
    counts = _hotspots(40)
    base, _ = choose_forecast(weekly_series(counts), coverage=0.05)
    # moving the hotspots in the last checked week hurts only that week's score
    moved = counts.copy()
    moved[:, -1] = 0.0
    moved[[5, 9, 50, 70], -1] = 3.0
    after, _ = choose_forecast(weekly_series(moved), coverage=0.05)
    assert after.hit_rate is not None and base.hit_rate is not None
    assert after.hit_rate == pytest.approx((base.hit_rate * 10 - _last_hit(counts)) / 10, abs=0.1)


def _last_hit(counts: np.ndarray) -> float:
    y = counts[:, -1]
    return float(y[[3, 17, 40, 66]].sum() / y.sum())


def test_short_history_uses_the_stated_fallback(weekly_series: Series) -> None:
    choice, fitted = choose_forecast(weekly_series(_hotspots(6)))
    assert choice.fallback and choice.weeks_checked == 0 and choice.hit_rate is None
    assert fitted.half_life_weeks_chosen_ == FALLBACK_HALF_LIFE
    assert "för lite historik" in choice.text_sv()
    # few events in the checked weeks: the same rule
    sparse = np.zeros((80, 30))
    sparse[3, ::3] = 1.0
    assert choose_forecast(weekly_series(sparse))[0].fallback


def test_round_trip_through_a_dict_and_bad_arguments() -> None:
    c = ForecastChoice("lagesbild", {"half_life_weeks": 13.0}, False, 10, 7, 0.6, 0.5, 0.8)
    assert ForecastChoice(**c.to_dict()) == c
    assert "7 av 10 veckor" in c.text_sv() and "60 %" in c.text_sv()
    with pytest.raises(ValidationError) as err:
        choose_forecast(EventSeries.__new__(EventSeries), check_weeks=0, coverage=2.0)
    assert "check_weeks" in str(err.value) and "coverage" in str(err.value)
