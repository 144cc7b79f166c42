"""The patrol page for trygghetsvärdar ``/patrull`` (role ``patrol``; planners too).

Phone first. The page shows tonight's patrol areas of the user's kommun on a Leaflet map
(tiles from the config, none offline), with why each area was chosen, the walking order
and each area's time window; date, shift and number of areas are selectable (default:
today, 18–02, 3 areas; just after midnight "today" is the shift that started yesterday).
The plan comes from :func:`analysis.patrol.plan_shift` and is **cached per (kommun, data
version, date, shift, K)** in memory on the app state (:class:`PatrolRuntime`), so it is
computed once per new data, not on every request. ``/patrull/utskrift`` is a printable
sheet of the same plan: a static SVG map, the areas in walking order with their windows,
reasons and nearby named places, and room for notes.

Observations
------------
The page has a quick observation form (category, note, position from the phone or a tap
on the map). ``POST /patrull/observation`` takes JSON (CSRF token in the ``X-CSRFToken``
header, which Flask-WTF's ``CSRFProtect`` accepts) and stores a ``patrol`` report at once
through the normal pipeline (:func:`geo.ingest.ingest_frame`, status approved,
``reporter_org`` from the user). Every observation carries an idempotency ``key``
generated in the page (``crypto.randomUUID``); the table ``patrol_observation``
(migration ``patrol_0001``) holds each key once, so a repeat answers ``200`` with the
same report id instead of storing another report (a new one answers ``201``). The key
row is inserted *first* in the same transaction as the report, so two concurrent
retries cannot both store. Validation problems answer ``422`` with Swedish messages.

On a flaky connection the page keeps unsent observations in ``localStorage``, shows them
as "väntar på att skickas" and retries on the ``online`` event, when the page becomes
visible and on a timer with exponential back-off (``static/patrol/patrull.js``). The CSRF
token of a long shift may expire (one hour): the page then fetches a fresh one from
``/patrull/token`` and sends again.
"""

from __future__ import annotations

import datetime as dt
import math
import re
import threading
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
import shapely
from flask import Blueprint, current_app, jsonify, render_template, request, url_for
from flask_login import current_user
from flask_wtf.csrf import generate_csrf
from shapely.geometry import mapping as shape_mapping
from sqlalchemy import (
    Column,
    DateTime,
    Engine,
    ForeignKey,
    Integer,
    MetaData,
    String,
    Table,
    select,
    update,
)
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from geo.errors import LagesbildError, NotFoundError, ValidationError
from geo.store.db import current_version, utcnow
from geo.store.tables import NAMING
from geo.store.tables import report as report_table
from geo.tenants import Tenant
from webmap.auth import role_required
from webmap.state import current_state
from webmap.weeks import MAX_YEAR, MIN_YEAR

bp = Blueprint("patrol", __name__)

NAV = [("patrol.home", "Patrull", ("patrol",))]
#: Observations per client key (a patrol's phone sends its queue in bursts after a gap).
RATE_LIMITS = {"patrol.observation": ("120/minute", ["POST"])}

DEFAULT_SHIFT = "18-02"
DEFAULT_AREAS = 3
MAX_AREAS = 8
#: Shifts offered by the selector (any ``HH-HH`` given in the URL is accepted too).
SHIFT_CHOICES: tuple[str, ...] = ("18-02", "16-24", "20-04", "22-06", "12-20", "08-16")
#: History used by the plan (weeks before the shift).
LOOKBACK_WEEKS = 52
#: Plans kept in memory per app.
PLAN_CACHE_SIZE = 32
#: Longest note of an observation (characters).
MAX_NOTE = 1000
#: Oldest observation accepted (a phone may have been offline for a while).
MAX_OBSERVATION_AGE = dt.timedelta(days=7)
#: Observations timed later than now plus this are refused.
FUTURE_TOLERANCE = dt.timedelta(minutes=10)
#: GPS accuracy up to which a position counts as a point; worse up to the max is "street".
POINT_ACCURACY_M = 100.0
MAX_ACCURACY_M = 500.0
#: Organisation stored with an observation of a user without one.
DEFAULT_ORG = "Trygghetsvärdar"

