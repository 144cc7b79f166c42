"""The actor's weekly report goes through the ingest pipeline with the user's organisation."""

from __future__ import annotations

from typing import Any

from geo.store.reports import read_reports
from webmap.state import EXTENSION_KEY


def test_reporter_files_a_report_by_map_click_and_by_place_name(
    app: Any, client: Any, make_user: Any, login: Any, csrf_token: Any
) -> None:
    creds = make_user("reporter", org="Norrtäljeskolan")
    login(client, creds.username, creds.password)
    page = client.get("/rapport/ny?kommun=norrtalje")
    assert page.status_code == 200 and "Veckorapport" in page.get_data(as_text=True)
    token = csrf_token(client, "/rapport/ny?kommun=norrtalje")
    base = {
        "csrf_token": token,
        "kommun": "norrtalje",
        "category": "klotter",
        "when": "2026-11-16T21:30",
        "reporter_org": "Förfalskad organisation",
    }
    r1 = client.post(
        "/rapport/ny",
        data={**base, "lat": "59.7577", "lon": "18.6990", "description": "Klotter på väntkuren"},
    )
    assert r1.status_code == 302, r1.get_data(as_text=True)[:800]
    r2 = client.post(
        "/rapport/ny",
        data={
            **base,
            "place": "Busstorget i Norrtälje",
            "description": "Klotter igen",
            "when": "2026-11-17T08:00",
        },
    )
    assert r2.status_code == 302, r2.get_data(as_text=True)[:800]
    with app.extensions[EXTENSION_KEY].engine.connect() as conn:
        stored = read_reports(conn, "norrtalje", status=None)
    assert len(stored) == 2
    assert set(stored["source"]) == {"actor"}
    assert set(stored["reporter_org"]) == {"Norrtäljeskolan"}
    assert (stored["cell"] != 0).all()
    assert set(stored["locality"]) == {"0188TC109"}


def test_reporter_form_reports_problems_in_swedish(
    app: Any, client: Any, make_user: Any, login: Any, csrf_token: Any
) -> None:
    creds = make_user("reporter")
    login(client, creds.username, creds.password)
    token = csrf_token(client, "/rapport/ny?kommun=norrtalje")
    resp = client.post(
        "/rapport/ny",
        data={
            "csrf_token": token,
            "kommun": "norrtalje",
            "category": "",
            "when": "2099-01-01T10:00",
        },
    )
    assert resp.status_code == 400
    html = resp.get_data(as_text=True)
    assert "Välj en kategori" in html and "Ange platsen" in html and "framtiden" in html
