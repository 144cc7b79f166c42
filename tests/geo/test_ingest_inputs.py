"""Hostile and odd inputs: bombs, endless rows, ragged rows, mixed encodings, NUL, CRS.

The bounded-reader tests run the real ``lagesbild`` command in its own process and read
its peak resident memory from the kernel (``os.wait4``).
"""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import Engine, func, select

from geo.errors import BoundaryError, ValidationError
from geo.ingest import ingest_file, retry_quarantine
from geo.quarantine import list_quarantine
from geo.readers import read_table
from geo.store import import_run, report
from geo.store.reports import read_reports
from geo.tenants import import_boundary_file

NOW = pd.Timestamp("2026-11-20 12:00", tz="UTC")
LAGESBILD = str(Path(sys.executable).with_name("lagesbild"))
GB = 1024**3


def run_cli(args: list[str], db_url: str, **env: str) -> tuple[int, str, float]:
    """``(exit code, stderr, peak RSS in MB)`` of ``lagesbild ARGS`` in its own process."""
    full_env = {**os.environ, "LAGESBILD_DATABASE_URL": db_url, **env}
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        proc = subprocess.Popen([LAGESBILD, *args], env=full_env, stdout=out, stderr=err)
        _pid, status, usage = os.wait4(proc.pid, 0)  # this child's own peak RSS (kB)
        proc.returncode = os.waitstatus_to_exitcode(status)
        err.seek(0)
        text = err.read().decode("utf-8", "replace")
    return proc.returncode, text, usage.ru_maxrss / 1024


def count_rows(engine: Engine, table) -> int:  # type: ignore[no-untyped-def]
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(table)).scalar_one())


# ---------------------------------------------------------------------------- bounded
def test_gzip_bomb_stops_with_a_clear_message(engine: Engine, db_url: str, tmp_path: Path) -> None:
    # a CSV header and rows, then ~6 GB of zeros: gzip members of 1 MiB of zeros repeated
    bomb = tmp_path / "rapporter.csv.gz"
    zeros = gzip.compress(b"0" * (1 << 20), compresslevel=9)
    with bomb.open("wb") as fh:
        fh.write(gzip.compress(b"occurred_at,category,lat,lon\n2024-05-01,klotter,59.75,18.71\n"))
        for _ in range(6 * 1024):
            fh.write(zeros)
    assert bomb.stat().st_size < 40 * 1024**2
    code, err, peak_mb = run_cli(
        ["ingest", str(bomb), "--kommun", "norrtalje", "--source", "actor"], db_url
    )
    assert code == 2, err
    assert "dekomprimeringsbomb" in err and "LAGESBILD_IMPORT_MAX_EXPANSION_RATIO" in err
    assert "Traceback" not in err
    assert peak_mb < 1024
    assert count_rows(engine, report) == 0


def test_one_line_of_a_gigabyte_stops_with_a_clear_message(
    engine: Engine, db_url: str, tmp_path: Path
) -> None:
    path = tmp_path / "en_rad.csv"
    with path.open("wb") as fh:  # sparse: a header, then 1 GB without a newline
        fh.write(b"occurred_at,category,description,lat,lon\n2024-05-01,klotter,")
        fh.seek(GB)
        fh.write(b"x,59.75,18.71\n")
    code, err, peak_mb = run_cli(
        ["ingest", str(path), "--kommun", "norrtalje", "--source", "actor"], db_url
    )
    assert code == 2, err
    assert "rad 2 är längre än 1024 kB" in err and "Traceback" not in err
    assert peak_mb < 1024
    assert count_rows(engine, report) == 0


def test_xlsx_bomb_and_the_setting(engine: Engine, db_url: str, tmp_path: Path) -> None:
    path = tmp_path / "bomb.xlsx"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("[Content_Types].xml", "<Types/>")
        zf.writestr("xl/worksheets/sheet1.xml", b"<" * (64 * 1024**2))
    assert path.stat().st_size < 1024**2
    args = ["ingest", str(path), "--kommun", "norrtalje", "--source", "actor"]
    code, err, _peak = run_cli(args, db_url, LAGESBILD_IMPORT_MAX_EXPANDED_MB="16")
    assert code == 2, err
    assert "större än 16 MB uppackat" in err and "LAGESBILD_IMPORT_MAX_EXPANDED_MB" in err
    code, err, _peak = run_cli(args, db_url, LAGESBILD_IMPORT_MAX_EXPANDED_MB="noll")
    assert code == 2 and "måste vara ett positivt tal" in err


def test_gzip_within_the_limits_is_read(engine: Engine, tmp_path: Path) -> None:
    rows = "".join(
        f"2024-05-0{1 + i % 9} 10:00,klotter,Rad {i},59.756,18.7138\n" for i in range(50)
    )
    path = tmp_path / "r.csv.gz"
    path.write_bytes(gzip.compress(("occurred_at,category,description,lat,lon\n" + rows).encode()))
    res = ingest_file(engine, path, kommun="norrtalje", source="actor", now=NOW)
    assert (res.read, res.stored) == (50, 50)


