"""Weekly meeting data, grade audit trail, weeks and the ``lagesbild report`` CLI."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd
from click.testing import CliRunner
from pypdf import PdfReader

from webmap.cli import main
from webmap.weeks import deadline, parse_week, shift_week, week_of


def test_week_helpers() -> None:
    assert parse_week("2026-W47") == (2026, 47)
    end = deadline("2026-W47")
    assert end == pd.Timestamp("2026-11-17 12:00", tz="UTC")  # Tuesday 13:00 CET
    assert week_of(end - pd.Timedelta(seconds=1)) == "2026-W47"
    assert week_of(end) == "2026-W48"
    assert shift_week("2026-W01", -1) == "2025-W52"


def test_grades_are_audited_and_readers_cannot_set(
    demo_app: Any, client: Any, make_user: Any, login: Any, csrf_token: Any
) -> None:
    planner = make_user("planner")
    login(client, planner.username, planner.password)
    url = "/lagesbild/2026-W47?kommun=norrtalje"
    token = csrf_token(client, url)
    for grade, comment in ((3, "Första bedömningen"), (4, "Ändrad efter diskussion")):
        resp = client.post(
            "/lagesbild/2026-W47/bedomning",
            data={
                "csrf_token": token,
                "kommun": "norrtalje",
                "locality": "0188TB111",
                "grade": grade,
                "comment": comment,
            },
        )
        assert resp.status_code == 302
    html = client.get(url).get_data(as_text=True)
    assert "Första bedömningen" in html and "Ändrad efter diskussion" in html
    reader = make_user("reader")
    other = demo_app.test_client()
    login(other, reader.username, reader.password)
    page = other.get(url).get_data(as_text=True)
    assert "Ändrad efter diskussion" in page and "Spara bedömning" not in page
    assert (
        other.post(
            "/lagesbild/2026-W47/bedomning",
            data={
                "csrf_token": csrf_token(other, url),
                "kommun": "norrtalje",
                "locality": "0188TB111",
                "grade": 1,
            },
        ).status_code
        == 403
    )


def test_report_cli_writes_weekly_pdf_and_yearly_html(demo_app: Any, tmp_path: Path) -> None:
    cfg = demo_app.extensions["lagesbild"].config
    env = {
        "LAGESBILD_DATABASE_URL": cfg["DATABASE_URL"],
        "LAGESBILD_INSTANCE_DIR": cfg["INSTANCE_DIR"],
    }
    runner = CliRunner()
    out = tmp_path / "v47.pdf"
    res = runner.invoke(
        main,
        [
            "report",
            "--kommun",
            "norrtalje",
            "--week",
            "2026-W47",
            "--format",
            "pdf",
            "-o",
            str(out),
            "--json",
        ],
        env=env,
    )
    assert res.exit_code == 0, res.output
    assert json.loads(res.stdout)["bytes"] == out.stat().st_size
    reader = PdfReader(str(out))
    text = "\n".join(p.extract_text() for p in reader.pages)
    assert len(reader.pages) >= 3
    assert "Lägesbild Norrtälje, vecka 47, 2026" in text and "Rimbo" in text
    year = tmp_path / "2026.html"
    res = runner.invoke(
        main,
        ["report", "--kommun", "norrtalje", "--year", "2026", "--format", "html", "-o", str(year)],
        env=env,
    )
    assert res.exit_code == 0, res.output
    html = year.read_text(encoding="utf-8")
    for part in ("1. Kartläggning", "2. Omfattning", "3. Analys", "4. Åtgärdsplan", "2023:196"):
        assert part in html
    bad = runner.invoke(main, ["report", "--kommun", "norrtalje", "-o", str(year)], env=env)
    assert bad.exit_code == 2


def test_analyse_cli_fills_the_cache(demo_app: Any) -> None:
    cfg = demo_app.extensions["lagesbild"].config
    env = {
        "LAGESBILD_DATABASE_URL": cfg["DATABASE_URL"],
        "LAGESBILD_INSTANCE_DIR": cfg["INSTANCE_DIR"],
    }
    res = CliRunner().invoke(
        main,
        ["analyse", "--kommun", "norrtalje", "--week", "2026-W47", "--weeks", "2", "--json"],
        env=env,
    )
    assert res.exit_code == 0, res.output
    data = json.loads(res.stdout)["results"]
    assert [r["week"] for r in data] == ["2026-W47", "2026-W46"]
    assert data[0]["zones"] >= 2
    cache = Path(cfg["INSTANCE_DIR"]) / "cache" / "analysis" / "norrtalje"
    assert len(list(cache.glob("v*/*/meta.json"))) == 2
    # the latest week records the chosen forecaster and its figures
    forecast = data[0]["forecast"]
    assert forecast["method"] == "lagesbild" and "forecast" not in data[1]
    assert forecast["weeks_checked"] == 10 and not forecast["fallback"]
    assert 0 <= forecast["weeks_hit"] <= 10 and 0 < forecast["hit_rate"] <= 1
    assert forecast["text"].startswith(f"Prognosen träffade {forecast['weeks_hit']} av 10")


def test_weekly_page_tells_planners_how_often_the_forecast_hit(
    demo_app: Any, client: Any, make_user: Any, login: Any
) -> None:
    from webmap.planner.forecast_choice import record_forecast_choice

    engine = demo_app.extensions["lagesbild"].engine
    planner = make_user("planner")
    login(client, planner.username, planner.password)
    url = "/lagesbild/2026-W47?kommun=norrtalje"
    assert "forecast-hits" not in client.get(url).get_data(as_text=True)
    stored = record_forecast_choice(engine, "norrtalje", "2026-W47")
    assert stored is not None
    html = client.get(url).get_data(as_text=True)
    assert f"Prognosen träffade {stored['weeks_hit']} av 10 veckor" in html


def test_odd_week_spellings_share_one_key(
    demo_app: Any, client: Any, make_user: Any, login: Any, csrf_token: Any
) -> None:
    planner = make_user("planner")
    login(client, planner.username, planner.password)
    # a first map request with an odd spelling of the week must not become the key of
    # the cached result: the meeting's grade has to show on the map of 2026-W47
    odd = client.get("/api/karta/norrtalje/tatorter?vecka=2026-W47%0A")
    assert odd.status_code == 200 and odd.get_json()["meta"]["week"] == "2026-W47"
    resp = client.get("/lagesbild/2026-W7?kommun=norrtalje")
    assert resp.status_code == 302
    assert resp.headers["Location"] == "/lagesbild/2026-W07?kommun=norrtalje"
    url = "/lagesbild/2026-W47?kommun=norrtalje"
    resp = client.post(
        "/lagesbild/2026-W47/bedomning",
        data={
            "csrf_token": csrf_token(client, url),
            "kommun": "norrtalje",
            "locality": "0188TB111",
            "grade": 5,
            "comment": "Satt på mötet",
        },
    )
    assert resp.status_code == 302
    fc = client.get("/api/karta/norrtalje/tatorter?vecka=2026-W47").get_json()
    rimbo = next(f["properties"] for f in fc["features"] if f["properties"]["code"] == "0188TB111")
    assert rimbo["set_by_meeting"] and rimbo["grade"] == 5
    assert rimbo["comment"] == "Satt på mötet"


def test_weeks_outside_the_supported_years_are_refused_not_500(
    app: Any, client: Any, make_user: Any, login: Any
) -> None:
    import pytest

    from geo.errors import ValidationError

    with pytest.raises(ValidationError, match="utanför åren 1900–2200"):
        parse_week("9999-W52")
    reader = make_user("reader")
    login(client, reader.username, reader.password)
    for week in ("0001-W01", "1677-W40", "2300-W01", "9999-W52"):
        assert client.get(f"/karta?kommun=norrtalje&vecka={week}").status_code == 400
        assert client.get(f"/api/karta/norrtalje/tatorter?vecka={week}").status_code == 400
        assert client.get(f"/export/zoner.csv?kommun=norrtalje&vecka={week}").status_code == 400
        assert client.get(f"/lagesbild/{week}?kommun=norrtalje").status_code == 404
    # the refusal says why, in Swedish, as JSON for the API and as a page for people
    api = client.get("/api/karta/norrtalje/tatorter?vecka=2026-53x")
    assert api.status_code == 400
    assert "Ogiltig vecka" in api.get_json()["error"]
    page = client.get("/karta?kommun=norrtalje&vecka=<b>x</b>")
    assert page.status_code == 400
    html = page.get_data(as_text=True)
    assert "Ogiltig vecka" in html and "ISO-vecka" in html
    assert "<b>x</b>" not in html  # the echoed input is escaped
