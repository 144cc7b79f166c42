"""The meeting page is stored once per user and data state and answered from it, with
this request's CSP nonce and a working CSRF token."""

from __future__ import annotations

import re
from typing import Any

from webmap.payloads import CSRF_PLACEHOLDER, NONCE_PLACEHOLDER

URL = "/lagesbild/2026-W47?kommun=norrtalje"


def _nonce(resp: Any) -> str:
    m = re.search(r"'nonce-([^']+)'", resp.headers["Content-Security-Policy"])
    assert m is not None
    return m.group(1)


def test_stored_meeting_page_gets_fresh_nonce_and_a_valid_token(
    demo_app: Any, client: Any, make_user: Any, login: Any
) -> None:
    planner = make_user("planner")
    login(client, planner.username, planner.password)
    first, second = client.get(URL), client.get(URL)
    assert first.status_code == second.status_code == 200
    assert _nonce(first) != _nonce(second)
    for resp in (first, second):
        html = resp.get_data(as_text=True)
        assert NONCE_PLACEHOLDER not in html and CSRF_PLACEHOLDER not in html
        assert set(re.findall(r'nonce="([^"]+)"', html)) <= {_nonce(resp)}
    token = re.search(r'name="csrf_token" value="([^"]+)"', second.get_data(as_text=True))
    assert token is not None
    resp = client.post(
        "/lagesbild/2026-W47/bedomning",
        data={
            "csrf_token": token.group(1),
            "kommun": "norrtalje",
            "locality": "0188TB111",
            "grade": 2,
            "comment": "Bedömd från en sparad sida",
        },
    )
    assert resp.status_code == 302
    client.get("/")  # the flashed confirmation is shown elsewhere
    assert "Bedömd från en sparad sida" in client.get(URL).get_data(as_text=True)


def test_each_user_gets_their_own_page(demo_app: Any, make_user: Any, login: Any) -> None:
    planner, reader = make_user("planner"), make_user("reader")
    pages = []
    for user in (planner, reader):
        c = demo_app.test_client()
        login(c, user.username, user.password)
        pages.append(c.get(URL).get_data(as_text=True))
    assert planner.username in pages[0] and reader.username not in pages[0]
    assert reader.username in pages[1] and "Spara bedömning" not in pages[1]
    assert "Spara bedömning" in pages[0]
