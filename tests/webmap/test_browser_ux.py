"""Every page of every role, used like a person would in Chromium at phone and desktop size.

One app (synthetic Norrtälje data, a published meeting week, an action, a citizen report)
and one waitress server serve the whole module; the session shares one browser. At
390×844 and 1366×900 each page must fit the screen (no horizontal scrolling), keep the
navigation reachable, give the map at least 90 % of a phone's width, show no technical
jargon outside the "Visa detaljer" toggles and pass axe-core without a serious or
critical violation. On the planner map real mouse clicks at a zone's centre, a cell and an
action open their popups whatever layers are switched on, and the map opens
around the most serious zone at both sizes.

Screenshots of every page land in ``$LAGESBILD_SCREENSHOTS`` when that is set (whole
pages with ``LAGESBILD_SCREENSHOTS_FULL=1``).
"""

from __future__ import annotations

import itertools
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from _citizen import INSIDE, api_report, report_by_receipt, serious_violations
from conftest import DEMO_WEEK, insert_synthetic
from playwright.sync_api import TimeoutError as PlaywrightTimeout

pytestmark = pytest.mark.browser

SIZES = {"phone": {"width": 390, "height": 844}, "desktop": {"width": 1366, "height": 900}}
NORRTALJE = "0188TC109"
RIMBO = "0188TB111"
PREV_WEEK = "2026-W46"
#: words a citizen never sees, and a planner only inside "Visa detaljer"
JARGON = re.compile(r"Gi\*|FDR|\bH3\b|H3-|dataversion|storande_grupp|vald_hot|otrygg_plats")


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """The app with data, its users and a running server (one per module)."""
    from geo.store.grades import set_grade, store_publication
    from geo.tenants import seed_default_tenants
    from webmap.app import create_app
    from webmap.auth.views import create_user
    from webmap.config import TestConfig, load_config
    from webmap.planner.actions import create_action
    from webmap.planner.moderation import decide
    from webmap.serving import BackgroundServer
    from webmap.state import EXTENSION_KEY

    tmp = tmp_path_factory.mktemp("ux")
    config = load_config(
        TestConfig,
        env={},
        DATABASE_URL=f"sqlite:///{tmp / 'lagesbild.db'}",
        INSTANCE_DIR=str(tmp / "instance"),
        TILES="",
        PUBLIC_SNAPSHOT="live",
    )
    app = create_app(config)
    engine = app.extensions[EXTENSION_KEY].engine
    with engine.begin() as conn:
        seed_default_tenants(conn)
    insert_synthetic(app)
    users = {}
    with engine.begin() as conn:
        for role in ("planner", "reader", "patrol", "reporter"):
            pw = f"{role}-lösenord-123"
            create_user(
                conn,
                role,
                pw,
                role,
                reporter_org="Testskolan" if role == "reporter" else None,
            )
            users[role] = pw
        # last week's meeting: Norrtälje 5 and Rimbo 2, published
        set_grade(conn, "norrtalje", PREV_WEEK, NORRTALJE, 5, "Oroligt", "planner")
        set_grade(conn, "norrtalje", PREV_WEEK, RIMBO, 2, None, "planner")
        store_publication(conn, "norrtalje", PREV_WEEK, "planner", 1, "<p>v46</p>", b"%PDF")
        action_id = create_action(
            conn,
            "norrtalje",
            {
                "title": "Belysning vid gångvägen",
                "kind": "belysning",
                "status": "pågår",
                "locality": RIMBO,
                "lat": 59.7445,
                "lon": 18.3650,
                "planned_start": "2026-10-01",
            },
            created_by="planner",
        )
        # an action for the whole of Norrtälje: drawn as an area over the zones
        create_action(
            conn,
            "norrtalje",
            {
                "title": "Fler trygghetsvandringar",
                "kind": "trygghetsvandring",
                "status": "planerad",
                "locality": NORRTALJE,
            },
            created_by="planner",
        )
    client = app.test_client()
    receipt = api_report(client, category="belysning", lat=INSIDE[0], lon=INSIDE[1]).get_json()[
        "receipt"
    ]
    rid = int(report_by_receipt(app, receipt).report_id)
    with engine.begin() as conn:
        decide(conn, rid, "approve", actor="planner")
    server = BackgroundServer(app, threads=4).start()
    try:
        yield {
            "app": app,
            "base": server.url.rstrip("/"),
            "users": users,
            "receipt": receipt,
            "action_id": action_id,
            "cookies": {},
        }
    finally:
        server.stop()
        engine.dispose()


