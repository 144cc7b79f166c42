"""Citizen reporting /rapportera and POST /api/reports: validation, abuse protection, storage."""

from __future__ import annotations

import datetime as dt
import logging
import re
from typing import Any

import numpy as np
import pandas as pd
import pytest
from _citizen import (
    INSIDE,
    OUTSIDE,
    api_report,
    count_citizen_rows,
    count_reports,
    engine,
    form_data,
    report_by_receipt,
    tokens,
)
from sqlalchemy import inspect, select, text

from geo.cells import points_to_cells
from geo.errors import LagesbildError
from geo.store.tables import report

RECEIPT = re.compile(r"/rapportera/kvitto/([0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4})")


def _receipt_of(resp: Any) -> str:
    assert resp.status_code == 303, resp.get_data(as_text=True)[:500]
    m = RECEIPT.search(resp.headers["Location"])
    assert m, resp.headers["Location"]
    return m.group(1)


def _errors(resp: Any) -> list[str]:
    return re.findall(r'<li><a href="#field-[^"]+">([^<]+)</a>', resp.get_data(as_text=True))


# -- the form -------------------------------------------------------------------------------


def test_form_is_swedish_accessible_and_lists_otrygg_plats_first(client: Any) -> None:
    resp = client.get("/rapportera")
    assert resp.status_code == 200
    html = resp.get_data(as_text=True)
    assert '<html lang="sv"' in html
    assert "Rapportera en plats i Norrtälje" in html and "Använd min position" in html
    radios = re.findall(r'name="category" value="([a-z_]+)"', html)
    assert radios[0] == "otrygg_plats" and radios[-1] == "annat" and len(radios) == 13
    # every visible control has a label
    controls = re.findall(
        r'<(?:input|select|textarea)(?![^>]*type="hidden")[^>]*\bid="([^"]+)"', html
    )
    assert len(controls) >= 17
    for control_id in controls:
        assert f'for="{control_id}"' in html, control_id
    assert 'class="hp" aria-hidden="true"' in html and 'tabindex="-1"' in html
    assert 'name="csrf_token"' in html and 'name="form_token"' in html
    # no third-party resources: Leaflet is served by the app
    assert "/static/vendor/leaflet/leaflet.js" in html
    assert not re.search(r'(src|href)="https?://', html)


def test_report_map_starts_in_the_largest_locality_with_place_names(client: Any) -> None:
    import json

    html = client.get("/rapportera?kommun=norrtalje").get_data(as_text=True)
    raw = re.search(r'<script type="application/json" id="map-config"[^>]*>(.*?)</script>', html)
    assert raw is not None
    cfg = json.loads(raw.group(1))
    lat, lon = cfg["centre"]
    assert abs(lat - 59.758) < 0.02 and abs(lon - 18.70) < 0.03  # Norrtälje, not Hallstavik
    assert cfg["tiles"] == ""  # tests run without tiles: place names instead
    names = {row[0] for row in cfg["labels"]}
    assert {"Norrtälje", "Rimbo", "Hallstavik", "Busstorget"} <= names


def test_submission_stores_a_pending_citizen_report_and_shows_a_receipt(
    app: Any, client: Any
) -> None:
    resp = client.post("/rapportera", data=form_data(client, time_of_day="kvall"))
    receipt = _receipt_of(resp)
    page = client.get(resp.headers["Location"])
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and receipt in html
    assert "Vad händer nu?" in html and "väntar på granskning" in html
    assert "Mörkt vid busstationen" not in html  # the receipt never shows the text
    row = report_by_receipt(app, receipt)
    assert row.status == "pending" and row.source == "citizen" and row.channel == "web"
    assert row.category == "otrygg_plats" and row.external_id == receipt
    assert row.locality == "0188TC109" and row.precision == "point"
    expected = int(points_to_cells(np.array([INSIDE[0]]), np.array([INSIDE[1]]), 10)[0])
    assert row.cell == expected
    assert row.time_of_day == "kvall" and row.text_salt and row.pii_flags == []


