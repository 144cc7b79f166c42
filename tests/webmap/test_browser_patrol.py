"""The patrol page on a phone (390×844) in a real headless Chromium against waitress.

Seeded synthetic reports ending yesterday, so tonight's default plan has areas. The
areas are drawn on the map and explained; an observation made while the phone is
offline waits in the page ("väntar på att skickas"), is sent when the connection comes
back and is stored exactly once, also when the page sends it again. A second test cuts
the connection after the server stored an observation (the answer is lost) and checks
that the page's retry does not store it twice. Nothing is requested from any host but
the app (tiles are off).
"""

from __future__ import annotations

import hashlib
import json
import re
import uuid
from typing import Any

import pandas as pd
import pytest
from sqlalchemy import select

from geo.store.tables import report as report_table
from webmap.state import EXTENSION_KEY

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}


def _seed_until_yesterday(app: Any) -> None:
    """26 weeks of synthetic Norrtälje reports (planted hotspots) ending yesterday 13:00."""
    from analysis.demo import synthetic_reports
    from geo.store import bump_version
    from geo.store.reports import insert_reports

    end = (pd.Timestamp.now(tz="Europe/Stockholm") - pd.Timedelta(days=1)).strftime(
        "%Y-%m-%d 13:00"
    )
    reports, _truth = synthetic_reports(seed=3, weeks=26, end=end)
    reports = reports.copy()
    reports["description"] = pd.array(["Rapport"] * len(reports), dtype="string")
    reports["fingerprint"] = [
        hashlib.sha256(f"patrol-{i}".encode()).hexdigest() for i in range(len(reports))
    ]
    with app.extensions[EXTENSION_KEY].engine.begin() as conn:
        insert_reports(conn, reports)
        bump_version(conn, "norrtalje")


def _reports_with_note(app: Any, note: str) -> list[int]:
    r = report_table
    with app.extensions[EXTENSION_KEY].engine.connect() as conn:
        rows = conn.execute(
            select(r.c.id).where(r.c.source == "patrol", r.c.description == note)
        ).all()
    return [int(row.id) for row in rows]


def _login(page: Any, base: str, creds: Any) -> None:
    page.goto(f"{base}/logga-in")
    page.fill("#username", creds.username)
    page.fill("#password", creds.password)
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(r".*/patrull$"))
    page.wait_for_function("() => window.lagesbildPatrol && window.lagesbildPatrol.ready")


def _fill_observation(page: Any, note: str) -> None:
    page.select_option("#obs-category", "storande_grupp")
    page.fill("#obs-note", note)
    box = page.locator("#patrol-map").bounding_box()
    assert box is not None
    # tap the map next to the first area's centre (inside the kommun)
    point = page.evaluate(
        """() => {
          const p = window.lagesbildPatrol.map.latLngToContainerPoint(
            window.lagesbildPatrol.areaLayers[1].getBounds().getCenter());
          return {x: p.x + 12, y: p.y + 12};
        }"""
    )
    page.locator("#patrol-map").click(position=point)
    assert "vald i kartan" in page.inner_text("#obs-position")


def _queue(page: Any) -> list[dict[str, Any]]:
    return page.evaluate("() => window.lagesbildPatrol.queue()")  # type: ignore[no-any-return]


