"""Hostile report and action text stays inert everywhere: map popups, tables, report HTML
and PDF. Checked in the browser: no dialog opens and no element is injected."""

from __future__ import annotations

import io
from typing import Any

import numpy as np
import pandas as pd
import pytest
from conftest import insert_synthetic
from pypdf import PdfReader

from geo.cells import points_to_cells
from geo.schema import conform_reports
from webmap.planner.actions import create_action
from webmap.state import EXTENSION_KEY

SCRIPT = "<script>alert(1)</script>"
IMG = '"><img src=x onerror=alert(1)>'
WEEK = "2026-W47"
BUSSTORGET = (59.7577, 18.6990)


def _hostile_reports() -> pd.DataFrame:
    lat, lon = BUSSTORGET
    n = 2
    when = pd.Timestamp("2026-11-17 10:00", tz="Europe/Stockholm").tz_convert("UTC")
    return conform_reports(
        pd.DataFrame(
            {
                "kommun": ["norrtalje"] * n,
                "source": ["actor"] * n,
                "occurred_at": [when, when + pd.Timedelta(minutes=5)],
                "category": ["skadegorelse"] * n,
                "description": [SCRIPT, IMG],
                "reporter_org": [IMG, "Skolan"],
                "lat": [lat] * n,
                "lon": [lon] * n,
                "precision": ["point"] * n,
                "locality": ["0188TC109"] * n,
                "cell": points_to_cells([lat] * n, [lon] * n, 10).astype(np.uint64),
                "status": ["approved"] * n,
            }
        )
    )


@pytest.fixture
def hostile_app(app: Any) -> Any:
    insert_synthetic(app, extra=_hostile_reports())
    with app.extensions[EXTENSION_KEY].engine.begin() as conn:
        create_action(
            conn,
            "norrtalje",
            {
                "title": SCRIPT + IMG,
                "kind": "annat",
                "status": "pågår",
                "responsible": IMG,
                "lat": BUSSTORGET[0],
                "lon": BUSSTORGET[1],
                "locality": "0188TC109",
                "planned_start": "2026-11-01",
            },
        )
    return app


def _assert_inert(page: Any) -> None:
    assert page.dialogs == []
    assert page.locator('img[src="x"]').count() == 0
    assert (
        page.evaluate(
            "() => [...document.scripts].filter(s => s.textContent.includes('alert(1)')).length"
        )
        == 0
    )


@pytest.mark.browser
def test_hostile_text_is_inert_in_the_browser(
    hostile_app: Any, live_server: str, browser_page: Any, make_user: Any, login: Any
) -> None:
    page = browser_page
    creds = make_user("planner")
    page.goto(f"{live_server}/logga-in")
    page.fill("#username", creds.username)
    page.fill("#password", creds.password)
    page.click("button[type=submit]")
    page.wait_for_load_state("load")

    # map popups: zone with the latest report texts, action popup
    page.goto(f"{live_server}/karta?kommun=norrtalje&vecka={WEEK}")
    page.wait_for_function("() => window.lagesbild && window.lagesbild.ready", timeout=60_000)
    zone_id = page.evaluate(
        """() => {
          const zones = window.lagesbild.ctx.byId.zones;
          return Object.keys(zones).find(id =>
            (zones[id].feature.properties.latest || [])
              .some(r => (r.text || '').includes('alert')));
        }"""
    )
    assert zone_id, "the hostile reports should be among the zone's latest reports"
    page.evaluate("(id) => window.lagesbild.openPopup('zones', id)", zone_id)
    reports = page.locator(".zone-reports").inner_text()
    assert SCRIPT in reports and IMG in reports  # shown as text
    action_id = page.evaluate("() => Object.keys(window.lagesbild.ctx.byId.actions)[0]")
    page.evaluate("(id) => window.lagesbild.openPopup('actions', id)", action_id)
    assert SCRIPT in page.locator(".action-popup h3").inner_text()
    _assert_inert(page)

    # tables: actions list and meeting page
    page.goto(f"{live_server}/atgarder?kommun=norrtalje")
    assert SCRIPT + IMG in page.locator("#actions-table").inner_text()
    _assert_inert(page)
    page.goto(f"{live_server}/lagesbild/{WEEK}?kommun=norrtalje")
    texts = page.locator("#ort-0188TC109 td.report-text").all_inner_texts()
    assert SCRIPT in texts and IMG in texts
    _assert_inert(page)

    # published HTML and PDF
    page.click("#publish")
    page.wait_for_load_state("load")
    page.click("#publish-confirm-button")  # undecided localities: publish anyway
    page.wait_for_load_state("load")
    page.goto(f"{live_server}/lagesbild/{WEEK}/rapport.html?kommun=norrtalje")
    assert SCRIPT in page.locator("body").inner_text()
    _assert_inert(page)
    resp = page.request.get(f"{live_server}/lagesbild/{WEEK}/rapport.pdf?kommun=norrtalje")
    assert resp.ok
    text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(resp.body())).pages)
    assert "<script>alert(1)</script>" in text
    assert "onerror=alert(1)" in text
    assert page.console_errors == []
    assert page.foreign_requests(live_server) == []


def test_hostile_text_is_escaped_in_server_html(
    hostile_app: Any, client: Any, make_user: Any, login: Any
) -> None:
    creds = make_user("reader")
    login(client, creds.username, creds.password)
    for path in (f"/lagesbild/{WEEK}?kommun=norrtalje", "/atgarder?kommun=norrtalje"):
        html = client.get(path).get_data(as_text=True)
        assert SCRIPT not in html and "<img src=x" not in html
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