_KEY_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{7,63}")

WEEKDAYS_SV = ("måndag", "tisdag", "onsdag", "torsdag", "fredag", "lördag", "söndag")
MONTHS_SV = (
    "januari",
    "februari",
    "mars",
    "april",
    "maj",
    "juni",
    "juli",
    "augusti",
    "september",
    "oktober",
    "november",
    "december",
)

metadata = MetaData(naming_convention=NAMING)

#: One row per idempotency key of the patrol page (created by ``patrol_0001``).
patrol_observation = Table(
    "patrol_observation",
    metadata,
    Column("key", String(64), primary_key=True),
    Column("report_id", Integer, ForeignKey(report_table.c.id, ondelete="CASCADE"), index=True),
    Column("kommun", String(64), nullable=False),
    Column("user_id", Integer, nullable=True),
    Column("created_at", DateTime, nullable=False),
)


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


def _haversine_m(lat0: float, lon0: float, lat1: float, lon1: float) -> float:
    p0, p1 = math.radians(lat0), math.radians(lat1)
    dphi, dl = p1 - p0, math.radians(lon1 - lon0)
    a = math.sin(dphi / 2) ** 2 + math.cos(p0) * math.cos(p1) * math.sin(dl / 2) ** 2
    return 2 * 6_371_008.8 * math.asin(math.sqrt(min(a, 1.0)))


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


def parse_plan_args(
    args: Mapping[str, str], tenant: Tenant, now: dt.datetime | None = None
) -> tuple[PlanRequest, list[str]]:
    """The plan asked for by ``?datum=&pass=&omraden=``; problems (Swedish) fall back to
    the defaults and are listed."""
    from analysis.patrol import Shift

    problems: list[str] = []
    shift_text = (args.get("pass") or "").strip() or DEFAULT_SHIFT
    try:
        s = Shift.parse(shift_text)
        shift = f"{s.start:02d}-{s.end % 24:02d}" if s.end != 24 else f"{s.start:02d}-24"
    except ValidationError:
        problems.append(f"Passet {shift_text!r} ska skrivas som t.ex. 18-02; visar 18–02.")
        shift = DEFAULT_SHIFT
    date_text = (args.get("datum") or "").strip()
    if date_text:
        try:
            day = dt.date.fromisoformat(date_text)
        except ValueError:
            problems.append(f"Datumet {date_text!r} ska skrivas ÅÅÅÅ-MM-DD; visar i dag.")
            day = default_date(tenant.timezone, shift, now)
        else:
            if not MIN_YEAR <= day.year <= MAX_YEAR:
                problems.append(
                    f"Datumet {date_text!r} ligger utanför åren {MIN_YEAR}–{MAX_YEAR}; visar i dag."
                )
                day = default_date(tenant.timezone, shift, now)
    else:
        day = default_date(tenant.timezone, shift, now)
    areas_text = (args.get("omraden") or "").strip()
    areas = DEFAULT_AREAS
    if areas_text:
        try:
            areas = int(areas_text)
            if not 1 <= areas <= MAX_AREAS:
                raise ValueError(areas_text)
        except ValueError:
            problems.append(f"Antal områden ska vara 1–{MAX_AREAS}; visar {DEFAULT_AREAS} områden.")
            areas = DEFAULT_AREAS
    return PlanRequest(tenant.key, day, shift, areas), problems


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
        d = _haversine_m(lat, lon, float(p.lat), float(p.lon))
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
    from geo.store.reports import read_reports

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
        reports = read_reports(conn, tenant.key, start=since, end=shift_start)
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
            "start_local": start_local.isoformat(),
            "end_local": end_local.isoformat(),
        }
    )
    return base