def test_stored_row_matches_the_ingest_pipeline(app: Any, client: Any) -> None:
    """A web submission is stored as the import pipeline would store the same report."""
    from geo.ingest import ingest_frame

    receipt = _receipt_of(client.post("/rapportera", data=form_data(client)))
    ours = report_by_receipt(app, receipt)
    frame = pd.DataFrame(
        {
            "occurred_at": [pd.Timestamp(ours.occurred_at, tz="UTC")],
            "category": [ours.category],
            "lat": [ours.lat],
            "lon": [ours.lon],
            "external_id": ["pipeline-copy"],
            "description": [ours.description],
        }
    )
    with engine(app).begin() as conn:
        res = ingest_frame(conn, frame, kommun="norrtalje", source="citizen", status="pending")
        (rid,) = res.stored_ids
        theirs = conn.execute(select(report).where(report.c.id == rid)).first()
    assert theirs is not None
    for col in ("kommun", "source", "category", "precision", "locality", "cell", "status"):
        assert getattr(ours, col) == getattr(theirs, col), col
    assert ours.occurred_at == theirs.occurred_at


# -- validation -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"category": ""}, "Välj vad rapporten gäller."),
        ({"category": "ufo"}, "Okänd kategori. Välj en i listan."),
        ({"lat": str(OUTSIDE[0]), "lon": str(OUTSIDE[1])}, "Platsen ligger utanför Norrtälje"),
        ({"lat": "abc", "lon": "18.7"}, "Positionen kunde inte tolkas."),
        ({"lat": "59.7", "lon": ""}, "Både latitud och longitud behövs."),
        ({"lat": "95", "lon": "18.7"}, "Positionen ligger utanför giltiga värden."),
        ({"lat": "", "lon": "", "place": ""}, "Välj en plats: tryck i kartan"),
        ({"lat": "", "lon": "", "place": "Ingenstansgatan 99"}, "hittades inte"),
        ({"description": "x" * 1001}, "Beskrivningen får vara högst 1000 tecken."),
        ({"place": "p" * 201}, "Platsen får vara högst 200 tecken."),
        ({"date": "igår"}, "Datumet ska skrivas ÅÅÅÅ-MM-DD."),
        ({"date": "2999-01-01"}, "Datumet ligger i framtiden."),
        ({"date": "2001-01-01"}, "Datumet får vara högst ett år tillbaka."),
        ({"time_of_day": "lunch"}, "Okänd tid på dygnet."),
    ],
)
def test_every_validation_error_is_explained_in_swedish_and_nothing_is_stored(
    app: Any, client: Any, fields: dict[str, str], message: str
) -> None:
    before = count_reports(app)
    resp = client.post("/rapportera", data=form_data(client, **fields))
    assert resp.status_code == 400
    errors = _errors(resp)
    assert any(message in e for e in errors), errors
    assert 'role="alert"' in resp.get_data(as_text=True)
    assert count_reports(app) == before and count_citizen_rows(app) == 0


def test_all_problems_are_reported_at_once_and_values_kept(client: Any) -> None:
    resp = client.post(
        "/rapportera",
        data=form_data(
            client, category="", lat=str(OUTSIDE[0]), lon=str(OUTSIDE[1]), description="y" * 1200
        ),
    )
    assert len(_errors(resp)) == 3
    assert "y" * 1200 in resp.get_data(as_text=True)  # the text is not lost


def test_place_name_is_looked_up_without_javascript(app: Any, client: Any) -> None:
    resp = client.post("/rapportera", data=form_data(client, lat="", lon="", place="Stora torget"))
    row = report_by_receipt(app, _receipt_of(resp))
    assert row.locality == "0188TC109" and row.location_text == "Stora torget"
    assert abs(row.lat - 59.7596) < 0.01


@pytest.mark.parametrize(
    ("payload", "field", "code"),
    [
        ({"category": "ufo"}, "category", "unknown"),
        ({"lat": OUTSIDE[0], "lon": OUTSIDE[1]}, "position", "outside_kommun"),
        ({"description": "z" * 1001}, "description", "too_long"),
        ({"lat": None, "lon": None}, "position", "required"),
        ({"date": "2999-12-31"}, "date", "future"),
        ({"time_of_day": "lunch"}, "time_of_day", "unknown"),
    ],
)
def test_api_validation_errors_are_json(
    app: Any, client: Any, payload: dict[str, Any], field: str, code: str
) -> None:
    resp = api_report(client, **payload)
    assert resp.status_code == 400
    body = resp.get_json()
    assert body["error"] and {"field": field, "code": code} in [
        {"field": e["field"], "code": e["code"]} for e in body["errors"]
    ]
    assert count_reports(app) == 0