def test_patrol_page_on_a_phone_with_offline_observation(
    app: Any, live_server: str, browser_page: Any, make_user: Any
) -> None:
    _seed_until_yesterday(app)
    page = browser_page
    page.set_viewport_size(PHONE)
    creds = make_user("patrol", kommuner=("norrtalje",), org="Trygghetsvärdarna")
    _login(page, live_server, creds)

    # tonight's default plan: three areas drawn on the map, each explained
    items = page.locator("li.patrol-area-item")
    assert items.count() == 3
    assert page.locator("#patrol-map path.patrol-area").count() == 3
    assert page.locator("#patrol-map .patrol-step-icon").count() == 3
    reasons = page.locator(".area-reason").all_inner_texts()
    assert len(reasons) == 3
    assert all(re.search(r"Varför:\s+\d+ rapport", r) for r in reasons), reasons
    windows = page.locator(".area-window").all_inner_texts()
    assert all(re.fullmatch(r"kl\. \d\d–\d\d", w) for w in windows), windows
    assert page.locator("#pass option[selected]").get_attribute("value") == "18-02"
    # phone layout: nothing wider than the screen, the map is on screen
    assert page.evaluate("() => document.documentElement.scrollWidth") <= PHONE["width"]
    map_box = page.locator("#patrol-map").bounding_box()
    assert map_box is not None and map_box["width"] <= PHONE["width"] and map_box["height"] >= 240

    # offline: the observation waits in the page
    note = f"Grupp vid busskuren {uuid.uuid4().hex[:8]}"
    page.context.set_offline(True)
    _fill_observation(page, note)
    page.click("#obs-submit")
    pending = page.locator("#pending-list li")
    pending.first.wait_for()
    assert pending.count() == 1
    assert note in pending.first.inner_text()
    assert "väntar på att skickas" in pending.first.inner_text()
    assert "väntar på att skickas" in page.inner_text("#queue-banner")
    assert "ingen förbindelse" in page.inner_text("#queue-banner")
    queued = _queue(page)
    assert len(queued) == 1 and queued[0]["note"] == note
    key = queued[0]["key"]
    assert re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}", key)
    stored_queue = page.evaluate(
        "() => JSON.parse(localStorage.getItem(window.lagesbildPatrol.queueKey))"
    )
    assert stored_queue == queued  # kept in localStorage, survives a reload
    page.wait_for_timeout(1500)
    assert _reports_with_note(app, note) == []
    assert not [u for u in page.request_urls if u.endswith("/patrull/observation")]

    # back online: sent once, shown as saved
    page.context.set_offline(False)
    page.wait_for_function("() => window.lagesbildPatrol.queue().length === 0")
    sent = page.locator("#sent-list li", has_text=note)
    sent.wait_for()
    ids = _reports_with_note(app, note)
    assert len(ids) == 1
    assert sent.get_attribute("data-report-id") == str(ids[0])
    assert page.locator("#pending-list li").count() == 0
    assert page.locator("#queue-banner").is_hidden()

    # an extra retry of the same observation (as after a lost answer): still one report
    page.evaluate(
        "(item) => localStorage.setItem(window.lagesbildPatrol.queueKey, JSON.stringify([item]))",
        queued[0],
    )
    page.evaluate("() => window.lagesbildPatrol.flush()")
    page.evaluate("() => window.dispatchEvent(new Event('online'))")
    page.wait_for_function("() => window.lagesbildPatrol.queue().length === 0")
    page.wait_for_timeout(500)
    assert _reports_with_note(app, note) == ids
    assert page.locator("#sent-list li", has_text=note).count() == 1
    posts = [u for u in page.request_urls if u.endswith("/patrull/observation")]
    assert len(posts) >= 2  # the retry really reached the server

    # after a reload the saved observation is listed once, nothing waits
    page.reload()
    page.wait_for_function("() => window.lagesbildPatrol && window.lagesbildPatrol.ready")
    assert page.locator("#sent-list li", has_text=note).count() == 1
    assert _queue(page) == []

    # the printable sheet of the same plan
    page.click("text=Utskrift av passet")
    page.wait_for_url(re.compile(r".*/patrull/utskrift\?.*"))
    assert page.locator(".sheet-map svg path.svg-area").count() == 3
    assert page.locator(".detail-map svg").count() == 3
    assert page.locator("tr.sheet-area").count() == 3

    assert page.foreign_requests(live_server) == []
    assert page.console_errors == []
    assert page.dialogs == []


def test_lost_answer_is_retried_without_a_duplicate(
    app: Any, live_server: str, browser_page: Any, make_user: Any
) -> None:
    """The server stores the observation but the answer never reaches the phone."""
    _seed_until_yesterday(app)
    page = browser_page
    page.set_viewport_size(PHONE)
    creds = make_user("patrol", kommuner=("norrtalje",))
    _login(page, live_server, creds)

    delivered: list[int] = []
    answers: list[tuple[int, dict[str, Any]]] = []

    def lose_first_answer(route: Any) -> None:
        if not delivered:
            response = route.fetch()  # reaches the app, which stores the observation
            delivered.append(response.status)
            route.abort("connectionreset")  # ... but the connection drops before the answer
        else:
            route.continue_()

    def on_response(resp: Any) -> None:
        if resp.url.endswith("/patrull/observation"):
            answers.append((resp.status, json.loads(resp.text())))

    page.route("**/patrull/observation", lose_first_answer)
    page.on("response", on_response)
    note = f"Svaret försvann {uuid.uuid4().hex[:8]}"
    _fill_observation(page, note)
    page.click("#obs-submit")
    # the page registers the failed attempt and keeps the observation queued
    page.wait_for_function(
        "() => { const q = window.lagesbildPatrol.queue();"
        " return q.length === 1 && q[0].attempts >= 1; }"
    )
    assert page.locator("#pending-list li", has_text=note).count() == 1
    assert delivered == [201]
    first_ids = _reports_with_note(app, note)
    assert len(first_ids) == 1  # stored although the page does not know it yet
    assert len(_queue(page)) == 1

    page.unroute("**/patrull/observation")
    page.evaluate("() => window.lagesbildPatrol.flush()")
    page.locator("#sent-list li", has_text=note).wait_for()
    assert _queue(page) == []
    assert _reports_with_note(app, note) == first_ids
    assert answers == [
        (200, {"report_id": first_ids[0], "status": "already_stored", "key": answers[0][1]["key"]})
    ]
    assert page.foreign_requests(live_server) == []
    # the only console entry is Chromium's log line of the connection we cut on purpose
    assert page.console_errors == ["Failed to load resource: net::ERR_CONNECTION_RESET"]
