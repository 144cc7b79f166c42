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
import pandas as pd
from flask import Blueprint, Response, current_app, jsonify, request
from werkzeug.exceptions import HTTPException

from analysis.public import GROUPS, PublicTable, category_to_group
from geo.cells import cells_to_parent, cells_to_points
from geo.errors import NotFoundError
from geo.labels import REPORT_STATUS_TEXT_SV
from geo.schema import Status
from geo.store.citizen import approved_citizen_reports, report_place
from webmap.auth.apikeys import verify_api_key
from webmap.citizen.submissions import (
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
from webmap.contracts.common import parse
from webmap.contracts.open311 import RequestsQuery, ServiceRequestInput
from webmap.state import default_kommun, get_engine

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

#: ``status_notes`` of a request: the status text citizens see (:mod:`geo.labels`).
STATUS_NOTES_SV = REPORT_STATUS_TEXT_SV


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
    key = request.values.get("jurisdiction_id") or default_kommun()
    if len(key) > 64:
        return None
    try:
        return runtime().geo.get(get_engine(), key)
    except NotFoundError:
        return None


def _services(geo: KommunGeo) -> list[dict[str, Any]]:
    from webmap.citizen.pages import ordered_categories

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
    geo: KommunGeo, rows: Sequence[Mapping[str, Any]], table: PublicTable | None = None
) -> list[tuple[float, float] | None]:
    """Per row: the public cell centre, or None.

    Only for cells published at the finest level, and only when the cell's published
    numbers already include the report (approved before the snapshot the cell shows,
    :meth:`analysis.public.PublicTable.shown_at`): the list then grows in the same steps
    of at least k as the map.
    """
    from webmap.public.map_page import public_table_for

    out: list[tuple[float, float] | None] = [None] * len(rows)
    which = [i for i, x in enumerate(rows) if x.get("cell") and x.get("moderated_at")]
    if not which:
        return out
    table = table or public_table_for(geo)
    stored = np.asarray([int(rows[i]["cell"]) for i in which], dtype=np.uint64)
    parents = cells_to_parent(stored, table.res)
    levels, shown_at = table.level_of(parents), table.shown_at(parents)
    lat, lon = cells_to_points(parents)
    for j, i in enumerate(which):
        approved = pd.Timestamp(rows[i]["moderated_at"])
        approved = approved.tz_localize("UTC") if approved.tzinfo is None else approved
        if levels[j] == "full" and approved < shown_at[j]:
            out[i] = (round(float(lat[j]), 5), round(float(lon[j]), 5))
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
    receipts: list[str] | None = None
    submitted: tuple[dt.datetime, dt.datetime] | None = None
    codes: list[str] = []
    parse(RequestsQuery, args.to_dict())  # lengths, status list and W3C dates: 400 naming each
    ids = [
        normalise_receipt(x) for x in (args.get("service_request_id") or "").split(",") if x.strip()
    ]
    if ids:
        receipts = ids[:MAX_RESULTS]
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
        submitted = (start, end)
        codes = [x.strip() for x in (args.get("service_code") or "").split(",") if x.strip()]
        statuses = {x.strip() for x in (args.get("status") or "").split(",") if x.strip()}
        if statuses - {"open", "closed"}:
            return error_response(400, "status must be open and/or closed", fmt)
        if statuses and "closed" not in statuses:
            return respond(fmt, [], "service_requests", "request")
    # The same snapshot as the public map: a report approved since the last publication
    # (Monday 00:00 by default) is listed from the next one, so the list cannot be used
    # to time a single new report against the map.
    from webmap.public.map_page import public_settings, public_table_for

    table = public_table_for(geo)
    as_of = None
    if public_settings(geo)["snapshot"] != "live":
        as_of = table.as_of.tz_convert("UTC").tz_localize(None).to_pydatetime()
    with get_engine().connect() as conn:
        rows = approved_citizen_reports(
            conn,
            geo.tenant.key,
            receipts=receipts,
            submitted=submitted,
            categories=codes,
            moderated_before=as_of,
            limit=MAX_RESULTS,
        )
    positions = _public_positions(geo, rows, table)
    payload = [_request_payload(x, geo, pos) for x, pos in zip(rows, positions, strict=True)]
    return respond(fmt, payload, "service_requests", "request")


@bp.get("/requests/<service_request_id>.<any(json, xml):fmt>", endpoint="request_one")
def request_one(service_request_id: str, fmt: str) -> Response:
    """One request by id (the receipt number)."""
    if len(service_request_id) > 40:
        return error_response(404, "service_request_id not found", fmt)
    with get_engine().connect() as conn:
        found = find_receipt(conn, service_request_id)
        extra = None if found is None else report_place(conn, int(found["id"]))
    if found is None or extra is None:
        return error_response(404, "service_request_id not found", fmt)
    try:
        geo = runtime().geo.get(get_engine(), str(extra["kommun"]))
    except NotFoundError:
        return error_response(404, "service_request_id not found", fmt)
    row = {
        **found,
        "description": extra["description"],
        "cell": extra["cell"],
        "locality": extra["locality"],
    }
    position = None
    if found["status"] == Status.APPROVED.value:
        position = _public_positions(geo, [row])[0]
    return respond(fmt, [_request_payload(row, geo, position)], "service_requests", "request")
