"""Real data: the VPD 2020 crime file through data/mappings/vancouver.toml."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from sqlalchemy import Engine

from geo.ingest import ingest_file
from geo.quarantine import list_quarantine
from geo.store import current_version
from geo.store.reports import read_reports

ROOT = Path(__file__).resolve().parents[2]
VPD = ROOT.parent / "shared" / "data" / "real" / "vancouver-vpd-2020"
CSV = VPD / "crimedata_csv_AllNeighbourhoods_2020.csv.gz"
MAPPING = ROOT / "data" / "mappings" / "vancouver.toml"


def test_vancouver_2020_is_imported_exactly_once(vancouver_engine: Engine) -> None:
    first = ingest_file(vancouver_engine, CSV, kommun="vancouver", mapping=MAPPING)
    assert first.to_dict() == {
        "read": 37512,
        "stored": 33761,
        "duplicates": 0,
        "quarantined": 3751,
        "reasons": {"no_position": 3751},
        "precision": {"point": 33761, "street": 0, "locality": 0, "kommun": 0},
    }
    with vancouver_engine.connect() as conn:
        reports = read_reports(conn, "vancouver")
        version = current_version(conn, "vancouver")
        q = list_quarantine(conn)
    assert len(reports) == 33761 and version >= 1
    assert reports["lat"].between(49.19, 49.32).all()
    assert reports["lon"].between(-123.27, -123.02).all()
    assert (reports["cell"] != 0).all()
    # 0.25 % of the points lie outside all 22 neighbourhoods (stored, locality NULL)
    outside = reports["locality"].isna().mean()
    assert 0 < outside < 0.01
    counts = reports["category"].value_counts().to_dict()
    assert counts["inbrott_stold"] == 10428 + 8650 + 2787 + 2083 + 1987 + 853
    assert counts["trafik"] == 853 + 8 - 1  # one collision has no position
    assert reports["occurred_at"].min() >= pd.Timestamp("2020-01-01 08:00", tz="UTC")
    assert set(q["reason"]) == {"no_position"} and len(q) == 3751
    assert q["raw"].map(lambda r: r["HUNDRED_BLOCK"]).eq("OFFSET TO PROTECT PRIVACY").sum() == 3750

    second = ingest_file(vancouver_engine, CSV, kommun="vancouver", mapping=MAPPING)
    assert (second.stored, second.duplicates, second.quarantined) == (0, 33761, 3751)
    with vancouver_engine.connect() as conn:
        assert len(read_reports(conn, "vancouver")) == 33761
        assert current_version(conn, "vancouver") == version  # nothing new, no bump
        assert len(list_quarantine(conn)) == 3751
