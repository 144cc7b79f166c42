"""Publishing a week cannot mislead: the public map and the PDF show the same grades, an
undecided locality keeps its last published grade (with its week), publishing with
undecided localities asks first; the default week is the latest complete one."""

from __future__ import annotations

import io
import re
from typing import Any

from _citizen import api_report, report_by_receipt
from pypdf import PdfReader

from webmap.planner.moderation import decide
from webmap.state import EXTENSION_KEY

NORRTALJE = "0188TC109"
RIMBO = "0188TB111"
HALLSTAVIK = "0188TB106"


def _grade(client: Any, csrf: Any, week: str, locality: str, grade: int) -> None:
    url = f"/lagesbild/{week}?kommun=norrtalje"
    resp = client.post(
        f"/lagesbild/{week}/bedomning",
        data={
            "csrf_token": csrf(client, url),
            "kommun": "norrtalje",
            "locality": locality,
            "grade": grade,
            "comment": "",
        },
    )
    assert resp.status_code == 302


def _publish(client: Any, csrf: Any, week: str, confirm: bool) -> Any:
    data = {
        "csrf_token": csrf(client, f"/lagesbild/{week}?kommun=norrtalje"),
        "kommun": "norrtalje",
    }
    if confirm:
        data["bekrafta"] = "1"
    return client.post(f"/lagesbild/{week}/publicera", data=data)


def _public_grades(client: Any) -> dict[str, str]:
    html = client.get("/karta/publik?kommun=norrtalje").get_data(as_text=True)
    rows = re.findall(r'<tr data-locality="(\w+)"><td>[^<]*</td><td>(.*?)</td></tr>', html)
    return {code: re.sub(r"<[^>]+>", "", cell).strip() for code, cell in rows}


def test_publishing_with_one_decision_keeps_published_grades_on_map_and_pdf(
    demo_app: Any, client: Any, make_user: Any, login: Any, csrf_token: Any
) -> None:
    planner = make_user("planner")
    login(client, planner.username, planner.password)
    _grade(client, csrf_token, "2026-W46", NORRTALJE, 5)
    _grade(client, csrf_token, "2026-W46", RIMBO, 2)
    _grade(client, csrf_token, "2026-W46", HALLSTAVIK, 1)
    assert _publish(client, csrf_token, "2026-W46", confirm=False).status_code == 302
    before = _public_grades(client)
    assert before[NORRTALJE].startswith("5 Allvarligt")
    assert before[RIMBO].startswith("2 ")

    # week 47: only Hallstavik decided; publishing asks first and stores nothing
    _grade(client, csrf_token, "2026-W47", HALLSTAVIK, 3)
    resp = _publish(client, csrf_token, "2026-W47", confirm=False)
    assert resp.status_code == 302 and "bekrafta=1" in resp.headers["Location"]
    page = client.get(resp.headers["Location"]).get_data(as_text=True)
    assert "Mötet har inte beslutat om Norrtälje, Rimbo" in page
    assert 'id="publish-confirm-button"' in page
    assert "2 Mestadels lugnt" in _public_grades(client)[RIMBO]  # still week 46's
    assert client.get("/lagesbild/2026-W47/rapport.pdf?kommun=norrtalje").status_code == 404

    assert _publish(client, csrf_token, "2026-W47", confirm=True).status_code == 302
    after = _public_grades(client)
    assert after[HALLSTAVIK] == "3 Förhöjt"
    assert after[NORRTALJE] == "5 Allvarligt (bedömd vecka 46, 2026)"
    assert after[RIMBO] == "2 Mestadels lugnt (bedömd vecka 46, 2026)"
    assert all(not v.startswith(("–", "Ingen")) for v in after.values())

    pdf = client.get("/lagesbild/2026-W47/rapport.pdf?kommun=norrtalje").get_data()
    reader = PdfReader(io.BytesIO(pdf))
    first = " ".join(reader.pages[0].extract_text().split())
    assert "Översikt" in first
    assert "Hallstavik 3 Förhöjt" in first
    assert "Norrtälje 5 Allvarligt (publicerad vecka 46, 2026; ej beslutad denna vecka)" in first
    assert "Rimbo 2 Mestadels lugnt (publicerad vecka 46, 2026; ej beslutad denna vecka)" in first
    assert len(reader.pages[0].images) >= 1  # the trend chart is on page 1 too


def test_a_citizen_report_dated_today_does_not_move_the_default_week(
    demo_app: Any, client: Any, make_user: Any, login: Any
) -> None:
    receipt = api_report(client, category="belysning").get_json()["receipt"]
    rid = int(report_by_receipt(demo_app, receipt).report_id)
    with demo_app.extensions[EXTENSION_KEY].engine.begin() as conn:
        decide(conn, rid, "approve", actor="test")
    planner = make_user("planner")
    login(client, planner.username, planner.password)
    html = client.get("/karta?kommun=norrtalje").get_data(as_text=True)
    assert '<option value="2026-W47" selected>' in html
    resp = client.get("/lagesbild?kommun=norrtalje")
    assert "/lagesbild/2026-W47" in resp.headers["Location"]


def test_week_axis_labels() -> None:
    from webmap.render.reports import week_tick, weeks_ending

    weeks = weeks_ending("2026-W02", 4)
    assert weeks == ["2025-W51", "2025-W52", "2026-W01", "2026-W02"]
    assert [week_tick(w) for w in weeks] == ["v51", "v52", "v1", "v2"]
