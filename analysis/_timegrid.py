"""Time grid of the space-time cube: reporting-period boundaries and hour filters."""

from __future__ import annotations

import datetime as dt

import numpy as np
import numpy.typing as npt
import pandas as pd

#: One week, the unit of every step of the cube.
WEEK = pd.Timedelta(days=7)


def period_edges(
    end: pd.Timestamp,
    *,
    start: pd.Timestamp | None = None,
    n_steps: int | None = None,
    step_weeks: int = 1,
    weekday: int = 1,
    hour: int = 13,
    minute: int = 0,
    timezone: str = "Europe/Stockholm",
    anchor: dt.date | None = None,
    end_inclusive: bool = True,
) -> pd.DatetimeIndex:
    """Step boundaries (UTC) of a reporting-period grid that covers ``end``.

    The last boundary is the first local ``weekday hour:minute`` strictly after ``end``
    (``end_inclusive=True``: an event at ``end`` is covered) or at/after ``end``
    (``end_inclusive=False``: ``end`` is an exclusive deadline), moved forward to a week
    that is a multiple of ``step_weeks`` from ``anchor`` when given. Going back in steps
    of ``step_weeks`` weeks, the grid has ``n_steps`` steps, or as many as needed to cover
    ``start``. Boundaries are computed in local time, so they stay at 13:00 across
    daylight-saving changes.

    Returns
    -------
    pandas.DatetimeIndex
        ``T + 1`` increasing tz-aware UTC timestamps.
    """
    end_local = pd.Timestamp(end).tz_convert(timezone).tz_localize(None)
    days_back = (end_local.weekday() - weekday) % 7
    last = end_local.normalize() - pd.Timedelta(days=days_back)
    last = last + pd.Timedelta(hours=hour, minutes=minute)
    if last > end_local:
        last -= WEEK
    if end_inclusive or last < end_local:
        last += WEEK  # first boundary after end
    if anchor is not None and step_weeks > 1:
        a = pd.Timestamp(anchor) + pd.Timedelta(hours=hour, minutes=minute)
        weeks = int(round((last - a) / WEEK))
        rem = weeks % step_weeks
        if rem:
            last += (step_weeks - rem) * WEEK
    step = step_weeks * WEEK
    if n_steps is None:
        if start is None:
            n_steps = 1
        else:
            start_local = pd.Timestamp(start).tz_convert(timezone).tz_localize(None)
            n_steps = max(1, int(np.ceil((last - start_local) / step)))
    naive = pd.DatetimeIndex([last - (n_steps - i) * step for i in range(n_steps + 1)])
    local = naive.tz_localize(
        timezone, ambiguous=np.ones(len(naive), dtype=bool), nonexistent="shift_forward"
    )
    return local.tz_convert("UTC")


def hours_mask(
    occurred_at: pd.Series, hours: tuple[int, int], timezone: str
) -> npt.NDArray[np.bool_]:
    """Whether each timestamp's local hour lies in ``[from, to)``, wrapping midnight."""
    h = pd.DatetimeIndex(occurred_at).tz_convert(timezone).hour.to_numpy()
    lo, hi = hours
    if lo < hi:
        return (h >= lo) & (h < hi)
    return (h >= lo) | (h < hi)


__all__ = ["WEEK", "hours_mask", "period_edges"]
