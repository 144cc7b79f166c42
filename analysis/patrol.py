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
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
import scipy.sparse as sp

from analysis._forecast_data import events_to_series
from analysis._patrol_solve import GREEDY_RATIO, max_cover, path_length, walking_order
from analysis.forecast import REPORT_COVERAGE, RiskForecast, hit_text_sv, sum_interval
from geo.cells import (
    average_edge_m,
    cells_resolution,
    cells_to_disks,
    cells_to_parent,
    cells_to_points,
    cells_to_polygons,
    cells_to_strings,
    points_to_cells,
    polygon_to_cells,
    strings_to_cells,
)
from geo.errors import ValidationError
from geo.schema import DEFAULT_CATEGORIES, DEFAULT_TZ, Status

CellArray = npt.NDArray[np.uint64]
FloatArray = npt.NDArray[np.float64]

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
    problems = []
    time_col = "time" if "time" in events.columns else "occurred_at"
    if time_col not in events.columns:
        problems.append("händelserna saknar kolumnen 'occurred_at' (eller 'time')")
    if "cell" not in events.columns:
        problems.append("händelserna saknar kolumnen 'cell'")
    if problems:
        raise ValidationError(problems)
    data = events
    if "status" in data.columns:
        data = data[(data["status"].astype("string") == Status.APPROVED.value).fillna(False)]
    cells = np.asarray(data["cell"].fillna(0).to_numpy(), dtype=np.uint64)
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
        res = cells_resolution(frame["cell"].to_numpy(np.uint64))
        cells = frame["cell"].to_numpy(np.uint64)
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


# ---------------------------------------------------------------------- areas
def disk_diameter_m(res: int, k: int) -> float:
    """Approximate vertex-to-vertex width of a k-ring disk of hexagons at ``res``."""
    edge = average_edge_m(res)
    return 2.0 * (k * math.sqrt(3.0) * edge + edge)


def ring_for_diameter(res: int, diameter_m: float) -> int:
    """Largest ring ``k`` whose disk fits within ``diameter_m`` at ``res``."""
    if disk_diameter_m(res, 0) > diameter_m:
        raise ValidationError(
            f"en cell på upplösning {res} är redan bredare än {diameter_m:g} m; "
            "välj en finare upplösning eller större diameter"
        )
    k = 0
    while disk_diameter_m(res, k + 1) <= diameter_m:
        k += 1
    return k


def places_to_cells(specs: Iterable[str], res: int, radius_m: float = 0.0) -> list[CellArray]:
    """Cells of each place: an H3 cell (hex) or ``"lat,lon[,radius_m]"``.

    A coarser cell becomes every cell of ``res`` inside it, a finer one its parent; a
    point becomes its cell plus every cell whose centre lies within the radius.
    """
    out: list[CellArray] = []
    problems: list[str] = []
    for spec in specs:
        text = str(spec).strip()
        parts = [p.strip() for p in text.split(",")]
        if len(parts) in (2, 3):
            try:
                lat, lon = float(parts[0]), float(parts[1])
                radius = float(parts[2]) if len(parts) == 3 else radius_m
            except ValueError:
                problems.append(f"platsen {text!r} ska vara lat,lon[,radie_m] eller en H3-cell")
                continue
            if not (-90 <= lat <= 90 and -180 <= lon <= 180) or radius < 0:
                problems.append(f"platsen {text!r} ligger utanför giltiga koordinater")
                continue
            centre = points_to_cells([lat], [lon], res)
            k = int(math.ceil(radius / (math.sqrt(3.0) * average_edge_m(res) * 0.8))) + 1
            _, disk = cells_to_disks(centre, k if radius > 0 else 0)
            dlat, dlon = cells_to_points(disk)
            d = _haversine_m(lat, lon, dlat, dlon)
            keep = (d <= radius) | (disk == centre[0])
            out.append(np.unique(disk[keep]))
            continue
        try:
            cell = strings_to_cells([text])
        except ValidationError:
            problems.append(f"platsen {text!r} ska vara lat,lon[,radie_m] eller en H3-cell")
            continue
        r = cells_resolution(cell)
        if r > res:
            out.append(np.unique(cells_to_parent(cell, res)))
        elif r == res:
            out.append(cell)
        else:
            out.append(polygon_to_cells(cells_to_polygons(cell)[0], res))
    if problems:
        raise ValidationError(problems)
    return out