# ---------------------------------------------------------------------------- CSV
def test_unquoted_comma_in_the_first_row_quarantines_that_row_only(
    engine: Engine, tmp_path: Path
) -> None:
    header = "external_id,occurred_at,category,description,lat,lon"
    bad = "A-1,2024-05-01 22:10,klotter,Klotter, stort,59.756,18.7138"
    good = "A-2,2024-05-02 22:10,klotter,Klotter,59.756,18.7138"
    path = tmp_path / "r.csv"
    path.write_text(f"{header}\n{bad}\n{good}\n", encoding="utf-8")
    res = ingest_file(engine, path, kommun="norrtalje", source="actor", now=NOW)
    assert (res.stored, res.quarantined, res.reasons) == (1, 1, {"bad_row": 1})
    with engine.connect() as conn:
        q = list_quarantine(conn)
        stored = read_reports(conn, "norrtalje")
    assert q.loc[0, "raw"] == {"_text": bad} and int(q.loc[0, "row_number"]) == 1
    assert "7 fält men rubriken 6" in q.loc[0, "detail"]
    assert list(stored["external_id"]) == ["A-2"]  # no column was taken as an index
    again = retry_quarantine(engine, now=NOW)  # a bad row stays a bad row
    assert (again.quarantined, again.reasons) == (1, {"bad_row": 1})
    with engine.connect() as conn:
        assert list(list_quarantine(conn)["reason"]) == ["bad_row"]


def test_duplicate_column_names_are_an_error_naming_them(engine: Engine, tmp_path: Path) -> None:
    path = tmp_path / "r.csv"
    path.write_text("occurred_at,category,lat,lat,lon\n2024-05-01,klotter,59.7,59.8,18.7\n")
    with pytest.raises(ValidationError, match=r"'lat' \(2 gånger\)"):
        ingest_file(engine, path, kommun="norrtalje", source="actor", now=NOW)
    assert count_rows(engine, import_run) == 0


def test_mixed_utf8_and_latin1_rows_keep_their_letters(engine: Engine, tmp_path: Path) -> None:
    path = tmp_path / "blandat.csv"
    lines = [
        b"occurred_at;category;description;lat;lon",
        "2024-05-01 10:00;klotter;Klotter på väggen;59.756;18.7138".encode(),
        "2024-05-02 10:00;klotter;Skräp vid ån;59.756;18.7138".encode("latin-1"),
        "2024-05-03 10:00;klotter;Åäö i UTF-8;59.756;18.7138".encode(),
    ]
    path.write_bytes(b"\n".join(lines) + b"\n")
    table = read_table(path)
    assert table.encoding == "utf-8+cp1252"
    res = ingest_file(engine, path, kommun="norrtalje", source="actor", now=NOW)
    assert res.stored == 3
    with engine.connect() as conn:
        texts = sorted(read_reports(conn, "norrtalje")["description"])
    assert texts == ["Klotter på väggen", "Skräp vid ån", "Åäö i UTF-8"]
    assert not any("Ã" in t for t in texts)


def test_nul_never_truncates_a_field(engine: Engine, tmp_path: Path) -> None:
    path = tmp_path / "nul.csv"
    path.write_bytes(
        b"occurred_at,category,description,lat,lon\n"
        b"2024-05-01 10:00,klotter,fore\x00efter,59.756,18.7138\n"
        b"2024-05-02 10:00,klotter,hel,59.756,18.7138\n"
    )
    res = ingest_file(engine, path, kommun="norrtalje", source="actor", now=NOW)
    assert (res.stored, res.reasons) == (1, {"bad_row": 1})
    with engine.connect() as conn:
        q = list_quarantine(conn)
    assert q.loc[0, "raw"]["_text"] == "2024-05-01 10:00,klotter,fore\x00efter,59.756,18.7138"
    assert "NUL" in q.loc[0, "detail"]


# ---------------------------------------------------------------------------- CRS
SWEREF_SQUARE = [[[674000, 6624000], [676000, 6624000], [676000, 6626000], [674000, 6626000],
                  [674000, 6624000]]]  # fmt: skip


def test_boundaries_in_sweref_without_crs_suggest_the_option(
    engine: Engine, tmp_path: Path
) -> None:
    path = tmp_path / "tatorter.geojson"
    feature = {"type": "Feature", "properties": {"code": "X1", "name": "Ort"},
               "geometry": {"type": "Polygon", "coordinates": SWEREF_SQUARE}}  # fmt: skip
    path.write_text(json.dumps({"type": "FeatureCollection", "features": [feature]}))
    with engine.begin() as conn, pytest.raises(BoundaryError, match="--crs EPSG:3006"):
        import_boundary_file(conn, path, name_field="name", code_field="code", kommun="0188")
    with engine.begin() as conn:
        done = import_boundary_file(
            conn, path, name_field="name", code_field="code", kommun="0188", crs="EPSG:3006"
        )
    assert done[0]["count"] == 1


def test_report_points_in_sweref_without_crs_suggest_the_option(
    engine: Engine, tmp_path: Path
) -> None:
    path = tmp_path / "rapporter.geojson"
    point = {"type": "Point", "coordinates": [675000, 6625000]}
    props = {"occurred_at": "2024-05-01 10:00", "category": "klotter"}
    feature = {"type": "Feature", "geometry": point, "properties": props}
    path.write_text(json.dumps({"type": "FeatureCollection", "features": [feature]}))
    with pytest.raises(ValidationError, match="SWEREF 99 TM: ange --crs EPSG:3006"):
        ingest_file(engine, path, kommun="norrtalje", source="actor", now=NOW)
    csv_path = tmp_path / "rapporter.csv"
    csv_path.write_text("occurred_at,category,lat,lon\n2024-05-01 10:00,klotter,6625000,675000\n")
    with pytest.raises(ValidationError, match="--crs EPSG:3006"):
        ingest_file(engine, csv_path, kommun="norrtalje", source="actor", now=NOW)
    assert count_rows(engine, import_run) == 0
