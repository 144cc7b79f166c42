"""``lagesbild evaluate``: backtest from a CSV file."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
from click.testing import CliRunner
from pyproj import Transformer

from webmap.cli import main

LAT, LON = 59.7580, 18.7050


def _write_csv(path: Path, weeks: int = 10, seed: int = 0) -> pd.DataFrame:
    """Vancouver-like layout: time in parts, SWEREF 99 TM x/y, some rows without a place."""
    rng = np.random.default_rng(seed)
    n_hot, n_bg = 8 * weeks, 5 * weeks
    lat = np.r_[LAT + rng.normal(0, 0.0002, n_hot), LAT + rng.uniform(-0.01, 0.01, n_bg)]
    lon = np.r_[LON + rng.normal(0, 0.0004, n_hot), LON + rng.uniform(-0.02, 0.02, n_bg)]
    t = pd.Timestamp("2024-03-01") + pd.to_timedelta(rng.uniform(0, 7 * weeks, lat.size), "D")
    x, y = Transformer.from_crs(4326, 3006, always_xy=True).transform(lon, lat)
    frame = pd.DataFrame(
        {
            "TYPE": "Skadegörelse",
            "YEAR": t.year,
            "MONTH": t.month,
            "DAY": t.day,
            "HOUR": t.hour,
            "MINUTE": t.minute,
            "X": np.round(x, 2),
            "Y": np.round(y, 2),
        }
    )
    frame.loc[:4, ["X", "Y"]] = 0  # five rows without a place
    frame.to_csv(path, index=False)
    return frame


def test_evaluate_prints_one_json_object(tmp_path: Path) -> None:
    csv = tmp_path / "händelser.csv"
    _write_csv(csv)
    args = [
        "evaluate", str(csv), "--time-parts", "YEAR,MONTH,DAY,HOUR,MINUTE",
        "--x-col", "X", "--y-col", "Y", "--crs", "EPSG:3006",
        "--train-steps", "4", "--origins", "3", "--coverage", "0.01,0.05", "--json",
        "--methods", "lagesbild,count_all,sepp,last_k,kde",
    ]  # fmt: skip
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert {"res", "origins", "area_km2", "area_basis", "results"} <= set(out)
    assert out["res"] == 10 and out["origins"] == 3
    assert out["area_basis"] == "cells with an event in each training window"
    assert out["events"]["unlocated"] == 5
    methods = [r["method"] for r in out["results"]]
    assert sorted(set(methods)) == ["count_all", "kde", "lagesbild", "last_k", "sepp"]
    assert len(out["results"]) == 10
    assert {r["other"] for r in out["paired"]} == {"count_all", "kde", "last_k", "sepp"}
    assert {"theta", "omega", "background_share"} <= set(out["fitted"]["sepp"])
    for row in out["results"]:
        assert row["coverage"] in (0.01, 0.05)
        for key in ("hit_rate", "pai", "pei_star"):
            assert row[key] is None or row[key] >= 0
    assert all(r["pei_star"] <= 1 for r in out["results"] if r["pei_star"] is not None)


def test_evaluate_with_boundary_uses_its_area(tmp_path: Path) -> None:
    csv = tmp_path / "e.csv"
    _write_csv(csv)
    geojson = tmp_path / "area.geojson"
    geojson.write_text(
        json.dumps(
            {
                "type": "FeatureCollection",
                "features": [
                    {
                        "type": "Feature",
                        "properties": {"name": "centrum"},
                        "geometry": {
                            "type": "Polygon",
                            "coordinates": [
                                [[18.69, 59.75], [18.72, 59.75], [18.72, 59.765],
                                 [18.69, 59.765], [18.69, 59.75]]
                            ],
                        },
                    }
                ],
            }
        ),
        encoding="utf-8",
    )  # fmt: skip
    args = [
        "evaluate", str(csv), "--time-parts", "YEAR,MONTH,DAY", "--x-col", "X",
        "--y-col", "Y", "--crs", "EPSG:3006", "--boundary", str(geojson),
        "--train-steps", "4", "--origins", "2", "--methods", "lagesbild,last_k",
    ]  # fmt: skip
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    assert "parvis per startpunkt" in result.stdout and "last_k" in result.stdout
    out = json.loads(CliRunner().invoke(main, [*args, "--json"]).stdout)
    assert out["area_basis"] == "boundary"
    assert 2.5 < out["area_km2"] < 3.0  # 0.03 deg x 0.015 deg at 59.76 N
    assert out["events"]["outside_boundary"] > 0


def test_evaluate_reports_all_input_problems(tmp_path: Path) -> None:
    csv = tmp_path / "e.csv"
    _write_csv(csv)
    result = CliRunner().invoke(
        main, ["evaluate", str(csv), "--time-col", "TID", "--x-col", "X", "--y-col", "Y"]
    )
    assert result.exit_code == 2
    assert "fel:" in result.stderr
    assert "'TID' is missing" in result.stderr and "--crs" in result.stderr
    bad = CliRunner().invoke(main, ["evaluate", str(csv), "--time-col", "T", "--methods", "x"])
    assert bad.exit_code == 2 and "unknown methods ['x']" in bad.stderr


def test_evaluate_too_few_steps(tmp_path: Path) -> None:
    csv = tmp_path / "e.csv"
    _write_csv(csv, weeks=5)
    args = [
        "evaluate", str(csv), "--time-parts", "YEAR,MONTH,DAY", "--x-col", "X",
        "--y-col", "Y", "--crs", "EPSG:3006", "--json",
    ]  # fmt: skip
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 2
    assert "too few steps" in result.stderr and result.stdout == ""
