"""Open311 GeoReport v2 at ``/open311/v2`` (JSON and XML).

Endpoints (``<fmt>`` is ``json`` or ``xml``; XML is the format the specification requires):

========================================  =============================================
``GET  discovery.<fmt>``                  service discovery
``GET  services.<fmt>``                   categories of the kommun, grouped (``group``)
``GET  services/<service_code>.<fmt>``    service definition (attribute ``time_of_day``)
``POST requests.<fmt>``                   new report (``api_key`` required)
``GET  requests.<fmt>``                   approved reports (public fields, see below)
``GET  requests/<id>.<fmt>``              one report by its id (the receipt number)
========================================  =============================================

``jurisdiction_id`` selects the kommun (tenant key such as ``norrtalje`` or SCB code
``0188``; default: the installation's default kommun).

POST requests
-------------
Form-encoded as the specification describes: ``api_key`` (a partner key created with
``lagesbild apikeys create``; missing or invalid → 403), ``service_code``, ``lat`` +
``long`` or ``address_string`` (looked up in the offline gazetteer), ``description``
(≤ 4,000 characters, plain text), ``attribute[time_of_day]``. The report lands in the
moderation queue as a pending citizen report; the response carries the receipt number
as ``service_request_id``. Personal fields of the specification (``email``,
``first_name``, ``last_name``, ``phone``, ``device_id``, ``account_id``) and
``media_url`` are accepted but **never stored**. An ``Idempotency-Key`` header makes
retries safe. This endpoint is exempt from CSRF (no session is used; the API key is
the authentication).

What GET requests returns
-------------------------
Only **approved** citizen reports, newest first, at most 1,000, from the last 90 days
unless ``start_date``/``end_date`` say otherwise (at most 90 days apart), and only those
approved before the public map's snapshot (``PUBLIC_SNAPSHOT``, Monday 00:00 by
default): the list changes when the map does, so it cannot time a single report:

* ``status`` is ``closed`` (reviewed and counted in the lägesbild) with ``status_notes``;
* ``description`` is the moderated text (``null`` after retention deleted it);
* ``requested_datetime``/``updated_datetime`` are rounded to the day (local time);
* ``lat``/``long`` are the **centre of the public H3 cell** and ``address`` the locality
  name, but only when that cell is published at the finest level of the public map
  (:mod:`analysis.public`, every filter block ≥ k); otherwise there is no position and
  ``address`` is just the kommun, so no request reveals a cell below k;
* the exact position, the free-text place, the channel and any flags are never returned.

``GET requests/<id>`` also answers for pending (``open``, no text, no position) and
rejected (``closed``, no text, no position) reports, so the sender can follow its
request. Errors follow the specification: a list of ``{code, description}`` with HTTP
400, 403 or 404 (and 429 when rate limited).
"""

from __future__ import annotations

import datetime as dt
import re
import xml.etree.ElementTree as ET
from collections.abc import Mapping, Sequence
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
from flask import Blueprint, Response, current_app, jsonify, request
from sqlalchemy import and_, select
from werkzeug.exceptions import HTTPException

from analysis.public import GROUPS, PublicTable, category_to_group
from geo.cells import cells_to_parent, cells_to_points
from geo.errors import NotFoundError
from geo.schema import Source, Status
from webmap.apikeys import verify_api_key
from webmap.citizen_tables import citizen_report
from webmap.contracts.common import parse
from webmap.contracts.open311 import RequestsQuery, ServiceRequestInput
from webmap.state import get_engine
from webmap.submissions import (
    MAX_DESCRIPTION_OPEN311,
    MAX_KEY,
    TIME_OF_DAY,
    IdempotencyConflict,
    KommunGeo,
    SubmissionError,
    find_receipt,
    normalise_receipt,
    runtime,
    validate_submission,
)

bp = Blueprint("open311", __name__, url_prefix="/open311/v2")

PUBLIC_ENDPOINTS = (
    "open311.discovery",
    "open311.services",
    "open311.service_definition",
    "open311.requests_list",
    "open311.requests_create",
    "open311.request_one",
)
CSRF_EXEMPT = ("open311.requests_create",)


