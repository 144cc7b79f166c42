"""Real data: an excerpt of the VPD 2020 crime file through the shipped Vancouver mapping.

The excerpt (``tests/fixtures/vancouver/``, see its SOURCE.md) is every 25th row of the
37,512-row file plus the one row with empty coordinates.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from sqlalchemy import Engine

from geo.ingest import ingest_file
from geo.quarantine import list_quarantine
from geo.store import current_version
from geo.store.reports import read_reports

ROOT = Path(__file__).resolve().parents[2]
CSV = ROOT / "tests" / "fixtures" / "vancouver" / "crimedata_2020_excerpt.csv.gz"
#: A bare name resolves to the mapping shipped in the package.
MAPPING = Path("vancouver")


def test_vancouver_2020_is_imported_exactly_once(vancouver_engine: Engine) -> None:
    first = ingest_file(vancouver_engine, CSV, kommun="vancouver", mapping=MAPPING)
    assert first.to_dict() == {
        "read": 1496,
        "stored": 1351,
        "duplicates": 0,
        "quarantined": 145,
        "reasons": {"no_position": 145},
        "precision": {"point": 1351, "street": 0, "locality": 0, "kommun": 0},
    }
    with vancouver_engine.connect() as conn:
        reports = read_reports(conn, "vancouver")
        version = current_version(conn, "vancouver")
        q = list_quarantine(conn)
    assert len(reports) == 1351 and version >= 1
    assert reports["lat"].between(49.19, 49.32).all()
    assert reports["lon"].between(-123.27, -123.02).all()
    assert (reports["cell"] != 0).all()
    # 0.25 % of the points lie outside all 22 neighbourhoods (stored, locality NULL)
    outside = reports["locality"].isna().mean()
    assert 0 < outside < 0.01
    counts = reports["category"].value_counts().to_dict()
    assert counts["inbrott_stold"] == 417 + 346 + 112 + 83 + 79 + 35
    assert counts["trafik"] == 34  # the 35th collision has no position
    assert reports["occurred_at"].min() >= pd.Timestamp("2020-01-01 08:00", tz="UTC")
    assert set(q["reason"]) == {"no_position"} and len(q) == 145
    assert q["raw"].map(lambda r: r["HUNDRED_BLOCK"]).eq("OFFSET TO PROTECT PRIVACY").sum() == 144

    second = ingest_file(vancouver_engine, CSV, kommun="vancouver", mapping=MAPPING)
    assert (second.stored, second.duplicates, second.quarantined) == (0, 1351, 145)
    with vancouver_engine.connect() as conn:
        assert len(read_reports(conn, "vancouver")) == 1351
        assert current_version(conn, "vancouver") == version  # nothing new, no bump
        assert len(list_quarantine(conn)) == 145