def test_api_rejects_non_json_unknown_fields_and_wrong_types(client: Any) -> None:
    resp = client.post("/api/reports", data={"category": "klotter"})
    assert resp.status_code == 415 and "JSON" in resp.get_json()["error"]
    assert api_report(client, extra="x").status_code == 400
    assert api_report(client, lat="59.7").status_code == 400
    assert api_report(client, category=["klotter"]).status_code == 400
    assert api_report(client, kommun="atlantis").status_code == 404


def test_api_submission_and_status(app: Any, client: Any) -> None:
    resp = api_report(client, category="klotter", description="Klotter på muren")
    assert resp.status_code == 201
    body = resp.get_json()
    assert body["status"] == "pending" and body["next_steps"]
    status = client.get(f"/api/reports/{body['receipt']}")
    assert status.status_code == 200 and status.get_json()["category"] == "klotter"
    assert "description" not in status.get_json()
    assert client.get("/api/reports/AAAA-BBBB-CCCC").status_code == 404


def test_nothing_is_half_stored_when_the_second_write_fails(
    app: Any, client: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The report row is written, the receipt row violates NOT NULL: both roll back."""
    import webmap.citizen.submissions as subs

    original = subs._citizen_row

    def broken_row(*args: Any, **kwargs: Any) -> dict[str, Any]:
        return {**original(*args, **kwargs), "kommun": None}

    monkeypatch.setattr(subs, "_citizen_row", broken_row)
    with pytest.raises(LagesbildError):
        api_report(client)
    with pytest.raises(LagesbildError):
        client.post("/rapportera", data=form_data(client))
    assert count_reports(app) == 0 and count_citizen_rows(app) == 0
    # and the generic (non-writer) path behaves the same
    rt = app.extensions["lagesbild"].citizen
    monkeypatch.setattr(rt, "writer", None)
    with pytest.raises(LagesbildError):
        api_report(client)
    assert count_reports(app) == 0 and count_citizen_rows(app) == 0


# -- abuse protection -----------------------------------------------------------------------


def test_double_submit_of_the_same_form_creates_one_report(app: Any, client: Any) -> None:
    data = form_data(client)
    first = _receipt_of(client.post("/rapportera", data=data))
    second = _receipt_of(client.post("/rapportera", data=data))
    assert first == second
    assert count_reports(app) == 1 and count_citizen_rows(app) == 1
    # a new form is a new report
    third = _receipt_of(client.post("/rapportera", data=form_data(client)))
    assert third != first and count_reports(app) == 2


def test_api_idempotency_key(app: Any, client: Any) -> None:
    a = api_report(client, key="k-123")
    b = api_report(client, key="k-123")
    assert (a.status_code, b.status_code) == (201, 200)
    assert a.get_json()["receipt"] == b.get_json()["receipt"]
    assert count_reports(app) == 1
    assert api_report(client, key="x" * 201).status_code == 400


def test_forged_or_missing_form_token_is_refused(app: Any, client: Any) -> None:
    for bad in ("", "not-a-token", tokens(client)[1] + "x"):
        resp = client.post("/rapportera", data=form_data(client, form_token=bad))
        assert resp.status_code == 400
        assert any("Formuläret har gått ut" in e for e in _errors(resp))
    assert count_reports(app) == 0


def test_honeypot_stores_nothing(app: Any, client: Any) -> None:
    resp = client.post("/rapportera", data=form_data(client, webbplats="http://spam.example"))
    assert resp.status_code == 400
    assert count_reports(app) == 0 and count_citizen_rows(app) == 0


def test_csrf_token_is_required_on_the_form(app: Any, client: Any) -> None:
    assert app.config["WTF_CSRF_ENABLED"] is True
    data = form_data(client)
    del data["csrf_token"]
    resp = client.post("/rapportera", data=data)
    assert resp.status_code == 400 and "säkerhetstoken" in resp.get_data(as_text=True)
    data = form_data(client, csrf_token="forged")
    assert client.post("/rapportera", data=data).status_code == 400
    assert count_reports(app) == 0


class TestRateLimit:
    @pytest.fixture
    def app_config(self, app_config: dict[str, Any]) -> dict[str, Any]:
        return {
            **app_config,
            "CITIZEN_RATE_LIMIT": "3/minute",
            "TRUSTED_PROXY_HEADER": "X-Forwarded-For",
        }

    def test_per_client_limit_on_form_and_api(self, app: Any, client: Any) -> None:
        headers = {"X-Forwarded-For": "198.51.100.23"}
        codes = []
        for _ in range(4):
            data = form_data(client)
            codes.append(client.post("/rapportera", data=data, headers=headers).status_code)
        assert codes == [303, 303, 303, 429]
        # another client is not affected; the API shares the per-client submit limit
        other = {"X-Forwarded-For": "198.51.100.99"}
        assert client.post("/rapportera", data=form_data(client), headers=other).status_code == 303
        api = [
            client.post(
                "/api/reports",
                json={"category": "klotter", "lat": INSIDE[0], "lon": INSIDE[1]},
                headers={"X-Forwarded-For": "198.51.100.50"},
            ).status_code
            for _ in range(4)
        ]
        assert api == [201, 201, 201, 429]
        assert count_reports(app) == 7


class TestNoAddressStored:
    @pytest.fixture
    def app_config(self, app_config: dict[str, Any]) -> dict[str, Any]:
        return {**app_config, "TRUSTED_PROXY_HEADER": "X-Forwarded-For"}

    def test_client_address_is_never_stored_or_logged(
        self, app: Any, client: Any, caplog: pytest.LogCaptureFixture
    ) -> None:
        address = "203.0.113.77"
        caplog.set_level(logging.DEBUG)
        headers = {"X-Forwarded-For": address, "User-Agent": "TestBrowser/1.0"}
        client.post("/rapportera", data=form_data(client), headers=headers)
        api_report(client, description="hej", key="ip-test")
        client.post("/rapportera", data=form_data(client, category="ufo"), headers=headers)
        assert address not in caplog.text
        with engine(app).connect() as conn:
            # SQLite and PostgreSQL (without PostGIS's own reference table of projections)
            tables = set(inspect(conn).get_table_names()) - {"spatial_ref_sys"}
            assert "citizen_report" in tables
            for table in tables:
                for row in conn.execute(text(f'select * from "{table}"')):
                    flat = " ".join(str(v) for v in row)
                    assert address not in flat and "TestBrowser" not in flat, table


# -- receipts -------------------------------------------------------------------------------


def test_receipt_lookup_is_tolerant_and_unknown_is_404(app: Any, client: Any) -> None:
    receipt = _receipt_of(client.post("/rapportera", data=form_data(client)))
    loose = receipt.replace("-", " ").lower()
    assert client.get(f"/rapportera/kvitto/{loose}").status_code == 200
    assert client.get("/rapportera/kvitto/ZZZZ-ZZZZ-ZZZZ").status_code == 404


def test_personal_data_is_flagged_as_kinds_only(app: Any, client: Any) -> None:
    text_with_pii = "Anna Svensson 811218-9876 ringer 070-123 45 67"
    resp = client.post("/rapportera", data=form_data(client, description=text_with_pii))
    row = report_by_receipt(app, _receipt_of(resp))
    assert sorted(row.pii_flags) == ["name", "personnummer", "phone"]
    assert "811218" not in str(row.pii_flags)


def test_occurred_at_uses_date_and_time_of_day(app: Any, client: Any) -> None:
    day = (dt.date.today() - dt.timedelta(days=3)).isoformat()
    resp = client.post("/rapportera", data=form_data(client, date=day, time_of_day="natt"))
    row = report_by_receipt(app, _receipt_of(resp))
    local = pd.Timestamp(row.occurred_at, tz="UTC").tz_convert("Europe/Stockholm")
    assert local.date().isoformat() == day and local.hour == 1


def test_production_server_logs_no_client_address(
    app: Any, live_server: str, caplog: pytest.LogCaptureFixture
) -> None:
    """waitress and the app log nothing that identifies the client (no access log)."""
    import requests

    caplog.set_level(logging.DEBUG)
    session = requests.Session()
    page = session.get(f"{live_server}/rapportera", timeout=10)
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    form = re.search(r'name="form_token" value="([^"]+)"', page.text)
    assert csrf and form
    data = {
        "csrf_token": csrf.group(1),
        "form_token": form.group(1),
        "kommun": "norrtalje",
        "lat": str(INSIDE[0]),
        "lon": str(INSIDE[1]),
        "category": "klotter",
    }
    resp = session.post(f"{live_server}/rapportera", data=data, timeout=10)
    assert resp.status_code == 200 and "Kvittonummer" in resp.text
    session.get(f"{live_server}/rapportera/kvitto/NOPE-NOPE-NOPE", timeout=10)
    server_side = [
        r.getMessage()
        for r in caplog.records
        if r.name.split(".")[0] in ("waitress", "werkzeug", "flask", "webmap", "geo")
    ]
    assert not any("127.0.0.1" in m for m in server_side), server_side


def test_api_absurd_numbers_and_nesting_are_clear_errors_not_500(app: Any, client: Any) -> None:
    huge = "1" + "0" * 400  # a valid JSON number beyond float range
    resp = client.post(
        "/api/reports",
        data=f'{{"category": "otrygg_plats", "lat": {huge}, "lon": 18.7}}',
        content_type="application/json",
    )
    assert resp.status_code == 400
    assert resp.get_json()["errors"][0]["field"] == "position"
    nested = client.post(
        "/api/reports", data="[" * 30000 + "]" * 30000, content_type="application/json"
    )
    assert nested.status_code == 400 and "JSON" in nested.get_json()["error"]
    big = client.post(
        "/api/reports",
        json={"category": "otrygg_plats", "lat": INSIDE[0], "lon": INSIDE[1], "x": "a" * 70_000},
    )
    assert big.status_code == 413 and "för stor" in big.get_json()["error"]
    form = client.post("/rapportera", data=form_data(client, lat=huge, lon="18.7"))
    assert form.status_code == 400 and "Positionen kunde inte tolkas" in form.get_data(as_text=True)
    assert count_reports(app) == 0


def test_api_idempotency_key_reused_for_another_report_is_refused(app: Any, client: Any) -> None:
    first = api_report(client, key="k-1", category="klotter", description="Klotter på muren")
    assert first.status_code == 201
    other = api_report(client, key="k-1", category="belysning", description="Lampan är trasig")
    # neither silently dropped nor answered with another sender's receipt
    assert other.status_code == 422
    assert "receipt" not in other.get_json() and "Idempotency-Key" in other.get_json()["error"]
    retry = api_report(client, key="k-1", category="klotter", description="Klotter på muren")
    assert retry.status_code == 200
    assert retry.get_json()["receipt"] == first.get_json()["receipt"]
    assert count_reports(app) == 1


def test_form_sent_again_with_other_details_is_not_silently_dropped(app: Any, client: Any) -> None:
    data = form_data(client, description="Mörkt vid busstationen.")
    first = _receipt_of(client.post("/rapportera", data=data))
    # back button, edit, send: same form token, other details
    again = client.post("/rapportera", data={**data, "description": "Trasig lampa vid torget."})
    html = again.get_data(as_text=True)
    assert again.status_code == 409 and "redan skickats" in html
    assert "Trasig lampa vid torget." in html  # the new details are kept in the form
    fresh = _FORM_TOKEN.search(html)
    assert fresh and fresh.group(1) != data["form_token"]
    resent = client.post(
        "/rapportera",
        data={**data, "description": "Trasig lampa vid torget.", "form_token": fresh.group(1)},
    )
    assert _receipt_of(resent) != first and count_reports(app) == 2


_FORM_TOKEN = re.compile(r'name="form_token" value="([^"]+)"')