def _post_limit() -> str:
    return str(current_app.config.get("OPEN311_RATE_LIMIT") or "60/minute")


def _read_limit() -> str:
    return str(current_app.config.get("API_READ_RATE_LIMIT") or "120/minute")


RATE_LIMITS = {
    "open311.requests_create": (_post_limit, ["POST"]),
    "open311.requests_list": (_read_limit, ["GET"]),
    "open311.request_one": (_read_limit, ["GET"]),
}

SPECIFICATION = "http://wiki.open311.org/GeoReport_v2"
CHANGESET = "2026-01-01T00:00:00Z"
#: Longest window of GET requests (days), as the specification suggests.
MAX_WINDOW_DAYS = 90
MAX_RESULTS = 1000

#: Child element names of lists in the XML form.
_XML_ITEMS = {
    "endpoints": "endpoint",
    "formats": "format",
    "attributes": "attribute",
    "values": "value",
}

#: Characters XML 1.0 does not allow (user input echoed in an error must not break the XML).
_XML_INVALID = re.compile("[^\t\n\r\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")

STATUS_NOTES_SV = {
    Status.APPROVED.value: "Granskad och inräknad i kommunens lägesbild.",
    Status.PENDING.value: "Mottagen, väntar på granskning.",
    Status.REJECTED.value: "Granskad; ingår inte i lägesbilden.",
}


# -- rendering ----------------------------------------------------------------------------


def _xml_value(parent: ET.Element, tag: str, value: Any) -> None:
    el = ET.SubElement(parent, tag)
    if value is None:
        return
    if isinstance(value, bool):
        el.text = "true" if value else "false"
    elif isinstance(value, Mapping):
        for k, v in value.items():
            _xml_value(el, str(k), v)
    elif isinstance(value, (list, tuple)):
        item_tag = _XML_ITEMS.get(tag, "item")
        for v in value:
            _xml_value(el, item_tag, v)
    else:
        el.text = _XML_INVALID.sub("", str(value))


def to_xml(root: str, item: str | None, payload: Any) -> bytes:
    """Serialise ``payload`` (a list of dicts under ``root``/``item``, or one dict)."""
    top = ET.Element(root)
    if item is not None:
        for entry in payload:
            _xml_value(top, item, entry)
    else:
        for k, v in payload.items():
            _xml_value(top, str(k), v)
    return b'<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(top, encoding="utf-8")


def respond(fmt: str, payload: Any, root: str, item: str | None, status: int = 200) -> Response:
    """JSON or XML response."""
    if fmt == "xml":
        return Response(to_xml(root, item, payload), status, content_type="text/xml; charset=utf-8")
    resp = jsonify(payload)
    resp.status_code = status
    return resp


def _fmt() -> str:
    return "xml" if request.path.endswith(".xml") else "json"


def error_response(code: int, description: str | Sequence[str], fmt: str | None = None) -> Response:
    """Errors as the specification says: a list of ``{code, description}``."""
    descriptions = [description] if isinstance(description, str) else list(description)
    payload = [{"code": code, "description": d} for d in descriptions]
    return respond(fmt or _fmt(), payload, "errors", "error", status=code)


@bp.errorhandler(HTTPException)
def _http_error(exc: HTTPException) -> Response:
    code = exc.code or 500
    text = {
        400: "Bad request",
        403: "Forbidden",
        404: "Not found",
        405: "Method not allowed",
        413: "Request too large",
        429: "Too many requests; try again later",
    }.get(code, exc.name)
    return error_response(code, text)


# -- helpers -------------------------------------------------------------------------------


def _geo() -> KommunGeo | None:
    key = request.values.get("jurisdiction_id") or str(
        current_app.config.get("DEFAULT_KOMMUN") or "norrtalje"
    )
    if len(key) > 64:
        return None
    try:
        return runtime().geo.get(get_engine(), key)
    except NotFoundError:
        return None


def _services(geo: KommunGeo) -> list[dict[str, Any]]:
    from webmap.citizen import ordered_categories

    cats = ordered_categories(geo)
    groups = category_to_group([c for c, _l in cats])
    return [
        {
            "service_code": code,
            "service_name": label,
            "description": f"{label}: rapport till {geo.tenant.name} kommuns trygghetsarbete.",
            "metadata": True,
            "type": "realtime",
            "keywords": f"trygghet, {GROUPS[str(g)][0].lower()}",
            "group": GROUPS[str(g)][0],
        }
        for (code, label), g in zip(cats, groups, strict=True)
    ]


