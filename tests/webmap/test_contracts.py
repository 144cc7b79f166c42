"""Request contracts: every route that reads a JSON (or API form) body has a model, an
invalid body gives a 400 naming the field, and the known 500s are Swedish 400s."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from webmap.auth.apikeys import create_api_key
from webmap.contracts import body_contracts
from webmap.state import EXTENSION_KEY

_PARAM = re.compile(r"<(?:[a-z_]+(?:\([^)]*\))?:)?([a-z_]+)>")
_CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def _url(rule: str) -> str:
    return _PARAM.sub("1", rule.replace("<any(json, xml):fmt>", "json"))


@pytest.fixture
def planner(planner_client: Any) -> Any:
    return planner_client


def _csrf(client: Any) -> str:
    resp = client.get("/patrull/token", headers={"Accept": "application/json"})
    return str(resp.get_json()["csrf"])


def _post_json(client: Any, url: str, body: Any, token: str) -> Any:
    # no Accept header: a route answers in its own format (HTML forms with HTML)
    return client.post(
        url, data=json.dumps(body), content_type="application/json", headers={"X-CSRFToken": token}
    )


def test_every_post_route_answering_json_has_a_body_contract(app: Any, planner: Any) -> None:
    token = _csrf(planner)
    contracts = body_contracts()
    rules = {r.endpoint: r for r in app.url_map.iter_rules()}
    assert set(contracts) <= set(rules)
    json_posts = []
    for rule in app.url_map.iter_rules():
        if "POST" not in (rule.methods or ()):
            continue
        resp = _post_json(planner, _url(rule.rule), {}, token)
        assert resp.status_code < 500, rule.rule
        if resp.mimetype == "application/json":
            json_posts.append(rule.endpoint)
    assert json_posts, "no JSON route found: the probe is broken"
    assert sorted(set(json_posts) - set(contracts)) == []


def _schema_of(model: Any, name: str) -> dict[str, Any]:
    prop = model.model_json_schema(by_alias=True)["properties"][name]
    options = prop.get("anyOf", [prop])
    return next((o for o in options if o.get("type") != "null"), prop)


def _too_long_or_unknown(schema: dict[str, Any]) -> str:
    if "maxLength" in schema:
        return "x" * (int(schema["maxLength"]) + 1)
    return "inget-giltigt-värde"


def _fields(model: Any) -> list[str]:
    return list(model.model_json_schema(by_alias=True)["properties"])


def test_an_invalid_json_body_gives_a_400_naming_each_field(app: Any, planner: Any) -> None:
    token = _csrf(planner)
    routes = {"api.create_report": "/api/reports", "patrol.observation": "/patrull/observation"}
    contracts = body_contracts()
    for endpoint, url in routes.items():
        for name in _fields(contracts[endpoint]):
            resp = _post_json(planner, url, {name: {"ett": "objekt"}}, token)
            assert resp.status_code == 400, (endpoint, name, resp.get_data(as_text=True))
            body = resp.get_json()
            assert name in body["error"]
            assert [e["field"] for e in body["errors"]][:1] == [name]
            assert all(e["message"] and e["code"] for e in body["errors"])
        resp = _post_json(planner, url, {"okänt_fält": 1}, token)
        if endpoint != "patrol.observation" or resp.status_code == 400:
            assert resp.status_code == 400
            assert resp.get_json()["errors"][0] == {
                "field": "okänt_fält",
                "code": "unknown_field",
                "message": "Okänt fält.",
            }


def test_an_invalid_open311_form_gives_a_400_naming_each_field(app: Any, client: Any) -> None:
    with app.extensions[EXTENSION_KEY].engine.begin() as conn:
        secret, _ = create_api_key(conn, "Partner", created_by="test")
    model = body_contracts()["open311.requests_create"]
    checked = 0
    for name in _fields(model):
        if name in ("api_key", "jurisdiction_id"):
            continue  # answered before the body (403 / 404)
        data = {"api_key": secret, "service_code": "klotter", "lat": "59.76", "long": "18.7"}
        data[name] = _too_long_or_unknown(_schema_of(model, name))
        resp = client.post("/open311/v2/requests.json", data=data)
        assert resp.status_code == 400, (name, resp.get_data(as_text=True))
        named = resp.get_json()[0]["description"].split(": ")[0]
        assert name in named.split("/"), (name, named)  # lat and long: "lat/long: …"
        checked += 1
    assert checked >= 10


def test_an_invalid_report_form_gives_a_400_naming_the_field(client: Any) -> None:
    model = body_contracts()["citizen.submit"]
    html = client.get("/rapportera").get_data(as_text=True)
    token = _CSRF.search(html)
    assert token is not None
    for name in _fields(model):
        if name == "csrf_token":
            continue  # checked by CSRF protection before the form is read
        value = _too_long_or_unknown(_schema_of(model, name))
        resp = client.post("/rapportera", data={"csrf_token": token.group(1), name: value})
        assert resp.status_code == 400, name
        assert f"{name}: Får vara högst" in resp.get_data(as_text=True)


# -- the 500s found by the attack round ------------------------------------------------------


@pytest.mark.parametrize("layer", ["celler", "zoner", "tatorter", "polisen"])
def test_unknown_source_filter_is_a_swedish_400(planner: Any, layer: str) -> None:
    resp = planner.get(f"/api/karta/norrtalje/{layer}?kalla=x")
    assert resp.status_code == 400
    assert resp.get_json()["error"].startswith("Ogiltigt filter: okänd källa 'x'")
    assert planner.get(f"/api/karta/norrtalje/{layer}?kalla=police").status_code == 200


def test_a_lone_surrogate_in_kommun_is_a_400_naming_the_field(client: Any, planner: Any) -> None:
    raw = '{"kommun": "\\ud800", "category": "klotter", "lat": 59.76, "lon": 18.7}'
    resp = client.post("/api/reports", data=raw, content_type="application/json")
    assert resp.status_code == 400
    assert resp.get_json()["errors"] == [
        {
            "field": "kommun",
            "code": "invalid",
            "message": "Texten innehåller ogiltiga tecken (ogiltig Unicode).",
        }
    ]
    resp = planner.post(
        "/patrull/observation",
        data=raw.replace("}", ', "key": "abcdefgh-1"}'),
        content_type="application/json",
        headers={"X-CSRFToken": _csrf(planner)},
    )
    assert resp.status_code == 400
    assert [e["field"] for e in resp.get_json()["errors"]] == ["kommun"]


def test_login_next_with_a_header_break_is_ignored(
    app: Any, client: Any, make_user: Any, csrf_token: Any
) -> None:
    creds = make_user("planner")
    resp = client.post(
        "/logga-in?next=/karta%0D%0ASet-Cookie:x=1",
        data={
            "username": creds.username,
            "password": creds.password,
            "csrf_token": csrf_token(client),
        },
    )
    assert resp.status_code == 302
    assert resp.headers["Location"] == "/karta"
    assert "x=1" not in " ".join(resp.headers.getlist("Set-Cookie"))
