"""The planner's week in a real headless Chromium against the real waitress server.

Log in, open the map, see localities and zones drawn, step to another week, open a zone
popup with its Swedish explanation, create an action and see it on the map, set a grade
with a comment, publish the week and read the downloaded PDF. Nothing may be requested
from any host but the app (tiles are off) and the console must stay free of errors.
"""

from __future__ import annotations

import io
import re
from typing import Any

import pytest
from pypdf import PdfReader

pytestmark = pytest.mark.browser

WEEK = "2026-W47"
NORRTALJE = "0188TC109"


def _login(page: Any, base: str, creds: Any) -> None:
    page.goto(f"{base}/logga-in")
    page.fill("#username", creds.username)
    page.fill("#password", creds.password)
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(r".*/karta.*"))


def _wait_ready(page: Any, week: str) -> None:
    page.wait_for_function(
        "(w) => window.lagesbild && window.lagesbild.ready && window.lagesbild.week === w",
        arg=week,
        timeout=60_000,
    )


def _layer_count(page: Any, key: str) -> int:
    return int(page.evaluate("(k) => window.lagesbild.ctx.groups[k].getLayers().length", key))


def test_planner_week_in_the_browser(
    demo_app: Any, live_server: str, browser_page: Any, make_user: Any
) -> None:
    page = browser_page
    creds = make_user("planner")
    _login(page, live_server, creds)

    # the map: localities and zones drawn from the APIs
    page.goto(f"{live_server}/karta?kommun=norrtalje&vecka={WEEK}")
    _wait_ready(page, WEEK)
    counts = page.evaluate("() => window.lagesbild.counts")
    assert counts["localities"] >= 3
    assert counts["zones"] >= 2
    assert _layer_count(page, "localities") == 1  # one GeoJSON layer holding all features
    zone_ids = page.evaluate("() => Object.keys(window.lagesbild.ctx.byId.zones)")
    assert len(zone_ids) == counts["zones"]
    # no tiles: place names are drawn as text for orientation (tätorter at every zoom)
    tatorter = page.locator(".map-label-tatort").all_inner_texts()
    assert {"NORRTÄLJE", "RIMBO", "HALLSTAVIK"} <= {t.strip().upper() for t in tatorter}
    assert page.locator(".map-label-plats", has_text="Busstorget").count() == 1

    # step to the previous week with the selector: the URL keeps the state
    page.select_option("#vecka", "2026-W46")
    _wait_ready(page, "2026-W46")
    assert "vecka=2026-W46" in page.url
    page.select_option("#vecka", WEEK)
    _wait_ready(page, WEEK)

    # click a zone on the canvas: its popup explains in Swedish
    zone = page.evaluate(
        """() => {
          const ctx = window.lagesbild.ctx;
          const id = Object.keys(ctx.byId.zones)[0];
          const layer = ctx.byId.zones[id];
          ctx.map.fitBounds(layer.getBounds(), {maxZoom: 16, animate: false});
          const f = layer.feature.properties;
          return {id: id, lat: f.lat, lon: f.lon};
        }"""
    )
    point = page.evaluate(
        "(z) => window.lagesbild.map.latLngToContainerPoint([z.lat, z.lon])", zone
    )
    box = page.locator(".folium-map").bounding_box()
    page.mouse.click(box["x"] + point["x"], box["y"] + point["y"])
    popup = page.locator(".leaflet-popup-content .zone-popup")
    popup.wait_for()
    assert "Mönster:" in popup.inner_text()
    explanation = page.locator(".leaflet-popup-content .explanation").inner_text()
    assert re.search(r"rapport", explanation)
    assert page.locator(".leaflet-popup-content svg.sparkline polyline").count() == 1

    # create an action at the zone and see it on the map
    page.goto(f"{live_server}/atgarder/ny?kommun=norrtalje")
    page.fill("#title", "Trygghetsvandring vid zonen")
    page.select_option("#kind", "trygghetsvandring")
    page.select_option("#status", "pågår")
    page.fill("#planned_start", "2026-11-01")
    page.fill("#lat", str(zone["lat"]))
    page.fill("#lon", str(zone["lon"]))
    page.click("#save-action")
    page.wait_for_url(re.compile(r".*/atgarder/\d+$"))
    action_id = page.url.rsplit("/", 1)[1]
    assert "Trygghetsvandring vid zonen" in page.locator("h1").inner_text()
    page.goto(f"{live_server}/karta?kommun=norrtalje&vecka={WEEK}")
    _wait_ready(page, WEEK)
    assert page.evaluate("() => window.lagesbild.counts.actions") == 1
    assert page.evaluate("(id) => !!window.lagesbild.ctx.byId.actions[id]", action_id)
    # the zone popup now lists the action
    page.evaluate("(id) => window.lagesbild.openPopup('zones', id)", zone["id"])
    assert "Trygghetsvandring vid zonen" in page.locator(".zone-actions").inner_text()

    # the meeting: set a grade with a comment, publish, download the PDF
    page.goto(f"{live_server}/lagesbild/{WEEK}?kommun=norrtalje")
    section = page.locator(f"#ort-{NORRTALJE}")
    section.locator("select[name=grade]").select_option("4")
    section.locator("textarea[name=comment]").fill("Oroligt kring busstorget, följ upp")
    section.locator("button[type=submit]").click()
    page.wait_for_load_state("load")
    assert "Bedömningen för Norrtälje är sparad" in page.content()
    history = page.locator(f"#ort-{NORRTALJE} details.history").inner_text()
    assert "Oroligt kring busstorget" in history
    page.click("#publish")
    page.wait_for_load_state("load")
    # Rimbo and Hallstavik are undecided: publishing asks first
    assert "Mötet har inte beslutat om" in page.locator(".flashes").inner_text()
    assert page.locator("#pdf-link").count() == 0
    page.click("#publish-confirm-button")
    page.wait_for_load_state("load")
    with page.expect_download() as info:
        page.click("#pdf-link")
    pdf_bytes = open(info.value.path(), "rb").read()  # noqa: SIM115 - tiny file
    reader = PdfReader(io.BytesIO(pdf_bytes))
    assert len(reader.pages) >= 2
    text = "\n".join(p.extract_text() for p in reader.pages)
    assert "Lägesbild Norrtälje, vecka 47, 2026" in text
    assert "Oroligt kring busstorget" in text
    assert "Hotspotlista" in text

    # the map shows the meeting's grade for Norrtälje
    page.goto(f"{live_server}/karta?kommun=norrtalje&vecka={WEEK}")
    _wait_ready(page, WEEK)
    grade = page.evaluate(
        "(c) => window.lagesbild.ctx.byId.localities[c].feature.properties.grade", NORRTALJE
    )
    assert grade == 4

    assert page.foreign_requests(live_server) == []
    assert page.console_errors == []


def test_names_in_map_tooltips_are_text_not_html(
    app: Any, live_server: str, browser_page: Any, make_user: Any
) -> None:
    """Leaflet inserts string tooltips as HTML: names must arrive as text nodes."""
    from sqlalchemy import update

    from geo.store.tables import boundary
    from webmap.state import EXTENSION_KEY

    name = '<img id="lb-inj" src="x">Rimbo'
    with app.extensions[EXTENSION_KEY].engine.begin() as conn:
        conn.execute(update(boundary).where(boundary.c.code == "0188TB111").values(name=name))
    page = browser_page
    _login(page, live_server, make_user("planner"))
    page.goto(f"{live_server}/karta?kommun=norrtalje&vecka={WEEK}")
    _wait_ready(page, WEEK)
    text = page.evaluate(
        """(c) => {
          const layer = window.lagesbild.ctx.byId.localities[c];
          layer.openTooltip(layer.getBounds().getCenter());
          return document.querySelector(".leaflet-tooltip").textContent;
        }""",
        "0188TB111",
    )
    assert text.startswith(name)
    assert page.locator("#lb-inj").count() == 0
