"""Public GETs answered from recorded Flask answers (webmap/public/replay.py)."""

from __future__ import annotations

import re
from typing import Any

import pytest
from _citizen import behind_proxy, engine, set_settings

from geo.store.db import bump_version
from webmap.app import create_app
from webmap.public.replay import PublicReplay

PATHS = (
    "/",
    "/karta/publik?kommun=norrtalje",
    "/api/public/cells?kommun=norrtalje",
    "/api/public/summary?kommun=norrtalje",
    "/api/publik/norrtalje/celler",
    "/api/publik/norrtalje/tatorter",
)
NONCE = re.compile(r"'nonce-([A-Za-z0-9_\-]+)'")


@pytest.fixture
def app_config(app_config: dict[str, Any]) -> dict[str, Any]:
    return {**app_config, "PUBLIC_REPLAY_SECONDS": 1000.0}


def _replay(app: Any) -> PublicReplay:
    layer = app.wsgi_app
    while not isinstance(layer, PublicReplay):
        layer = layer.wsgi_app
    return layer


def _nonce(resp: Any) -> str:
    found = NONCE.search(resp.headers["Content-Security-Policy"])
    assert found is not None
    return found.group(1)


def _normalised(resp: Any) -> tuple[int, list[tuple[str, str]], bytes]:
    """Status, headers and body with the answer's CSP nonce replaced by a fixed text."""
    nonce = _nonce(resp)
    headers = [(k, v.replace(nonce, "NONCE")) for k, v in resp.headers.items()]
    return resp.status_code, headers, resp.get_data().replace(nonce.encode(), b"NONCE")


@pytest.mark.parametrize("path", PATHS)
def test_a_replayed_answer_is_flasks_answer_with_its_own_nonce(app: Any, path: str) -> None:
    replay = _replay(app)
    first = app.test_client().get(path)  # recorded from Flask
    assert first.status_code == 200
    assert replay.recorded == 1 and replay.replayed == 0
    again = [app.test_client().get(path) for _ in range(2)]
    assert replay.replayed == 2 and replay.recorded == 1
    assert _normalised(again[0]) == _normalised(first) == _normalised(again[1])
    nonces = {_nonce(first), *(_nonce(r) for r in again)}
    assert len(nonces) == 3  # a fresh nonce for every answer
    if path in ("/", "/karta/publik?kommun=norrtalje"):
        body = again[1].get_data(as_text=True)
        assert f'nonce="{_nonce(again[1])}"' in body  # the page's scripts carry it


def test_flask_and_replay_give_the_same_headers_and_bodies(
    app: Any, app_config: dict[str, Any]
) -> None:
    flask_only = create_app({**app_config, "PUBLIC_REPLAY_SECONDS": 0.0})
    for path in PATHS:
        app.test_client().get(path)
        replayed = app.test_client().get(path)
        plain = flask_only.test_client().get(path)
        assert _normalised(replayed) == _normalised(plain), path
    assert _replay(app).replayed == len(PATHS)
    flask_only.extensions["lagesbild"].engine.dispose()


def test_if_none_match_gets_flasks_304(app: Any) -> None:
    client = app.test_client()
    path = "/api/public/summary?kommun=norrtalje"
    etag = client.get(path).headers["ETag"]
    first = client.get(path, headers={"If-None-Match": etag})  # Flask's 304, recorded
    second = client.get(path, headers={"If-None-Match": etag})  # replayed
    assert first.status_code == second.status_code == 304
    assert second.get_data() == b""
    assert _normalised(second) == _normalised(first)
    assert second.headers["ETag"] == etag
    other = client.get(path, headers={"If-None-Match": '"something-else"'})
    assert other.status_code == 200 and other.headers["ETag"] == etag
    assert _replay(app).replayed == 2


def test_a_data_change_is_public_once_the_record_is_old(app: Any) -> None:
    replay = _replay(app)
    now = [0.0]
    replay.clock = lambda: now[0]
    path = "/api/public/summary?kommun=norrtalje"
    client = app.test_client()
    before = client.get(path).headers["ETag"]
    with engine(app).begin() as conn:  # what an import, moderation or retention run does
        bump_version(conn, "norrtalje")
    now[0] = replay.seconds / 2
    assert client.get(path).headers["ETag"] == before  # the record is still fresh
    now[0] = replay.seconds + 1
    after = client.get(path)  # recorded again: the new data version
    assert after.headers["ETag"] != before
    assert client.get(path).headers["ETag"] == after.headers["ETag"]


def test_visitors_with_a_cookie_and_live_tenants_get_flask(app: Any) -> None:
    replay = _replay(app)
    client = app.test_client()
    client.get("/api/public/summary?kommun=norrtalje")
    client.set_cookie("session", "x")
    client.get("/api/public/summary?kommun=norrtalje")
    assert replay.replayed == 0
    set_settings(app, public_snapshot="live")
    app.extensions["lagesbild"].citizen.geo.clear()
    fresh = app.test_client()
    for _ in range(3):
        assert fresh.get("/api/public/cells?kommun=norrtalje").status_code == 200
    assert replay.replayed == 0 and replay.recorded == 1


class TestRateLimits:
    @pytest.fixture
    def app_config(self, app_config: dict[str, Any]) -> dict[str, Any]:
        return behind_proxy(app_config, API_READ_RATE_LIMIT="3/minute")

    def test_replayed_answers_count_against_the_route_limit(self, app: Any) -> None:
        client = app.test_client()
        path = "/api/public/summary?kommun=norrtalje"
        one = {"X-Forwarded-For": "198.51.100.7"}
        codes = [client.get(path, headers=one).status_code for _ in range(4)]
        assert codes == [200, 200, 200, 429]
        assert _replay(app).replayed == 2
        other = {"X-Forwarded-For": "198.51.100.8"}
        assert client.get(path, headers=other).status_code == 200
        refused = client.get(path, headers=one)
        assert refused.status_code == 429 and refused.get_json()["error"]


PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1366, "height": 900}


@pytest.mark.parametrize("size", [PHONE, DESKTOP], ids=["phone", "desktop"])
def test_a_replayed_public_map_works_in_the_browser(
    app: Any, live_server: str, browser_page: Any, size: dict[str, int], tmp_path: Any
) -> None:
    replay = _replay(app)
    page = browser_page
    page.set_viewport_size(size)
    url = f"{live_server}/karta/publik?kommun=norrtalje"
    nonces = []
    for _ in range(2):
        resp = page.goto(url)
        assert resp is not None and resp.status == 200
        nonces.append(_nonce_of(resp.headers["content-security-policy"]))
        # the map's scripts ran under this answer's nonce: Leaflet drew its controls
        page.locator(".leaflet-control-zoom-in").wait_for(state="visible")
    assert replay.replayed >= 1  # the second visit was answered from the record
    assert nonces[0] != nonces[1]
    assert page.console_errors == []
    assert page.evaluate("() => document.documentElement.scrollWidth") <= size["width"]
    assert "Norrtälje" in page.locator("body").inner_text()
    # the map is usable: zooming in by a click changes the zoom
    before = page.evaluate("() => document.querySelector('.leaflet-proxy').style.transform")
    page.locator(".leaflet-control-zoom-in").click()
    page.wait_for_function(
        "b => document.querySelector('.leaflet-proxy').style.transform !== b", arg=before
    )
    page.screenshot(path=str(tmp_path / f"replayed-public-map-{size['width']}.png"))
    assert page.foreign_requests(live_server) == []


def _nonce_of(header: str) -> str:
    found = NONCE.search(header)
    assert found is not None
    return found.group(1)
