"""Tonight's patrol plan of the patrol page: request, plan view, per-app cache.

The plan comes from :func:`analysis.patrol.plan_shift` and is cached per (kommun, data
version, date, shift, K) in :class:`PatrolRuntime` (``AppState.patrol``), so it is computed
once per new data, not on every request.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
import shapely
from shapely.geometry import mapping as shape_mapping

from geo.errors import LagesbildError, ValidationError
from geo.geodesy import haversine_m
from geo.labels import MONTHS_SV, WEEKDAYS_SV
from geo.store.db import current_version
from geo.tenants import Tenant
from webmap.lru import SingleFlightLru
from webmap.payloads import memo

if TYPE_CHECKING:
    from sqlalchemy import Engine

DEFAULT_SHIFT = "18-02"
DEFAULT_AREAS = 3
MAX_AREAS = 8
#: Shifts offered by the selector (any ``HH-HH`` given in the URL is accepted too).
SHIFT_CHOICES: tuple[str, ...] = ("18-02", "16-24", "20-04", "22-06", "12-20", "08-16")
#: History used by the plan (weeks before the shift).
LOOKBACK_WEEKS = 52
#: Plans kept in memory per app.
PLAN_CACHE_SIZE = 32


# --------------------------------------------------------------------------- helpers
def number_sv(value: float, decimals: int = 1) -> str:
    """``1234.5`` -> ``"1 234,5"`` (Swedish decimal comma, thin grouping)."""
    text = f"{value:,.{decimals}f}"
    return text.replace(",", "\u00a0").replace(".", ",")


def date_sv(day: dt.date) -> str:
    """``"söndag 22 november 2026"``."""
    return f"{WEEKDAYS_SV[day.weekday()]} {day.day} {MONTHS_SV[day.month - 1]} {day.year}"


def distance_sv(metres: float) -> str:
    """``"350 m"`` / ``"2,4 km"``."""
    if metres < 1000:
        return f"{int(round(metres / 10.0) * 10)} m"
    return f"{number_sv(metres / 1000.0)} km"


# --------------------------------------------------------------------------- plan request
@dataclass(frozen=True)
class PlanRequest:
    """What to plan: kommun, the date the shift starts, the shift and the number of areas."""

    kommun: str
    date: dt.date
    shift: str  # canonical "HH-HH"
    areas: int

    @property
    def cache_key(self) -> tuple[str, str, str, int]:
        return (self.kommun, self.date.isoformat(), self.shift, self.areas)

    def query(self) -> dict[str, str]:
        """URL arguments of this request."""
        return {
            "kommun": self.kommun,
            "datum": self.date.isoformat(),
            "pass": self.shift,
            "omraden": str(self.areas),
        }


def default_date(
    timezone: str, shift: str = DEFAULT_SHIFT, now: dt.datetime | None = None
) -> dt.date:
    """Today in ``timezone``; in the after-midnight hours of a night shift, yesterday
    (at 01:00 "tonight's" 18–02 shift is the one that started the day before)."""
    from analysis.patrol import Shift

    moment = now or dt.datetime.now(dt.UTC)
    local = moment.astimezone(ZoneInfo(timezone))
    s = Shift.parse(shift)
    if s.wraps and local.hour < s.end % 24:
        return local.date() - dt.timedelta(days=1)
    return local.date()


# --------------------------------------------------------------------------- plan view
def _outline(cells: np.ndarray) -> dict[str, Any]:
    from geo.cells import cells_to_polygons

    geom = shapely.union_all(cells_to_polygons(cells))
    geom = shapely.set_precision(geom, 1e-7)
    return shape_mapping(geom)  # type: ignore[no-any-return]


def _near_places(
    places: Sequence[Any], lat: float, lon: float, radius_m: float, limit: int = 3
) -> list[dict[str, Any]]:
    """Named points/streets of the gazetteer within ``radius_m`` of an area centre."""
    found = []
    for p in places:
        d = haversine_m(lat, lon, float(p.lat), float(p.lon))
        if d <= radius_m:
            found.append((d, p))
    found.sort(key=lambda dp: (dp[0], dp[1].name))
    out, seen = [], set()
    for d, p in found:
        if p.name in seen:
            continue
        seen.add(p.name)
        out.append(
            {
                "name": p.name,
                "distance_m": round(d),
                "approximate": bool(p.approximate),
                "lat": round(float(p.lat), 6),
                "lon": round(float(p.lon), 6),
            }
        )
        if len(out) >= limit:
            break
    return out


def _method_text(plan: Any) -> str:
    if plan.method == "greedy":
        share = f"{plan.guarantee:.0%}" if plan.guarantee is not None else "63 %"
        return f"Områdena fångar minst {share.replace('%', ' %')} av vad bästa möjliga val skulle."
    if plan.optimal:
        return "Inga andra områden skulle fånga fler förväntade händelser."
    return "Ett bra urval; det bästa hann inte räknas fram."


def compute_plan(
    engine: Engine,
    tenant: Tenant,
    req: PlanRequest,
    localities: Any,
    places: Sequence[Any] = (),
) -> dict[str, Any]:
    """Plan of ``req`` for the page, JSON-friendly; ``error`` set (Swedish) when there is
    nothing to plan from.

    Parameters
    ----------
    engine
        Database with the reports.
    tenant
        The kommun.
    req
        Date, shift and number of areas.
    localities
        The kommun's locality boundaries (names and cells of the areas' localities).
    places
        Named places (gazetteer points and streets of the kommun) to name the areas by.
    """
    from analysis.patrol import Shift, plan_shift
    from geo.boundaries import localities_to_cells
    from geo.schema import STORAGE_RES
    from geo.store.analysis_rows import read_analysis_reports

    shift = Shift.parse(req.shift)
    tz = tenant.timezone
    start_local, end_local = shift.bounds(req.date)
    shift_start = start_local.tz_localize(tz, nonexistent="shift_forward", ambiguous=True)
    since = shift_start - pd.Timedelta(weeks=LOOKBACK_WEEKS)
    base: dict[str, Any] = {
        "kommun": tenant.key,
        "kommun_name": tenant.name,
        "date": req.date.isoformat(),
        "date_text": date_sv(req.date),
        "shift": shift.label,
        "shift_code": req.shift,
        "n_areas": req.areas,
        "areas": [],
        "notes": [],
        "error": None,
    }
    with engine.connect() as conn:
        # approved reports with the columns the plan reads (cell, time, category),
        # in the order of read_reports: no text columns for a city's half million
        reports = read_analysis_reports(
            conn, tenant.key, start=since, end=shift_start, ordered=True
        )
    names: dict[str, str] = {}
    cells_frame = None
    if localities is not None and len(localities):
        names = {
            str(c): str(n) for c, n in zip(localities["code"], localities["name"], strict=True)
        }
        cells_frame = localities_to_cells(localities, STORAGE_RES)
    labels = {code: str(v.get("label", code)) for code, v in tenant.categories.items()}
    try:
        plan, risk = plan_shift(
            reports,
            req.date,
            shift,
            req.areas,
            timezone=tz,
            localities=cells_frame,
            labels=labels,
            lookback_weeks=LOOKBACK_WEEKS,
        )
    except ValidationError as exc:
        base["error"] = (
            "Det finns ingen plan för passet: "
            + "; ".join(exc.problems)
            + ". Välj ett annat datum eller pass."
        )
        base["reports_used"] = 0
        return base
    radius = plan.diameter_m / 2.0 + 200.0
    areas = []
    for step, index in enumerate(plan.order, start=1):
        area = plan.areas[index]
        lat, lon = area.centre
        outline = _outline(area.cells)
        areas.append(
            {
                "step": step,
                "name": names.get(str(area.locality), "Utanför tätort")
                if area.locality
                else "Utanför tätort",
                "locality": area.locality,
                "near": _near_places(places, lat, lon, radius),
                "window": area.window_label,
                "reason": area.reason,
                "expected": round(float(area.expected), 3),
                "expected_text": number_sv(float(area.expected)),
                "interval_80": None if area.interval is None else [int(v) for v in area.interval],
                "interval_text": None
                if area.interval is None
                else f"{int(area.interval[0])}–{int(area.interval[1])}",
                "must_visit": bool(area.must_visit),
                "centre": [round(lat, 6), round(lon, 6)],
                "outline": outline,
                "n_cells": int(area.cells.size),
            }
        )
    minx, miny, maxx, maxy = shapely.union_all(
        [shapely.geometry.shape(a["outline"]) for a in areas]
    ).bounds
    share = plan.covered_expected / plan.total_expected if plan.total_expected > 0 else None
    base.update(
        {
            "areas": areas,
            "bounds": [[round(miny, 6), round(minx, 6)], [round(maxy, 6), round(maxx, 6)]],
            "walk_m": round(plan.walk_m),
            "walk_text": distance_sv(plan.walk_m),
            "diameter_text": distance_sv(plan.diameter_m),
            "method": plan.method,
            "method_text": _method_text(plan),
            "covered_share": None if share is None else round(share, 3),
            "covered_text": None if share is None else f"{round(share * 100)} %",
            "notes": list(plan.notes),
            "reports_used": int(len(risk.events_)),
            "forecast_text": risk.hit_text_,
            "start_local": start_local.isoformat(),
            "end_local": end_local.isoformat(),
        }
    )
    return base


# --------------------------------------------------------------------------- runtime
@dataclass
class PatrolRuntime:
    """Per-app objects of the patrol page (``AppState.patrol``).

    Attributes
    ----------
    plans
        LRU cache ``(kommun, data version, date, shift, K) -> plan view``.
    computed
        How many plans were computed (cache misses), for tests and monitoring.
    write_lock
        Serialises observation writes inside one process (SQLite has one writer).
    """

    max_plans: int = PLAN_CACHE_SIZE
    plans: SingleFlightLru[tuple[Any, ...], dict[str, Any]] = field(init=False)
    computed: int = 0
    write_lock: threading.Lock = field(default_factory=threading.Lock)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _geo: Any = None
    _places: dict[str, list[Any]] = field(default_factory=dict)
    gazetteer: Any = None  # () -> Gazetteer, the app's shared gazetteer

    def __post_init__(self) -> None:
        self.plans = SingleFlightLru(self.max_plans)

    def plan(
        self, engine: Engine, tenant: Tenant, req: PlanRequest, localities: Any
    ) -> dict[str, Any]:
        """The cached plan of ``req`` at the kommun's current data version."""
        with engine.connect() as conn:
            version = current_version(conn, tenant.key)
        key = (req.kommun, version, *req.cache_key[1:])

        def compute() -> dict[str, Any]:
            view = memo(  # computed once for every server process
                "patrol-plan",
                tenant.key,
                (version, *req.cache_key[1:]),
                lambda: compute_plan(engine, tenant, req, localities, self.places(tenant.key)),
            )
            view["version"] = version
            with self._lock:
                self.computed += 1
            return view

        view = self.plans.get_or_compute(key, compute)
        assert view is not None  # compute() always returns a plan
        return view

    def places(self, kommun: str) -> list[Any]:
        """Named points and streets of ``kommun`` (offline gazetteer; empty if missing)."""
        with self._lock:
            if kommun in self._places:
                return self._places[kommun]
        try:
            if self.gazetteer is None:
                from geo.gazetteer import Gazetteer

                self.gazetteer = Gazetteer.default
            gaz = self.gazetteer()
            found = [
                p
                for p in gaz.places
                if p.kommun == kommun
                and p.precision in ("point", "street")
                and p.source not in ("postal", "kommun")
            ]
        except (LagesbildError, OSError):
            found = []
        with self._lock:
            self._places[kommun] = found
        return found

    def geo(self) -> Any:
        """Cache of the kommuner's extents (:class:`webmap.citizen.submissions.GeoCache`)."""
        with self._lock:
            if self._geo is None:
                from webmap.citizen.kommun_geo import GeoCache

                self._geo = GeoCache()
            return self._geo


__all__ = [
    "DEFAULT_AREAS",
    "DEFAULT_SHIFT",
    "LOOKBACK_WEEKS",
    "MAX_AREAS",
    "MONTHS_SV",
    "PLAN_CACHE_SIZE",
    "PatrolRuntime",
    "PlanRequest",
    "SHIFT_CHOICES",
    "WEEKDAYS_SV",
    "compute_plan",
    "date_sv",
    "default_date",
    "distance_sv",
    "number_sv",
]
