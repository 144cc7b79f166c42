"""The OpenAPI 3 document of the JSON API (``/api/openapi.json``).

Covers every JSON route under ``/api`` and the JSON form (``.json``) of every Open311
route under ``/open311/v2``. ``tests/webmap/test_openapi.py`` keeps it true: every such
rule of ``app.url_map`` must be documented, responses are validated against the schemas
and a bounded schemathesis run must find no server error and no schema violation.
"""

from __future__ import annotations

from typing import Any

from analysis.public import GROUP_CODES, PERIODS
from webmap.citizen.submissions import (
    MAX_DESCRIPTION,
    MAX_DESCRIPTION_OPEN311,
    MAX_PLACE,
    TIME_OF_DAY,
)

VERSION = "1.0.0"
#: W3C datetime with a time zone, as Open311 requires.
W3C_PATTERN = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$"


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _err(description: str) -> dict[str, Any]:
    return _json(_ref("Error"), description)


def _o311_err(description: str) -> dict[str, Any]:
    return _json(_ref("Open311Errors"), description)


_NULLABLE_STR = {"type": ["string", "null"]}
_NULLABLE_NUM = {"type": ["number", "null"]}

KOMMUN_PARAM = {
    "name": "kommun",
    "in": "query",
    "required": False,
    "description": "Kommun (tenant key, e.g. `norrtalje`); default: the installation's.",
    "schema": {"type": "string", "maxLength": 64},
}
JURISDICTION_PARAM = {
    "name": "jurisdiction_id",
    "in": "query",
    "required": False,
    "description": "Kommun (tenant key or SCB code); default: the installation's.",
    "schema": {"type": "string", "maxLength": 64},
}

