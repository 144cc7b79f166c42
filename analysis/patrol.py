"""Patrol planning for trygghetsvärdar: where to walk during a shift, in which order, when.

Three steps, each usable on its own:

1. **Risk for a shift** (:class:`ShiftRisk`): expected incidents per cell during one or
   more shifts (e.g. Friday 18-02). The weekly forecast of :class:`analysis.forecast.RiskForecast`
   is multiplied by the share of a week's incidents that fall in the shift's hours. That
   share comes from a time-of-week profile (weekday x hour, 168 bins) smoothed towards
   the product of its weekday and hour margins (``profile_alpha`` pseudo-events), and is
   then shrunk per cell: ``s_i = (n_i,shift + beta * s) / (n_i + beta)`` with ``beta``
   pseudo-events, so a cell with many night reports gets a larger night share while a
   cell with one report keeps the kommun's profile.
2. **Areas** (:func:`plan_patrol`): ``K`` compact walkable areas, each a k-ring disk
   of cells around a centre cell with ``k`` the largest ring whose diameter fits
   ``diameter_m`` (800 m -> k = 2 at res 10, about 680 m across), maximising the
   expected incidents covered: a maximal covering location problem, solved exactly by
   CBC (PuLP) after a loss-free reduction, or greedily (within ``1 - 1/e`` of the
   optimum) when the instance is too large; the plan says which. Excluded cells (where
   police will be) belong to no area and cannot be centres; each must-visit place lies
   in some area; ``spread`` caps the areas per locality at ``ceil(K / L)``.
3. **Order, time and reason** (:func:`describe_plan`): the shortest straight-line walk
   between area centres (exact for K <= 8, else nearest neighbour + 2-opt), walked in
   the direction whose suggested time windows come in order; each area's window is its
   busiest ``window_hours`` inside the shift (its own reports on that weekday, smoothed
   towards its all-days hours and the kommun profile); the reason is plain Swedish,
   e.g. "3 rapporter om störande grupp fredagar 21–23 senaste 6 veckorna".
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence

import numpy as np
import numpy.typing as npt
import pandas as pd

from analysis._patrol_order import _set_order
from analysis._patrol_solve import GREEDY_RATIO
from analysis.forecast import sum_interval
from analysis.patrol_areas import (
    PatrolArea,
    PatrolPlan,
    candidate_areas,
    disk_diameter_m,
    places_to_cells,
    plan_patrol,
    ring_for_diameter,
)
from analysis.shift_risk import (
    FloatArray,
    Shift,
    ShiftRisk,
    time_profile,
    to_local,
)
from geo.cells import (
    cells_resolution,
    cells_to_parent,
)
from geo.schema import DEFAULT_CATEGORIES, DEFAULT_TZ

WEEKDAYS_PLURAL_SV = (
    "måndagar",
    "tisdagar",
    "onsdagar",
    "torsdagar",
    "fredagar",
    "lördagar",
    "söndagar",
)

#: Category code -> Swedish label (lower-case first letter, for running text).
CATEGORY_TEXT_SV: dict[str, str] = {
    c.code: c.label_sv[:1].lower() + c.label_sv[1:] for c in DEFAULT_CATEGORIES
}

#: How far back the reason text looks, shortest first.
REASON_WEEKS = (6, 13, 26, 52)


# ---------------------------------------------------------------------- shifts


# ---------------------------------------------------------------------- description
def area_window(
    hours_same_day: npt.ArrayLike,
    hours_any_day: npt.ArrayLike,
    shift: Shift,
    prior: FloatArray,
    window_hours: int = 2,
    beta: float = 2.0,
) -> tuple[int, int]:
    """Busiest ``window_hours`` of the shift for one area.

    Hour shares inside the shift are the area's reports on the shift's weekday,
    smoothed towards its reports on any day, smoothed towards ``prior`` (the kommun
    profile of the shift's hours), each with ``beta`` pseudo-reports. Ties go to the
    earliest window.
    """
    hours = shift.hours
    w = min(int(window_hours), len(hours))
    index = {h: i for i, h in enumerate(hours)}

    def counts(values: npt.ArrayLike) -> FloatArray:
        out = np.zeros(len(hours))
        for h in np.asarray(values, dtype=np.int64):
            if int(h) in index:
                out[index[int(h)]] += 1
        return out

    prior = np.asarray(prior, dtype=np.float64)
    prior = prior / prior.sum() if prior.sum() > 0 else np.full(len(hours), 1 / len(hours))
    any_day = counts(hours_any_day)
    q_any = (any_day + beta * prior) / (any_day.sum() + beta)
    same = counts(hours_same_day)
    q = (same + beta * q_any) / (same.sum() + beta)
    sums = np.convolve(q, np.ones(w), mode="valid")
    best = int(np.argmax(sums + 1e-12 * -np.arange(sums.size)))
    start = hours[best]
    return start, start + w


def _plural(n: int, one: str, many: str) -> str:
    return f"{n} {one if n == 1 else many}"


def area_reason(
    area_events: pd.DataFrame,
    shift: Shift,
    weekday: int,
    window: tuple[int, int],
    shift_start: pd.Timestamp,
    labels: Mapping[str, str] | None = None,
) -> str:
    """Plain-Swedish reason for an area from its reports (naive local ``time``).

    Looks back 6, 13, 26 and 52 weeks (the first period with something to say) for,
    in order: reports of one category on the same weekday within the window; reports on
    that weekday within the shift; reports within the shift's hours on any day; any
    report in the area.
    """
    text = dict(CATEGORY_TEXT_SV)
    text.update({k: v[:1].lower() + v[1:] for k, v in (labels or {}).items()})
    if area_events.empty:
        return "Inga egna rapporter; risken kommer från rapporter strax intill."
    local = pd.DatetimeIndex(area_events["time"])
    hour = np.asarray(local.hour)
    day = shift.shift_day(local)
    win_hours = {(window[0] + i) % 24 for i in range((window[1] - window[0]) % 24 or 24)}
    in_window = np.isin(hour, list(win_hours))
    in_shift = np.isin(hour, shift.hours)
    same_day = day == weekday
    wd_text = WEEKDAYS_PLURAL_SV[weekday]
    win_text = f"{window[0]:02d}–{window[1] % 24:02d}"
    categories = area_events["category"].astype(object).to_numpy()

    def top(mask: npt.NDArray[np.bool_]) -> tuple[str, int]:
        cats = pd.Series(categories[mask]).dropna()
        if cats.empty:
            return "", 0
        counts = cats.value_counts()
        best = sorted(counts.items(), key=lambda kv: (-kv[1], str(kv[0])))[0]
        return str(best[0]), int(best[1])

    def about(code: str) -> str:
        return text.get(code, code.replace("_", " "))

    for weeks in REASON_WEEKS:
        recent = np.asarray(local >= shift_start - pd.Timedelta(weeks=weeks))
        period = "senaste veckan" if weeks == 1 else f"senaste {weeks} veckorna"
        mask = recent & same_day & in_window
        if mask.any():
            code, n = top(mask)
            total = int(mask.sum())
            if code:
                head = _plural(n, "rapport", "rapporter")
                head += f" om {about(code)} {wd_text} {win_text} {period}"
                return head + (f" ({total} rapporter i allt)" if total > n else "")
            return f"{_plural(total, 'rapport', 'rapporter')} {wd_text} {win_text} {period}"
        mask = recent & same_day & in_shift
        if mask.any():
            code, n = top(mask)
            what = f" om {about(code)}" if code else ""
            return (
                f"{_plural(n if code else int(mask.sum()), 'rapport', 'rapporter')}{what} "
                f"{wd_text} {shift.label} {period}"
            )
        mask = recent & in_shift
        if mask.any():
            code, n = top(mask)
            what = f", flest om {about(code)}" if code else ""
            return (
                f"{_plural(int(mask.sum()), 'rapport', 'rapporter')} kl. {shift.label} "
                f"{period}{what}"
            )
    code, n = top(np.ones(len(area_events), dtype=bool))
    what = f", flest om {about(code)}" if code else ""
    return f"{_plural(len(area_events), 'rapport', 'rapporter')} i området senaste året{what}"


def describe_plan(
    plan: PatrolPlan,
    risk: ShiftRisk,
    *,
    window_hours: int = 2,
    labels: Mapping[str, str] | None = None,
) -> PatrolPlan:
    """Add each area's time window and reason, then settle the walking order."""
    shift = risk.shift_
    day = risk.dates_[0]
    weekday = pd.Timestamp(day).weekday()
    shift_start, _ = shift.bounds(day)
    events = risk.events_
    prior = np.array([risk.profile_[b] for b in shift.bins(day)])
    ev_cells = events["cell"].to_numpy(np.uint64)
    # events are at the storage resolution; areas may be coarser
    area_res = plan.res
    ev_res = cells_resolution(ev_cells) if ev_cells.size else area_res
    if ev_res > area_res:
        ev_cells = cells_to_parent(ev_cells, area_res)
    local = pd.DatetimeIndex(events["time"])
    hours = np.asarray(local.hour)
    days = shift.shift_day(local)
    expected = pd.Series(risk.expected_, index=risk.cells_)
    inside_of = [np.isin(ev_cells, area.cells) for area in plan.areas]
    for area, inside in zip(plan.areas, inside_of, strict=True):
        mu = expected.reindex(area.cells).fillna(0.0).to_numpy()
        area.interval = sum_interval(
            mu, risk.forecast_.dispersion_, 0.8, risk.forecast_.common_dispersion_
        )
        area.window = area_window(
            hours[inside & (days == weekday)],
            hours[inside],
            shift,
            prior,
            window_hours=window_hours,
        )
    _set_order(plan, shift.start, shift.length)  # may move a window to a free slot
    for area, inside in zip(plan.areas, inside_of, strict=True):
        assert area.window is not None
        reason = area_reason(events[inside], shift, weekday, area.window, shift_start, labels)
        area.reason = ("Måste besökas. " if area.must_visit else "") + reason
    return plan


def plan_shift(
    reports: pd.DataFrame,
    date: dt.date | str,
    shift: str | Shift = "18-02",
    n_areas: int = 3,
    *,
    timezone: str | None = DEFAULT_TZ,
    diameter_m: float = 800.0,
    exclude: Sequence[str] = (),
    must_visit: Sequence[str] = (),
    exclude_radius_m: float = 200.0,
    localities: pd.DataFrame | None = None,
    spread: bool = False,
    method: str = "auto",
    window_hours: int = 2,
    labels: Mapping[str, str] | None = None,
    lookback_weeks: int = 52,
) -> tuple[PatrolPlan, ShiftRisk]:
    """Risk for the shift, areas, order, windows and reasons in one call.

    ``exclude`` and ``must_visit`` are place texts for :func:`places_to_cells`
    (exclusions default to a ``exclude_radius_m`` circle around a point).
    """
    risk = ShiftRisk(shift, timezone=timezone, lookback_weeks=lookback_weeks).fit(reports, date)
    res = risk.res_
    excl = places_to_cells(exclude, res, radius_m=exclude_radius_m) if exclude else []
    musts = places_to_cells(must_visit, res) if must_visit else []
    plan = plan_patrol(
        risk.predict(),
        n_areas,
        diameter_m=diameter_m,
        exclude=excl,
        must_visit=musts,
        localities=localities,
        spread=spread,
        method=method,
    )
    describe_plan(plan, risk, window_hours=window_hours, labels=labels)
    return plan, risk


__all__ = [
    "GREEDY_RATIO",
    "PatrolArea",
    "PatrolPlan",
    "Shift",
    "ShiftRisk",
    "area_reason",
    "area_window",
    "candidate_areas",
    "describe_plan",
    "disk_diameter_m",
    "places_to_cells",
    "plan_patrol",
    "plan_shift",
    "ring_for_diameter",
    "time_profile",
    "to_local",
]
