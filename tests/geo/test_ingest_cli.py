"""``lagesbild ingest`` and ``lagesbild quarantine`` through the real command line group."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
from click.testing import CliRunner
from sqlalchemy import Engine

from webmap.cli import main

TOWN = (59.7560, 18.7138)


def _env(db_url: str) -> dict[str, str]:
    return {"LAGESBILD_DATABASE_URL": db_url}


def _file(tmp_path: Path) -> Path:
    frame = pd.DataFrame(
        [
            ["2024-05-01 22:10", "klotter", "Klotter", *TOWN],
            ["2024-05-01 23:10", "graffiti", "Okänd kategori", *TOWN],
            ["2024-05-02 01:10", "brand", "Ingen plats", None, None],
        ],
        columns=["occurred_at", "category", "description", "lat", "lon"],
    )
    path = tmp_path / "rapporter.csv"
    frame.to_csv(path, index=False, sep=";", encoding="cp1252")
    return path


def test_ingest_json_prints_exactly_one_object(engine: Engine, db_url: str, tmp_path: Path) -> None:
    path = _file(tmp_path)
    args = ["ingest", str(path), "--kommun", "norrtalje", "--source", "actor", "--json"]
    runner = CliRunner()
    res = runner.invoke(main, args, env=_env(db_url))
    assert res.exit_code == 0, res.output
    lines = [ln for ln in res.stdout.splitlines() if ln.strip()]
    assert len(lines) == 1
    out = json.loads(lines[0])
    assert out == {
        "read": 3,
        "stored": 1,
        "duplicates": 0,
        "quarantined": 2,
        "reasons": {"no_position": 1, "unknown_category": 1},
        "precision": {"point": 1, "street": 0, "locality": 0, "kommun": 0},
    }
    human = runner.invoke(main, args[:-1], env=_env(db_url))
    assert human.exit_code == 0, human.output
    assert "Läste 3 rader från rapporter.csv (csv, cp1252, avgränsare ';')" in human.stdout
    assert "sparade:      0" in human.stdout and "dubbletter:   1" in human.stdout
    assert "unknown_category: 1" in human.stdout


def test_quarantine_list_export_retry(engine: Engine, db_url: str, tmp_path: Path) -> None:
    runner = CliRunner()
    env = _env(db_url)
    path = _file(tmp_path)
    runner.invoke(
        main, ["ingest", str(path), "--kommun", "norrtalje", "--source", "actor"], env=env
    )
    res = runner.invoke(main, ["quarantine", "list", "--json"], env=env)
    assert res.exit_code == 0, res.output
    data = json.loads(res.stdout)
    assert data["count"] == 2 and data["open_by_reason"] == {
        "no_position": 1,
        "unknown_category": 1,
    }
    assert {r["raw"]["description"] for r in data["rows"]} == {"Okänd kategori", "Ingen plats"}
    res = runner.invoke(main, ["quarantine", "list", "--reason", "no_position"], env=env)
    assert res.exit_code == 0 and "no_position" in res.stdout and "rapporter.csv" in res.stdout
    assert "unknown_category " not in res.stdout.split("Öppna per orsak")[0]
    out = tmp_path / "karantan.csv"
    res = runner.invoke(main, ["quarantine", "export", "--format", "csv", "-o", str(out)], env=env)
    assert res.exit_code == 0 and out.exists()
    assert len(pd.read_csv(out, encoding="utf-8-sig")) == 2
    res = runner.invoke(main, ["quarantine", "export", "--format", "json", "-o",
                               str(tmp_path / "k.json"), "--json"], env=env)  # fmt: skip
    assert json.loads(res.stdout) == {"exported": 2, "file": str(tmp_path / "k.json"),
                                      "format": "json"}  # fmt: skip
    res = runner.invoke(main, ["quarantine", "retry", "--json"], env=env)
    assert res.exit_code == 0, res.output
    assert json.loads(res.stdout)["still_quarantined"] == 2
    res = runner.invoke(main, ["quarantine", "list", "--reason", "nonsense"], env=env)
    assert res.exit_code != 0


def test_errors_become_fel_and_exit_code_2(engine: Engine, db_url: str, tmp_path: Path) -> None:
    path = _file(tmp_path)
    mapping = tmp_path / "bad.toml"
    mapping.write_text('[category]\ncolumn = "TYPE"\n', encoding="utf-8")
    runner = CliRunner()
    res = runner.invoke(
        main, ["ingest", str(path), "--kommun", "norrtalje", "--mapping", str(mapping)],
        env=_env(db_url),
    )  # fmt: skip
    assert res.exit_code == 2
    assert "fel:" in res.stderr and "'TYPE'" in res.stderr
    res = runner.invoke(main, ["ingest", str(path), "--kommun", "atlantis", "--source", "actor"],
                        env=_env(db_url))  # fmt: skip
    assert res.exit_code == 2 and "atlantis" in res.stderr
