"""The OpenAPI document /api/openapi.json is complete and true (incl. a schemathesis run)."""

from __future__ import annotations

import re
from typing import Any

import jsonschema
import pytest
import schemathesis
from _citizen import INSIDE, api_report
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from webmap.api.openapi import openapi_document

_PARAM = re.compile(r"<(?:[a-z_]+(?:\([^)]*\))?:)?([a-z_]+)>")


def _documented_path(rule: str) -> str:
    """Flask rule -> OpenAPI path (the JSON form of Open311's ``.<fmt>`` rules)."""
    rule = re.sub(r"<any\(json, xml\):fmt>", "json", rule)
    return _PARAM.sub(lambda m: "{" + m.group(1) + "}", rule)


def test_every_api_and_open311_json_route_is_documented(app: Any) -> None:
    doc = openapi_document()
    missing = []
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith(("/api/", "/open311/")):
            continue
        path = _documented_path(rule.rule)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            if method.lower() not in doc["paths"].get(path, {}):
                missing.append(f"{method} {path} ({rule.endpoint})")
    assert missing == []
    # and nothing is documented that does not exist
    routes = {_documented_path(r.rule) for r in app.url_map.iter_rules()}
    assert set(doc["paths"]) <= routes


def test_document_is_valid_openapi_and_served(client: Any) -> None:
    from openapi_spec_validator import validate

    served = client.get("/api/openapi.json").get_json()
    assert served == openapi_document()
    validate(served)


def _schema_for(doc: dict[str, Any], path: str, method: str, status: int) -> dict[str, Any]:
    content = doc["paths"][path][method]["responses"][str(status)]["content"]
    schema = content["application/json"]["schema"]
    return {**schema, "components": doc["components"]}


def _check(doc: dict[str, Any], path: str, method: str, resp: Any) -> None:
    assert str(resp.status_code) in doc["paths"][path][method]["responses"], resp.status_code
    jsonschema.validate(resp.get_json(), _schema_for(doc, path, method, resp.status_code))


def test_real_responses_validate(app: Any, client: Any) -> None:
    doc = openapi_document()
    created = api_report(client, description="Mörkt", key="doc-1")
    _check(doc, "/api/reports", "post", created)
    _check(doc, "/api/reports", "post", api_report(client, category="ufo"))
    receipt = created.get_json()["receipt"]
    _check(doc, "/api/reports/{receipt}", "get", client.get(f"/api/reports/{receipt}"))
    _check(doc, "/api/categories", "get", client.get("/api/categories"))
    _check(doc, "/api/places", "get", client.get("/api/places?q=torget"))
    _check(doc, "/api/public/cells", "get", client.get("/api/public/cells"))
    _check(doc, "/api/public/summary", "get", client.get("/api/public/summary"))
    _check(doc, "/open311/v2/services.json", "get", client.get("/open311/v2/services.json"))
    _check(
        doc,
        "/open311/v2/requests/{service_request_id}.json",
        "get",
        client.get(f"/open311/v2/requests/{receipt}.json"),
    )
    _check(doc, "/open311/v2/requests.json", "get", client.get("/open311/v2/requests.json"))
    post = client.post(
        "/open311/v2/requests.json",
        data={"service_code": "klotter", "lat": str(INSIDE[0]), "long": str(INSIDE[1])},
    )
    _check(doc, "/open311/v2/requests.json", "post", post)


CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_schemathesis_finds_no_server_error_and_no_schema_violation(
    app: Any, mode: GenerationMode
) -> None:
    """Bounded fuzzing of every operation (positive and negative data) against the app."""
    schema = schemathesis.openapi.from_wsgi("/api/openapi.json", app)
    checks = CHECKS + ([negative_data_rejection] if mode == GenerationMode.NEGATIVE else [])
    operations = [result.ok() for result in schema.get_all_operations()]  # type: ignore[union-attr]
    documented = sum(len(v) for v in openapi_document()["paths"].values())
    assert len(operations) == documented - 1  # every operation but the schema itself
    for operation in operations:
        inputs = (operation.path_parameters, operation.query, operation.headers, operation.body)
        if mode == GenerationMode.NEGATIVE and not any(len(x) for x in inputs):
            continue  # nothing to make invalid

        @given(case=operation.as_strategy(generation_mode=mode))
        @settings(
            max_examples=8,
            deadline=None,
            derandomize=True,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def run(case: Any) -> None:
            case.call_and_validate(checks=checks)

        run()