SCHEMAS: dict[str, Any] = {
    "Error": {
        "type": "object",
        "required": ["error"],
        "properties": {
            "error": {"type": "string"},
            "errors": {"type": "array", "items": _ref("FieldError")},
        },
    },
    "FieldError": {
        "type": "object",
        "required": ["field", "code", "message"],
        "properties": {
            "field": {"type": "string"},
            "code": {"type": "string"},
            "message": {"type": "string"},
        },
    },
    "ReportInput": {
        "type": "object",
        "additionalProperties": False,
        "required": ["category"],
        "description": "A citizen report. Give `lat`+`lon` or a `place` to look up.",
        "properties": {
            "kommun": {"type": "string", "maxLength": 64},
            "category": {"type": "string", "maxLength": 64},
            "lat": {"type": "number", "minimum": -90, "maximum": 90},
            "lon": {"type": "number", "minimum": -180, "maximum": 180},
            "place": {"type": "string", "maxLength": MAX_PLACE},
            "description": {"type": "string", "maxLength": MAX_DESCRIPTION},
            "date": {"type": "string", "format": "date"},
            "time_of_day": {"type": "string", "enum": list(TIME_OF_DAY)},
        },
    },
    "Receipt": {
        "type": "object",
        "required": ["receipt", "status", "status_text", "kommun", "next_steps"],
        "properties": {
            "receipt": {"type": "string", "pattern": "^[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}$"},
            "status": {"type": "string", "enum": ["pending", "approved", "rejected"]},
            "status_text": {"type": "string"},
            "kommun": {"type": "string"},
            "next_steps": {"type": "array", "items": {"type": "string"}},
        },
    },
    "ReportStatus": {
        "type": "object",
        "required": ["receipt", "status", "status_text", "kommun", "category", "submitted"],
        "properties": {
            "receipt": {"type": "string"},
            "status": {"type": "string", "enum": ["pending", "approved", "rejected"]},
            "status_text": {"type": "string"},
            "kommun": {"type": "string"},
            "category": {"type": "string"},
            "submitted": {"type": "string", "format": "date"},
            "next_steps": {"type": "array", "items": {"type": "string"}},
        },
    },
    "Categories": {
        "type": "object",
        "required": ["kommun", "categories", "time_of_day"],
        "properties": {
            "kommun": {"type": "string"},
            "categories": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["code", "label", "group"],
                    "properties": {
                        "code": {"type": "string"},
                        "label": {"type": "string"},
                        "group": {"type": "string"},
                    },
                },
            },
            "time_of_day": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["code", "label"],
                    "properties": {"code": {"type": "string"}, "label": {"type": "string"}},
                },
            },
        },
    },
    "Places": {
        "type": "object",
        "required": ["kommun", "places"],
        "properties": {
            "kommun": {"type": "string"},
            "places": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["name", "lat", "lon", "precision", "approximate"],
                    "properties": {
                        "name": {"type": "string"},
                        "lat": {"type": "number"},
                        "lon": {"type": "number"},
                        "precision": {
                            "type": "string",
                            "enum": ["point", "street", "locality", "kommun"],
                        },
                        "approximate": {"type": "boolean"},
                    },
                },
            },
        },
    },
    "CellCollection": {
        "type": "object",
        "description": "GeoJSON FeatureCollection of published (k-suppressed) cells.",
        "required": ["type", "kommun", "group", "period", "k", "res", "as_of", "cells", "features"],
        "properties": {
            "type": {"type": "string", "enum": ["FeatureCollection"]},
            "kommun": {"type": "string"},
            "group": {"type": "string", "enum": list(GROUP_CODES)},
            "period": {"type": "string", "enum": list(PERIODS)},
            "k": {"type": "integer", "minimum": 1},
            "res": {"type": "integer"},
            "as_of": {"type": "string", "format": "date-time"},
            "cells": {"type": "integer", "minimum": 0},
            "features": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["type", "id", "geometry", "properties"],
                    "properties": {
                        "type": {"type": "string", "enum": ["Feature"]},
                        "id": {"type": "string"},
                        "geometry": {
                            "type": "object",
                            "required": ["type", "coordinates"],
                            "properties": {
                                "type": {"type": "string", "enum": ["Polygon"]},
                                "coordinates": {"type": "array"},
                            },
                        },
                        "properties": {
                            "type": "object",
                            "required": ["cell", "count", "colour"],
                            "properties": {
                                "cell": {"type": "string"},
                                "count": {"type": "integer", "minimum": 1},
                                "locality": _NULLABLE_STR,
                                "near": {
                                    **_NULLABLE_STR,
                                    "description": "a known place within 300 m of the centre",
                                },
                                "colour": {"type": "string"},
                            },
                        },
                    },
                },
            },
        },
    },
    "Summary": {
        "type": "object",
        "required": ["kommun", "name", "period", "localities", "actions"],
        "properties": {
            "kommun": {"type": "string"},
            "name": {"type": "string"},
            "period": _NULLABLE_STR,
            "period_text": {**_NULLABLE_STR, "description": 'e.g. "vecka 46, 2026"'},
            "localities": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["code", "name", "grade", "label"],
                    "properties": {
                        "code": {"type": "string"},
                        "name": {"type": "string"},
                        "grade": {"type": ["integer", "null"], "minimum": 1, "maximum": 5},
                        "label": _NULLABLE_STR,
                    },
                },
            },
            "actions": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["title", "kind", "status"],
                    "properties": {
                        "title": {"type": "string"},
                        "kind": {"type": "string"},
                        "status": {"type": "string"},
                        "expected": _NULLABLE_STR,
                        "planned_end": _NULLABLE_STR,
                        "locality": _NULLABLE_STR,
                        "locality_name": _NULLABLE_STR,
                        "description": _NULLABLE_STR,
                    },
                },
            },
        },
    },
    "ColumnarCells": {
        "type": "object",
        "required": ["res", "k", "n", "ids", "c"],
        "properties": {
            "res": {"type": "integer"},
            "k": {"type": "integer", "minimum": 1},
            "n": {"type": "integer", "minimum": 0},
            "as_of": {"type": "string"},
            "ids": {"type": "array", "items": {"type": "string"}},
            "c": {"type": "array", "items": {"type": "integer", "minimum": 1}},
        },
    },
    "FeatureCollection": {
        "type": "object",
        "required": ["type", "features"],
        "properties": {
            "type": {"type": "string", "enum": ["FeatureCollection"]},
            "features": {"type": "array", "items": {"type": "object"}},
        },
    },
    "Open311Errors": {
        "type": "array",
        "items": {
            "type": "object",
            "required": ["code", "description"],
            "properties": {"code": {"type": "integer"}, "description": {"type": "string"}},
        },
    },
    "Discovery": {
        "type": "object",
        "required": ["changeset", "contact", "key_service", "endpoints"],
        "properties": {
            "changeset": {"type": "string"},
            "contact": {"type": "string"},
            "key_service": {"type": "string"},
            "endpoints": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["specification", "url", "changeset", "type", "formats"],
                    "properties": {
                        "specification": {"type": "string"},
                        "url": {"type": "string"},
                        "changeset": {"type": "string"},
                        "type": {"type": "string", "enum": ["production", "test"]},
                        "formats": {"type": "array", "items": {"type": "string"}},
                    },
                },
            },
        },
    },
    "Service": {
        "type": "object",
        "required": [
            "service_code",
            "service_name",
            "description",
            "metadata",
            "type",
            "keywords",
            "group",
        ],
        "properties": {
            "service_code": {"type": "string"},
            "service_name": {"type": "string"},
            "description": {"type": "string"},
            "metadata": {"type": "boolean"},
            "type": {"type": "string", "enum": ["realtime", "batch", "blackbox"]},
            "keywords": {"type": "string"},
            "group": {"type": "string"},
        },
    },
    "ServiceDefinition": {
        "type": "object",
        "required": ["service_code", "attributes"],
        "properties": {
            "service_code": {"type": "string"},
            "attributes": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": [
                        "variable",
                        "code",
                        "datatype",
                        "required",
                        "order",
                        "description",
                    ],
                    "properties": {
                        "variable": {"type": "boolean"},
                        "code": {"type": "string"},
                        "datatype": {"type": "string"},
                        "required": {"type": "boolean"},
                        "datatype_description": {"type": "string"},
                        "order": {"type": "integer"},
                        "description": {"type": "string"},
                        "values": {
                            "type": "array",
                            "items": {
                                "type": "object",
                                "required": ["key", "name"],
                                "properties": {
                                    "key": {"type": "string"},
                                    "name": {"type": "string"},
                                },
                            },
                        },
                    },
                },
            },
        },
    },
    "ServiceRequest": {
        "type": "object",
        "required": [
            "service_request_id",
            "status",
            "service_code",
            "service_name",
            "requested_datetime",
            "agency_responsible",
        ],
        "properties": {
            "service_request_id": {"type": "string"},
            "status": {"type": "string", "enum": ["open", "closed"]},
            "status_notes": _NULLABLE_STR,
            "service_name": {"type": "string"},
            "service_code": {"type": "string"},
            "description": _NULLABLE_STR,
            "agency_responsible": {"type": "string"},
            "service_notice": _NULLABLE_STR,
            "requested_datetime": {"type": "string", "format": "date-time"},
            "updated_datetime": {"type": ["string", "null"], "format": "date-time"},
            "expected_datetime": {"type": ["string", "null"], "format": "date-time"},
            "address": _NULLABLE_STR,
            "address_id": _NULLABLE_STR,
            "zipcode": _NULLABLE_STR,
            "lat": _NULLABLE_NUM,
            "long": _NULLABLE_NUM,
            "media_url": _NULLABLE_STR,
        },
    },
    "ServiceRequestCreated": {
        "type": "object",
        "required": ["service_request_id"],
        "properties": {
            "service_request_id": {"type": "string"},
            "service_notice": _NULLABLE_STR,
            "account_id": _NULLABLE_STR,
        },
    },
    "ServiceRequestInput": {
        "type": "object",
        "required": ["api_key", "service_code"],
        "properties": {
            "api_key": {"type": "string", "maxLength": 200},
            "jurisdiction_id": {"type": "string", "maxLength": 64},
            "service_code": {"type": "string", "maxLength": 64},
            "lat": {"type": "number", "minimum": -90, "maximum": 90},
            "long": {"type": "number", "minimum": -180, "maximum": 180},
            "address_string": {"type": "string", "maxLength": MAX_PLACE},
            "description": {"type": "string", "maxLength": MAX_DESCRIPTION_OPEN311},
            "attribute[time_of_day]": {"type": "string", "enum": list(TIME_OF_DAY)},
            "email": {"type": "string", "description": "Accepted, never stored."},
            "first_name": {"type": "string", "description": "Accepted, never stored."},
            "last_name": {"type": "string", "description": "Accepted, never stored."},
            "phone": {"type": "string", "description": "Accepted, never stored."},
            "device_id": {"type": "string", "description": "Accepted, never stored."},
            "account_id": {"type": "string", "description": "Accepted, never stored."},
            "media_url": {"type": "string", "description": "Accepted, never stored."},
        },
    },
}

