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
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import shapely
from flask import Blueprint, jsonify, render_template, request, url_for
from flask_login import current_user
from flask_wtf.csrf import generate_csrf
from shapely.geometry import mapping as shape_mapping

from geo.errors import NotFoundError, ValidationError
from geo.store.db import utcnow
from geo.tenants import Tenant
from webmap.auth.views import role_required
from webmap.contracts.common import parse
from webmap.contracts.patrol import ObservationInput
from webmap.patrol.observations import (
    Observation,
    ObservationRejected,
    find_observation,
    recent_observations,
    store_observation,
)
from webmap.patrol.plan import (
    DEFAULT_AREAS,
    DEFAULT_SHIFT,
    MAX_AREAS,
    SHIFT_CHOICES,
    PatrolRuntime,
    PlanRequest,
    default_date,
)
from webmap.render.patrol_svg import plan_svg
from webmap.state import current_state, default_kommun
from webmap.weeks import MAX_YEAR, MIN_YEAR

if TYPE_CHECKING:
    pass

bp = Blueprint("patrol", __name__)

NAV = [("patrol.home", "Patrull", ("patrol",))]
#: Observations per client key (a patrol's phone sends its queue in bursts after a gap).
RATE_LIMITS = {"patrol.observation": ("120/minute", ["POST"])}

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


def runtime() -> PatrolRuntime:
    """The current app's :class:`PatrolRuntime`."""
    return current_state().patrol


# --------------------------------------------------------------------------- observations
@dataclass(frozen=True)
class ObservationError:
    """One problem of an observation (``field`` of the JSON, Swedish ``message``)."""

    field: str
    message: str

    def to_dict(self) -> dict[str, str]:
        return {"field": self.field, "message": self.message}


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

    ``geo`` is the kommun's :class:`webmap.citizen.submissions.KommunGeo` (its ``contains``
    decides whether a position lies in the kommun); ``now`` is tz-aware.
    """
    from webmap.citizen.submissions import clean_text

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
    # types were checked by :class:`webmap.contracts.patrol.ObservationInput`
    note, fits = clean_text(payload.get("note"), MAX_NOTE)
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
    payload = parse(ObservationInput, payload).model_dump()  # shape errors: a Swedish 400
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
    kommun = payload.get("kommun") or default_kommun()
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
    "ObservationError",
    "bp",
    "parse_plan_args",
    "runtime",
    "valid_key",
    "validate_observation",
]