def _day_iso(value: dt.datetime | None, tz: str) -> str | None:
    """Naive-UTC instant rounded down to the local day, as W3C datetime with offset."""
    if value is None:
        return None
    local = value.replace(tzinfo=dt.UTC).astimezone(ZoneInfo(tz))
    day = dt.datetime.combine(local.date(), dt.time(0), tzinfo=ZoneInfo(tz))
    return day.isoformat()


def _parse_w3c(text: str) -> dt.datetime:
    value = dt.datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return value.astimezone(dt.UTC).replace(tzinfo=None)


def _public_positions(
    geo: KommunGeo, cells: list[int], table: PublicTable | None = None
) -> dict[int, tuple[float, float]]:
    """Stored cell -> public cell centre, only for cells published at the finest level."""
    from webmap.public_map import public_table_for

    stored = np.asarray([c for c in cells if c], dtype=np.uint64)
    if stored.size == 0:
        return {}
    table = table or public_table_for(geo)
    parents = cells_to_parent(stored, table.res)
    levels = table.level_of(parents)
    lat, lon = cells_to_points(parents)
    out: dict[int, tuple[float, float]] = {}
    for i, c in enumerate(stored.tolist()):
        if levels[i] == "full":
            out[int(c)] = (round(float(lat[i]), 5), round(float(lon[i]), 5))
    return out


def _request_payload(
    row: Mapping[str, Any], geo: KommunGeo, position: tuple[float, float] | None
) -> dict[str, Any]:
    labels = {code: str(v.get("label", code)) for code, v in geo.tenant.categories.items()}
    names = {
        str(c): str(n) for c, n in zip(geo.localities["code"], geo.localities["name"], strict=True)
    }
    status = str(row["status"])
    approved = status == Status.APPROVED.value
    address = f"{geo.tenant.name} kommun"
    if approved and position is not None and row.get("locality"):
        address = names.get(str(row["locality"]), address)
    return {
        "service_request_id": row["receipt"],
        "status": "open" if status == Status.PENDING.value else "closed",
        "status_notes": STATUS_NOTES_SV.get(status, ""),
        "service_name": labels.get(row["category"], row["category"]),
        "service_code": row["category"],
        "description": row.get("description") if approved else None,
        "agency_responsible": f"{geo.tenant.name} kommun",
        "service_notice": None,
        "requested_datetime": _day_iso(row["submitted_at"], geo.tenant.timezone),
        "updated_datetime": _day_iso(
            row.get("moderated_at") or row["submitted_at"], geo.tenant.timezone
        ),
        "expected_datetime": None,
        "address": address,
        "address_id": None,
        "zipcode": None,
        "lat": position[0] if (approved and position) else None,
        "long": position[1] if (approved and position) else None,
        "media_url": None,
    }


# -- views ---------------------------------------------------------------------------------


@bp.get("/discovery.<any(json, xml):fmt>", endpoint="discovery")
def discovery(fmt: str) -> Response:
    """Service discovery."""
    cfg = current_app.config
    payload = {
        "changeset": CHANGESET,
        "contact": str(cfg.get("OPEN311_CONTACT") or "Kommunens trygghetssamordnare"),
        "key_service": str(
            cfg.get("OPEN311_KEY_SERVICE")
            or "API-nycklar för partnersystem delas ut av kommunen (lagesbild apikeys create)."
        ),
        "endpoints": [
            {
                "specification": SPECIFICATION,
                "url": request.url_root.rstrip("/") + "/open311/v2",
                "changeset": CHANGESET,
                "type": "production",
                "formats": ["text/xml", "application/json"],
            }
        ],
    }
    return respond(fmt, payload, "discovery", None)


@bp.get("/services.<any(json, xml):fmt>", endpoint="services")
def services(fmt: str) -> Response:
    """The categories of the kommun as services."""
    geo = _geo()
    if geo is None:
        return error_response(404, "jurisdiction_id not found", fmt)
    return respond(fmt, _services(geo), "services", "service")