_RATE = _err("Too many requests from this client (rate limit).")


def _paths() -> dict[str, Any]:
    o311_rate = _o311_err("Too many requests (rate limit).")
    return {
        "/api/openapi.json": {
            "get": {
                "operationId": "openapi",
                "summary": "This document",
                "responses": {"200": _json({"type": "object"}, "OpenAPI document")},
            }
        },
        "/api/categories": {
            "get": {
                "operationId": "categories",
                "summary": "Categories of a kommun (otrygg_plats first) and time-of-day choices",
                "parameters": [KOMMUN_PARAM],
                "responses": {
                    "200": _json(_ref("Categories"), "Categories"),
                    "404": _err("Unknown kommun"),
                },
            }
        },
        "/api/places": {
            "get": {
                "operationId": "places",
                "summary": "Search places in the offline gazetteer",
                "parameters": [
                    {
                        "name": "q",
                        "in": "query",
                        "required": True,
                        "schema": {"type": "string", "minLength": 2, "maxLength": 100},
                    },
                    KOMMUN_PARAM,
                ],
                "responses": {
                    "200": _json(_ref("Places"), "Matching places (best first)"),
                    "400": _err("Query too short or too long"),
                    "404": _err("Unknown kommun"),
                    "429": _RATE,
                },
            }
        },
        "/api/reports": {
            "post": {
                "operationId": "createReport",
                "summary": "Submit a citizen report (pending until moderated)",
                "description": (
                    "No login. Rate limited per client (salted, rotating hash of the address; "
                    "the address is never stored). A repeated request with the same "
                    "Idempotency-Key returns the first receipt (200) and stores nothing; the "
                    "same key with a different report is refused (422)."
                ),
                "parameters": [
                    {
                        "name": "Idempotency-Key",
                        "in": "header",
                        "required": False,
                        "schema": {"type": "string", "minLength": 1, "maxLength": 200},
                    }
                ],
                "requestBody": {
                    "required": True,
                    "content": {"application/json": {"schema": _ref("ReportInput")}},
                },
                "responses": {
                    "201": _json(_ref("Receipt"), "Stored; the receipt"),
                    "200": _json(_ref("Receipt"), "Already stored with this Idempotency-Key"),
                    "400": _err("Invalid report: every problem in `errors`"),
                    "404": _err("Unknown kommun"),
                    "411": _err("Content-Length missing"),
                    "413": _err("Body larger than 64 kB"),
                    "415": _err("Body is not JSON"),
                    "422": _err("Idempotency-Key already used for a different report"),
                    "429": _RATE,
                },
            }
        },
        "/api/reports/{receipt}": {
            "get": {
                "operationId": "reportStatus",
                "summary": "Status of a report by receipt number (no text, no position)",
                "parameters": [
                    {
                        "name": "receipt",
                        "in": "path",
                        "required": True,
                        "schema": {"type": "string", "minLength": 1, "maxLength": 40},
                    }
                ],
                "responses": {
                    "200": _json(_ref("ReportStatus"), "Status"),
                    "404": _err("Unknown receipt"),
                    "429": _RATE,
                },
            }
        },
        "/api/public/cells": {
            "get": {
                "operationId": "publicCells",
                "summary": "Published H3 cells with counts (k-suppressed across filters)",
                "parameters": [
                    KOMMUN_PARAM,
                    {
                        "name": "group",
                        "in": "query",
                        "required": False,
                        "schema": {"type": "string", "enum": list(GROUP_CODES)},
                    },
                    {
                        "name": "period",
                        "in": "query",
                        "required": False,
                        "schema": {"type": "string", "enum": list(PERIODS)},
                    },
                ],
                "responses": {
                    "200": _json(_ref("CellCollection"), "Cells"),
                    "400": _err("Filter not among the fixed public filters"),
                    "404": _err("Unknown kommun"),
                    "429": _RATE,
                },
            }
        },
        "/api/public/summary": {
            "get": {
                "operationId": "publicSummary",
                "summary": "Published grade per locality and public actions",
                "parameters": [KOMMUN_PARAM],
                "responses": {
                    "200": _json(_ref("Summary"), "Summary"),
                    "404": _err("Unknown kommun"),
                    "429": _RATE,
                },
            }
        },
        "/open311/v2/discovery.json": {
            "get": {
                "operationId": "open311Discovery",
                "summary": "Open311 service discovery",
                "responses": {"200": _json(_ref("Discovery"), "Discovery")},
            }
        },
        "/open311/v2/services.json": {
            "get": {
                "operationId": "open311Services",
                "summary": "Services (categories, with group)",
                "parameters": [JURISDICTION_PARAM],
                "responses": {
                    "200": _json({"type": "array", "items": _ref("Service")}, "Services"),
                    "404": _o311_err("Unknown jurisdiction_id"),
                },
            }
        },
        "/open311/v2/services/{service_code}.json": {
            "get": {
                "operationId": "open311ServiceDefinition",
                "summary": "Service definition",
                "parameters": [
                    {
                        "name": "service_code",
                        "in": "path",
                        "required": True,
                        "schema": {"type": "string", "minLength": 1, "maxLength": 64},
                    },
                    JURISDICTION_PARAM,
                ],
                "responses": {
                    "200": _json(_ref("ServiceDefinition"), "Definition"),
                    "404": _o311_err("Unknown service_code or jurisdiction_id"),
                },
            }
        },
        "/open311/v2/requests.json": {
            "get": {
                "operationId": "open311Requests",
                "summary": "Approved requests, public fields only",
                "parameters": [
                    JURISDICTION_PARAM,
                    {
                        "name": "service_request_id",
                        "in": "query",
                        "required": False,
                        "schema": {"type": "string", "maxLength": 2000},
                    },
                    {
                        "name": "service_code",
                        "in": "query",
                        "required": False,
                        "schema": {"type": "string", "maxLength": 1000},
                    },
                    {
                        "name": "start_date",
                        "in": "query",
                        "required": False,
                        "schema": {"type": "string", "pattern": W3C_PATTERN},
                    },
                    {
                        "name": "end_date",
                        "in": "query",
                        "required": False,
                        "schema": {"type": "string", "pattern": W3C_PATTERN},
                    },
                    {
                        "name": "status",
                        "in": "query",
                        "required": False,
                        "schema": {
                            "type": "string",
                            "pattern": "^(open|closed)(,(open|closed))*$",
                        },
                    },
                ],
                "responses": {
                    "200": _json({"type": "array", "items": _ref("ServiceRequest")}, "Requests"),
                    "400": _o311_err("Invalid dates or status"),
                    "404": _o311_err("Unknown jurisdiction_id"),
                    "429": o311_rate,
                },
            },
            "post": {
                "operationId": "open311CreateRequest",
                "summary": "Create a request (partner systems, api_key)",
                "parameters": [
                    JURISDICTION_PARAM,
                    {
                        "name": "Idempotency-Key",
                        "in": "header",
                        "required": False,
                        "schema": {"type": "string", "minLength": 1, "maxLength": 200},
                    },
                ],
                "requestBody": {
                    "required": True,
                    "content": {
                        "application/x-www-form-urlencoded": {"schema": _ref("ServiceRequestInput")}
                    },
                },
                "responses": {
                    "200": _json(
                        {"type": "array", "items": _ref("ServiceRequestCreated")}, "Created"
                    ),
                    "400": _o311_err("Invalid request"),
                    "403": _o311_err("Missing or invalid api_key"),
                    "404": _o311_err("Unknown jurisdiction_id"),
                    "429": o311_rate,
                },
            },
        },
        "/open311/v2/requests/{service_request_id}.json": {
            "get": {
                "operationId": "open311Request",
                "summary": "One request by id (the receipt number)",
                "parameters": [
                    {
                        "name": "service_request_id",
                        "in": "path",
                        "required": True,
                        "schema": {"type": "string", "minLength": 1, "maxLength": 40},
                    },
                    JURISDICTION_PARAM,
                ],
                "responses": {
                    "200": _json({"type": "array", "items": _ref("ServiceRequest")}, "Request"),
                    "404": _o311_err("Unknown id"),
                    "429": o311_rate,
                },
            }
        },
    }


