"""``lagesbild hotspots``: stored reports -> patterns, zones and grades on stdout."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from analysis.demo import synthetic_reports
from geo.store.reports import insert_reports
from geo.tenants import seed_default_tenants
from webmap.cli import main
from webmap.db import open_database


@pytest.fixture(scope="module")
def database(tmp_path_factory: pytest.TempPathFactory) -> str:
    path = Path(tmp_path_factory.mktemp("hotspots")) / "lagesbild.db"
    url = f"sqlite:///{path}"
    engine = open_database({"DATABASE_URL": url})
    reports, _ = synthetic_reports(seed=2)
    with engine.begin() as conn:
        seed_default_tenants(conn)
        insert_reports(conn, reports, return_ids=False)
    engine.dispose()
    return url


def _run(database: str, *args: str):
    result = CliRunner().invoke(main, ["hotspots", *args], env={"LAGESBILD_DATABASE_URL": database})
    return result


def test_json_lists_cells_and_zones(database: str) -> None:
    result = _run(database, "--kommun", "norrtalje", "--json")
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)  # exactly one JSON object on stdout
    assert {"cells", "zones"} <= set(out)
    assert {"cell", "locality", "pattern", "z", "p", "zone"} <= set(out["cells"][0])
    zones = {z["name"]: z for z in out["zones"]}
    assert {"id", "name", "cells", "pattern", "grade", "explanation"} <= set(
        next(iter(zones.values()))
    )
    assert zones["Busstorget"]["pattern"] in ("persistent_hot", "intensifying_hot")
    assert zones["Södra Bergen"]["pattern"] == "intensifying_hot"
    assert {z["id"] for z in out["zones"]} == {c["zone"] for c in out["cells"] if c["zone"]}
    assert out["period"]["res"] == 10 and out["period"]["steps"] == 26
    assert "godkända rapporter" in result.stderr


def test_options_filter_and_change_the_grid(database: str) -> None:
    result = _run(
        database, "--kommun", "0188", "--locality", "Rimbo", "--step", "2w", "--res", "9",
        "--from", "2024-03-01", "--to", "2024-06-03", "--hours", "18-02", "--json",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert {c["locality"] for c in out["cells"]} == {"0188TB111"}
    assert out["period"]["step_weeks"] == 2 and out["period"]["res"] == 9
    assert out["config"]["hours"] == [18, 2]
    assert out["period"]["start"] <= "2024-03-01" < out["period"]["end"]
    assert [loc["name"] for loc in out["localities"]] == ["Rimbo"]


def test_csv_geojson_and_text(database: str) -> None:
    result = _run(database, "--csv")
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert {"cell", "locality", "pattern", "z", "p", "zone"} <= set(rows[0])
    result = _run(database, "--geojson")
    geo = json.loads(result.stdout)
    assert geo["type"] == "FeatureCollection" and geo["features"]
    result = _run(database)
    assert "Tätorter (föreslagen bedömning):" in result.stdout
    assert "Hotspotzoner" in result.stdout


def test_unknown_locality_is_a_clean_error(database: str) -> None:
    result = _run(database, "--locality", "Atlantis", "--json")
    assert result.exit_code == 2
    assert "fel: okänd tätort" in result.stderr
    assert result.stdout == ""
