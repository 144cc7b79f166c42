""" "Mina rapporter": the page and ``POST /api/reports/status`` (status only, bounded,
rate limited), and in Chromium on a phone: two reports, then one approved."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from _citizen import api_report, engine, report_by_receipt, serious_violations

from webmap.contracts.citizen import MAX_STATUS_RECEIPTS
from webmap.planner.moderation_service import decide

PHONE = {"width": 390, "height": 844}


@pytest.fixture
def app_config(app_config: dict[str, Any]) -> dict[str, Any]:
    return {**app_config, "RECEIPT_RATE_LIMIT": "5/minute"}


def _status(client: Any, receipts: Any) -> Any:
    return client.post("/api/reports/status", json={"receipts": receipts})


def _approve(app: Any, receipt: str) -> None:
    rid = int(report_by_receipt(app, receipt).report_id)
    with engine(app).begin() as conn:
        decide(conn, rid, "approve", actor="moderator")


def test_status_of_several_receipts_reveals_only_the_status(app: Any, client: Any) -> None:
    first = api_report(client, description="Trasig lampa").get_json()["receipt"]
    second = api_report(client, description="Klotter").get_json()["receipt"]
    _approve(app, second)
    resp = _status(client, [first, second.lower().replace("-", ""), "AAAA-BBBB-CCCC", first])
    assert resp.status_code == 200
    assert resp.get_json() == {
        "reports": [
            {
                "receipt": first,
                "found": True,
                "status": "pending",
                "status_text": "Mottagen – väntar på granskning",
            },
            {
                "receipt": second,
                "found": True,
                "status": "approved",
                "status_text": "Granskad och godkänd – ingår i lägesbilden",
            },
            {"receipt": "AAAA-BBBB-CCCC", "found": False, "status_text": "Kvittot finns inte"},
        ]
    }
    assert "Trasig" not in resp.get_data(as_text=True)


def test_status_request_is_bounded_and_rate_limited(client: Any) -> None:
    too_many = _status(client, ["AAAA-BBBB-CCCC"] * (MAX_STATUS_RECEIPTS + 1))
    assert too_many.status_code == 400
    assert too_many.get_json()["errors"][0]["field"].startswith("receipts")
    assert _status(client, []).status_code == 400
    assert _status(client, ["x" * 41]).status_code == 400
    assert client.post("/api/reports/status", data="receipts").status_code == 415
    big = client.post(
        "/api/reports/status",
        data='{"receipts": ["' + "A" * 5000 + '"]}',
        content_type="application/json",
    )
    assert big.status_code == 413
    codes = [_status(client, ["AAAA-BBBB-CCCC"]).status_code for _ in range(3)]
    assert codes[-1] == 429  # 5 per minute, the requests above counted too
    refused = _status(client, ["AAAA-BBBB-CCCC"])
    assert refused.get_json() == {"error": "För många försök. Vänta en stund och försök igen."}
    assert "Kvittot finns inte" not in _status(client, ["AAAA-BBBB-CCCC"]).get_data(as_text=True)


def test_the_openapi_document_has_the_status_operation(client: Any) -> None:
    doc = client.get("/api/openapi.json").get_json()
    op = doc["paths"]["/api/reports/status"]["post"]
    assert op["operationId"] == "reportStatuses"
    schema = doc["components"]["schemas"]["StatusQuery"]["properties"]["receipts"]
    assert schema["maxItems"] == MAX_STATUS_RECEIPTS


def _submit_in_browser(page: Any, base: str, description: str) -> str:
    page.goto(f"{base}/rapportera")
    page.locator("#map").click(position={"x": 150, "y": 150})
    page.locator("#cat-belysning").check()
    page.locator("#description").fill(description)
    page.locator("#submit-report").click()
    page.wait_for_url(re.compile(r".*/rapportera/kvitto/.*"))
    return str(page.locator("#receipt-number").inner_text().strip())


@pytest.mark.browser
def test_mina_rapporter_on_a_phone_lists_both_reports_and_shows_an_approval(
    app: Any, live_server: str, browser_page: Any, tmp_path: Path
) -> None:
    page = browser_page
    page.set_viewport_size(PHONE)
    page.goto(f"{live_server}/mina-rapporter")
    assert "Inga rapporter är sparade" in page.locator("#mine-state").inner_text()

    receipts = [
        _submit_in_browser(page, live_server, "Gatlyktan är trasig."),
        _submit_in_browser(page, live_server, "Mörkt i gångtunneln."),
    ]
    page.locator("#mine-link").click()
    page.wait_for_url(f"{live_server}/mina-rapporter")
    cards = page.locator("#my-reports li")
    page.locator('#my-reports li[data-status="pending"]').nth(1).wait_for()
    assert cards.count() == 2
    # newest first, each with its status and what the browser remembered
    assert [c.get_attribute("data-receipt") for c in cards.all()] == receipts[::-1]
    for card in cards.all():
        text = card.inner_text()
        assert "Mottagen – väntar på granskning" in text
        assert "Trasig belysning · Norrtälje" in text
    assert serious_violations(page) == []
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]

    _approve(app, receipts[0])
    page.reload()
    approved = page.locator(f'#my-reports li[data-receipt="{receipts[0]}"]')
    approved.and_(page.locator('[data-status="approved"]')).wait_for()
    assert "Granskad och godkänd" in approved.inner_text()
    other = page.locator(f'#my-reports li[data-receipt="{receipts[1]}"]')
    assert "väntar på granskning" in other.inner_text()
    shot = tmp_path / "mina-rapporter.png"
    page.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size > 10_000

    # forgetting a receipt keeps the other
    other.get_by_role("button").click()
    page.locator("#my-reports li").nth(1).wait_for(state="detached")
    assert page.locator("#my-reports li").count() == 1

    assert page.foreign_requests(live_server) == []
    assert page.console_errors == []