def _other_paths() -> dict[str, Any]:
    """JSON routes of other areas (public start page, planner map layers)."""
    kommun_path = {
        "name": "kommun",
        "in": "path",
        "required": True,
        "schema": {"type": "string", "minLength": 1, "maxLength": 64},
    }
    login: list[dict[str, list[str]]] = [{"session": []}]
    out: dict[str, Any] = {
        "/api/publik/{kommun}/celler": {
            "get": {
                "operationId": "startPageCells",
                "summary": "Start page: k-suppressed counts per cell (columnar)",
                "parameters": [kommun_path],
                "responses": {
                    "200": _json(_ref("ColumnarCells"), "Cells"),
                    "404": _err("Unknown kommun"),
                    "429": _RATE,
                },
            }
        },
        "/api/publik/{kommun}/tatorter": {
            "get": {
                "operationId": "startPageLocalities",
                "summary": "Start page: locality outlines (names only)",
                "parameters": [kommun_path],
                "responses": {
                    "200": _json(_ref("FeatureCollection"), "Localities"),
                    "404": _err("Unknown kommun"),
                    "429": _RATE,
                },
            }
        },
    }
    for name, summary in (
        ("atgarder", "Planner map: actions"),
        ("celler", "Planner map: cells of the analysis"),
        ("polisen", "Planner map: Polisen events (context)"),
        ("tatorter", "Planner map: localities with grades"),
        ("zoner", "Planner map: hotspot zones"),
    ):
        out[f"/api/karta/{{kommun}}/{name}"] = {
            "get": {
                "operationId": f"plannerMap_{name}",
                "summary": summary + " (login required)",
                "security": login,
                "parameters": [kommun_path],
                "responses": {
                    "200": _json({"type": "object"}, "Layer data"),
                    "400": _err("Invalid filter"),
                    "401": _err("Not logged in"),
                    "403": _err("No access to this kommun"),
                    "404": _err("Unknown kommun"),
                },
            }
        }
    return out


def openapi_document() -> dict[str, Any]:
    """The OpenAPI 3.1 document (a fresh dict)."""
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "lagesbild API",
            "version": VERSION,
            "description": (
                "Citizen reports (moderated before use), the public k-suppressed map layer "
                "and Open311 GeoReport v2 (JSON; XML on the same paths with `.xml`)."
            ),
        },
        "paths": {**_paths(), **_other_paths()},
        "components": {
            "schemas": SCHEMAS,
            "securitySchemes": {
                "session": {"type": "apiKey", "in": "cookie", "name": "session"},
            },
        },
    }


__all__ = ["SCHEMAS", "VERSION", "openapi_document"]