# --------------------------------------------------------------------------- runtime
@dataclass
class PatrolRuntime:
    """Per-app objects of the patrol page (kept in ``AppState.extras["patrol"]``).

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
    plans: OrderedDict[tuple[Any, ...], dict[str, Any]] = field(default_factory=OrderedDict)
    computed: int = 0
    write_lock: threading.Lock = field(default_factory=threading.Lock)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _key_locks: dict[tuple[Any, ...], threading.Lock] = field(default_factory=dict)
    _geo: Any = None
    _places: dict[str, list[Any]] = field(default_factory=dict)

    def plan(
        self, engine: Engine, tenant: Tenant, req: PlanRequest, localities: Any
    ) -> dict[str, Any]:
        """The cached plan of ``req`` at the kommun's current data version."""
        with engine.connect() as conn:
            version = current_version(conn, tenant.key)
        key = (req.kommun, version, *req.cache_key[1:])
        with self._lock:
            hit = self.plans.get(key)
            if hit is not None:
                self.plans.move_to_end(key)
                return hit
            key_lock = self._key_locks.setdefault(key, threading.Lock())
        with key_lock:  # one computation per key, concurrent requests wait for it
            with self._lock:
                hit = self.plans.get(key)
                if hit is not None:
                    return hit
            try:
                view = compute_plan(engine, tenant, req, localities, self.places(tenant.key))
                view["version"] = version
                with self._lock:
                    self.computed += 1
                    self.plans[key] = view
                    while len(self.plans) > self.max_plans:
                        self.plans.popitem(last=False)
            finally:
                with self._lock:
                    self._key_locks.pop(key, None)
        return view

    def places(self, kommun: str) -> list[Any]:
        """Named points and streets of ``kommun`` (offline gazetteer; empty if missing)."""
        with self._lock:
            if kommun in self._places:
                return self._places[kommun]
        try:
            from geo.gazetteer import Gazetteer

            gaz = Gazetteer.default()
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
        """Cache of the kommuner's extents (:class:`webmap.submissions.GeoCache`)."""
        with self._lock:
            if self._geo is None:
                from webmap.submissions import GeoCache

                self._geo = GeoCache()
            return self._geo


_RUNTIME_LOCK = threading.Lock()


def runtime() -> PatrolRuntime:
    """The current app's :class:`PatrolRuntime` (created on first use)."""
    state = current_state()
    rt = state.extras.get("patrol")
    if rt is None:
        with _RUNTIME_LOCK:
            rt = state.extras.get("patrol")
            if rt is None:
                rt = PatrolRuntime()
                state.extras["patrol"] = rt
    return rt  # type: ignore[no-any-return]


# --------------------------------------------------------------------------- observations
@dataclass(frozen=True)
class ObservationError:
    """One problem of an observation (``field`` of the JSON, Swedish ``message``)."""

    field: str
    message: str

    def to_dict(self) -> dict[str, str]:
        return {"field": self.field, "message": self.message}


@dataclass
class Observation:
    """A validated observation, ready to store."""

    key: str
    kommun: str
    category: str
    note: str | None
    lat: float
    lon: float
    precision: str
    occurred_at: dt.datetime  # tz-aware UTC
    reporter_org: str

    def to_frame(self, now: dt.datetime) -> pd.DataFrame:
        """One schema row for :func:`geo.ingest.ingest_frame`."""
        return pd.DataFrame(
            {
                "external_id": [self.key],
                "occurred_at": [self.occurred_at.isoformat()],
                "reported_at": [now.replace(tzinfo=dt.UTC).isoformat()],
                "category": [self.category],
                "description": [self.note],
                "reporter_org": [self.reporter_org],
                "lat": [f"{self.lat:.6f}"],
                "lon": [f"{self.lon:.6f}"],
                "precision": [self.precision],
            }
        )


class ObservationRejected(LagesbildError):
    """The pipeline quarantined an observation (its Swedish detail is the message)."""


def valid_key(value: Any) -> str | None:
    """The idempotency key if it is 8-64 characters of ``[A-Za-z0-9_-]``, else None."""
    if isinstance(value, str) and _KEY_RE.fullmatch(value):
        return value
    return None


