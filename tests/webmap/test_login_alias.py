"""``/login`` (the address people guess) leads to the Swedish login page."""

from __future__ import annotations

from typing import Any


def test_login_redirects_to_logga_in(client: Any) -> None:
    resp = client.get("/login?next=/karta")
    assert resp.status_code == 301
    assert resp.headers["Location"].endswith("/logga-in?next=/karta")
    assert client.get(resp.headers["Location"]).status_code == 200