def _haversine_m(lat0: float, lon0: float, lat: FloatArray, lon: FloatArray) -> FloatArray:
    p0, p = np.radians(lat0), np.radians(lat)
    dphi = p - p0
    dl = np.radians(lon - lon0)
    a = np.sin(dphi / 2) ** 2 + np.cos(p0) * np.cos(p) * np.sin(dl / 2) ** 2
    return 2 * 6_371_008.8 * np.arcsin(np.sqrt(np.minimum(a, 1.0)))


@dataclass
class PatrolArea:
    """One patrol area of a plan."""

    centre_cell: int
    cells: CellArray
    expected: float
    centre: tuple[float, float]
    locality: str | None = None
    must_visit: bool = False
    window: tuple[int, int] | None = None
    reason: str = ""
    interval: tuple[float, float] | None = None

    @property
    def window_label(self) -> str | None:
        if self.window is None:
            return None
        return f"{self.window[0]:02d}–{self.window[1] % 24:02d}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "cells": [str(c) for c in cells_to_strings(self.cells)],
            "centre": {"lat": round(self.centre[0], 6), "lon": round(self.centre[1], 6)},
            "expected": round(float(self.expected), 4),
            "interval_80": None if self.interval is None else [int(v) for v in self.interval],
            "window": self.window_label,
            "reason": self.reason,
            "locality": self.locality,
            "must_visit": self.must_visit,
        }


@dataclass
class PatrolPlan:
    """Chosen areas, walking order and how the choice was made."""

    areas: list[PatrolArea]
    order: list[int]
    method: str
    optimal: bool
    bound: float
    covered_expected: float
    total_expected: float
    ring: int
    res: int
    diameter_m: float
    guarantee: float | None = None
    walk_m: float = 0.0
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "areas": [a.to_dict() for a in self.areas],
            "order": list(self.order),
            "method": self.method,
            "optimal": bool(self.optimal),
            "guarantee": None if self.guarantee is None else round(self.guarantee, 4),
            "bound": round(float(self.bound), 4),
            "expected_covered": round(float(self.covered_expected), 4),
            "expected_total": round(float(self.total_expected), 4),
            "covered_share": round(self.covered_expected / self.total_expected, 4)
            if self.total_expected > 0
            else None,
            "res": self.res,
            "ring": self.ring,
            "diameter_m": round(self.diameter_m),
            "walk_m": round(self.walk_m),
            "notes": list(self.notes),
        }


def candidate_areas(
    demand_cells: CellArray,
    k: int,
    *,
    exclude: CellArray | None = None,
    extra_centres: CellArray | None = None,
) -> tuple[CellArray, npt.NDArray[np.int64], CellArray]:
    """Candidate centres and their disks.

    Returns ``(centres, area_index, area_cell)``: every pair of a candidate (index into
    ``centres``) and a cell of its disk, excluded cells left out. Centres are every
    cell within ``k`` of a demand cell (plus ``extra_centres``) that is not excluded.
    """
    excl = np.unique(exclude) if exclude is not None else np.zeros(0, np.uint64)
    _, near = cells_to_disks(demand_cells, k)
    centres = np.unique(near)
    if extra_centres is not None and extra_centres.size:
        centres = np.union1d(centres, extra_centres)
    centres = centres[~np.isin(centres, excl)]
    origin, disk = cells_to_disks(centres, k)
    keep = ~np.isin(disk, excl)
    idx = np.searchsorted(centres, origin[keep]).astype(np.int64)
    return centres, idx, disk[keep]


def _area_localities(
    centres: CellArray,
    area_idx: npt.NDArray[np.int64],
    area_cell: CellArray,
    localities: pd.DataFrame | None,
) -> npt.NDArray[np.object_]:
    """Locality of each candidate: its centre's, else the most common among its cells."""
    out = np.full(centres.size, None, dtype=object)
    if localities is None or not len(localities):
        return out
    lmap = pd.Series(
        localities["locality"].astype(object).to_numpy(),
        index=np.asarray(localities["cell"].to_numpy(), dtype=np.uint64),
    )
    lmap = lmap[~lmap.index.duplicated()].dropna()
    own = lmap.reindex(centres).to_numpy(object)
    pairs = pd.DataFrame({"area": area_idx, "locality": lmap.reindex(area_cell).to_numpy(object)})
    pairs = pairs.dropna()
    if len(pairs):
        counts = pairs.groupby(["area", "locality"]).size().reset_index(name="n")
        counts = counts.sort_values(["area", "n", "locality"], ascending=[True, False, True])
        first = counts.drop_duplicates("area")
        out[first["area"].to_numpy(np.int64)] = first["locality"].to_numpy(object)
    has_own = pd.notna(own)
    out[has_own] = own[has_own]
    return out