def _number(value: Any) -> float | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        number = (
            float(str(value).strip().replace(",", ".")) if isinstance(value, str) else float(value)
        )
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def validate_observation(
    payload: Mapping[str, Any],
    key: str,
    tenant: Tenant,
    geo: Any,
    reporter_org: str,
    now: dt.datetime,
) -> tuple[Observation | None, list[ObservationError]]:
    """Check every field of an observation and collect all problems (Swedish).

    ``geo`` is the kommun's :class:`webmap.submissions.KommunGeo` (its ``contains``
    decides whether a position lies in the kommun); ``now`` is tz-aware.
    """
    from webmap.submissions import clean_text

    errors: list[ObservationError] = []
    category = payload.get("category")
    if not isinstance(category, str) or not category.strip():
        errors.append(ObservationError("category", "Välj en kategori."))
    elif category.strip() not in tenant.categories:
        errors.append(
            ObservationError(
                "category", f"Okänd kategori {category.strip()[:40]!r}; välj en i listan."
            )
        )
    raw_note = payload.get("note")
    if raw_note is not None and not isinstance(raw_note, str):
        errors.append(ObservationError("note", "Anteckningen ska vara text."))
        note = None
    else:
        note, fits = clean_text(raw_note, MAX_NOTE)
        if not fits:
            errors.append(
                ObservationError("note", f"Anteckningen är för lång (högst {MAX_NOTE} tecken).")
            )
    lat, lon = _number(payload.get("lat")), _number(payload.get("lon"))
    precision = "point"
    if lat is None or lon is None:
        errors.append(
            ObservationError(
                "position", "Position saknas: använd din position eller tryck i kartan."
            )
        )
    elif not (-90 <= lat <= 90 and -180 <= lon <= 180):
        errors.append(ObservationError("position", "Positionen är inte giltiga koordinater."))
    elif geo is None or not geo.contains(lat, lon):
        errors.append(
            ObservationError("position", f"Positionen ligger utanför {tenant.name} kommun.")
        )
    accuracy = payload.get("accuracy")
    if accuracy is not None:
        acc = _number(accuracy)
        if acc is None or acc < 0:
            errors.append(ObservationError("position", "Positionens noggrannhet är ogiltig."))
        elif acc > MAX_ACCURACY_M:
            errors.append(
                ObservationError(
                    "position",
                    f"Positionen är för osäker (±{int(acc)} m); tryck i kartan i stället.",
                )
            )
        elif acc > POINT_ACCURACY_M:
            precision = "street"
    observed = payload.get("observed_at")
    when = now
    if observed is not None:
        try:
            parsed = dt.datetime.fromisoformat(str(observed).strip())
            if parsed.tzinfo is None:
                parsed = parsed.replace(tzinfo=ZoneInfo(tenant.timezone))
            when = parsed.astimezone(dt.UTC)
            if when > now + FUTURE_TOLERANCE:
                errors.append(ObservationError("observed_at", "Tidpunkten ligger i framtiden."))
            elif when < now - MAX_OBSERVATION_AGE:
                errors.append(
                    ObservationError(
                        "observed_at",
                        f"Observationen är äldre än {MAX_OBSERVATION_AGE.days} dagar.",
                    )
                )
        except (TypeError, ValueError, OverflowError):  # overflow: year 1 or 9999 in UTC
            errors.append(ObservationError("observed_at", "Tidpunkten kunde inte läsas."))
    if errors:
        return None, errors
    assert lat is not None and lon is not None and isinstance(category, str)
    return (
        Observation(
            key=key,
            kommun=tenant.key,
            category=category.strip(),
            note=note,
            lat=lat,
            lon=lon,
            precision=precision,
            occurred_at=when.replace(microsecond=0),
            reporter_org=reporter_org[:200],
        ),
        [],
    )


@dataclass(frozen=True)
class StoredKey:
    """What an idempotency key already stored."""

    report_id: int | None
    user_id: int | None
    kommun: str


