"""Open311 GeoReport v2 (/open311/v2): JSON and XML, api_key, errors, public fields only."""

from __future__ import annotations

import datetime as dt
import xml.etree.ElementTree as ET
from typing import Any

import pytest
import requests
from _citizen import INSIDE, OUTSIDE, engine, report_by_receipt
from georeport import GeoReport
from sqlalchemy import func, select, text

from geo.labels import REPORT_STATUS_TEXT_SV
from geo.store.tables import report
from webmap.auth.apikeys import create_api_key, revoke_api_key
from webmap.planner.moderation_service import decide

BASE = "/open311/v2"


@pytest.fixture
def app_config(app_config: dict[str, Any]) -> dict[str, Any]:
    return {**app_config, "PUBLIC_SNAPSHOT": "live"}


@pytest.fixture
def api_key(app: Any) -> str:
    with engine(app).begin() as conn:
        secret, _key = create_api_key(conn, "Felanmälan-appen", created_by="test")
    return secret


def _post(client: Any, key: str | None, fmt: str = "json", **fields: Any) -> Any:
    data = {"service_code": "belysning", "lat": str(INSIDE[0]), "long": str(INSIDE[1])}
    if key is not None:
        data["api_key"] = key
    data.update({k: v for k, v in fields.items()})
    return client.post(f"{BASE}/requests.{fmt}", data=data)


def _approve(app: Any, receipt: str) -> None:
    rid = int(report_by_receipt(app, receipt).report_id)
    with engine(app).begin() as conn:
        decide(conn, rid, "approve", actor="test")


def test_discovery_and_services_in_json_and_xml(client: Any) -> None:
    disc = client.get(f"{BASE}/discovery.json").get_json()
    assert disc["endpoints"][0]["specification"] == "http://wiki.open311.org/GeoReport_v2"
    assert set(disc["endpoints"][0]["formats"]) == {"text/xml", "application/json"}
    services = client.get(f"{BASE}/services.json").get_json()
    assert services[0]["service_code"] == "otrygg_plats" and len(services) == 13
    assert {s["group"] for s in services} == {
        "Ordning och skadegörelse",
        "Brott, våld och narkotika",
        "Otrygghet, trafik och belysning",
    }
    xml = client.get(f"{BASE}/services.xml")
    assert xml.headers["Content-Type"].startswith("text/xml")
    assert xml.data.startswith(b'<?xml version="1.0" encoding="utf-8"?>')
    root = ET.fromstring(xml.data)
    assert root.tag == "services" and len(root.findall("service")) == 13
    assert root.find("service/service_code").text == "otrygg_plats"  # type: ignore[union-attr]
    definition = client.get(f"{BASE}/services/belysning.xml")
    droot = ET.fromstring(definition.data)
    assert droot.tag == "service_definition"
    assert droot.find("attributes/attribute/code").text == "time_of_day"  # type: ignore[union-attr]
    assert len(droot.findall("attributes/attribute/values/value")) == 4


def test_errors_follow_the_specification(client: Any) -> None:
    resp = client.get(f"{BASE}/services/ufo.json")
    assert resp.status_code == 404
    assert resp.get_json() == [{"code": 404, "description": "service_code ufo not found"}]
    resp = client.get(f"{BASE}/services/ufo.xml")
    root = ET.fromstring(resp.data)
    assert resp.status_code == 404 and root.tag == "errors"
    assert root.find("error/code").text == "404"  # type: ignore[union-attr]
    assert client.get(f"{BASE}/services.json?jurisdiction_id=atlantis").status_code == 404
    assert client.get(f"{BASE}/requests/ZZZZ-ZZZZ-ZZZZ.json").status_code == 404
    bad = client.get(f"{BASE}/requests.json?start_date=igår")
    assert bad.status_code == 400 and bad.get_json()[0]["code"] == 400
    wide = client.get(
        f"{BASE}/requests.json?start_date=2025-01-01T00:00:00Z&end_date=2025-12-31T00:00:00Z"
    )
    assert wide.status_code == 400


def test_post_needs_a_valid_api_key(app: Any, client: Any, api_key: str) -> None:
    missing = _post(client, None)
    assert missing.status_code == 403 and missing.get_json()[0]["code"] == 403
    assert _post(client, "lb_wrong_key").status_code == 403
    with engine(app).begin() as conn:
        revoke_api_key(conn, api_key.split("_")[1])
    assert _post(client, api_key).status_code == 403
    xml = _post(client, None, fmt="xml")
    assert xml.status_code == 403 and ET.fromstring(xml.data).tag == "errors"


