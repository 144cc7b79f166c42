"""``lagesbild patrol``: a plan from reports stored in a real SQLite file."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
from click.testing import CliRunner

from geo.cells import points_to_cells
from geo.schema import conform_reports
from geo.store.reports import insert_reports
from geo.tenants import seed_default_tenants
from webmap.cli import main
from webmap.config import load_config
from webmap.db import open_database

LAT, LON = 59.7580, 18.7050  # Norrtälje centre


def _env(tmp_path: Path) -> dict[str, str]:
    return {
        "LAGESBILD_DATABASE_URL": f"sqlite:///{tmp_path / 'patrol.db'}",
        "LAGESBILD_INSTANCE_DIR": str(tmp_path / "inst"),
    }


def _store_reports(tmp_path: Path) -> None:
    rng = np.random.default_rng(7)
    rows = []
    spots = [(LAT, LON, "storande_grupp", 21), (LAT + 0.004, LON + 0.006, "skadegorelse", 19)]
    for lat, lon, cat, hour in spots:
        for week in range(1, 9):
            day = pd.Timestamp("2026-11-27") - pd.Timedelta(weeks=week)  # Fridays
            when = day + pd.Timedelta(hours=hour, minutes=int(rng.integers(0, 59)))
            rows.append((when, lat, lon, cat, "approved"))
    rows.append((pd.Timestamp("2026-11-20 21:30"), LAT + 0.02, LON, "vald_hot", "pending"))
    frame = pd.DataFrame(rows, columns=["occurred_at", "lat", "lon", "category", "status"])
    frame["occurred_at"] = frame["occurred_at"].dt.tz_localize("Europe/Stockholm")
    frame["cell"] = points_to_cells(frame["lat"], frame["lon"], 10)
    frame["kommun"] = "norrtalje"
    frame["source"] = "actor"
    frame["precision"] = "point"
    reports = conform_reports(frame)
    reports["fingerprint"] = [f"fp{i}" for i in range(len(reports))]
    engine = open_database(load_config(env=_env(tmp_path)))
    with engine.begin() as conn:
        seed_default_tenants(conn)
        insert_reports(conn, reports)


def test_patrol_prints_a_plan_as_json(tmp_path: Path) -> None:
    _store_reports(tmp_path)
    args = [
        "patrol", "--kommun", "norrtalje", "--date", "2026-11-27", "--shift", "18-02",
        "--areas", "2", "--json",
    ]  # fmt: skip
    result = CliRunner().invoke(main, args, env=_env(tmp_path))
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert out["method"] in ("mip", "greedy")
    assert len(out["areas"]) == 2 and sorted(out["order"]) == [0, 1]
    assert out["reports_used"] == 16  # the pending report is left out
    for area in out["areas"]:
        assert {"cells", "centre", "expected", "window", "reason"} <= set(area)
        assert len(area["cells"]) == 19 and area["expected"] > 0
    by_topic = {("grupp" in a["reason"]): a for a in out["areas"]}
    group, damage = by_topic[True], by_topic[False]
    # six of the eight Fridays fall in the last six weeks; the window holds the hot hour
    assert (
        group["reason"]
        == f"6 rapporter om störande grupp fredagar {group['window']} senaste 6 veckorna"
    )
    assert damage["reason"].startswith("6 rapporter om skadegörelse fredagar")
    assert 21 in _hours(group["window"]) and 19 in _hours(damage["window"])
    assert group["locality_name"] == "Norrtälje"
    # walked in time order: the earlier (19:00) area first
    assert out["areas"][out["order"][0]] == damage


def _hours(window: str) -> set[int]:
    start, end = (int(h) for h in window.split("–"))
    return {(start + i) % 24 for i in range((end - start) % 24)}


def test_patrol_exclusion_and_must_visit(tmp_path: Path) -> None:
    _store_reports(tmp_path)
    args = [
        "patrol", "--kommun", "norrtalje", "--date", "2026-11-27", "--areas", "2",
        "--exclude", f"{LAT},{LON},150", "--must-visit", f"{LAT - 0.01},{LON}", "--json",
    ]  # fmt: skip
    result = CliRunner().invoke(main, args, env=_env(tmp_path))
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    police = format(int(points_to_cells([LAT], [LON], 10)[0]), "x")
    must = format(int(points_to_cells([LAT - 0.01], [LON], 10)[0]), "x")
    cells = [c for a in out["areas"] for c in a["cells"]]
    assert police not in cells
    assert must in cells
    assert any(a["must_visit"] and a["reason"].startswith("Måste besökas") for a in out["areas"])


def test_patrol_errors(tmp_path: Path) -> None:
    _store_reports(tmp_path)
    env = _env(tmp_path)
    bad = CliRunner().invoke(
        main, ["patrol", "--kommun", "norrtalje", "--date", "27/11", "--json"], env=env
    )
    assert bad.exit_code == 2 and "ÅÅÅÅ-MM-DD" in bad.stderr
    unknown = CliRunner().invoke(
        main, ["patrol", "--kommun", "atlantis", "--date", "2026-11-27"], env=env
    )
    assert unknown.exit_code == 2 and "atlantis" in unknown.stderr
    early = CliRunner().invoke(
        main, ["patrol", "--kommun", "norrtalje", "--date", "2025-01-01"], env=env
    )
    assert early.exit_code == 2 and "inga godkända rapporter" in early.stderr
