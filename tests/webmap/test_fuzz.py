"""No request produces a 5xx: hypothesis-driven requests to every route of the URL map.

Every rule and method of ``app.url_map`` is called with generated path parameters,
query arguments and form or JSON bodies (known argument names and arbitrary ones;
hostile values: lone surrogates sent as bytes, CR/LF, NUL, huge and non-finite
numbers, far dates, long text), once as an anonymous visitor and once as a logged-in
planner with a valid CSRF token, on an app with 26 weeks of reports. The OpenAPI part
is fuzzed by schemathesis in ``test_openapi.py``. With ``TESTING`` on, an unhandled
exception is raised into the test instead of becoming a 500, so a failure shows its
traceback.
"""

from __future__ import annotations

import json
import os
import re
from typing import Any
from urllib.parse import quote, urlencode

import pytest
from conftest import insert_synthetic
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

_PARAM = re.compile(r"<(?:([a-z_]+)(?:\(([^)]*)\))?:)?([a-z_]+)>")
_CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')

#: Values that broke or could break parsing somewhere.
HOSTILE = [
    "",
    "x",
    "norrtalje",
    "kungsor",
    "\ud800",
    "/karta\r\nSet-Cookie:x=1",
    "a\x00b",
    "1" + "0" * 400,
    "-1",
    "0",
    "1e308",
    "nan",
    "inf",
    "59,76",
    "9999-12-31",
    "0001-01-01",
    "2026-W53",
    "2026-W99",
    "9999-W01",
    "<script>alert(1)</script>",
    "' OR 1=1 --",
    "../../etc/passwd",
    "ä" * 300,
    "x" * 5000,
    "police,actor,x",
    "open,closed",
    "2026-01-01T00:00:00+14:00",
]
#: Argument and field names the routes read.
NAMES = [
    "kommun", "vecka", "kalla", "kategori", "tid", "max", "group", "period", "q", "datum",
    "pass", "omraden", "zon", "ort", "next", "jurisdiction_id", "service_code",
    "service_request_id", "start_date", "end_date", "status", "api_key", "lat", "lon",
    "long", "category", "description", "place", "date", "time_of_day", "title", "kind",
    "locality", "zone_id", "cells", "planned_start", "planned_end", "meeting_date", "note",
    "grade", "comment", "decision", "reason", "username", "password", "form_token",
    "webbplats", "public", "responsible", "geometry", "key", "observed_at", "accuracy",
    "format", "address_string", "veckor", "ny",
]  # fmt: skip

#: Valid path parameters by name (most requests use them, so that the arguments and
#: the body reach the view behind the URL).
VALID = {"kommun": "norrtalje", "week": "2026-W10", "year": "2026", "fmt": "json"}

_values = st.one_of(st.sampled_from(HOSTILE), st.text(max_size=20))
_names = st.one_of(st.sampled_from(NAMES), st.sampled_from(NAMES), st.text(min_size=1, max_size=8))
_args = st.dictionaries(_names, _values, max_size=5)
_scalars = st.none() | st.booleans() | st.integers() | st.floats() | _values
_json = st.one_of(
    st.dictionaries(_names, _scalars, max_size=6),
    st.recursive(
        _scalars,
        lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_names, inner, max_size=4),
        max_leaves=8,
    ),
)


def _param(name: str) -> st.SearchStrategy[str]:
    valid = st.just(VALID.get(name, "1"))
    return st.one_of(valid, valid, _values)


def _encode(value: str) -> str:
    # a real client sends a lone surrogate as the bytes it would encode to
    return quote(value.encode("utf-8", "surrogatepass"), safe="")


def _form(fields: dict[str, str]) -> bytes:
    pairs = [(k.encode("utf-8", "surrogatepass"), v.encode("utf-8", "surrogatepass"))
             for k, v in fields.items()]  # fmt: skip
    return urlencode(pairs).encode("ascii")


def _path(rule: Any, values: list[str]) -> str:
    it = iter(values)

    def fill(match: re.Match[str]) -> str:
        converter, args, _name = match.groups()
        if converter == "any":
            return str(args).split(",")[0].strip()
        value = next(it)
        if converter == "int":
            digits = "".join(c for c in value if c.isdigit())[:12]
            return digits or "1"
        return _encode(value) or "x"

    return _PARAM.sub(fill, rule.rule)


def _operations(app: Any) -> list[tuple[Any, str]]:
    out = []
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: (r.rule, r.endpoint)):
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            out.append((rule, method))
    return out


def _token(client: Any, path: str) -> str:
    match = _CSRF.search(client.get(path).get_data(as_text=True))
    return match.group(1) if match else ""