def plan_patrol(
    risk: pd.Series,
    n_areas: int = 3,
    *,
    diameter_m: float = 800.0,
    exclude: Iterable[CellArray] | CellArray | None = None,
    must_visit: Sequence[CellArray] = (),
    localities: pd.DataFrame | None = None,
    spread: bool = False,
    method: str = "auto",
    time_limit: float = 5.0,
    max_terms: int = 60_000,
) -> PatrolPlan:
    """Choose ``n_areas`` disks maximising the expected incidents covered.

    Parameters
    ----------
    risk
        Expected incidents per cell (index: uint64 cells of one resolution).
    diameter_m
        Largest width of an area; sets the ring ``k`` (:func:`ring_for_diameter`).
    exclude
        Cells no area may contain or be centred on (e.g. where police will be).
    must_visit
        Places (each an array of cells); some area must contain at least one cell of
        each.
    localities
        ``[cell, locality]`` (e.g. :func:`geo.boundaries.localities_to_cells`), used by
        ``spread`` and to name each area's locality.
    spread
        At most ``ceil(K / L)`` areas per locality (``L`` localities with risk; cells
        outside every locality form one more group).
    method
        ``"auto"``/``"mip"`` (exact when the reduced model is small enough) or
        ``"greedy"``.
    """
    problems = []
    if int(n_areas) < 1:
        problems.append("antal områden måste vara minst 1")
    if not diameter_m > 0:
        problems.append("diametern måste vara positiv")
    if method not in ("auto", "mip", "greedy"):
        problems.append("metoden ska vara auto, mip eller greedy")
    if problems:
        raise ValidationError(problems)
    cells = np.asarray(risk.index.to_numpy(), dtype=np.uint64)
    values = np.asarray(risk.to_numpy(), dtype=np.float64)
    ok = (cells != 0) & np.isfinite(values) & (values > 0)
    cells, values = cells[ok], values[ok]
    if cells.size == 0:
        raise ValidationError("ingen cell har förväntade händelser; inget att planera")
    order = np.argsort(cells)
    cells, values = cells[order], values[order]
    res = cells_resolution(cells)
    k = ring_for_diameter(res, diameter_m)
    if exclude is None:
        excl = np.zeros(0, np.uint64)
    elif isinstance(exclude, np.ndarray):
        excl = np.unique(exclude.astype(np.uint64))
    else:
        parts = [np.asarray(e, dtype=np.uint64) for e in exclude]
        excl = np.unique(np.concatenate(parts)) if parts else np.zeros(0, np.uint64)
    musts = [np.unique(np.asarray(m, dtype=np.uint64)) for m in must_visit]
    demand = ~np.isin(cells, excl)
    d_cells, d_values = cells[demand], values[demand]
    must_centres = np.zeros(0, np.uint64)
    if musts:
        _, near = cells_to_disks(np.concatenate(musts), k)
        must_centres = np.unique(near)
    centres, area_idx, area_cell = candidate_areas(
        d_cells if d_cells.size else cells, k, exclude=excl, extra_centres=must_centres
    )
    if centres.size == 0:
        raise ValidationError("alla möjliga områden är undantagna")
    # incidence between demand cells and candidate areas
    pos = np.searchsorted(d_cells, area_cell)
    pos = np.minimum(pos, max(d_cells.size - 1, 0))
    hit = d_cells[pos] == area_cell if d_cells.size else np.zeros(area_cell.size, bool)
    A = sp.csc_matrix(
        (np.ones(int(hit.sum())), (pos[hit], area_idx[hit])),
        shape=(d_cells.size, centres.size),
    )
    must_groups = []
    for m, place in zip(musts, must_visit, strict=True):
        members = np.unique(area_idx[np.isin(area_cell, m)])
        if members.size == 0:
            shown = ", ".join(str(s) for s in cells_to_strings(np.asarray(place)[:3]))
            raise ValidationError(f"platsen som måste besökas ({shown}) är undantagen")
        must_groups.append(members)
    if len(must_groups) > int(n_areas):
        raise ValidationError(
            f"{len(must_groups)} platser måste besökas men bara {n_areas} områden planeras"
        )
    loc_of_centre = _area_localities(centres, area_idx, area_cell, localities)
    groups = None
    cap = None
    if spread:
        codes = np.where(pd.isna(loc_of_centre), "__utanför__", loc_of_centre)
        uniq, group_ids = np.unique(codes.astype(str), return_inverse=True)
        single = np.asarray(A.T @ d_values).ravel()
        active = np.unique(group_ids[single > 0])
        if active.size > 1:
            groups = group_ids.astype(np.int64)
            cap = int(math.ceil(int(n_areas) / active.size))
    result = max_cover(
        A,
        d_values,
        int(n_areas),
        must=must_groups,
        groups=groups,
        cap=cap,
        method=method,
        time_limit=time_limit,
        max_terms=max_terms,
    )
    notes = list(result.notes)
    if len(result.chosen) < int(n_areas):
        notes.append(
            f"bara {len(result.chosen)} områden har förväntade händelser; fler planerades inte"
        )
    risk_lookup = pd.Series(values, index=cells)
    areas: list[PatrolArea] = []
    for j in result.chosen:
        member = np.unique(area_cell[area_idx == j])
        expected = float(risk_lookup.reindex(member).fillna(0.0).sum())
        lat, lon = cells_to_points(centres[j : j + 1])
        is_must = any(np.isin(j, g) for g in must_groups)
        areas.append(
            PatrolArea(
                centre_cell=int(centres[j]),
                cells=member,
                expected=expected,
                centre=(float(lat[0]), float(lon[0])),
                locality=None if loc_of_centre[j] is None else str(loc_of_centre[j]),
                must_visit=bool(is_must),
            )
        )
    areas.sort(key=lambda a: (not a.must_visit, -a.expected, a.centre_cell))
    guarantee = result.guarantee if result.method == "greedy" else None
    plan = PatrolPlan(
        areas=areas,
        order=list(range(len(areas))),
        method=result.method,
        optimal=result.optimal,
        bound=result.bound,
        covered_expected=result.value,
        total_expected=float(d_values.sum()),
        ring=k,
        res=res,
        diameter_m=disk_diameter_m(res, k),
        guarantee=guarantee,
        notes=notes,
    )
    _set_order(plan)
    if result.method == "greedy" and guarantee is not None:
        plan.notes.append(
            f"girig lösning: minst {guarantee:.0%} av optimum (garanti), "
            f"högst {result.bound:.2f} förväntade händelser möjliga"
        )
    return plan


