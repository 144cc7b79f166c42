"""The forecaster each kommun uses: chosen by ``lagesbild analyse``, told on /lagesbild.

:func:`record_forecast_choice` runs per kommun and week in ``analyse``: it reads the
approved reports of the :data:`LOOKBACK_WEEKS` weeks up to the end of the week, lets
:func:`analysis.forecast_choice.choose_forecast` choose and check the forecaster on them
and stores the choice with its figures (:mod:`geo.store.forecast`).
:func:`forecast_choice_text` gives the planners' sentence for a week.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from analysis._forecast_data import events_to_series
from analysis._grouping import sorted_unique
from analysis.forecast_choice import ForecastChoice, choose_forecast
from geo.cells import cells_to_disks
from geo.store.analysis_rows import read_analysis_reports
from geo.store.forecast import latest_forecast_choice, save_forecast_choice
from webmap.weeks import canonical_week, monday_of

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from webmap.results import ReportsRead

#: Weeks of history the choice is made on (the recent ones are also checked).
LOOKBACK_WEEKS = 52


def week_end_utc(week: str) -> pd.Timestamp:
    """Midnight (UTC) after the Sunday of ``week``: the end of its history."""
    return pd.Timestamp(monday_of(week) + dt.timedelta(weeks=1))


def choose_for_week(
    engine: Engine, kommun: str, week: str, read: ReportsRead | None = None
) -> ForecastChoice | None:
    """The choice for ``kommun`` on the weeks up to the end of ``week`` (None: no reports).

    ``read``: reports read already (those of the analysis); the store is asked only
    when they do not cover the weeks.
    """
    end = week_end_utc(canonical_week(week))
    start = end - pd.Timedelta(weeks=LOOKBACK_WEEKS)
    reports = read.between(kommun, start, end) if read is not None else None
    if reports is None:
        with engine.connect() as conn:
            reports = read_analysis_reports(conn, kommun, start=start, end=end)
    if reports.empty:
        return None
    cells = np.asarray(reports["cell"].to_numpy(), dtype=np.uint64)
    times = pd.DatetimeIndex(reports["occurred_at"]).tz_convert(None)
    ok = cells != 0
    if not ok.any():
        return None
    _, ring = cells_to_disks(sorted_unique(cells[ok]), 1)
    first = times[ok].min()
    n_steps = max(1, min(LOOKBACK_WEEKS, int(np.ceil((end - first) / pd.Timedelta(weeks=1)))))
    series = events_to_series(
        cells[ok],
        times[ok],
        "1w",
        universe=sorted_unique(np.asarray(ring, dtype=np.uint64)),
        start=end - pd.Timedelta(weeks=n_steps),
        n_steps=n_steps,
    )
    choice, _ = choose_forecast(series)
    return choice


def record_forecast_choice(
    engine: Engine, kommun: str, week: str, read: ReportsRead | None = None
) -> dict[str, Any] | None:
    """Choose, check and store the forecaster of ``kommun``'s ``week``; the stored fields.

    ``read``: reports read already (see :func:`choose_for_week`).
    """
    return save_forecast_choice_of(
        engine, kommun, week, choose_for_week(engine, kommun, week, read)
    )


def save_forecast_choice_of(
    engine: Engine, kommun: str, week: str, choice: ForecastChoice | None
) -> dict[str, Any] | None:
    """Store ``choice`` (from :func:`choose_for_week`) for ``kommun``'s ``week``; the stored
    fields (None: no choice)."""
    week = canonical_week(week)
    if choice is None:
        return None
    row = choice.to_dict()
    with engine.begin() as conn:
        save_forecast_choice(conn, kommun, week, row)
    return {"week": week, **row, "text": choice.text_sv()}


def forecast_choice_text(engine: Engine, kommun: str, week: str) -> str | None:
    """The planners' sentence for ``week`` (from the latest choice up to it; None: none)."""
    with engine.connect() as conn:
        row = latest_forecast_choice(conn, kommun, canonical_week(week))
    if row is None:
        return None
    fields = {k: row[k] for k in ForecastChoice.__dataclass_fields__ if k in row}
    return ForecastChoice(**fields).text_sv()


__all__ = [
    "choose_for_week",
    "forecast_choice_text",
    "record_forecast_choice",
    "save_forecast_choice_of",
]