def find_observation(conn: Connection, key: str) -> StoredKey | None:
    """The stored row of an idempotency key, or None."""
    t = patrol_observation
    row = conn.execute(select(t.c.report_id, t.c.user_id, t.c.kommun).where(t.c.key == key)).first()
    if row is None:
        return None
    rid = None if row.report_id is None else int(row.report_id)
    uid = None if row.user_id is None else int(row.user_id)
    return StoredKey(rid, uid, str(row.kommun))


def store_observation(
    engine: Engine,
    obs: Observation,
    user_id: int | None,
    lock: threading.Lock | None = None,
    now: dt.datetime | None = None,
) -> tuple[int, bool]:
    """Store ``obs`` as a ``patrol`` report once per key: ``(report_id, created)``.

    One transaction: claim the key (insert; the primary key makes a second claim fail),
    run the report through :func:`geo.ingest.ingest_frame`, record the report id. A key
    that is already claimed returns its report id with ``created=False``. Raises
    :class:`ObservationRejected` (nothing stored) when the pipeline quarantines the row.
    """
    from geo.ingest import ingest_frame

    moment = (now or utcnow()).replace(tzinfo=None)
    for _attempt in range(3):
        try:
            with lock or threading.Lock(), engine.begin() as conn:
                conn.execute(
                    patrol_observation.insert().values(
                        key=obs.key,
                        report_id=None,
                        kommun=obs.kommun,
                        user_id=user_id,
                        created_at=moment,
                    )
                )
                result = ingest_frame(
                    conn, obs.to_frame(moment), kommun=obs.kommun, source="patrol"
                )
                assert result.outcomes is not None
                outcome = result.outcomes.iloc[0]
                if outcome["outcome"] == "quarantined" or pd.isna(outcome["report_id"]):
                    detail = outcome["detail"]
                    raise ObservationRejected(
                        str(detail) if isinstance(detail, str) else "observationen avvisades"
                    )
                report_id = int(outcome["report_id"])
                conn.execute(
                    update(patrol_observation)
                    .where(patrol_observation.c.key == obs.key)
                    .values(report_id=report_id)
                )
            return report_id, True
        except IntegrityError:
            with engine.connect() as conn:
                found = find_observation(conn, obs.key)
            if found is not None and found.report_id is not None:
                return found.report_id, False
    raise LagesbildError("observationen kunde inte sparas, försök igen")


def recent_observations(
    engine: Engine, user_id: int, kommun: str, since: dt.datetime, limit: int = 20
) -> list[dict[str, Any]]:
    """The user's stored observations in ``kommun`` since ``since`` (naive UTC), newest first."""
    t, r = patrol_observation, report_table
    with engine.connect() as conn:
        rows = conn.execute(
            select(r.c.id, r.c.category, r.c.occurred_at, r.c.description)
            .join(t, t.c.report_id == r.c.id)
            .where(t.c.user_id == user_id, t.c.kommun == kommun, t.c.created_at >= since)
            .order_by(r.c.occurred_at.desc(), r.c.id.desc())
            .limit(limit)
        ).all()
    return [dict(row._mapping) for row in rows]


