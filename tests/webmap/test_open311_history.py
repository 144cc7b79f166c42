"""Open311 follows the public map's sticky numbers: a report gets its cell only once the
cell's published numbers include it (so the list grows in the same steps of k as the map)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pandas as pd
import pytest
from _citizen import INSIDE, engine, report_by_receipt
from sqlalchemy import text

from analysis.public import snapshot_time
from geo.store.db import bump_version
from webmap.auth.apikeys import create_api_key
from webmap.planner.moderation import decide

BASE = "/open311/v2"


@pytest.fixture
def app_config(app_config: dict[str, Any]) -> dict[str, Any]:
    return {**app_config, "PUBLIC_SNAPSHOT": "week"}


def _file(app: Any, client: Any, key: str, at: dt.datetime, n: int) -> list[str]:
    """``n`` approved reports in the INSIDE cell that occurred and were approved at ``at``."""
    data = {"api_key": key, "service_code": "belysning", "lat": INSIDE[0], "long": INSIDE[1]}
    ids = []
    for i in range(n):
        posted = client.post(f"{BASE}/requests.json", data={**data, "description": f"Lampa {i}"})
        rid = posted.get_json()[0]["service_request_id"]
        report_id = int(report_by_receipt(app, rid).report_id)
        with engine(app).begin() as conn:
            decide(conn, report_id, "approve", actor="test")
            conn.execute(
                text("update report set occurred_at = :t, reported_at = :t where id = :i"),
                {"t": at, "i": report_id},
            )
            conn.execute(
                text("update citizen_report set moderated_at = :t where report_id = :i"),
                {"t": at, "i": report_id},
            )
            bump_version(conn, "norrtalje")
        ids.append(rid)
    return ids


def _positioned(client: Any) -> dict[str, bool]:
    listed = client.get(f"{BASE}/requests.json").get_json()
    return {r["service_request_id"]: r["lat"] is not None for r in listed}


def _map_count(client: Any) -> list[int]:
    cells = client.get("/api/public/cells?kommun=norrtalje").get_json()
    return [f["properties"]["count"] for f in cells["features"]]


def test_a_new_report_is_placed_only_with_a_step_of_k(app: Any, client: Any) -> None:
    with engine(app).begin() as conn:
        key, _ = create_api_key(conn, "Partner", created_by="test")
    monday = snapshot_time(pd.Timestamp.now(tz="UTC"), "week").tz_localize(None)
    old = _file(app, client, key, (monday - pd.Timedelta(days=20)).to_pydatetime(), 3)
    assert _map_count(client) == [3]
    assert _positioned(client) == dict.fromkeys(old, True)
    # one more report before this week's snapshot: the map keeps 3, and the list gives the
    # new report without a position (it is not part of the published numbers)
    fourth = _file(app, client, key, (monday - pd.Timedelta(days=3)).to_pydatetime(), 1)
    assert _map_count(client) == [3]
    assert _positioned(client) == {**dict.fromkeys(old, True), fourth[0]: False}
    # two more: the cell has moved by k = 3 since its last publication; all are placed
    more = _file(app, client, key, (monday - pd.Timedelta(days=2)).to_pydatetime(), 2)
    assert _map_count(client) == [6]
    assert _positioned(client) == dict.fromkeys(old + fourth + more, True)
