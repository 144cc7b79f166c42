"""End to end in headless Chromium on a phone-sized screen: report, moderate, publish (k).

A citizen pins a place (tap, place search and arrow keys – keyboard only where it
matters), submits and gets a receipt; a planner approves it in /moderering; the public
view counts the cell only once k approved reports are in it. axe-core finds no serious or
critical WCAG violations on /rapportera and /karta/publik, and nothing leaves the app.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from _citizen import (
    INSIDE,
    api_report,
    browser_login,
    engine,
    report_by_receipt,
    serious_violations,
)

from webmap.planner.moderation_service import decide

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}


@pytest.fixture
def app_config(app_config: dict[str, Any]) -> dict[str, Any]:
    return {**app_config, "PUBLIC_SNAPSHOT": "live"}


def _seed_approved(app: Any, client: Any, n: int) -> None:
    for _ in range(n):
        body = api_report(client, category="belysning", lat=INSIDE[0], lon=INSIDE[1]).get_json()
        rid = int(report_by_receipt(app, body["receipt"]).report_id)
        with engine(app).begin() as conn:
            decide(conn, rid, "approve", actor="seed")


def _public_count(page: Any, base: str) -> str:
    page.goto(f"{base}/karta/publik?kommun=norrtalje")
    return str(page.locator("#cell-count").inner_text())


def test_citizen_report_moderation_and_k_suppressed_publication(
    app: Any, client: Any, live_server: str, browser_page: Any, make_user: Any
) -> None:
    _seed_approved(app, client, 2)  # k = 3: the cell needs one more approved report
    page = browser_page
    page.set_viewport_size(PHONE)

    page.goto(f"{live_server}/rapportera")
    assert page.locator("h1").inner_text().startswith("Rapportera en plats")
    assert serious_violations(page) == []

    # tap the map: a marker and a position
    page.locator("#map").click(position={"x": 150, "y": 150})
    assert page.locator("#lat").input_value() != ""
    assert "Vald plats" in page.locator("#pos-status").inner_text()

    # keyboard only: search a place, choose it with Enter, nudge the marker with arrows
    page.locator("#field-place").focus()
    page.keyboard.type("Busstationen")
    page.keyboard.press("Enter")
    first = page.locator("#place-results button").first
    first.wait_for()
    assert "Busstorget" in first.inner_text()
    page.keyboard.press("Enter")  # the first result has the focus
    assert page.locator("#lat").input_value() == f"{INSIDE[0]:.6f}"
    before = float(page.locator("#lat").input_value())
    page.keyboard.press("ArrowUp")  # the marker has the focus now
    moved = float(page.locator("#lat").input_value())
    assert 0.0001 < moved - before < 0.0002  # ≈ 15 m north
    page.keyboard.press("ArrowDown")
    assert page.locator("#lat").input_value() == f"{INSIDE[0]:.6f}"

    page.locator("#cat-belysning").check()
    page.locator("#description").fill("Gatlyktan vid busstationen är trasig.")
    page.locator("#time_of_day").select_option("kvall")
    page.locator("#submit-report").click()
    page.wait_for_url(re.compile(r".*/rapportera/kvitto/.*"))
    receipt = page.locator("#receipt-number").inner_text().strip()
    assert re.fullmatch(r"[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}", receipt)
    assert "Vad händer nu?" in page.content()
    assert report_by_receipt(app, receipt).status == "pending"

    # 2 approved + 1 pending: the cell is still below k
    assert _public_count(page, live_server) == "0"
    assert serious_violations(page) == []

    # a planner approves it in /moderering
    planner = make_user("planner")
    browser_login(page, live_server, planner)
    page.goto(f"{live_server}/moderering?kommun=norrtalje")
    item = page.locator(f'article[data-receipt="{receipt}"]')
    assert "Gatlyktan vid busstationen" in item.inner_text()
    item.locator('button[value="approve"]').click()
    page.wait_for_load_state("networkidle")
    assert report_by_receipt(app, receipt).status == "approved"

    # now k = 3 approved reports share the cell: it is published, with its count
    assert _public_count(page, live_server) == "1"
    assert "3" in page.locator("#top-table tbody tr").first.inner_text()
    assert "Gatlyktan" not in page.content()  # never any citizen text
    assert serious_violations(page) == []

    assert page.foreign_requests(live_server) == []
    assert page.console_errors == []
    assert page.dialogs == []


def test_report_page_works_with_keyboard_only_from_the_top(
    app: Any, live_server: str, browser_page: Any
) -> None:
    """Tab order reaches the map controls, the marker can be placed without a pointer."""
    page = browser_page
    page.set_viewport_size(PHONE)
    page.goto(f"{live_server}/rapportera")
    page.locator("#map").focus()
    for _ in range(3):
        page.keyboard.press("ArrowRight")  # Leaflet pans the map
    page.locator("#centre-pin").focus()
    page.keyboard.press("Enter")
    assert page.locator("#lat").input_value() != ""
    focused = page.evaluate("document.activeElement.getAttribute('aria-label')")
    assert focused and "piltangenterna" in focused  # the marker took the focus
    outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline != "none"  # visible focus
    page.keyboard.press("Shift+ArrowLeft")
    assert "Vald plats" in page.locator("#pos-status").inner_text()
