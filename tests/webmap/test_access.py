"""Every route of ``app.url_map`` refuses anonymous users and wrong roles.

Endpoints reachable without login must be listed in a module's ``PUBLIC_ENDPOINTS``
(collected into the app state); this test keeps the explicit allowlist below in sync,
so a new public endpoint is a visible, reviewed change.
"""

from __future__ import annotations

from typing import Any

import pytest

from geo.store.tables import ROLES
from webmap.state import EXTENSION_KEY

#: Every endpoint that may be reached without logging in (reviewed list).
PUBLIC_ENDPOINTS: frozenset[str] = frozenset(
    {
        "static",
        "vendor_leaflet",
        "set_language",
        "healthz",
        "auth.login",
        "auth.login_alias",  # a redirect to auth.login
        "public.index",
        "public.localities",
        "public.cells",
        # citizen channel: public map, report form and receipt, JSON API, Open311
        "public_map.map",
        "public_map.cells",
        "public_map.summary",
        "citizen.form",
        "citizen.submit",
        "citizen.receipt",
        "citizen.confirm_email",
        "citizen.photo",  # approved photos only
        "mine.page",  # "Mina rapporter": receipts kept in the browser
        "mine.statuses",  # their status, nothing else
        "api.categories",
        "api.create_report",
        "api.add_photos",  # by receipt, while the report is pending
        "api.openapi",
        "api.places",
        "api.report_status",
        "open311.discovery",
        "open311.services",
        "open311.service_definition",
        "open311.requests_list",
        "open311.requests_create",
        "open311.request_one",
    }
)


@pytest.fixture
def app_config(app_config: dict[str, Any]) -> dict[str, Any]:
    # CSRF would answer 400 before the access check for POSTs; the access check is tested here
    return {**app_config, "WTF_CSRF_ENABLED": False, "RATELIMIT_ENABLED": False}


def _sample_url(rule: Any) -> str:
    values: dict[str, Any] = {}
    for arg in rule.arguments:
        conv = rule._converters[arg].__class__.__name__
        values[arg] = 1 if conv in ("IntegerConverter", "FloatConverter") else "x"
    url: str = rule.build(values, append_unknown=False)[1]
    return url


def _method(rule: Any) -> str:
    methods = rule.methods - {"HEAD", "OPTIONS"}
    return "GET" if "GET" in methods else sorted(methods)[0]


def _protected_rules(app: Any) -> list[Any]:
    public = app.extensions[EXTENSION_KEY].public_endpoints
    return [r for r in app.url_map.iter_rules() if r.endpoint not in public]


def test_public_endpoints_are_exactly_the_reviewed_allowlist(app: Any) -> None:
    public = app.extensions[EXTENSION_KEY].public_endpoints
    registered = {r.endpoint for r in app.url_map.iter_rules()}
    assert public & registered == PUBLIC_ENDPOINTS & registered
    assert public - PUBLIC_ENDPOINTS == set(), "new public endpoint: review and add it above"


def test_every_other_endpoint_is_role_protected(app: Any) -> None:
    unprotected = [
        r.endpoint
        for r in _protected_rules(app)
        if not hasattr(app.view_functions[r.endpoint], "allowed_roles")
    ]
    assert unprotected == []


def test_anonymous_users_are_refused_everywhere_but_public(app: Any) -> None:
    client = app.test_client()
    rules = _protected_rules(app)
    assert len(rules) >= 1
    for rule in rules:
        url, method = _sample_url(rule), _method(rule)
        resp = client.open(url, method=method)
        assert resp.status_code in (302, 401), f"{method} {url} -> {resp.status_code}"
        if resp.status_code == 302:
            assert "/logga-in" in resp.headers["Location"], url


def test_wrong_roles_are_refused(app: Any, make_user: Any, login: Any) -> None:
    clients = {}
    for role in ROLES:
        creds = make_user(role)
        c = app.test_client()
        login(c, creds.username, creds.password)
        clients[role] = c
    checked = 0
    for rule in _protected_rules(app):
        allowed = app.view_functions[rule.endpoint].allowed_roles
        assert "planner" in allowed, rule.endpoint
        url, method = _sample_url(rule), _method(rule)
        for role in ROLES:
            if role in allowed:
                continue
            resp = clients[role].open(url, method=method)
            assert resp.status_code == 403, f"{role}: {method} {url} -> {resp.status_code}"
            checked += 1
    assert checked >= 1