# --------------------------------------------------------------------------- static map
def _svg_map(
    areas: Sequence[tuple[int, Any, tuple[float, float]]],
    bbox: tuple[float, float, float, float],
    localities: Any,
    width: int,
    height: int,
    places: Sequence[Mapping[str, Any]] = (),
    min_span_m: float = 1200.0,
) -> dict[str, Any]:
    """SVG shapes of one static map (equirectangular around ``bbox``; fine at town scale).

    ``areas`` are ``(step, geometry, (lat, lon) of the number)``; ``bbox`` is
    ``(minx, miny, maxx, maxy)`` in degrees and is padded and widened to at least
    ``min_span_m``; localities are grey context, ``places`` (``name``, ``lat``, ``lon``)
    labelled dots. Coordinates are pixels (numbers only, nothing from users).
    """
    minx, miny, maxx, maxy = bbox
    lat0 = (miny + maxy) / 2.0
    kx = math.cos(math.radians(lat0))
    min_deg = min_span_m / 111_320.0
    w_deg = max((maxx - minx) * kx, min_deg) * 1.3
    h_deg = max(maxy - miny, min_deg * height / width) * 1.3
    cx, cy = (minx + maxx) / 2.0, (miny + maxy) / 2.0
    scale = min(width / w_deg, height / h_deg)  # pixels per projected degree

    def xy(lon: float, lat: float) -> tuple[float, float]:
        return (
            round(width / 2 + (lon - cx) * kx * scale, 1),
            round(height / 2 - (lat - cy) * scale, 1),
        )

    def path(geom: Any) -> str:
        parts: list[str] = []
        polys = list(geom.geoms) if hasattr(geom, "geoms") else [geom]
        for poly in polys:
            if poly.is_empty or poly.geom_type != "Polygon":
                continue
            for ring in (poly.exterior, *poly.interiors):
                pts = [xy(x, y) for x, y in ring.coords]
                parts.append("M" + " L".join(f"{a},{b}" for a, b in pts) + " Z")
        return " ".join(parts)

    half_w, half_h = width / 2 / (kx * scale), height / 2 / scale
    box = (cx - half_w, cy - half_h, cx + half_w, cy + half_h)
    context = []
    if localities is not None and len(localities):
        for name, geom in zip(localities["name"], localities.geometry.to_numpy(), strict=True):
            if geom is None or geom.is_empty:
                continue
            clipped = shapely.clip_by_rect(geom, *box)
            d = "" if clipped.is_empty else path(clipped)
            if d:
                context.append({"d": d, "name": str(name)})
    shapes, labels = [], []
    for step, geom, (lat, lon) in areas:
        clipped = shapely.clip_by_rect(geom, *box)
        if clipped.is_empty:
            continue
        x, y = xy(lon, lat)
        shapes.append({"d": path(clipped), "step": step})
        if 0 <= x <= width and 0 <= y <= height:
            labels.append({"step": step, "x": x, "y": y})
    dots = []
    for p in places:
        x, y = xy(float(p["lon"]), float(p["lat"]))
        if 4 <= x <= width - 4 and 4 <= y <= height - 4:
            dots.append({"name": str(p["name"]), "x": x, "y": y, "right": x < width * 0.6})
    metres_per_px = 111_320.0 / scale
    bar_m = 50.0
    for candidate in (50, 100, 200, 250, 500, 1000, 2000, 5000, 10000, 20000, 50000):
        if candidate / metres_per_px <= width * 0.3:
            bar_m = float(candidate)
    return {
        "width": width,
        "height": height,
        "context": context,
        "areas": shapes,
        "labels": labels,
        "places": dots,
        "bar_px": round(bar_m / metres_per_px, 1),
        "bar_text": distance_sv(bar_m),
    }


def plan_svg(
    view: Mapping[str, Any], localities: Any, width: int = 640, height: int = 400
) -> dict[str, Any] | None:
    """Static maps of a plan for the printable sheet (None without areas).

    ``overview``: every area numbered in walking order over the localities; ``details``:
    one map per area (about 1.2 km across) with its nearby named places.
    """
    areas = view.get("areas") or []
    if not areas:
        return None
    items = [
        (int(a["step"]), shapely.geometry.shape(a["outline"]), (a["centre"][0], a["centre"][1]))
        for a in areas
    ]
    everything = shapely.union_all([g for _s, g, _c in items]).bounds
    overview = _svg_map(items, everything, localities, width, height, min_span_m=2000.0)
    details = []
    for a, (_step, geom, _centre) in zip(areas, items, strict=True):
        near = [
            {"name": p["name"], "lat": p["lat"], "lon": p["lon"]}
            for p in a.get("near", [])
            if "lat" in p and "lon" in p
        ]
        # numbers at the areas' north-west corners, clear of the place labels
        corners = [(s, g, (g.bounds[3], g.bounds[0])) for s, g, _c in items]
        details.append(
            {
                "step": a["step"],
                "name": a["name"],
                "map": _svg_map(corners, geom.bounds, localities, 320, 240, places=near),
            }
        )
    return {"overview": overview, "details": details}