@bp.get("/services/<service_code>.<any(json, xml):fmt>", endpoint="service_definition")
def service_definition(service_code: str, fmt: str) -> Response:
    """Definition of one service: the optional attribute ``time_of_day``."""
    geo = _geo()
    if geo is None:
        return error_response(404, "jurisdiction_id not found", fmt)
    if service_code not in geo.tenant.categories:
        return error_response(404, f"service_code {service_code[:64]} not found", fmt)
    payload = {
        "service_code": service_code,
        "attributes": [
            {
                "variable": True,
                "code": "time_of_day",
                "datatype": "singlevaluelist",
                "required": False,
                "datatype_description": "Tid på dygnet då det hände (valfritt).",
                "order": 1,
                "description": "Tid på dygnet",
                "values": [{"key": k, "name": v[0]} for k, v in TIME_OF_DAY.items()],
            }
        ],
    }
    return respond(fmt, payload, "service_definition", None)


@bp.post("/requests.<any(json, xml):fmt>", endpoint="requests_create")
def requests_create(fmt: str) -> Response:
    """Create a service request (pending citizen report)."""
    form = request.form
    key = form.get("api_key") or request.args.get("api_key")
    engine = get_engine()
    with engine.begin() as conn:
        partner = verify_api_key(conn, key)
    if partner is None:
        return error_response(403, "Invalid or missing api_key", fmt)
    geo = _geo()
    if geo is None:
        return error_response(404, "jurisdiction_id not found", fmt)
    if not partner.allows(geo.tenant.key):
        return error_response(403, "api_key is not valid for this jurisdiction_id", fmt)
    idem = request.headers.get("Idempotency-Key")
    if idem is not None and not 1 <= len(idem) <= MAX_KEY:
        return error_response(400, "Idempotency-Key must be 1-200 characters", fmt)
    body = parse(ServiceRequestInput, form.to_dict())  # shape errors: 400 naming each field
    service_code = body.service_code.strip()
    if not service_code:
        return error_response(400, "service_code is required", fmt)
    if service_code not in geo.tenant.categories:
        return error_response(400, f"service_code {service_code[:64]} not found", fmt)
    has_point = bool((body.lat or "").strip() or (body.long or "").strip())
    if not has_point and not (body.address_string or "").strip():
        return error_response(400, "lat and long, or address_string, are required", fmt)
    data = {
        "category": service_code,
        "lat": body.lat,
        "lon": body.long,
        "place": body.address_string,
        "description": body.description,
        "time_of_day": body.time_of_day,
    }
    rt = runtime()
    try:
        sub = validate_submission(
            data,
            geo,
            channel="open311",
            max_description=MAX_DESCRIPTION_OPEN311,
            geocode=rt.geocode,
        )
    except SubmissionError as exc:
        names = {"position": "lat/long", "place": "address_string", "category": "service_code"}
        return error_response(
            400, [f"{names.get(e.field, e.field)}: {e.message}" for e in exc.errors], fmt
        )
    sub.api_key_id = partner.id
    sub.idempotency_key = f"{partner.id}:{idem}" if idem else None
    try:
        receipt = rt.store(engine, sub)
    except IdempotencyConflict:
        return error_response(400, "Idempotency-Key was already used for a different request", fmt)
    payload = [
        {
            "service_request_id": receipt.receipt,
            "service_notice": "Rapporten granskas innan den används. Personuppgifter sparas inte.",
            "account_id": None,
        }
    ]
    return respond(fmt, payload, "service_requests", "request")


