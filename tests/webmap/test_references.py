"""An action refers only to its own kommun's places; dates stay in a sensible range."""

from __future__ import annotations

import datetime as dt
import html
import re
from typing import Any

import pytest
from sqlalchemy import func, select

from geo.boundaries import read_boundaries
from geo.cells import points_to_cells
from geo.errors import ValidationError
from geo.store.tables import action_followups, actions
from webmap.planner.actions import add_followup, create_action
from webmap.references import action_reference_problems, date_problem
from webmap.state import EXTENSION_KEY

LOCALITIES = {"L1": "Bergshamra", "L2": "Norrtälje"}
ZONES = [
    {"id": "Z1", "locality": "L2", "name": "Södra Bergen"},
    {"id": "Z2", "locality": "L1", "name": "Bergshamra centrum"},
]


def _inside(lat: float, lon: float) -> bool:
    return 59.0 <= lat <= 60.5 and 18.0 <= lon <= 19.5


def _problems(kept_zone: str | None = None, **values: Any) -> list[str]:
    return action_reference_problems(
        values,
        kommun_name="Norrtälje",
        localities=LOCALITIES,
        zones=ZONES,
        contains=_inside,
        kept_zone=kept_zone,
    )


def test_own_places_are_accepted() -> None:
    cell = format(int(points_to_cells([59.76], [18.70], 9)[0]), "x")
    assert _problems(locality="L1", zone_id="Z2", cells=cell, lat="59.76", lon="18.70") == []
    assert _problems(zone_id="Z1") == []  # a zone alone names its own locality


def test_zone_and_locality_must_agree() -> None:
    assert _problems(locality="L1", zone_id="Z1") == [
        "zonen Södra Bergen ligger i Norrtälje, inte i Bergshamra"
    ]


def test_other_kommuns_places_are_refused_with_every_problem() -> None:
    goteborg = format(int(points_to_cells([57.70], [11.97], 9)[0]), "x")
    problems = _problems(
        locality="0180TC999", zone_id="Z9", cells=f"{goteborg}", lat="55.6", lon="13.0"
    )
    assert problems == [
        "tätorten '0180TC999' finns inte i Norrtälje kommun",
        "zonen 'Z9' finns inte i Norrtälje kommuns analys",
        "1 cell(er) ligger utanför Norrtälje kommun (t.ex. " + goteborg + ")",
        "punkten ligger utanför Norrtälje kommun",
    ]


def test_a_zone_the_action_already_has_may_be_kept() -> None:
    assert _problems(zone_id="Z-old", kept_zone="Z-old") == []
    assert _problems(zone_id="Z-old", kept_zone="Z-other") != []


def test_date_bounds() -> None:
    today = dt.date(2026, 12, 6)
    assert date_problem("x", dt.date(2026, 1, 1), 366, today) is None
    assert date_problem("x", None, 366, today) is None
    far = date_problem("mötesdatum", dt.date(9999, 12, 31), 366, today)
    assert far == (
        "mötesdatum 9999-12-31 ligger utanför det rimliga intervallet 2000-01-01–2027-12-07"
    )
    assert date_problem("x", dt.date(1999, 12, 31), 366, today) is not None


def test_service_refuses_far_dates(app: Any) -> None:
    engine = app.extensions[EXTENSION_KEY].engine
    with engine.begin() as conn, pytest.raises(ValidationError) as info:
        create_action(
            conn,
            "norrtalje",
            {
                "title": "T",
                "locality": "x",
                "planned_start": "2026-01-01",
                "planned_end": "9999-12-31",
            },
        )
    assert "slutdatum 9999-12-31 ligger utanför" in str(info.value)
    with engine.begin() as conn:
        action_id = create_action(conn, "norrtalje", {"title": "T", "lat": 59.76, "lon": 18.7})
    with engine.begin() as conn, pytest.raises(ValidationError) as info:
        add_followup(conn, action_id, "9999-12-31", "Uppföljning")
    assert "mötesdatum 9999-12-31 ligger utanför" in str(info.value)


_CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def _post_action(client: Any, **fields: str) -> Any:
    token = _CSRF.search(client.get("/atgarder/ny").get_data(as_text=True))
    data = {"title": "Belysning", "kind": "belysning", "status": "planerad", **fields}
    return client.post("/atgarder/ny", data={**data, "csrf_token": token.group(1) if token else ""})


def _count(app: Any) -> int:
    with app.extensions[EXTENSION_KEY].engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(actions)).scalar_one())


def test_action_form_refuses_another_kommuns_locality_and_a_far_follow_up(
    demo_app: Any, make_user: Any, login: Any
) -> None:
    client = demo_app.test_client()
    creds = make_user("planner")
    login(client, creds.username, creds.password)
    engine = demo_app.extensions[EXTENSION_KEY].engine
    with engine.connect() as conn:
        kungsor = str(read_boundaries(conn, "kungsor", "locality")["code"].iloc[0])
        own = read_boundaries(conn, "norrtalje", "locality")
    resp = _post_action(client, locality=kungsor)
    assert resp.status_code == 400
    assert f"tätorten {kungsor!r} finns inte i Norrtälje kommun" in html.unescape(
        resp.get_data(as_text=True)
    )
    assert _count(demo_app) == 0
    # a zone of the analysis in another locality than the one chosen
    from webmap.web import result_store

    with demo_app.test_request_context():
        result = result_store().get("norrtalje")
    assert result is not None
    zones = result.zones
    zone = next(z for z in zones if z.get("locality"))
    other = str(next(c for c in own["code"] if c != zone["locality"]))
    resp = _post_action(client, locality=other, zone_id=str(zone["id"]))
    assert resp.status_code == 400 and "inte i" in resp.get_data(as_text=True)
    good = _post_action(client, locality=str(zone["locality"]), zone_id=str(zone["id"]))
    assert good.status_code == 302
    action_id = int(good.headers["Location"].rstrip("/").split("/")[-1])
    token = _CSRF.search(client.get(f"/atgarder/{action_id}").get_data(as_text=True))
    assert token is not None
    client.post(
        f"/atgarder/{action_id}/uppfoljning",
        data={"meeting_date": "9999-12-31", "note": "Långt fram", "csrf_token": token.group(1)},
    )
    page = client.get(f"/atgarder/{action_id}").get_data(as_text=True)
    assert "ligger utanför det rimliga intervallet" in page
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(action_followups)).scalar_one() == 0
