"""Public map /karta/publik and its JSON layers: k-suppression, grades, actions, no text."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from _citizen import INSIDE, api_report, engine, report_by_receipt, set_settings
from sqlalchemy import text

from geo.store.db import utcnow
from webmap.planner.moderation_service import decide

SECRET_TEXT = "Hemlig medborgartext som aldrig får synas"


@pytest.fixture
def app_config(app_config: dict[str, Any]) -> dict[str, Any]:
    return {**app_config, "PUBLIC_SNAPSHOT": "live", "RATELIMIT_ENABLED": False}


def _approved(app: Any, client: Any, n: int, category: str = "klotter", where=INSIDE) -> None:
    for _ in range(n):
        body = api_report(
            client, category=category, lat=where[0], lon=where[1], description=SECRET_TEXT
        ).get_json()
        rid = int(report_by_receipt(app, body["receipt"]).report_id)
        with engine(app).begin() as conn:
            decide(conn, rid, "approve", actor="test")


def _cells(client: Any, **params: str) -> dict[str, Any]:
    resp = client.get("/api/public/cells", query_string={"kommun": "norrtalje", **params})
    assert resp.status_code == 200, resp.get_data(as_text=True)
    return resp.get_json()


def test_a_cell_appears_only_with_k_approved_reports(app: Any, client: Any) -> None:
    _approved(app, client, 2)
    api_report(client, category="klotter")  # pending: never counts
    assert _cells(client)["cells"] == 0
    _approved(app, client, 1)
    data = _cells(client)
    assert data["cells"] == 1 and data["k"] == 3
    assert data["features"][0]["properties"]["count"] == 3
    assert data["features"][0]["properties"]["locality"] == "Norrtälje"
    assert data["features"][0]["geometry"]["type"] == "Polygon"


def test_k_comes_from_the_tenant_setting(app: Any, client: Any) -> None:
    _approved(app, client, 2)
    assert _cells(client)["cells"] == 0
    set_settings(app, public_min_count=2)
    assert _cells(client)["cells"] == 1


def test_filters_never_reveal_a_count_below_k(app: Any, client: Any) -> None:
    # 3 klotter (ordning) + 1 vald_hot (brott) in one cell: the total (4) is public, but
    # "alla − ordning" would reveal the single brott report, so no group view shows the cell
    _approved(app, client, 3, category="klotter")
    _approved(app, client, 1, category="vald_hot")
    assert _cells(client)["features"][0]["properties"]["count"] == 4
    for group in ("ordning", "brott", "trygghet"):
        for period in ("12m", "3m"):
            assert _cells(client, group=group, period=period)["cells"] == 0, (group, period)
    assert _cells(client, period="3m")["features"][0]["properties"]["count"] == 4


def test_only_the_fixed_filters_are_accepted(client: Any) -> None:
    resp = client.get("/api/public/cells", query_string={"group": "vald_hot"})
    assert resp.status_code == 400 and "error" in resp.get_json()
    assert client.get("/api/public/cells", query_string={"period": "1d"}).status_code == 400
    assert client.get("/api/public/cells", query_string={"kommun": "atlantis"}).status_code == 404


def test_page_shows_counts_grades_and_public_actions_but_no_text(app: Any, client: Any) -> None:
    _approved(app, client, 3)
    now = utcnow()
    with engine(app).begin() as conn:
        conn.execute(
            text(
                "insert into actions (kommun, title, kind, status, planned_end, locality, cells,"
                " public, created_at, updated_at) values ('norrtalje', 'Busstationen byggs om',"
                " 'ombyggnad', 'pågår', :end, '0188TC109', '[]', :yes, :now, :now),"
                " ('norrtalje', 'Hemlig intern åtgärd', 'annat', 'pågår', NULL, NULL, '[]', :no,"
                " :now, :now)"
            ),
            {"end": dt.date(2027, 6, 30), "now": now, "yes": True, "no": False},
        )
        conn.execute(
            text(
                "insert into grade_decisions (kommun, period, locality, grade, comment,"
                " decided_by, decided_at) values ('norrtalje', '2026-W10', '0188TC109', 3,"
                " 'intern kommentar', 'möte', :now)"
            ),
            {"now": now},
        )
        conn.execute(
            text(
                "insert into publications (kommun, period, published_by, published_at,"
                " data_version, html, pdf) values ('norrtalje', '2026-W10', 'x', :now, 1, '', :pdf)"
            ),
            {"now": now, "pdf": b""},
        )
    resp = client.get("/karta/publik?kommun=norrtalje")
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200
    assert 'id="cell-count">1<' in html
    assert "Busstationen byggs om" in html and "beräknas vara klar 2027" in html
    assert "Hemlig intern åtgärd" not in html
    assert "Förhöjt" in html and "vecka 10, 2026" in html and "intern kommentar" not in html
    assert SECRET_TEXT not in html
    assert "marker" not in html.lower()  # no pins
    summary = client.get("/api/public/summary?kommun=norrtalje").get_json()
    norrtalje = next(x for x in summary["localities"] if x["code"] == "0188TC109")
    assert norrtalje["grade"] == 3 and summary["period"] == "2026-W10"
    assert [a["title"] for a in summary["actions"]] == ["Busstationen byggs om"]


def test_without_meetings_or_actions_the_page_still_works(app: Any, client: Any) -> None:
    # every table exists (one migration history); a new kommun has no rows in them yet
    resp = client.get("/karta/publik")
    assert resp.status_code == 200
    assert "Ingen bedömning har publicerats ännu." in resp.get_data(as_text=True)
    summary = client.get("/api/public/summary").get_json()
    assert summary["actions"] == [] and summary["period"] is None


def test_weekly_snapshot_hides_reports_approved_this_week(app: Any, client: Any) -> None:
    set_settings(app, public_snapshot="week")
    _approved(app, client, 3)
    assert _cells(client)["cells"] == 0  # approved after Monday 00:00: not yet public
    # move the approvals and occurrences back two weeks: now they count
    two_weeks = dt.timedelta(days=14)
    with engine(app).begin() as conn:
        for table, key, col in (
            ("citizen_report", "report_id", "moderated_at"),
            ("report", "id", "occurred_at"),
        ):
            rows = conn.execute(text(f"select {key}, {col} from {table}")).all()
            for row_key, value in rows:
                if value is None:
                    continue
                when = dt.datetime.fromisoformat(str(value)) - two_weeks
                conn.execute(
                    text(f"update {table} set {col} = :v where {key} = :r"),
                    {"v": when, "r": row_key},
                )
        conn.execute(text("update data_version set version = version + 1"))
    assert _cells(client)["cells"] == 1


def test_legend_starts_at_k(app: Any, client: Any) -> None:
    set_settings(app, public_min_count=6)
    html = client.get("/karta/publik").get_data(as_text=True)
    legend = re.findall(r'aria-hidden="true"></span>([^<]+)</li>', html)
    assert legend[0] == "6–9" and legend[-1] == "40 eller fler"
    assert "minst 6 rapporter" in html


def test_start_page_publishes_the_citizen_maps_numbers_and_no_police(app: Any, client: Any) -> None:
    import pandas as pd

    from geo.ingest import ingest_frame

    _approved(app, client, 3)
    # five approved police events in another cell: context only, never public
    now = pd.Timestamp.now(tz="UTC") - pd.Timedelta(days=2)
    police = pd.DataFrame(
        {
            "external_id": [f"p{i}" for i in range(5)],
            "occurred_at": [now.isoformat()] * 5,
            "category": ["skadegorelse"] * 5,
            "lat": [59.7620] * 5,
            "lon": [18.7050] * 5,
        }
    )
    with engine(app).begin() as conn:
        result = ingest_frame(conn, police, kommun="norrtalje", source="police")
    assert result.stored == 5
    start = client.get("/api/publik/norrtalje/celler").get_json()
    citizen_map = _cells(client)
    assert start["k"] == citizen_map["k"] and start["res"] == citizen_map["res"]
    assert dict(zip(start["ids"], start["c"], strict=True)) == {
        f["properties"]["cell"]: f["properties"]["count"] for f in citizen_map["features"]
    }
    assert start["c"] == [3]  # the three citizen reports; the police cell is not published


def test_a_typo_in_the_public_settings_falls_back_to_private_defaults(
    app: Any, client: Any
) -> None:
    _approved(app, client, 3)
    assert _cells(client)["cells"] == 1  # live snapshot from the app config
    set_settings(app, public_snapshot="veckovis", public_min_count="tre", public_res="nio")
    for path in ("/", "/karta/publik", "/api/publik/norrtalje/celler"):
        assert client.get(path).status_code == 200, path
    body = _cells(client)
    # k 3, res 9 and the weekly snapshot: this week's approvals are not public yet
    assert (body["k"], body["res"], body["cells"]) == (3, 9, 0)


def test_published_cells_are_named_after_a_nearby_known_place(app: Any, client: Any) -> None:
    assert INSIDE == (59.7577, 18.6990)  # Busstorget in geo/data/gazetteer/places.csv
    _approved(app, client, 3, where=INSIDE)
    _approved(app, client, 3, where=(59.7450, 18.7200))  # > 300 m from every named place
    near = sorted(f["properties"]["near"] or "" for f in _cells(client)["features"])
    assert near == ["", "Busstorget"]
    html = client.get("/karta/publik?kommun=norrtalje").get_data(as_text=True)
    assert "Norrtälje, nära Busstorget" in html