@bp.get("/requests.<any(json, xml):fmt>", endpoint="requests_list")
def requests_list(fmt: str) -> Response:
    """Approved reports with public fields only (see the module docstring)."""
    geo = _geo()
    if geo is None:
        return error_response(404, "jurisdiction_id not found", fmt)
    args = request.args
    from geo.store.tables import report as r

    c = citizen_report
    query = (
        select(
            c.c.receipt,
            c.c.submitted_at,
            c.c.moderated_at,
            r.c.category,
            r.c.status,
            r.c.description,
            r.c.cell,
            r.c.locality,
        )
        .join(r, r.c.id == c.c.report_id)
        .where(
            and_(
                r.c.kommun == geo.tenant.key,
                r.c.source == Source.CITIZEN.value,
                r.c.status == Status.APPROVED.value,
            )
        )
        .order_by(c.c.submitted_at.desc(), r.c.id.desc())
        .limit(MAX_RESULTS)
    )
    parse(RequestsQuery, args.to_dict())  # lengths, status list and W3C dates: 400 naming each
    ids = [
        normalise_receipt(x) for x in (args.get("service_request_id") or "").split(",") if x.strip()
    ]
    if ids:
        query = query.where(c.c.receipt.in_(ids[:MAX_RESULTS]))
    else:
        try:
            end = _parse_w3c(args["end_date"]) if args.get("end_date") else None
            start = _parse_w3c(args["start_date"]) if args.get("start_date") else None
            if end is None:
                end = (
                    (start + dt.timedelta(days=MAX_WINDOW_DAYS))
                    if start
                    else dt.datetime.now(dt.UTC).replace(tzinfo=None)
                )
            if start is None:
                start = end - dt.timedelta(days=MAX_WINDOW_DAYS)
        except (ValueError, OverflowError):  # e.g. year 9999 + 90 days
            return error_response(400, "start_date/end_date must be W3C datetimes", fmt)
        if end < start or end - start > dt.timedelta(days=MAX_WINDOW_DAYS):
            return error_response(
                400, f"the date range may span at most {MAX_WINDOW_DAYS} days", fmt
            )
        query = query.where(and_(c.c.submitted_at >= start, c.c.submitted_at <= end))
        codes = [x.strip() for x in (args.get("service_code") or "").split(",") if x.strip()]
        if codes:
            query = query.where(r.c.category.in_(codes))
        statuses = {x.strip() for x in (args.get("status") or "").split(",") if x.strip()}
        if statuses - {"open", "closed"}:
            return error_response(400, "status must be open and/or closed", fmt)
        if statuses and "closed" not in statuses:
            return respond(fmt, [], "service_requests", "request")
    # The same snapshot as the public map: a report approved since the last publication
    # (Monday 00:00 by default) is listed from the next one, so the list cannot be used
    # to time a single new report against the map.
    from webmap.public_map import public_settings, public_table_for

    table = public_table_for(geo)
    if public_settings(geo)["snapshot"] != "live":
        as_of = table.as_of.tz_convert("UTC").tz_localize(None).to_pydatetime()
        query = query.where(c.c.moderated_at < as_of)
    with get_engine().connect() as conn:
        rows = [dict(x._mapping) for x in conn.execute(query)]
    positions = _public_positions(geo, [int(x["cell"] or 0) for x in rows], table)
    payload = [_request_payload(x, geo, positions.get(int(x["cell"] or 0))) for x in rows]
    return respond(fmt, payload, "service_requests", "request")


@bp.get("/requests/<service_request_id>.<any(json, xml):fmt>", endpoint="request_one")
def request_one(service_request_id: str, fmt: str) -> Response:
    """One request by id (the receipt number)."""
    if len(service_request_id) > 40:
        return error_response(404, "service_request_id not found", fmt)
    from geo.store.tables import report as r

    with get_engine().connect() as conn:
        found = find_receipt(conn, service_request_id)
        extra = None
        if found is not None:
            extra = conn.execute(
                select(r.c.description, r.c.cell, r.c.locality, r.c.kommun).where(
                    r.c.id == found["id"]
                )
            ).first()
    if found is None or extra is None:
        return error_response(404, "service_request_id not found", fmt)
    try:
        geo = runtime().geo.get(get_engine(), str(extra.kommun))
    except NotFoundError:
        return error_response(404, "service_request_id not found", fmt)
    row = {
        **found,
        "description": extra.description,
        "cell": extra.cell,
        "locality": extra.locality,
    }
    position = None
    if found["status"] == Status.APPROVED.value:
        position = _public_positions(geo, [int(extra.cell or 0)]).get(int(extra.cell or 0))
    return respond(fmt, [_request_payload(row, geo, position)], "service_requests", "request")