@pytest.fixture(params=list(SIZES))
def sized(request: pytest.FixtureRequest, _browser: Any) -> Iterator[tuple[str, Any]]:
    """A fresh context at one of the two sizes (dark scheme for the patrol check)."""
    name = request.param
    context = _browser.new_context(
        viewport=SIZES[name],
        locale="sv-SE",
        timezone_id="Europe/Stockholm",
        has_touch=name == "phone",
        is_mobile=False,
    )
    page = context.new_page()
    page.set_default_timeout(30_000)
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.errors = errors
    try:
        yield name, page
    finally:
        context.close()


def _login(page: Any, site: dict[str, Any], role: str) -> None:
    """Log in through the form once per role; later contexts reuse the session cookie
    (logins are rate limited per client)."""
    cookies = site["cookies"].get(role)
    if cookies:
        page.context.add_cookies(cookies)
        return
    page.goto(f"{site['base']}/logga-in")
    page.fill("#username", role)
    page.fill("#password", site["users"][role])
    page.click("button[type=submit]")
    page.wait_for_load_state("load")
    assert "/logga-in" not in page.url, page.url
    site["cookies"][role] = page.context.cookies()


def _shot(page: Any, size: str, name: str) -> None:
    folder = os.environ.get("LAGESBILD_SCREENSHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        full = bool(os.environ.get("LAGESBILD_SCREENSHOTS_FULL"))
        page.screenshot(path=str(Path(folder) / f"{size}-{name}.png"), full_page=full)


def _wait_map(page: Any) -> None:
    page.wait_for_function(
        "() => !window.lagesbild || window.lagesbild.ready || window.lagesbild.error",
        timeout=90_000,
    )


def _check_page(page: Any, size: str, name: str, planner: bool) -> list[str]:
    """Problems of the page on screen now (empty: fine)."""
    problems = []
    width = SIZES[size]["width"]
    scroll = page.evaluate("() => document.documentElement.scrollWidth")
    if scroll > width:
        problems.append(f"{name}: {scroll} px wide at {width} px")
    maps = page.locator(".leaflet-container")
    if maps.count() and size == "phone":
        box = maps.first.bounding_box()
        if box is None or box["width"] < 0.9 * width:
            problems.append(f"{name}: map {box and box['width']} px of {width}")
    # navigation reachable: a visible menu button that opens it, or visible links
    toggle = page.locator(".menu-toggle")
    if toggle.is_visible():
        toggle.click()
        links = page.locator("#huvudmeny a")
        if not links.first.is_visible():
            problems.append(f"{name}: menu does not open")
        toggle.click()
    elif not page.locator("#huvudmeny a").first.is_visible():
        problems.append(f"{name}: navigation not visible")
    text = page.evaluate("() => document.body.innerText")
    hits = sorted(set(JARGON.findall(text)))
    if hits:
        problems.append(f"{name}: jargon visible {hits}" + (" (planner)" if planner else ""))
    problems += [f"{name} [{size}]: {v}" for v in serious_violations(page)]
    return problems


def _visit_all(page: Any, size: str, base: str, pages: dict[str, str], planner: bool) -> list[str]:
    """Open each page, take its screenshot and collect its problems."""
    problems: list[str] = []
    for name, path in pages.items():
        page.goto(base + path)
        _wait_map(page)
        _shot(page, size, name)
        problems += _check_page(page, size, name, planner=planner)
    return problems


PUBLIC_PAGES = {
    "start": "/?kommun=norrtalje",
    "publik-karta": "/karta/publik?kommun=norrtalje",
    "rapportera": "/rapportera?kommun=norrtalje",
    "logga-in": "/logga-in",
}
PLANNER_PAGES = {
    "karta": f"/karta?kommun=norrtalje&vecka={DEMO_WEEK}",
    "lagesbild": f"/lagesbild/{DEMO_WEEK}?kommun=norrtalje",
    "atgarder": "/atgarder?kommun=norrtalje",
    "atgard-ny": "/atgarder/ny?kommun=norrtalje",
    "moderering": "/moderering?kommun=norrtalje",
    "moderering-logg": "/moderering/logg?kommun=norrtalje",
    "export": "/export?kommun=norrtalje",
}


def test_citizen_pages_fit_and_speak_plainly(site: dict[str, Any], sized: Any) -> None:
    size, page = sized
    base = site["base"]
    pages = dict(PUBLIC_PAGES, kvitto=f"/rapportera/kvitto/{site['receipt']}")
    assert _visit_all(page, size, base, pages, planner=False) == []
    assert page.errors == []


def test_planner_pages_fit_and_keep_details_behind_a_toggle(
    site: dict[str, Any], sized: Any
) -> None:
    size, page = sized
    base = site["base"]
    _login(page, site, "planner")
    pages = dict(PLANNER_PAGES, atgard=f"/atgarder/{site['action_id']}")
    assert _visit_all(page, size, base, pages, planner=True) == []
    # the technical detail is there, behind "Visa detaljer"
    page.goto(base + PLANNER_PAGES["lagesbild"])
    page.locator("details.tech summary").first.click()
    assert "dataversion" in page.evaluate("() => document.body.innerText")
    assert page.errors == []


def test_other_roles_pages_fit(site: dict[str, Any], sized: Any) -> None:
    size, page = sized
    base = site["base"]
    problems: list[str] = []
    for role, path in (("reporter", "/rapport/ny"), ("reader", "/karta?kommun=norrtalje")):
        page.context.clear_cookies()
        _login(page, site, role)
        page.goto(base + path)
        _wait_map(page)
        _shot(page, size, role)
        problems += _check_page(page, size, role, planner=True)
    assert problems == []


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_patrol_page_fits_in_both_themes(site: dict[str, Any], sized: Any, scheme: str) -> None:
    size, page = sized
    page.emulate_media(color_scheme=scheme)
    _login(page, site, "patrol")
    page.goto(site["base"] + "/patrull")
    page.wait_for_load_state("load")
    _shot(page, size, f"patrull-{scheme}")
    assert _check_page(page, size, "patrull", planner=False) == []
    # "Ny observation" is within reach without scrolling
    jump = page.locator("#obs-jump")
    assert jump.is_visible()
    box = jump.bounding_box()
    assert box is not None and box["y"] + box["height"] <= SIZES[size]["height"]
    if scheme == "dark":
        bg = page.evaluate("() => getComputedStyle(document.body).backgroundColor")
        assert bg != "rgb(255, 255, 255)"


def _click_at(page: Any, lat: float, lon: float) -> None:
    point = page.evaluate("(p) => window.lagesbild.map.latLngToContainerPoint(p)", [lat, lon])
    box = page.locator(".folium-map").bounding_box()
    page.mouse.click(box["x"] + point["x"], box["y"] + point["y"])


def _show(page: Any, kind: str, what: Any) -> None:
    """Bring a zone (by id) or a cell (by centre) into view, without animation."""
    for _ in range(5):
        page.wait_for_function(
            "() => { const m = window.lagesbild.map;"
            " return !m._animatingZoom && !(m._panAnim && m._panAnim._inProgress); }"
        )
        zoom = page.evaluate(
            """([kind, what]) => {
              const ctx = window.lagesbild.ctx;
              ctx.map.stop();  // a popup's auto-pan may still be moving the map
              if (kind === "zones") {
                ctx.map.fitBounds(ctx.byId.zones[what].getBounds(), {maxZoom: 16, animate: false});
              } else {
                ctx.map.setView(what, 16, {animate: false});
              }
              return ctx.map.getZoom();
            }""",
            [kind, what],
        )
        page.wait_for_timeout(50)
        if page.evaluate("() => window.lagesbild.map.getZoom()") == zoom:
            return


def _popup(page: Any, kind: str) -> bool:
    """Whether a popup of ``kind`` opens (a touch context may deliver the click late)."""
    try:
        page.locator(f".leaflet-popup-content .{kind}").wait_for(timeout=3000)
    except PlaywrightTimeout:
        return False
    return True


def _close_popup(page: Any) -> None:
    page.evaluate("() => { window.lagesbild.map.closePopup(); }")
    page.wait_for_function("() => !document.querySelector('.leaflet-popup')")


def test_clicks_reach_zones_cells_and_actions_with_any_layers(
    site: dict[str, Any], sized: Any
) -> None:
    size, page = sized
    base = site["base"]
    _login(page, site, "planner")
    page.goto(base + PLANNER_PAGES["karta"])
    _wait_map(page)
    _shot(page, size, "karta-klick")
    assert page.evaluate("() => !!window.lagesbild"), (page.url, page.errors)
    # switch cells on once so they are loaded, then pick a zone and a cell outside zones
    page.evaluate("() => { window.lagesbild.map.addLayer(window.lagesbild.ctx.groups.cells); }")
    page.evaluate("() => { window.lagesbild.ctx.load(['cells']); }")
    _wait_map(page)
    target = page.evaluate(
        """() => {
          const ctx = window.lagesbild.ctx;
          const id = Object.keys(ctx.byId.zones)[0];
          const zone = ctx.byId.zones[id];
          ctx.map.fitBounds(zone.getBounds(), {maxZoom: 16, animate: false});
          const p = zone.feature.properties;
          const inZone = (ll) => Object.values(ctx.byId.zones).some(
            (z) => z.getBounds().contains(ll));
          let cell = null;
          ctx.groups.cells.eachLayer((l) => {
            const c = l.getBounds().getCenter();
            if (!cell && !inZone(c) && !inZone(l.getBounds().pad(1.5).getNorthEast())
                && !inZone(l.getBounds().pad(1.5).getSouthWest())) { cell = [c.lat, c.lng]; }
          });
          return {id: id, lat: p.lat, lon: p.lon, cell: cell};
        }"""
    )
    assert target["cell"] is not None, "no cell outside the zones in view"
    keys = ["localities", "police", "cells", "zones", "actions"]
    failures = []
    for combo in itertools.product([True, False], repeat=len(keys)):
        on = dict(zip(keys, combo, strict=True))
        page.evaluate(
            """(on) => {
              const ctx = window.lagesbild.ctx;
              Object.keys(on).forEach((k) => {
                const g = ctx.groups[k];
                if (on[k]) { ctx.map.addLayer(g); } else { ctx.map.removeLayer(g); }
              });
            }""",
            on,
        )
        if on["zones"]:
            _show(page, "zones", target["id"])
            _click_at(page, target["lat"], target["lon"])
            if not _popup(page, "zone-popup"):
                other = page.evaluate(
                    "() => Array.from(document.querySelectorAll('.leaflet-popup-content > div'))"
                    ".map((d) => d.className)"
                )
                failures.append(f"zone, layers {on}, opened {other}")
            _close_popup(page)
        if on["cells"]:
            _show(page, "cell", target["cell"])
            _click_at(page, *target["cell"])
            if not _popup(page, "cell-popup"):
                failures.append(f"cell, layers {on}")
            _close_popup(page)
    assert failures == []
    # the action's marker: a real click opens its popup
    page.evaluate("() => { window.lagesbild.map.addLayer(window.lagesbild.ctx.groups.actions); }")
    page.evaluate(
        "(id) => { const m = window.lagesbild.map;"
        " m.setView(window.lagesbild.ctx.byId.actions[id].getLatLng(), 15, {animate: false}); }",
        str(site["action_id"]),
    )
    page.locator(".action-icon").first.click()
    assert "Belysning vid gångvägen" in page.locator(".action-popup").inner_text()
    assert page.errors == []


def test_planner_map_opens_around_the_most_serious_zone(site: dict[str, Any], sized: Any) -> None:
    size, page = sized
    _login(page, site, "planner")
    page.goto(site["base"] + PLANNER_PAGES["karta"])
    _wait_map(page)
    # the page's own animated fit to the kommun must not swallow the fit to the zones
    page.wait_for_timeout(1500)
    _shot(page, size, "karta-start")
    view = page.evaluate(
        """() => {
          const ctx = window.lagesbild.ctx;
          const map = ctx.map;
          let worst = null;
          Object.values(ctx.byId.zones).forEach((z) => {
            const g = z.feature.properties.grade || 0;
            if (!worst || g > (worst.feature.properties.grade || 0)) { worst = z; }
          });
          const kommun = L.latLngBounds([]);
          Object.values(ctx.options.locality_bounds || {}).forEach((b) => kommun.extend(b));
          return {zoom: map.getZoom(), kommunZoom: map.getBoundsZoom(kommun),
                  seesWorst: map.getBounds().contains(worst.getBounds().getCenter())};
        }"""
    )
    assert view["seesWorst"], view
    # two zoom steps = a quarter of the scale: the zone is more than a speck in the kommun
    assert view["zoom"] >= view["kommunZoom"] + 2, view
    # a tätort in the link: the map opens fitted to that tätort instead
    page.goto(site["base"] + PLANNER_PAGES["karta"] + f"&ort={RIMBO}")
    _wait_map(page)
    page.wait_for_timeout(1500)
    place = page.evaluate(
        """(code) => {
          const map = window.lagesbild.map;
          const b = L.latLngBounds(window.lagesbild.ctx.options.locality_bounds[code]);
          return {zoom: map.getZoom(), fitZoom: Math.min(map.getBoundsZoom(b), 18),
                  centred: b.contains(map.getCenter())};
        }""",
        RIMBO,
    )
    assert place["centred"] and place["zoom"] == place["fitZoom"], place
    assert page.errors == []