# --------------------------------------------------------------------------- views
def _tenant_and_plan() -> tuple[Tenant, PlanRequest, list[str], dict[str, Any], Any]:
    from webmap.web import localities_of, resolve_kommun

    tenant = resolve_kommun()
    req, problems = parse_plan_args(request.args, tenant)
    localities = localities_of(tenant.key)
    view = runtime().plan(current_state().engine, tenant, req, localities)
    return tenant, req, problems, view, localities


def localities_geojson(localities: Any, tolerance: float = 0.0003) -> dict[str, Any]:
    """The localities as a small GeoJSON FeatureCollection (map context without tiles)."""
    features = []
    if localities is not None and len(localities):
        for code, name, geom in zip(
            localities["code"], localities["name"], localities.geometry.to_numpy(), strict=True
        ):
            if geom is None or geom.is_empty:
                continue
            simple = shapely.set_precision(shapely.simplify(geom, tolerance), 1e-5)
            features.append(
                {
                    "type": "Feature",
                    "properties": {"code": str(code), "name": str(name)},
                    "geometry": shape_mapping(simple),
                }
            )
    return {"type": "FeatureCollection", "features": features}


def _url(endpoint: str, req: PlanRequest) -> str:
    values: dict[str, Any] = dict(req.query())
    return url_for(endpoint, **values)


def _shift_choices(selected: str) -> list[tuple[str, str]]:
    codes = list(SHIFT_CHOICES)
    if selected not in codes:
        codes.insert(0, selected)
    return [(c, c.replace("-", "–")) for c in codes]


@bp.get("/patrull")
@role_required("patrol")
def home() -> Any:
    """Tonight's patrol areas, the walking order, windows and reasons; observations."""
    from webmap.web import allowed_tenants, base_map_config

    tenant, req, problems, view, localities = _tenant_and_plan()
    geo = runtime().geo().get(current_state().engine, tenant.key)
    since = utcnow() - dt.timedelta(hours=24)
    mine = recent_observations(current_state().engine, int(current_user.id), tenant.key, since)
    tz = ZoneInfo(tenant.timezone)
    for row in mine:
        local = row["occurred_at"].replace(tzinfo=dt.UTC).astimezone(tz)
        row["time_text"] = local.strftime("%H:%M")
        row["label"] = str(tenant.categories.get(row["category"], {}).get("label", row["category"]))
    categories = [(code, str(v.get("label", code))) for code, v in tenant.categories.items()]
    config = {
        "kommun": tenant.key,
        "kommunName": tenant.name,
        "user": int(current_user.id),
        "areas": [
            {
                "step": a["step"],
                "name": a["name"],
                "window": a["window"],
                "centre": a["centre"],
                "outline": a["outline"],
            }
            for a in view["areas"]
        ],
        "bounds": view.get("bounds")
        or (
            [[geo.bounds[0], geo.bounds[1]], [geo.bounds[2], geo.bounds[3]]] if geo.bounds else None
        ),
        "centre": list(geo.centre) if geo.centre else None,
        "localities": localities_geojson(localities),
        **base_map_config(tenant.key),
        "observationUrl": url_for("patrol.observation"),
        "tokenUrl": url_for("patrol.token"),
        "loginUrl": url_for("auth.login", next=url_for("patrol.home")),
        "csrf": generate_csrf(),
        "categories": dict(categories),
        "maxNote": MAX_NOTE,
    }
    return render_template(
        "patrol/home.html",
        tenant=tenant,
        tenants=allowed_tenants(),
        req=req,
        problems=problems,
        plan=view,
        categories=categories,
        shifts=_shift_choices(req.shift),
        max_areas=MAX_AREAS,
        mine=mine,
        config=config,
        max_note=MAX_NOTE,
        print_url=_url("patrol.print_sheet", req),
    )


