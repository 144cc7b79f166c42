"""Risk for a patrol shift: expected incidents per cell during one or more shifts.

The weekly forecast of :class:`analysis.forecast.RiskForecast` is multiplied by the share
of a week's incidents that fall in the shift's hours (a smoothed time-of-week profile,
shrunk per cell towards the kommun's profile); see :mod:`analysis.patrol`.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd

from analysis._forecast_data import approved_events, events_to_series
from analysis.forecast import REPORT_COVERAGE, RiskForecast, hit_text_sv
from geo.cells import (
    cells_resolution,
    cells_to_disks,
)
from geo.errors import ValidationError
from geo.schema import DEFAULT_TZ

CellArray = npt.NDArray[np.uint64]
FloatArray = npt.NDArray[np.float64]


# ---------------------------------------------------------------------- shifts
@dataclass(frozen=True)
class Shift:
    """Hours of a shift: ``start`` to ``end`` (exclusive), wrapping past midnight.

    ``Shift(18, 2)`` is 18:00-02:00 (the hours 18..23 of the shift day and 0..1 of the
    next day); ``Shift(8, 16)`` stays within one day.
    """

    start: int
    end: int

    def __post_init__(self) -> None:
        same = self.start == self.end % 24 and self.end != 24
        if not (0 <= self.start <= 23 and 0 <= self.end <= 24) or same:
            raise ValidationError(f"ogiltigt pass {self.start}-{self.end} (timmar 0-24, olika)")

    @classmethod
    def parse(cls, text: str | Shift) -> Shift:
        """``"18-02"``, ``"18–02"`` or ``"18:00-02:00"``."""
        if isinstance(text, Shift):
            return text
        m = re.fullmatch(r"\s*(\d{1,2})(?::00)?\s*[-–]\s*(\d{1,2})(?::00)?\s*", str(text))
        if not m:
            raise ValidationError(f"passet {text!r} ska skrivas som t.ex. 18-02")
        return cls(int(m.group(1)), int(m.group(2)))

    @property
    def wraps(self) -> bool:
        return self.end <= self.start

    @property
    def length(self) -> int:
        return (self.end - self.start) % 24 or 24

    @property
    def hours(self) -> list[int]:
        """Clock hours in shift order (18, 19, ..., 23, 0, 1)."""
        return [(self.start + i) % 24 for i in range(self.length)]

    @property
    def label(self) -> str:
        return f"{self.start:02d}–{self.end % 24:02d}"

    def bounds(self, date: dt.date) -> tuple[pd.Timestamp, pd.Timestamp]:
        """Local (naive) start and end of the shift that starts on ``date``."""
        start = pd.Timestamp(date) + pd.Timedelta(hours=self.start)
        return start, start + pd.Timedelta(hours=self.length)

    def bins(self, date: dt.date) -> list[tuple[int, int]]:
        """``(weekday, hour)`` of every hour of the shift starting on ``date``."""
        start, _ = self.bounds(date)
        return [
            ((start + pd.Timedelta(hours=i)).weekday(), (start + pd.Timedelta(hours=i)).hour)
            for i in range(self.length)
        ]

    def shift_day(self, local: pd.DatetimeIndex) -> npt.NDArray[np.int64]:
        """Weekday of the shift each time belongs to (after-midnight hours: the day before)."""
        wd = np.asarray(local.weekday, dtype=np.int64)
        if self.wraps:
            early = np.asarray(local.hour, dtype=np.int64) < (self.end % 24)
            wd = np.where(early, (wd - 1) % 7, wd)
        return wd


def to_local(times: pd.Series | pd.DatetimeIndex, timezone: str | None) -> pd.DatetimeIndex:
    """Naive local times: tz-aware values are converted to ``timezone``, naive ones kept."""
    idx = pd.DatetimeIndex(pd.to_datetime(times))
    if idx.tz is not None:
        idx = idx.tz_convert(timezone or DEFAULT_TZ).tz_localize(None)
    return idx


def time_profile(
    weekday: npt.ArrayLike,
    hour: npt.ArrayLike,
    weights: npt.ArrayLike | None = None,
    alpha: float = 168.0,
) -> FloatArray:
    """Share of a week's incidents in each (weekday, hour) bin, shape (7, 24), sum 1.

    Counts are smoothed towards the product of the (add-one) weekday and hour margins
    with ``alpha`` pseudo-events: ``p = (n_dh + alpha * p_d * p_h) / (N + alpha)``.
    """
    wd = np.asarray(weekday, dtype=np.int64)
    hr = np.asarray(hour, dtype=np.int64)
    w = np.ones(wd.shape[0]) if weights is None else np.asarray(weights, dtype=np.float64)
    n = np.zeros((7, 24))
    np.add.at(n, (wd, hr), w)
    total = n.sum()
    p_d = (n.sum(axis=1) + 1.0) / (total + 7.0)
    p_h = (n.sum(axis=0) + 1.0) / (total + 24.0)
    prof = (n + alpha * np.outer(p_d, p_h)) / (total + alpha)
    return prof / prof.sum()


def _event_frame(events: pd.DataFrame, timezone: str | None) -> pd.DataFrame:
    """``cell``, ``time`` (naive local) and ``category`` of usable events."""
    data, time_col, cells = approved_events(
        events,
        (
            "händelserna saknar kolumnen 'occurred_at' (eller 'time')",
            "händelserna saknar kolumnen 'cell'",
        ),
    )
    local = to_local(data[time_col], timezone)
    category = (
        data["category"].astype(object).to_numpy()
        if "category" in data.columns
        else np.full(len(data), None, dtype=object)
    )
    frame = pd.DataFrame({"cell": cells, "time": local, "category": category})
    return frame[(frame["cell"] != 0) & frame["time"].notna()].reset_index(drop=True)


# ---------------------------------------------------------------------- risk for a shift
class ShiftRisk:
    """Expected incidents per cell during one or more shifts.

    Parameters
    ----------
    shift
        The shift, e.g. ``"18-02"``.
    timezone
        Clock of the shift; tz-aware event times are converted to it (naive times are
        taken as local already).
    half_life_weeks, k
        Parameters of the weekly :class:`~analysis.forecast.RiskForecast`.
    lookback_weeks
        History used (weeks before the first shift).
    profile_alpha
        Pseudo-events pulling the time-of-week profile towards its margins.
    cell_beta
        Pseudo-events pulling a cell's shift share towards the kommun's.

    Attributes
    ----------
    cells_ : uint64 (n,)
        Cells with reports and their neighbours (the forecast's universe).
    expected_ : float (n,)
        Expected incidents per cell during the given shifts.
    weekly_ : float (n,)
        Weekly expected incidents (all hours).
    share_ : float (n,)
        Each cell's share of a week's incidents that fall in the shifts.
    profile_ : float (7, 24)
        Time-of-week profile of the history.
    shift_share_ : float
        The kommun-wide share of a week's incidents in the shifts.
    events_ : DataFrame
        The history used (``cell``, ``time`` local, ``category``), for descriptions.
    forecast_ : RiskForecast
        The weekly forecast (its chosen half-life, dispersion and inner-backtest hits).
    hit_text_ : str
        Plain Swedish: how often the forecast hit in its recent backtest.
    """

    def __init__(
        self,
        shift: str | Shift = "18-02",
        timezone: str | None = DEFAULT_TZ,
        half_life_weeks: float | str = "auto",
        k: int = 1,
        lookback_weeks: int = 52,
        profile_alpha: float = 168.0,
        cell_beta: float = 10.0,
    ) -> None:
        self.shift = shift
        self.timezone = timezone
        self.half_life_weeks = half_life_weeks
        self.k = k
        self.lookback_weeks = lookback_weeks
        self.profile_alpha = profile_alpha
        self.cell_beta = cell_beta

    def fit(
        self,
        events: pd.DataFrame,
        dates: dt.date | str | Sequence[dt.date | str],
    ) -> ShiftRisk:
        """Fit on ``events`` before the first shift and predict for the shifts on ``dates``.

        ``events`` is a report frame (approved reports with a cell are used) or any frame
        with ``cell`` and ``time``/``occurred_at`` (``category`` optional).
        """
        shift = Shift.parse(self.shift)
        if isinstance(dates, (str, dt.date)):
            dates = [dates]
        day_list = sorted(pd.Timestamp(d).date() for d in dates)
        if not day_list:
            raise ValidationError("inget datum att planera för")
        first_start, _ = shift.bounds(day_list[0])
        frame = _event_frame(events, self.timezone)
        start = first_start - pd.Timedelta(weeks=int(self.lookback_weeks))
        frame = frame[(frame["time"] < first_start) & (frame["time"] >= start)]
        if frame.empty:
            raise ValidationError(
                "inga godkända rapporter med position före passet att bygga en prognos på"
            )
        frame = frame.reset_index(drop=True)
        cells = frame["cell"].to_numpy(np.uint64)
        res = cells_resolution(cells)
        _, ring = cells_to_disks(np.unique(cells), 1)
        universe = np.unique(ring)
        # weekly steps ending where the first shift begins; shortened to the history
        first_week = int(np.floor((first_start - frame["time"].min()) / pd.Timedelta(weeks=1)))
        n_steps = max(1, min(int(self.lookback_weeks), first_week + 1))
        series = events_to_series(
            cells,
            pd.DatetimeIndex(frame["time"]),
            "1w",
            universe=universe,
            start=first_start - pd.Timedelta(weeks=n_steps),
            n_steps=n_steps,
        )
        forecast = RiskForecast(half_life_weeks=self.half_life_weeks, k=self.k).fit(series)

        local = pd.DatetimeIndex(frame["time"])
        wd = np.asarray(local.weekday, dtype=np.int64)
        hr = np.asarray(local.hour, dtype=np.int64)
        profile = time_profile(wd, hr, alpha=float(self.profile_alpha))
        mult = np.zeros((7, 24))
        for day in day_list:
            for b in shift.bins(day):
                mult[b] += 1.0
        share = float((profile * mult).sum())
        pos = np.searchsorted(series.cells, cells)
        in_cells = np.bincount(pos, minlength=series.n_cells).astype(np.float64)
        in_shift = np.bincount(pos, weights=mult[wd, hr], minlength=series.n_cells)
        beta = float(self.cell_beta)
        cell_share = (in_shift + beta * share) / (in_cells + beta)

        self.res_ = res
        self.shift_ = shift
        self.dates_ = day_list
        self.cells_ = series.cells
        self.weekly_ = forecast.risk_
        self.share_ = cell_share
        self.expected_ = forecast.risk_ * cell_share
        self.forecast_ = forecast
        self.hit_text_ = hit_text_sv(forecast.hit_share_, REPORT_COVERAGE, forecast.hit_steps_)
        self.profile_ = profile
        self.shift_share_ = share
        self.events_ = frame
        return self

    def predict(self) -> pd.Series:
        """Expected incidents per cell during the shifts."""
        if not hasattr(self, "expected_"):
            raise ValidationError("ShiftRisk är inte anpassad; anropa fit() först")
        return pd.Series(self.expected_, index=pd.Index(self.cells_, name="cell"), name="expected")
