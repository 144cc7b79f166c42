"""Ready payloads: stored once, served with ETag/304, replaced when the data change."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import text

from geo.store import bump_version
from webmap.payloads import NONCE_PLACEHOLDER, state_token, warm
from webmap.state import EXTENSION_KEY

WEEK = "vecka=2026-W47"


def _engine(app: Any) -> Any:
    return app.extensions[EXTENSION_KEY].engine


def _payload_files(app: Any) -> list[Path]:
    folder = Path(app.extensions[EXTENSION_KEY].instance_dir) / "cache" / "payloads"
    return sorted(folder.rglob("*.gz"))


def test_map_api_revalidates_with_etag_and_changes_with_the_data(
    demo_app: Any, client: Any, make_user: Any, login: Any
) -> None:
    user = make_user("planner")
    login(client, user.username, user.password)
    url = f"/api/karta/norrtalje/zoner?{WEEK}"
    first = client.get(url)
    assert first.status_code == 200
    etag = first.headers["ETag"]
    assert first.headers["Cache-Control"] == "private, no-cache"
    assert "Last-Modified" in first.headers
    assert any(p.name.endswith(".json.gz") for p in _payload_files(demo_app))
    again = client.get(url, headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.get_data() == b""
    assert client.get(url).get_data() == first.get_data()
    # another filter is another payload
    evening = client.get(f"{url}&tid=kvall")
    assert evening.headers["ETag"] != etag
    # new data: a new ETag, and the old one no longer answers 304
    with _engine(demo_app).begin() as conn:
        bump_version(conn, "norrtalje")
    changed = client.get(url, headers={"If-None-Match": etag})
    assert changed.status_code == 200 and changed.headers["ETag"] != etag


def test_actions_and_decisions_change_the_token(demo_app: Any) -> None:
    with _engine(demo_app).begin() as conn:
        before = state_token(conn, "norrtalje")
        conn.execute(
            text(
                "insert into grade_decisions (kommun, period, locality, grade, comment,"
                " decided_by, decided_at) values ('norrtalje', '2026-W47', '0188TC109', 3,"
                " 'ok', 'möte', '2026-11-18 10:00:00')"
            )
        )
        after = state_token(conn, "norrtalje")
    assert before[0] == after[0]  # same reports
    assert before != after


def test_public_api_is_a_public_snapshot(demo_app: Any, client: Any) -> None:
    resp = client.get("/api/public/summary?kommun=norrtalje")
    assert resp.status_code == 200
    assert resp.headers["Cache-Control"].startswith("public, max-age=")
    again = client.get(
        "/api/public/summary?kommun=norrtalje", headers={"If-None-Match": resp.headers["ETag"]}
    )
    assert again.status_code == 304


def test_stored_public_page_gets_a_fresh_nonce(demo_app: Any) -> None:
    pages = []
    for _ in range(2):
        client = demo_app.test_client()
        resp = client.get("/karta/publik?kommun=norrtalje")
        assert resp.status_code == 200
        html = resp.get_data(as_text=True)
        nonce = resp.headers["Content-Security-Policy"].split("'nonce-")[1].split("'")[0]
        assert f'nonce="{nonce}"' in html and NONCE_PLACEHOLDER not in html
        pages.append((nonce, html))
    (n1, h1), (n2, h2) = pages
    assert n1 != n2
    assert h1.replace(n1, "") == h2.replace(n2, "")  # the same stored page
    assert any(p.name.endswith(".html.gz") for p in _payload_files(demo_app))


def test_warm_stores_the_pages_of_existing_users(demo_app: Any, make_user: Any) -> None:
    make_user("planner")
    statuses = warm(demo_app, "norrtalje", "2026-W47")
    assert statuses[f"/api/karta/norrtalje/zoner?{WEEK}"] == 200
    assert statuses["/api/public/summary?kommun=norrtalje"] == 200
    assert all(code == 200 for code in statuses.values()), statuses
    assert len(_payload_files(demo_app)) >= 6