def _centres_xy(areas: Sequence[PatrolArea]) -> FloatArray:
    lat = np.array([a.centre[0] for a in areas])
    lon = np.array([a.centre[1] for a in areas])
    lat0 = float(lat.mean()) if lat.size else 0.0
    x = np.radians(lon) * 6_371_008.8 * math.cos(math.radians(lat0))
    y = np.radians(lat) * 6_371_008.8
    return np.column_stack([x, y])


#: Areas whose centres are at most this far apart may share a time slot (walked together).
ADJACENT_M = 400.0


def _set_order(
    plan: PatrolPlan, shift_start_hour: int | None = None, shift_length: int | None = None
) -> None:
    """Walking order: by time window (the shortest walk breaks ties).

    With ``shift_length`` two areas share a slot only when adjacent (centres within
    :data:`ADJACENT_M`); otherwise the later one moves to the nearest free slot of the
    shift (see :func:`_separate_windows`). Without windows: the shortest walk.
    """
    xy = _centres_xy(plan.areas)
    order = walking_order(xy)
    if len(order) > 1 and shift_start_hour is not None:
        if shift_length:
            _separate_windows(plan.areas, order, xy, shift_start_hour, shift_length)
        rank = {a: i for i, a in enumerate(order)}
        first = [(a.window[0] - shift_start_hour) % 24 if a.window else 0 for a in plan.areas]
        order = sorted(order, key=lambda i: (first[i], rank[i]))
    plan.order = order
    plan.walk_m = path_length(xy, order)


def _separate_windows(
    areas: Sequence[PatrolArea], order: list[int], xy: FloatArray, start: int, length: int
) -> None:
    """Move windows so that no two non-adjacent areas share a slot (where the shift has
    room), each to the free slot nearest its busiest one, later slots first."""
    placed: list[tuple[int, int, int]] = []  # (offset, width, area index)
    for i in sorted(order, key=lambda j: ((areas[j].window or (start, start))[0] - start) % 24):
        window = areas[i].window
        if window is None:
            continue
        width = window[1] - window[0]
        own = (window[0] - start) % 24

        def free(offset: int, i: int = i, width: int = width) -> bool:
            return all(
                offset + width <= o or o + w <= offset
                for o, w, j in placed
                if float(np.hypot(*(xy[i] - xy[j]))) > ADJACENT_M
            )

        options = [c for c in range(0, max(1, length - width + 1)) if free(c)]
        best = min(options, key=lambda c: (abs(c - own), c < own)) if options else own
        if best != own:
            hour = (start + best) % 24
            areas[i].window = (hour, hour + width)
        placed.append((best, width, i))


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
        area.interval = sum_interval(mu, risk.forecast_.dispersion_, 0.8)
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
