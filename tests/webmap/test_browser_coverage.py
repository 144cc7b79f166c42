"""Actors' coverage in a real headless Chromium: the reporter presses "Inget att
rapportera denna vecka" and the meeting page lists who reported, who had nothing and who
is missing."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from webmap.weeks import week_of

pytestmark = pytest.mark.browser


def _login(page: Any, base: str, username: str, password: str) -> None:
    page.goto(f"{base}/logga-in")
    page.fill("#username", username)
    page.fill("#password", password)
    page.click("button[type=submit]")
    page.wait_for_load_state("load")


def test_coverage_table_on_the_meeting_page(
    demo_app: Any, live_server: str, browser_page: Any, make_user: Any
) -> None:
    page = browser_page
    housing = make_user("reporter", username="bolaget", org="Fastighetsägarna Test")
    make_user("reporter", username="kyrkan", org="Församlingen Test")
    planner = make_user("planner")

    _login(page, live_server, housing.username, housing.password)
    page.goto(f"{live_server}/rapport/ny?kommun=norrtalje")
    page.click("#nothing-to-report")
    page.wait_for_load_state("load")
    assert "Noterat: inget att rapportera" in page.locator(".flashes").inner_text()
    page.context.clear_cookies()

    _login(page, live_server, planner.username, planner.password)
    week = week_of(dt.datetime.now(dt.UTC))
    page.goto(f"{live_server}/lagesbild/{week}?kommun=norrtalje")
    table = page.locator("#coverage-table")
    assert table.locator("tr.state-nothing").inner_text().startswith("Fastighetsägarna Test")
    assert "Saknas" in table.locator("tr.state-missing").inner_text()
    assert "Församlingen Test" in table.locator("tr.state-missing").inner_text()
    assert page.console_errors == []