def test_post_lands_in_moderation_as_pending_citizen_report(
    app: Any, client: Any, api_key: str, make_user: Any, login: Any
) -> None:
    resp = _post(
        client,
        api_key,
        description="Lampan är trasig",
        email="person@example.se",
        first_name="Anna",
        last_name="Svensson",
        phone="070-1234567",
        **{"attribute[time_of_day]": "kvall"},
    )
    assert resp.status_code == 200
    (created,) = resp.get_json()
    receipt = created["service_request_id"]
    row = report_by_receipt(app, receipt)
    assert row.status == "pending" and row.channel == "open311" and row.api_key_id is not None
    assert row.time_of_day == "kvall" and row.category == "belysning"
    stored = " ".join(str(v) for v in row)
    for personal in ("person@example.se", "Svensson", "070-1234567"):
        assert personal not in stored  # personal fields are never stored
    planner = make_user("planner")
    login(client, planner.username, planner.password)
    assert receipt in client.get("/moderering").get_data(as_text=True)


def test_post_validation_and_address_string(app: Any, client: Any, api_key: str) -> None:
    assert _post(client, api_key, service_code="").status_code == 400
    assert _post(client, api_key, service_code="ufo").status_code == 400
    outside = _post(client, api_key, lat=str(OUTSIDE[0]), long=str(OUTSIDE[1]))
    assert outside.status_code == 400 and "utanför" in outside.get_json()[0]["description"]
    assert _post(client, api_key, lat="", long="").status_code == 400
    assert _post(client, api_key, description="d" * 4001).status_code == 400
    ok = _post(client, api_key, lat="", long="", address_string="Busstationen")
    assert ok.status_code == 200
    row = report_by_receipt(app, ok.get_json()[0]["service_request_id"])
    assert row.locality == "0188TC109" and row.location_text == "Busstationen"
    assert _post(client, api_key, description="d" * 4000).status_code == 200


def test_idempotency_key_header(app: Any, client: Any, api_key: str) -> None:
    data = {"api_key": api_key, "service_code": "klotter", "lat": "59.7577", "long": "18.699"}
    a = client.post(f"{BASE}/requests.json", data=data, headers={"Idempotency-Key": "o-1"})
    b = client.post(f"{BASE}/requests.json", data=data, headers={"Idempotency-Key": "o-1"})
    assert a.get_json()[0]["service_request_id"] == b.get_json()[0]["service_request_id"]


def test_get_requests_returns_only_approved_and_public_fields(
    app: Any, client: Any, api_key: str
) -> None:
    receipts = [
        _post(client, api_key, description=f"Trasig lampa {i}").get_json()[0]["service_request_id"]
        for i in range(3)
    ]
    pending = _post(client, api_key, description="Väntar").get_json()[0]["service_request_id"]
    _approve(app, receipts[0])
    listed = client.get(f"{BASE}/requests.json").get_json()
    assert [r["service_request_id"] for r in listed] == [receipts[0]]
    item = listed[0]
    assert item["status"] == "closed" and item["description"] == "Trasig lampa 0"
    assert item["status_notes"] == REPORT_STATUS_TEXT_SV["approved"]  # as citizens read it
    # one approved report: its cell is below k, so no position and only the kommun
    assert item["lat"] is None and item["long"] is None and item["address"] == "Norrtälje kommun"
    assert item["requested_datetime"].endswith(("T00:00:00+01:00", "T00:00:00+02:00"))
    for r in receipts[1:]:
        _approve(app, r)
    listed = client.get(f"{BASE}/requests.json").get_json()
    assert len(listed) == 3
    for item in listed:  # 3 approved in one cell (k = 3): the public cell centre is given
        assert item["lat"] is not None and abs(item["lat"] - INSIDE[0]) < 0.01
        assert (item["lat"], item["long"]) != INSIDE  # never the exact position
        assert item["address"] == "Norrtälje"
    one = client.get(f"{BASE}/requests/{pending}.json").get_json()[0]
    assert one["status"] == "open" and one["description"] is None and one["lat"] is None
    assert one["status_notes"] == REPORT_STATUS_TEXT_SV["pending"]
    assert client.get(f"{BASE}/requests.json?status=open").get_json() == []
    by_code = client.get(f"{BASE}/requests.json?service_code=klotter").get_json()
    assert by_code == []