@pytest.fixture(scope="module")
def fuzz_app(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """One app (26 weeks of reports, analysed once) for every fuzz test of this module."""
    from geo.tenants import seed_default_tenants
    from webmap.app import create_app
    from webmap.config import TestConfig, load_config
    from webmap.state import EXTENSION_KEY

    folder = tmp_path_factory.mktemp("fuzz")
    config = load_config(
        TestConfig,
        env={},
        DATABASE_URL=f"sqlite:///{folder / 'lagesbild.db'}",
        INSTANCE_DIR=str(folder / "instance"),
        TILES="",
        RATELIMIT_ENABLED=False,  # a 429 would hide the route from the fuzzer
    )
    application = create_app(config)
    engine = application.extensions[EXTENSION_KEY].engine
    with engine.begin() as conn:
        seed_default_tenants(conn)
    insert_synthetic(application)
    yield application
    engine.dispose()


def _request(client: Any, method: str, url: str, body: Any, accept: str, token: str) -> Any:
    headers = {"Accept": accept, "X-CSRFToken": token}
    kind, payload = body
    if method == "GET":
        return client.get(url, headers=headers)
    if kind == "json":
        return client.open(
            url, method=method, data=json.dumps(payload), headers=headers,
            content_type="application/json",
        )  # fmt: skip
    return client.open(
        url, method=method, data=_form({**payload, "csrf_token": token}), headers=headers,
        content_type="application/x-www-form-urlencoded",
    )  # fmt: skip


def _bounded() -> Any:
    """Hypothesis settings of every fuzz run: bounded, deterministic, no database."""
    return settings(
        max_examples=EXAMPLES,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
    )


def _fuzz(client: Any, rule: Any, method: str, token: str, seen: dict[str, set[int]]) -> Any:
    """A hypothesis test of one route and method (bounded, deterministic)."""
    names = [m[2] for m in _PARAM.findall(rule.rule) if m[0] != "any"]

    @given(
        params=st.tuples(*(_param(n) for n in names)).map(list),
        args=_args,
        body=st.one_of(_args.map(lambda d: ("form", d)), _json.map(lambda j: ("json", j))),
        accept=st.sampled_from(["text/html", "application/json", "*/*"]),
    )
    @_bounded()
    def call(params: list[str], args: dict[str, str], body: Any, accept: str) -> None:
        url = _path(rule, params)
        if args:
            url += "?" + "&".join(f"{_encode(k)}={_encode(v)}" for k, v in args.items())
        resp = _request(client, method, url, body, accept, token)
        assert resp.status_code < 500, (method, url, resp.get_data(as_text=True)[:300])
        seen.setdefault(f"{method} {rule.rule}", set()).add(resp.status_code)

    return call


#: Generated requests per route, method and user (plus one plain request each);
#: ``LAGESBILD_FUZZ_EXAMPLES=200`` for a longer run.
EXAMPLES = int(os.environ.get("LAGESBILD_FUZZ_EXAMPLES", "10"))


@pytest.mark.parametrize("who", ["anonymous", "planner"])
def test_no_route_answers_5xx(fuzz_app: Any, login: Any, who: str) -> None:
    from webmap.auth.views import create_user
    from webmap.state import EXTENSION_KEY

    client = fuzz_app.test_client()
    if who == "planner":
        with fuzz_app.extensions[EXTENSION_KEY].engine.begin() as conn:
            create_user(conn, "fuzz-planerare", "fuzz-lösenord-1", "planner")
        login(client, "fuzz-planerare", "fuzz-lösenord-1")
    token = _token(client, "/logga-in" if who == "anonymous" else "/atgarder/ny")
    assert token, "no CSRF token: the fuzzer would only reach the CSRF check"
    seen: dict[str, set[int]] = {}
    operations = [
        (rule, method)
        for rule, method in _operations(fuzz_app)
        # logging out would end the planner's session for the rest of the run
        if not (who == "planner" and rule.endpoint == "auth.logout")
    ]
    for rule, method in operations:
        # one plain request (the default kommun, no arguments) reaches the deep paths
        names = [m[2] for m in _PARAM.findall(rule.rule) if m[0] != "any"]
        plain = _path(rule, [VALID.get(n, "1") for n in names])
        resp = _request(client, method, plain, ("form", {}), "*/*", token)
        assert resp.status_code < 500, (method, plain)
        seen.setdefault(f"{method} {rule.rule}", set()).add(resp.status_code)
        _fuzz(client, rule, method, token, seen)()
    assert len(seen) == len(operations)
    reached = {op for op, codes in seen.items() if codes & {200, 201, 302, 303}}
    if who == "planner":  # past the login on the planner's own pages
        assert {"GET /karta", "GET /api/karta/<kommun>/celler", "GET /atgarder"} <= reached
    else:
        assert {"GET /", "GET /rapportera", "GET /api/public/cells"} <= reached


@pytest.mark.parametrize("mode", ["positive", "negative"])
def test_schemathesis_as_a_logged_in_planner(fuzz_app: Any, login: Any, mode: str) -> None:
    """The documented operations that need a login, fuzzed with the planner's session."""
    import schemathesis
    from schemathesis import GenerationMode
    from schemathesis.checks import not_a_server_error
    from schemathesis.specs.openapi.checks import (
        content_type_conformance,
        response_schema_conformance,
        status_code_conformance,
    )

    from webmap.auth.views import create_user
    from webmap.state import EXTENSION_KEY

    client = fuzz_app.test_client()
    with fuzz_app.extensions[EXTENSION_KEY].engine.begin() as conn:
        create_user(conn, f"schema-{mode}", "schema-lösenord-1", "planner")
    login(client, f"schema-{mode}", "schema-lösenord-1")
    cookie = client.get_cookie("session")
    assert cookie is not None
    schema = schemathesis.openapi.from_wsgi("/api/openapi.json", fuzz_app)
    operations = [r.ok() for r in schema.get_all_operations()]  # type: ignore[union-attr]
    secured = [op for op in operations if op.definition.raw.get("security")]
    assert len(secured) == 5
    generation = GenerationMode.POSITIVE if mode == "positive" else GenerationMode.NEGATIVE
    checks = [
        not_a_server_error,
        status_code_conformance,
        content_type_conformance,
        response_schema_conformance,
    ]
    statuses: list[int] = []
    for operation in secured:

        @given(case=operation.as_strategy(generation_mode=generation))
        @_bounded()
        def run(case: Any) -> None:
            # the planner's own kommun, so that the generated filters reach the layer code
            case.path_parameters = {**(case.path_parameters or {}), "kommun": "norrtalje"}
            resp = case.call_and_validate(checks=checks, cookies={"session": cookie.value})
            statuses.append(resp.status_code)

        run()
    assert 200 in statuses  # the session was used: not everything was a 401