@bp.get("/patrull/utskrift")
@role_required("patrol")
def print_sheet() -> Any:
    """Printable sheet of the plan: static map, order, windows, reasons, places."""
    tenant, req, problems, view, localities = _tenant_and_plan()
    return render_template(
        "patrol/print.html",
        tenant=tenant,
        req=req,
        problems=problems,
        plan=view,
        svg=plan_svg(view, localities),
        back_url=_url("patrol.home", req),
    )


@bp.get("/patrull/token")
@role_required("patrol")
def token() -> Any:
    """A fresh CSRF token for the page's queued observations (long shifts)."""
    return jsonify({"csrf": generate_csrf()})


def _json_error(status: int, message: str, errors: list[ObservationError] | None = None) -> Any:
    body: dict[str, Any] = {"error": message}
    if errors is not None:
        body["errors"] = [e.to_dict() for e in errors]
    return jsonify(body), status


@bp.post("/patrull/observation")
@role_required("patrol")
def observation() -> Any:
    """Store one observation (JSON) once per idempotency key.

    ``201 {"report_id", "status": "stored"}`` for a new observation, ``200`` with the
    same report id (``"status": "already_stored"``) for a repeated key, ``422`` with
    Swedish ``errors`` for invalid fields, ``409`` for a key of another user.
    """
    from geo.tenants import get_tenant

    payload = request.get_json(silent=True)
    if not isinstance(payload, dict):
        return _json_error(400, "Observationen ska skickas som JSON.")
    key = valid_key(payload.get("key"))
    if key is None:
        return _json_error(
            422,
            "Observationen saknar giltig nyckel.",
            [ObservationError("key", "Nyckeln saknas eller är ogiltig (8–64 tecken).")],
        )
    engine = current_state().engine
    with engine.connect() as conn:
        found = find_observation(conn, key)
    if found is not None and found.report_id is not None:
        if found.user_id != int(current_user.id):
            return _json_error(409, "Nyckeln har redan använts av en annan användare.")
        return jsonify({"report_id": found.report_id, "status": "already_stored", "key": key})
    kommun = payload.get("kommun") or current_app.config.get("DEFAULT_KOMMUN") or "norrtalje"
    try:
        with engine.connect() as conn:
            tenant = get_tenant(conn, str(kommun))
        geo = runtime().geo().get(engine, tenant.key)
    except NotFoundError:
        return _json_error(
            422,
            "Observationen kunde inte sparas.",
            [ObservationError("kommun", f"Okänd kommun {str(kommun)[:40]!r}.")],
        )
    if not current_user.can_access(tenant.key):
        return _json_error(403, f"Du saknar behörighet för {tenant.name} kommun.")
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    org = current_user.reporter_org or DEFAULT_ORG
    obs, errors = validate_observation(payload, key, tenant, geo, org, now)
    if obs is None:
        return _json_error(422, "Observationen kunde inte sparas.", errors)
    try:
        report_id, created = store_observation(
            engine, obs, int(current_user.id), runtime().write_lock, now=now
        )
    except ObservationRejected as exc:
        return _json_error(
            422, "Observationen kunde inte sparas.", [ObservationError("observation", str(exc))]
        )
    status = "stored" if created else "already_stored"
    return jsonify({"report_id": report_id, "status": status, "key": key}), (
        201 if created else 200
    )


__all__ = [
    "DEFAULT_AREAS",
    "DEFAULT_SHIFT",
    "MAX_AREAS",
    "Observation",
    "ObservationError",
    "ObservationRejected",
    "PatrolRuntime",
    "PlanRequest",
    "bp",
    "compute_plan",
    "default_date",
    "find_observation",
    "parse_plan_args",
    "patrol_observation",
    "plan_svg",
    "recent_observations",
    "runtime",
    "store_observation",
    "valid_key",
    "validate_observation",
]