def test_independent_georeport_client_against_the_live_server(
    app: Any, live_server: str, api_key: str
) -> None:
    root = f"{live_server}/open311/v2"
    # a request POSTed exactly as the specification describes: form-encoded, api_key
    resp = requests.post(
        f"{root}/requests.json",
        data={
            "api_key": api_key,
            "service_code": "otrygg_plats",
            "lat": "59.7577",
            "long": "18.6990",
            "description": "Otryggt vid busstationen efter mörkrets inbrott",
        },
        timeout=10,
    )
    assert resp.status_code == 200, resp.text
    assert resp.headers["Content-Type"].startswith("application/json")
    receipt = resp.json()[0]["service_request_id"]
    xml_post = requests.post(
        f"{root}/requests.xml",
        data={"api_key": api_key, "service_code": "klotter", "lat": "59.7577", "long": "18.699"},
        timeout=10,
    )
    assert xml_post.status_code == 200
    assert ET.fromstring(xml_post.content).find("request/service_request_id") is not None
    row = report_by_receipt(app, receipt)
    assert row.status == "pending" and row.channel == "open311"
    _approve(app, receipt)

    for fmt in ("json", "xml"):
        client = GeoReport(root, output_format=fmt)
        services = client.get_service_list()
        codes = [s["service_code"] for s in services]
        assert codes[0] == "otrygg_plats" and "vald_hot" in codes
        definition = client.get_service_definition("belysning")
        assert definition["service_code"] == "belysning"
        listed = client.get_service_requests()
        if isinstance(listed, dict):  # xmltodict: a single element is not a list
            listed = [listed]
        assert [r["service_request_id"] for r in listed] == [receipt]
        one = client.get_service_request(receipt)
        assert one["service_request_id"] == receipt
        assert one["service_code"] == "otrygg_plats"
        assert one["status"] == "closed"


def test_apikeys_cli_creates_lists_and_revokes(app: Any, client: Any) -> None:
    import json

    from click.testing import CliRunner

    from webmap.cli import main

    env = {"LAGESBILD_DATABASE_URL": app.config["DATABASE_URL"]}
    runner = CliRunner()
    created = runner.invoke(
        main, ["apikeys", "create", "--name", "Partner", "--kommun", "norrtalje", "--json"], env=env
    )
    assert created.exit_code == 0, created.output
    info = json.loads(created.stdout)
    assert _post(client, info["api_key"]).status_code == 200
    assert _post(client, info["api_key"], jurisdiction_id="kungsor").status_code == 403
    listed = json.loads(runner.invoke(main, ["apikeys", "list", "--json"], env=env).stdout)
    assert info["api_key"] not in json.dumps(listed)  # the secret is never shown again
    assert listed["api_keys"][0]["prefix"] == info["prefix"]
    assert runner.invoke(main, ["apikeys", "revoke", info["prefix"]], env=env).exit_code == 0
    assert _post(client, info["api_key"]).status_code == 403


def test_extreme_dates_are_a_400_not_a_500(client: Any) -> None:
    for query in (
        "start_date=9999-12-31T00:00:00Z",  # + 90 days overflows
        "end_date=0001-01-01T00:00:00Z",  # - 90 days overflows
    ):
        resp = client.get(f"{BASE}/requests.json?{query}")
        assert resp.status_code == 400, query
        assert resp.get_json()[0]["code"] == 400


def test_xml_stays_well_formed_when_input_has_control_characters(client: Any) -> None:
    resp = client.get(f"{BASE}/services/a%01b%1Fc.xml")
    assert resp.status_code == 404
    root = ET.fromstring(resp.data)  # raises on a control character in the XML
    assert root.find("error/description").text == "service_code abc not found"  # type: ignore[union-attr]


def test_idempotency_key_reused_for_another_request_is_refused(
    app: Any, client: Any, api_key: str
) -> None:
    data = {"api_key": api_key, "service_code": "klotter", "lat": "59.7577", "long": "18.699"}
    a = client.post(f"{BASE}/requests.json", data=data, headers={"Idempotency-Key": "o-2"})
    other = {**data, "service_code": "belysning"}
    b = client.post(f"{BASE}/requests.json", data=other, headers={"Idempotency-Key": "o-2"})
    assert a.status_code == 200 and b.status_code == 400
    assert "Idempotency-Key" in b.get_json()[0]["description"]
    with engine(app).connect() as conn:
        assert conn.execute(select(func.count()).select_from(report)).scalar_one() == 1


def test_listing_follows_the_public_maps_snapshot(app: Any, client: Any, api_key: str) -> None:
    """With weekly publication a report approved this week is listed from next Monday
    (as on the public map), so the list cannot time one new report; its sender can still
    follow it by id."""
    receipt = _post(client, api_key, description="Trasig lampa").get_json()[0]
    rid = receipt["service_request_id"]
    _approve(app, rid)
    assert [r["service_request_id"] for r in client.get(f"{BASE}/requests.json").get_json()] == [
        rid
    ]  # live snapshot (this module's setting)
    app.config["PUBLIC_SNAPSHOT"] = "week"
    assert client.get(f"{BASE}/requests.json").get_json() == []
    one = client.get(f"{BASE}/requests/{rid}.json").get_json()[0]
    assert one["status"] == "closed" and one["description"] == "Trasig lampa"
    # approved before this week's snapshot (Monday 00:00): listed
    with engine(app).begin() as conn:
        conn.execute(
            text("update citizen_report set moderated_at = :t"),
            {"t": dt.datetime.now(dt.UTC).replace(tzinfo=None) - dt.timedelta(days=8)},
        )
    listed = client.get(f"{BASE}/requests.json").get_json()
    assert [r["service_request_id"] for r in listed] == [rid]
