"""The OpenAPI 3.1 document of the JSON API, generated from the pydantic contracts.

Every schema comes from a model's JSON schema (:func:`pydantic.json_schema.models_json_schema`)
and every query parameter from a query model's fields; the list of operations below
only says which model belongs to which route and status. ``tests/webmap/test_openapi.py``
keeps it complete (every JSON rule of ``app.url_map``) and true (real responses and a
bounded schemathesis run validate against it).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from webmap.contracts import citizen as cz
from webmap.contracts import open311 as o3
from webmap.contracts import planner as pl
from webmap.contracts.common import ErrorBody

VERSION = "1.0.0"
_REF = "#/components/schemas/{model}"


@dataclass(frozen=True)
class Reply:
    """One documented answer: a model (``many``: a JSON array of it; None: any object)."""

    description: str
    model: type[BaseModel] | None = None
    many: bool = False


@dataclass(frozen=True)
class Operation:
    """One documented route and method."""

    path: str
    method: str
    operation_id: str
    summary: str
    responses: dict[int, Reply]
    query: type[BaseModel] | None = None
    path_params: dict[str, int] = field(default_factory=dict)  # name -> max length
    body: type[BaseModel] | None = None
    body_type: str = "application/json"
    description: str | None = None
    idempotency_header: bool = False
    login: bool = False


def _err(text: str) -> Reply:
    return Reply(text, ErrorBody)


def _o311(text: str) -> Reply:
    return Reply(text, o3.Open311Error, many=True)


_RATE = _err("Too many requests from this client (rate limit).")
_O311_RATE = _o311("Too many requests (rate limit).")
_NO_KOMMUN = _err("Unknown kommun")

OPERATIONS: tuple[Operation, ...] = (
    Operation(
        "/api/openapi.json", "get", "openapi", "This document", {200: Reply("OpenAPI document")}
    ),
    Operation(
        "/api/categories",
        "get",
        "categories",
        "Categories of a kommun (otrygg_plats first) and time-of-day choices",
        {200: Reply("Categories", cz.Categories), 400: _err("Invalid query"), 404: _NO_KOMMUN},
        query=cz.KommunQuery,
    ),
    Operation(
        "/api/places",
        "get",
        "places",
        "Search places in the offline gazetteer",
        {
            200: Reply("Matching places (best first)", cz.Places),
            400: _err("Query too short or too long"),
            404: _NO_KOMMUN,
            429: _RATE,
        },
        query=cz.PlacesQuery,
    ),
    Operation(
        "/api/reports",
        "post",
        "createReport",
        "Submit a citizen report (pending until moderated)",
        {
            201: Reply("Stored; the receipt", cz.Receipt),
            200: Reply("Already stored with this Idempotency-Key", cz.Receipt),
            400: _err("Invalid report: every problem in `errors` (field, code, Swedish message)"),
            404: _NO_KOMMUN,
            411: _err("Content-Length missing"),
            413: _err("Body larger than 64 kB"),
            415: _err("Body is not JSON"),
            422: _err("Idempotency-Key already used for a different report"),
            429: _RATE,
        },
        body=cz.ReportInput,
        idempotency_header=True,
        description=(
            "No login. Rate limited per client (salted, rotating hash of the address; "
            "the address is never stored). A repeated request with the same "
            "Idempotency-Key returns the first receipt (200) and stores nothing; the "
            "same key with a different report is refused (422)."
        ),
    ),
    Operation(
        "/api/reports/{receipt}/photos",
        "post",
        "addReportPhotos",
        "Add photos to a pending report (multipart/form-data, field `photos`)",
        {
            201: Reply("Stored, pending moderation", cz.PhotosAdded),
            400: _err("A file is not an accepted image: every problem in `errors`"),
            404: _err("Unknown receipt"),
            409: _err("The report is already moderated"),
            413: _err("Body larger than four photos"),
            415: _err("Body is not multipart/form-data"),
            429: _RATE,
        },
        body=cz.PhotoUpload,
        body_type="multipart/form-data",
        path_params={"receipt": 40},
        description=(
            "No login: the receipt of `POST /api/reports` is the only key. At most three "
            "photos per report in all, while it waits for moderation; the whole request is "
            "refused (400, each file named) when any file is not a JPEG, PNG or HEIC image, "
            "is larger than 8 MB or 50 megapixels, or its name or type claims another "
            "format than its content. Stored photos are re-encoded JPEGs without any "
            "metadata; the public sees only photos a moderator approved."
        ),
    ),
    Operation(
        "/api/reports/{receipt}",
        "get",
        "reportStatus",
        "Status of a report by receipt number (no text, no position)",
        {200: Reply("Status", cz.ReportStatus), 404: _err("Unknown receipt"), 429: _RATE},
        path_params={"receipt": 40},
    ),
    Operation(
        "/api/reports/status",
        "post",
        "reportStatuses",
        'Status of several reports by receipt number ("Mina rapporter")',
        {
            200: Reply("Status per receipt, in the order asked", cz.ReceiptStatuses),
            400: _err("Not a list of 1–20 receipt numbers"),
            413: _err("Body larger than 4 kB"),
            415: _err("Body is not JSON"),
            429: _RATE,
        },
        body=cz.StatusQuery,
        description=(
            "No login. Rate limited per client like the receipt page. Answers only the "
            "status of each receipt (no text, position, place, category or kommun); an "
            "unknown receipt is `found: false`."
        ),
    ),
    Operation(
        "/api/public/cells",
        "get",
        "publicCells",
        "Published H3 cells with counts (k-suppressed across filters)",
        {
            200: Reply("Cells", cz.CellCollection),
            400: _err("Filter not among the fixed public filters"),
            404: _NO_KOMMUN,
            429: _RATE,
        },
        query=cz.PublicCellsQuery,
    ),
    Operation(
        "/api/public/summary",
        "get",
        "publicSummary",
        "Published grade per locality and public actions",
        {
            200: Reply("Summary", cz.Summary),
            400: _err("Invalid query"),
            404: _NO_KOMMUN,
            429: _RATE,
        },
        query=cz.KommunQuery,
    ),
    Operation(
        "/api/publik/{kommun}/celler",
        "get",
        "startPageCells",
        "Start page: k-suppressed counts per cell (columnar)",
        {200: Reply("Cells", cz.ColumnarCells), 404: _NO_KOMMUN, 429: _RATE},
        path_params={"kommun": 64},
    ),
    Operation(
        "/api/publik/{kommun}/tatorter",
        "get",
        "startPageLocalities",
        "Start page: locality outlines (names only)",
        {200: Reply("Localities", cz.FeatureCollection), 404: _NO_KOMMUN, 429: _RATE},
        path_params={"kommun": 64},
    ),
    Operation(
        "/open311/v2/discovery.json",
        "get",
        "open311Discovery",
        "Open311 service discovery",
        {200: Reply("Discovery", o3.Discovery)},
    ),
    Operation(
        "/open311/v2/services.json",
        "get",
        "open311Services",
        "Services (categories, with group)",
        {
            200: Reply("Services", o3.Service, many=True),
            400: _o311("Invalid query"),
            404: _o311("Unknown jurisdiction_id"),
        },
        query=o3.JurisdictionQuery,
    ),
    Operation(
        "/open311/v2/services/{service_code}.json",
        "get",
        "open311ServiceDefinition",
        "Service definition",
        {
            200: Reply("Definition", o3.ServiceDefinition),
            400: _o311("Invalid query"),
            404: _o311("Unknown service_code or jurisdiction_id"),
        },
        query=o3.JurisdictionQuery,
        path_params={"service_code": 64},
    ),
    Operation(
        "/open311/v2/requests.json",
        "get",
        "open311Requests",
        "Approved requests, public fields only",
        {
            200: Reply("Requests", o3.ServiceRequest, many=True),
            400: _o311("Invalid dates or status"),
            404: _o311("Unknown jurisdiction_id"),
            429: _O311_RATE,
        },
        query=o3.RequestsQuery,
    ),
    Operation(
        "/open311/v2/requests.json",
        "post",
        "open311CreateRequest",
        "Create a request (partner systems, api_key)",
        {
            200: Reply("Created", o3.ServiceRequestCreated, many=True),
            400: _o311("Invalid request"),
            403: _o311("Missing or invalid api_key"),
            404: _o311("Unknown jurisdiction_id"),
            429: _O311_RATE,
        },
        query=o3.JurisdictionQuery,
        body=o3.ServiceRequestInput,
        body_type="application/x-www-form-urlencoded",
        idempotency_header=True,
    ),
    Operation(
        "/open311/v2/requests/{service_request_id}.json",
        "get",
        "open311Request",
        "One request by id (the receipt number)",
        {
            200: Reply("Request", o3.ServiceRequest, many=True),
            400: _o311("Invalid query"),
            404: _o311("Unknown id"),
            429: _O311_RATE,
        },
        query=o3.JurisdictionQuery,
        path_params={"service_request_id": 40},
    ),
    *(
        Operation(
            f"/api/karta/{{kommun}}/{name}",
            "get",
            f"plannerMap_{name}",
            summary + " (login required)",
            {
                200: Reply("Layer data", pl.LayerData),
                400: _err("Invalid filter"),
                401: _err("Not logged in"),
                403: _err("No access to this kommun"),
                404: _NO_KOMMUN,
            },
            query=pl.CellsQuery if name == "celler" else pl.MapQuery,
            path_params={"kommun": 64},
            login=True,
        )
        for name, summary in (
            ("atgarder", "Planner map: actions"),
            ("celler", "Planner map: cells of the analysis"),
            ("polisen", "Planner map: Polisen events (context)"),
            ("tatorter", "Planner map: localities with grades"),
            ("zoner", "Planner map: hotspot zones"),
        )
    ),
)


def _models() -> list[type[BaseModel]]:
    found: dict[str, type[BaseModel]] = {}
    for op in OPERATIONS:
        for model in [op.body, *(r.model for r in op.responses.values())]:
            if model is not None:
                found[model.__name__] = model
    return list(found.values())


def _components() -> dict[str, Any]:
    models = _models()
    pairs = [(m, "validation" if m in _bodies() else "serialization") for m in models]
    _, defs = models_json_schema(pairs, ref_template=_REF)  # type: ignore[arg-type]
    return dict(sorted(defs.get("$defs", {}).items()))


def _bodies() -> set[type[BaseModel]]:
    return {op.body for op in OPERATIONS if op.body is not None}


def _ref(model: type[BaseModel]) -> dict[str, str]:
    return {"$ref": _REF.format(model=model.__name__)}


def _strip_nullable(schema: dict[str, Any]) -> dict[str, Any]:
    """A parameter is either given or absent: ``anyOf [X, null]`` becomes ``X``."""
    options = schema.get("anyOf")
    if options and len(options) == 2 and {"type": "null"} in options:
        inner = next(o for o in options if o != {"type": "null"})
        rest = {k: v for k, v in schema.items() if k not in ("anyOf", "default")}
        return {**inner, **rest}
    return {k: v for k, v in schema.items() if k != "default"}


def _query_parameters(model: type[BaseModel]) -> list[dict[str, Any]]:
    schema = model.model_json_schema()
    required = set(schema.get("required", ()))
    out = []
    for name, prop in schema.get("properties", {}).items():
        prop = _strip_nullable(dict(prop))
        description = prop.pop("description", None)
        prop.pop("title", None)
        param: dict[str, Any] = {
            "name": name,
            "in": "query",
            "required": name in required,
            "schema": prop,
        }
        if description:
            param["description"] = description
        out.append(param)
    return out


def _operation(op: Operation) -> dict[str, Any]:
    params: list[dict[str, Any]] = [
        {
            "name": name,
            "in": "path",
            "required": True,
            "schema": {"type": "string", "minLength": 1, "maxLength": length},
        }
        for name, length in op.path_params.items()
    ]
    if op.query is not None:
        params.extend(_query_parameters(op.query))
    if op.idempotency_header:
        params.append(
            {
                "name": "Idempotency-Key",
                "in": "header",
                "required": False,
                "schema": {"type": "string", "minLength": 1, "maxLength": 200},
            }
        )
    out: dict[str, Any] = {"operationId": op.operation_id, "summary": op.summary}
    if op.description:
        out["description"] = op.description
    if op.login:
        out["security"] = [{"session": []}]
    if params:
        out["parameters"] = params
    if op.body is not None:
        out["requestBody"] = {
            "required": True,
            "content": {op.body_type: {"schema": _ref(op.body)}},
        }
    responses: dict[str, Any] = {}
    for status, reply in sorted(op.responses.items()):
        if reply.model is None:
            schema: dict[str, Any] = {"type": "object"}
        elif reply.many:
            schema = {"type": "array", "items": _ref(reply.model)}
        else:
            schema = _ref(reply.model)
        responses[str(status)] = {
            "description": reply.description,
            "content": {"application/json": {"schema": schema}},
        }
    out["responses"] = responses
    return out


def openapi_document() -> dict[str, Any]:
    """The OpenAPI 3.1 document (a fresh dict)."""
    paths: dict[str, dict[str, Any]] = {}
    for op in OPERATIONS:
        paths.setdefault(op.path, {})[op.method] = _operation(op)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "lagesbild API",
            "version": VERSION,
            "description": (
                "Citizen reports (moderated before use), the public k-suppressed map layer "
                "and Open311 GeoReport v2 (JSON; XML on the same paths with `.xml`). "
                'Errors are `{"error": "<Swedish message>"}`; an invalid body adds '
                "`errors: [{field, code, message}]` naming every field."
            ),
        },
        "paths": paths,
        "components": {
            "schemas": _components(),
            "securitySchemes": {"session": {"type": "apiKey", "in": "cookie", "name": "session"}},
        },
    }


__all__ = ["OPERATIONS", "Operation", "Reply", "VERSION", "openapi_document"]
