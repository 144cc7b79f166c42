"""Logging in with a real browser against the real server; nothing leaves the app."""

from __future__ import annotations

from typing import Any

import pytest

pytestmark = pytest.mark.browser


def test_login_in_chromium_uses_only_the_app(
    live_server: str, browser_page: Any, make_user: Any
) -> None:
    creds = make_user("planner")
    page = browser_page
    page.goto(f"{live_server}/logga-in")
    assert page.locator("h1").inner_text() == "Logga in"
    page.fill("#username", creds.username)
    page.fill("#password", creds.password)
    page.click("button[type=submit]")
    page.wait_for_load_state("networkidle")
    assert creds.username in page.locator(".topbar .who").inner_text()
    assert page.foreign_requests(live_server) == []
    assert page.console_errors == []
