"""The forecast a kommun uses, chosen and checked on the kommun's own recent weeks.

:class:`ForecastChoice` is what ``lagesbild analyse`` records per kommun and week:

1. **Choice.** The product's :class:`~analysis.forecast.RiskForecast` chooses its memory
   (half-life) by an inner rolling-origin backtest on the history before the week; the
   chosen method, its parameters and whether the fallback was used are the choice.
2. **Check.** The same procedure is run as it would have run in each of the last
   ``check_weeks`` weeks (fitted only on the weeks before each of them) and scored on
   what then happened: the share of events in the :data:`~analysis.forecast.REPORT_COVERAGE`
   riskiest cells (hit rate), PEI* at that coverage, the share of cell-weeks inside their
   80 % interval (cells expecting at least
   :data:`~analysis.backtest.INTERVAL_MIN_EXPECTED`), and the **weeks hit**: weeks whose
   kommun-wide count fell inside the 80 % interval of the expected total.
3. **Minimum data.** With fewer than ``min_weeks`` weeks of history, or fewer than
   :data:`~analysis.forecast.MIN_SELECT_EVENTS` events in the checked weeks, nothing is
   chosen by backtest: the stated fallback (half-life
   :data:`~analysis.forecast.FALLBACK_HALF_LIFE` weeks) is recorded without figures.

:meth:`ForecastChoice.text_sv` says it to planners in plain Swedish.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from analysis._forecast_data import EventSeries
from analysis._predictive import sum_interval
from analysis._ranking import capture_scores, expected_capture, n_star
from analysis.backtest import INTERVAL_MIN_EXPECTED
from analysis.forecast import (
    FALLBACK_HALF_LIFE,
    MIN_SELECT_EVENTS,
    REPORT_COVERAGE,
    RiskForecast,
)
from geo.errors import ValidationError

#: Recent weeks the recorded figures are measured on.
CHECK_WEEKS = 10

#: Weeks of history below which the fallback is used.
MIN_WEEKS = 12


@dataclass(frozen=True)
class ForecastChoice:
    """The chosen forecaster of one kommun and its figures on the recent weeks.

    ``hit_rate``, ``pei_star`` and ``interval_coverage`` are means over the checked weeks
    (None when the fallback was used); ``weeks_hit`` of ``weeks_checked`` weeks had a
    kommun-wide count inside the 80 % interval of the expected total.
    """

    method: str
    params: dict[str, Any] = field(default_factory=dict)
    fallback: bool = False
    weeks_checked: int = 0
    weeks_hit: int = 0
    hit_rate: float | None = None
    pei_star: float | None = None
    interval_coverage: float | None = None
    coverage: float = REPORT_COVERAGE

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (the fields)."""
        return asdict(self)

    def text_sv(self) -> str:
        """How often the forecast hit, in plain Swedish."""
        if self.fallback or self.weeks_checked == 0:
            return (
                "Prognosen har ännu för lite historik för att visa hur ofta den träffar; "
                f"den väger de senaste {FALLBACK_HALF_LIFE:g} veckorna tyngst."
            )
        text = (
            f"Prognosen träffade {self.weeks_hit} av {self.weeks_checked} veckor: så ofta låg "
            "antalet händelser inom det förväntade intervallet."
        )
        if self.hit_rate is not None:
            text += (
                f" I snitt hände {round(100 * self.hit_rate)} % av händelserna på de "
                f"{round(100 * self.coverage)} % av platserna som prognosen pekade ut som "
                "mest utsatta."
            )
        return text


def _params(fitted: RiskForecast, fallback: bool) -> dict[str, Any]:
    hl = fitted.half_life_weeks_chosen_
    return {
        "half_life_weeks": None if not math.isfinite(hl) else round(hl, 3),
        "k": int(fitted.k),
        "kappa": round(float(fitted.kappa_), 4),
        "dispersion": round(float(fitted.dispersion_), 4),
        "fallback": fallback,
    }


def choose_forecast(
    series: EventSeries,
    *,
    check_weeks: int = CHECK_WEEKS,
    min_weeks: int = MIN_WEEKS,
    coverage: float = REPORT_COVERAGE,
    **params: Any,
) -> tuple[ForecastChoice, RiskForecast]:
    """Choose the kommun's forecaster on ``series`` and check it on the recent weeks.

    Parameters
    ----------
    series
        Weekly counts; the last step is the latest complete week.
    check_weeks, min_weeks
        Weeks checked, and weeks of history needed to choose by backtest.
    coverage
        Share of the cells flagged for the hit rate and PEI*.
    **params
        Parameters of :class:`~analysis.forecast.RiskForecast`.

    Returns
    -------
    (choice, forecast)
        The recorded choice and the forecaster fitted on the whole series.
    """
    problems = []
    if check_weeks < 1:
        problems.append(f"check_weeks must be >= 1, got {check_weeks}")
    if not 0 < coverage <= 1:
        problems.append(f"coverage must be in (0, 1], got {coverage}")
    if problems:
        raise ValidationError(problems, context="forecast choice")
    T = series.n_steps
    checked = list(range(max(1, T - int(check_weeks)), T))
    enough = (
        int(min_weeks) <= T
        and bool(checked)
        and float(series.counts[:, checked].sum()) >= MIN_SELECT_EVENTS
    )
    if not enough:
        fitted = RiskForecast(**{**params, "half_life_weeks": FALLBACK_HALF_LIFE}).fit(series)
        choice = ForecastChoice("lagesbild", _params(fitted, True), True, coverage=coverage)
        return choice, fitted
    fitted = RiskForecast(**params).fit(series)
    area = np.ones(series.n_cells)
    hits: list[float] = []
    peis: list[float] = []
    inside, cells, weeks_hit = 0.0, 0.0, 0
    for s in checked:
        past = RiskForecast(**params).fit(series.window(0, s))
        y = series.counts[:, s]
        n, a, m = expected_capture(past.risk_, y, area, coverage * series.n_cells)
        score = capture_scores(n, float(y.sum()), n_star(y, m), m, a, float(series.n_cells))
        for key, out in (("hit_rate", hits), ("pei_star", peis)):
            if math.isfinite(score[key]):
                out.append(score[key])
        sel = past.risk_ >= INTERVAL_MIN_EXPECTED
        inside += float(((y >= past.lower_) & (y <= past.upper_))[sel].sum())
        cells += float(sel.sum())
        lo, hi = sum_interval(
            past.risk_, past.dispersion_, float(past.level), past.common_dispersion_
        )
        weeks_hit += int(lo <= float(y.sum()) <= hi)
    choice = ForecastChoice(
        "lagesbild",
        _params(fitted, False),
        False,
        weeks_checked=len(checked),
        weeks_hit=weeks_hit,
        hit_rate=float(np.mean(hits)) if hits else None,
        pei_star=float(np.mean(peis)) if peis else None,
        interval_coverage=inside / cells if cells > 0 else None,
        coverage=coverage,
    )
    return choice, fitted


__all__ = ["CHECK_WEEKS", "MIN_WEEKS", "ForecastChoice", "choose_forecast"]
