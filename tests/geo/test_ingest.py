"""The import pipeline: outcomes, quarantine reasons, positions, idempotency, retries."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from pyproj import Transformer
from sqlalchemy import Engine, func, select

from geo.boundaries import store_boundaries
from geo.cells import points_to_cells
from geo.errors import MappingError, NotFoundError, ValidationError
from geo.ingest import ingest_file, ingest_frame, retry_quarantine
from geo.quarantine import export_quarantine, list_quarantine
from geo.schema import STORAGE_RES, Reason
from geo.store import current_version, import_run, quarantine, report
from geo.store.reports import read_reports
from geo.tenants import ensure_tenant

NOW = pd.Timestamp("2026-11-20 12:00", tz="UTC")
TOWN = (59.7560, 18.7138)  # inside the locality Norrtälje (0188TC109)
RIMBO = (59.7459, 18.3511)  # inside Rimbo (0188TB111)
COUNTRYSIDE = (59.85, 18.6)  # inside Norrtälje kommun, outside every locality
STOCKHOLM = (59.3293, 18.0686)  # outside the kommun
HEADER = ["occurred_at", "category", "description", "lat", "lon"]


def write_csv(
    path: Path, rows: Sequence[Sequence[object]], header: Sequence[str] = HEADER, sep: str = ","
) -> Path:
    frame = pd.DataFrame([list(r) for r in rows], columns=list(header))
    frame.to_csv(path, index=False, sep=sep)
    return path


def count(engine: Engine, table) -> int:  # type: ignore[no-untyped-def]
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(table)).scalar_one())


class FakeGazetteer:
    """Answers like :class:`geo.gazetteer.Gazetteer` from a fixed table."""

    def __init__(self, answers: dict[str, tuple[float, float, str, str | None]]) -> None:
        self.answers = answers
        self.calls: list[tuple[list[str], str | None]] = []

    def lookup_many(self, texts: Sequence[str], kommun: str | None) -> pd.DataFrame:
        self.calls.append((list(texts), kommun))
        rows: list[dict[str, object]] = []
        for text in texts:
            hit = self.answers.get(text)
            if hit is None:
                rows.append({"lat": float("nan"), "lon": float("nan"), "precision": None,
                             "locality": None, "matched": None})  # fmt: skip
            else:
                lat, lon, precision, locality = hit
                rows.append({"lat": lat, "lon": lon, "precision": precision,
                             "locality": locality, "matched": text})  # fmt: skip
        return pd.DataFrame(rows)


def test_native_csv_is_stored_with_locality_cell_and_utc(engine: Engine, tmp_path: Path) -> None:
    path = write_csv(
        tmp_path / "r.csv",
        [
            ["2024-05-01 22:10", "klotter", "Klotter vid torget", *TOWN],
            ["2024-05-02T01:30:00+02:00", "Skadegörelse", "Krossad ruta", *RIMBO],
            ["2024-07-01 03:00", "brand", None, *COUNTRYSIDE],
        ],
    )
    before = {k: current_version(engine.connect(), k) for k in ("norrtalje", "kungsor")}
    res = ingest_file(engine, path, kommun="norrtalje", source="actor", now=NOW)
    assert res.to_dict() == {
        "read": 3,
        "stored": 3,
        "duplicates": 0,
        "quarantined": 0,
        "reasons": {},
        "precision": {"point": 3, "street": 0, "locality": 0, "kommun": 0},
    }
    with engine.connect() as conn:
        reports = read_reports(conn, "norrtalje").sort_values("occurred_at").reset_index()
        assert current_version(conn, "norrtalje") > before["norrtalje"]
        assert current_version(conn, "kungsor") == before["kungsor"]
        run = conn.execute(select(import_run)).one()
    assert list(reports["category"]) == ["klotter", "skadegorelse", "brand"]  # label -> code
    assert list(reports["locality"].fillna("-")) == ["0188TC109", "0188TB111", "-"]
    # naive times are Europe/Stockholm (CEST = UTC+2); explicit offsets are kept
    assert reports.loc[0, "occurred_at"] == pd.Timestamp("2024-05-01 20:10", tz="UTC")
    assert reports.loc[1, "occurred_at"] == pd.Timestamp("2024-05-01 23:30", tz="UTC")
    expected = points_to_cells([TOWN[0], RIMBO[0], COUNTRYSIDE[0]],
                               [TOWN[1], RIMBO[1], COUNTRYSIDE[1]], STORAGE_RES)  # fmt: skip
    assert list(reports["cell"]) == list(expected)
    assert (reports["cell"] != 0).all()
    assert set(reports["source"]) == {"actor"} and set(reports["status"]) == {"approved"}
    assert run.status == "done" and run.rows_done == 3 and run.counts["stored"] == 3


def test_every_quarantine_reason(engine: Engine, tmp_path: Path) -> None:
    header = ["kommun", "source", "occurred_at", "category", "description", "location_text",
              "lat", "lon"]  # fmt: skip
    ok = ["norrtalje", "actor", "2024-05-01 22:10", "klotter", "ok", None, *TOWN]
    rows = {
        "stored": ok,
        Reason.MISSING_FIELD: ["norrtalje", "actor", "2024-05-01", None, "x", None, *TOWN],
        Reason.UNKNOWN_SOURCE: ["norrtalje", "polis", "2024-05-01", "klotter", "x", None, *TOWN],
        Reason.NO_TENANT: ["Uppsala", "actor", "2024-05-01", "klotter", "x", None, *TOWN],
        Reason.TOO_LONG: ["norrtalje", "actor", "2024-05-01", "klotter", "x" * 4001, None, *TOWN],
        Reason.BAD_TIMESTAMP: ["norrtalje", "actor", "igår kväll", "klotter", "x", None, *TOWN],
        Reason.FUTURE_TIMESTAMP: ["norrtalje", "actor", "2027-01-01", "klotter", "x", None, *TOWN],
        Reason.UNKNOWN_CATEGORY: ["norrtalje", "actor", "2024-05-01", "graffiti", "x", None, *TOWN],
        Reason.BAD_COORDINATES: ["norrtalje", "actor", "2024-05-01", "klotter", "x", None, 95.0,
                                 18.7],
        Reason.NO_POSITION: ["norrtalje", "actor", "2024-05-01", "klotter", "x", None, None, None],
        Reason.OUTSIDE_BOUNDARY: ["norrtalje", "actor", "2024-05-01", "klotter", "x", None,
                                  *STOCKHOLM],
    }  # fmt: skip
    path = write_csv(tmp_path / "all.csv", list(rows.values()), header)
    # one unquoted comma too many: the row is kept as text, the others keep their columns
    bad_line = "norrtalje,actor,2024-05-01 22:10,klotter,Klotter, vid torget,,59.756,18.7138"
    with path.open("a", encoding="utf-8") as fh:
        fh.write(bad_line + "\n")
    res = ingest_file(engine, path, now=NOW, geocoder=FakeGazetteer({}))
    expected = {str(r): 1 for r in [*rows, Reason.BAD_ROW] if r != "stored"}
    assert res.reasons == expected
    assert set(res.reasons) == {r.value for r in Reason}  # every reason code is exercised
    assert (res.stored, res.quarantined, res.duplicates) == (1, len(Reason), 0)
    with engine.connect() as conn:
        q = list_quarantine(conn)
    assert len(q) == len(Reason)
    by_reason = q.set_index("reason")
    # the raw row is kept exactly as read, with a detail message
    raw = by_reason.loc["too_long", "raw"]
    assert raw["description"] == "x" * 4001 and raw["kommun"] == "norrtalje"
    assert "4001 tecken" in by_reason.loc["too_long", "detail"]
    assert "'Uppsala'" in by_reason.loc["no_tenant", "detail"]
    assert by_reason.loc["no_tenant", "kommun"] == "uppsala"
    assert "'graffiti'" in by_reason.loc["unknown_category", "detail"]
    assert "'igår kväll'" in by_reason.loc["bad_timestamp", "detail"]
    assert "utanför Norrtälje" in by_reason.loc["outside_boundary", "detail"]
    assert by_reason.loc["bad_row", "raw"] == {"_text": bad_line}  # byte for byte
    assert "9 fält men rubriken 8" in by_reason.loc["bad_row", "detail"]
    assert list(q["row_number"]) == list(range(2, len(Reason) + 2))
    # running it again quarantines nothing twice and stores nothing new
    again = ingest_file(engine, path, now=NOW, geocoder=FakeGazetteer({}))
    assert (again.stored, again.duplicates, again.quarantined) == (0, 1, len(Reason))
    assert count(engine, quarantine) == len(Reason)
    assert count(engine, report) == 1


def test_reimport_is_idempotent_and_identical_rows_are_both_stored(
    engine: Engine, tmp_path: Path
) -> None:
    same = ["2024-05-01 22:10", "klotter", "Klotter", *TOWN]
    rows = [same, same, ["2024-05-02 10:00", "brand", "Brand", *RIMBO], same[:2] + ["x", 0, 0]]
    path = write_csv(tmp_path / "r.csv", rows)
    first = ingest_file(engine, path, kommun="norrtalje", source="actor", now=NOW)
    assert (first.stored, first.duplicates, first.quarantined) == (3, 0, 1)
    assert first.reasons == {"no_position": 1}
    second = ingest_file(engine, path, kommun="norrtalje", source="actor", now=NOW)
    assert (second.stored, second.duplicates, second.quarantined) == (0, 3, 1)
    assert count(engine, report) == 3 and count(engine, quarantine) == 1
    with engine.connect() as conn:
        runs = conn.execute(select(import_run.c.key, import_run.c.status)).all()
    assert len(runs) == 2 and all(r.status == "done" for r in runs)
    # another file holding one copy of the repeated row: a duplicate of the first copy
    one = write_csv(tmp_path / "one.csv", [same])
    third = ingest_file(engine, one, kommun="norrtalje", source="actor", now=NOW)
    assert (third.stored, third.duplicates) == (0, 1)
    # a third identical row is new
    three = write_csv(tmp_path / "three.csv", [same, same, same])
    fourth = ingest_file(engine, three, kommun="norrtalje", source="actor", now=NOW)
    assert (fourth.stored, fourth.duplicates) == (1, 2)


def test_external_ids_decide_duplicates(engine: Engine, tmp_path: Path) -> None:
    header = ["external_id", *HEADER]
    a = write_csv(
        tmp_path / "a.csv",
        [
            ["A-1", "2024-05-01", "klotter", "first", *TOWN],
            ["A-1", "2024-05-01", "klotter", "same id", *TOWN],
        ],
        header,
    )
    res = ingest_file(engine, a, kommun="norrtalje", source="actor", now=NOW)
    assert (res.stored, res.duplicates) == (1, 1)
    b = write_csv(
        tmp_path / "b.csv",
        [
            ["A-1", "2024-06-01", "brand", "edited", *RIMBO],
            ["A-2", "2024-05-01", "klotter", "first", *TOWN],
        ],
        header,
    )
    res = ingest_file(engine, b, kommun="norrtalje", source="actor", now=NOW)
    assert (res.stored, res.duplicates) == (1, 1)
    # the same id from another source is another report
    res = ingest_file(engine, b, kommun="norrtalje", source="patrol", now=NOW)
    assert (res.stored, res.duplicates) == (2, 0)


def test_sweref_input_with_crs(engine: Engine, tmp_path: Path) -> None:
    to_sweref = Transformer.from_crs(4326, 3006, always_xy=True)
    x, y = to_sweref.transform(TOWN[1], TOWN[0])
    path = write_csv(tmp_path / "sweref.csv", [["2024-05-01", "klotter", "a", x, y]],
                     ["occurred_at", "category", "description", "x", "y"])  # fmt: skip
    with pytest.raises(ValidationError, match="--crs"):
        ingest_file(engine, path, kommun="norrtalje", source="actor", now=NOW)
    res = ingest_file(engine, path, kommun="norrtalje", source="actor", crs="EPSG:3006", now=NOW)
    assert res.stored == 1
    with engine.connect() as conn:
        rep = read_reports(conn, "norrtalje").iloc[0]
    assert rep["lat"] == pytest.approx(TOWN[0], abs=1e-6)
    assert rep["lon"] == pytest.approx(TOWN[1], abs=1e-6)
    assert rep["locality"] == "0188TC109"


def test_utm_input_for_vancouver(vancouver_engine: Engine, tmp_path: Path) -> None:
    rows = [
        ["2020-06-19 03:40", "inbrott_stold", "a", 491059.4824, 5459122.4178],  # West End
        ["2020-06-19 03:40", "inbrott_stold", "b", 0.0, 0.0],
        ["2020-06-19 03:40", "inbrott_stold", "c", 550000.0, 5459122.0],  # 60 km east
    ]
    path = write_csv(
        tmp_path / "utm.csv", rows, ["occurred_at", "category", "description", "x", "y"]
    )
    res = ingest_file(
        vancouver_engine, path, kommun="vancouver", source="police", crs="EPSG:32610", now=NOW
    )
    assert res.reasons == {"no_position": 1, "outside_boundary": 1}
    with vancouver_engine.connect() as conn:
        rep = read_reports(conn, "vancouver").iloc[0]
        q = list_quarantine(conn, reason="no_position")
    assert rep["lat"] == pytest.approx(49.2855, abs=0.002)
    assert rep["lon"] == pytest.approx(-123.124, abs=0.003)
    assert rep["locality"] is not None and rep["cell"] != 0
    # America/Vancouver (PDT = UTC-7)
    assert rep["occurred_at"] == pd.Timestamp("2020-06-19 10:40", tz="UTC")
    assert "0, 0" in q.iloc[0]["detail"]


def test_semicolon_cp1252_file_with_decimal_commas(engine: Engine, tmp_path: Path) -> None:
    text = (
        "occurred_at;category;description;lat;lon\n"
        "2024-05-01 22:10;klotter;Klotter på Ösdalsvägen;59,7560;18,7138\n"
    )
    path = tmp_path / "excel.csv"
    path.write_bytes(text.encode("cp1252"))
    res = ingest_file(engine, path, kommun="norrtalje", source="actor", now=NOW)
    assert res.stored == 1 and (res.encoding, res.delimiter) == ("cp1252", ";")
    with engine.connect() as conn:
        rep = read_reports(conn, "norrtalje").iloc[0]
    assert rep["description"] == "Klotter på Ösdalsvägen"
    assert rep["lat"] == pytest.approx(59.756)


def test_xlsx_and_geojson_files(engine: Engine, tmp_path: Path) -> None:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["occurred_at", "category", "description", "lat", "lon"])
    ws.append([dt.datetime(2024, 5, 1, 22, 10), "klotter", "från Excel", *TOWN])
    xlsx = tmp_path / "r.xlsx"
    wb.save(xlsx)
    res = ingest_file(engine, xlsx, kommun="norrtalje", source="actor", now=NOW)
    assert (res.format, res.stored) == ("xlsx", 1)
    to_sweref = Transformer.from_crs(4326, 3006, always_xy=True)
    x, y = to_sweref.transform(RIMBO[1], RIMBO[0])
    fc = {
        "type": "FeatureCollection",
        "crs": {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::3006"}},
        "features": [
            {"type": "Feature", "geometry": {"type": "Point", "coordinates": [x, y]},
             "properties": {"occurred_at": "2024-05-03 12:00", "category": "brand"}},
            {"type": "Feature", "geometry": {"type": "LineString",
                                             "coordinates": [[x, y], [x + 10, y]]},
             "properties": {"occurred_at": "2024-05-03 12:00", "category": "brand"}},
        ],
    }  # fmt: skip
    gj = tmp_path / "r.geojson"
    gj.write_text(json.dumps(fc), encoding="utf-8")
    res = ingest_file(engine, gj, kommun="norrtalje", source="patrol", now=NOW)
    assert (res.format, res.stored, res.reasons) == ("geojson", 1, {"bad_coordinates": 1})
    with engine.connect() as conn:
        reps = read_reports(conn, "norrtalje").sort_values("occurred_at")
    assert list(reps["locality"]) == ["0188TC109", "0188TB111"]
    assert reps.iloc[0]["occurred_at"] == pd.Timestamp("2024-05-01 20:10", tz="UTC")


def test_geocoded_positions_carry_their_precision(engine: Engine, tmp_path: Path) -> None:
    gaz = FakeGazetteer(
        {
            "Storgatan 5, Rimbo": (RIMBO[0], RIMBO[1], "street", "0188TB111"),
            "Rimbo": (59.74, 18.35, "locality", "0188TB111"),
            "Norrtälje kommun": (59.8, 18.7, "kommun", None),
        }
    )
    header = ["occurred_at", "category", "location_text"]
    rows = [["2024-05-01", "klotter", t] for t in
            ["Storgatan 5, Rimbo", "Rimbo", "Norrtälje kommun", "Okänd gränd 3"]]  # fmt: skip
    path = write_csv(tmp_path / "g.csv", rows, header)
    res = ingest_file(engine, path, kommun="norrtalje", source="actor", geocoder=gaz, now=NOW)
    assert gaz.calls and gaz.calls[0][1] == "norrtalje"
    assert res.precision == {"point": 0, "street": 1, "locality": 1, "kommun": 1}
    assert res.reasons == {"no_position": 1}
    with engine.connect() as conn:
        reps = read_reports(conn, "norrtalje").set_index("location_text")
        q = list_quarantine(conn)
    assert reps.loc["Storgatan 5, Rimbo", "cell"] != 0
    assert reps.loc["Rimbo", "cell"] == 0 and reps.loc["Rimbo", "locality"] == "0188TB111"
    kommun = reps.loc["Norrtälje kommun"]
    assert kommun["cell"] == 0 and pd.isna(kommun["locality"]) and kommun["precision"] == "kommun"
    assert "'Okänd gränd 3' hittades inte" in q.iloc[0]["detail"]


def test_real_gazetteer_places_a_named_locality(engine: Engine, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "g.csv", [["2024-05-01", "klotter", "Klotter i Rimbo"]],
                     ["occurred_at", "category", "location_text"])  # fmt: skip
    res = ingest_file(engine, path, kommun="norrtalje", source="actor", now=NOW)
    assert res.stored == 1 and res.precision["locality"] == 1
    with engine.connect() as conn:
        rep = read_reports(conn, "norrtalje").iloc[0]
    assert rep["locality"] == "0188TB111" and rep["cell"] == 0


def test_ingest_frame_for_single_web_reports(engine: Engine) -> None:
    frame = pd.DataFrame(
        [
            {"occurred_at": pd.Timestamp("2024-05-01 22:10", tz="Europe/Stockholm"),
             "category": "otrygg_plats", "description": "Mörkt", "lat": TOWN[0], "lon": TOWN[1]},
            {"occurred_at": "2024-05-01 22:10", "category": "klotter", "description": "utanför",
             "lat": STOCKHOLM[0], "lon": STOCKHOLM[1]},
        ],
        index=[10, 11],
    )  # fmt: skip
    with engine.begin() as conn:
        res = ingest_frame(conn, frame, kommun="Norrtälje", source="citizen", status="pending")
    out = res.outcomes
    assert out is not None and list(out.index) == [10, 11]
    assert list(out["outcome"]) == ["stored", "quarantined"]
    assert out.loc[11, "reason"] == "outside_boundary" and pd.notna(out.loc[11, "quarantine_id"])
    assert res.stored_ids == [int(out.loc[10, "report_id"])]
    with engine.connect() as conn:
        assert read_reports(conn, "norrtalje").empty  # pending: not for the analysis
        pending = read_reports(conn, "norrtalje", status="pending")
    assert pending.iloc[0]["occurred_at"] == pd.Timestamp("2024-05-01 20:10", tz="UTC")
    with engine.begin() as conn:
        again = ingest_frame(conn, frame.iloc[:1], kommun="norrtalje", source="citizen",
                             status="pending")  # fmt: skip
    assert again.outcomes is not None
    assert again.outcomes.iloc[0]["outcome"] == "duplicate"
    assert again.outcomes.iloc[0]["report_id"] == out.loc[10, "report_id"]
    with engine.begin() as conn, pytest.raises(NotFoundError):
        ingest_frame(conn, frame, kommun="atlantis", source="citizen")
    with engine.begin() as conn, pytest.raises(ValidationError, match="okänd källa"):
        ingest_frame(conn, frame, kommun="norrtalje", source="polis")


def test_retry_after_the_tenant_was_added(engine: Engine, tmp_path: Path) -> None:
    import geopandas as gpd
    import shapely

    header = ["kommun", "occurred_at", "category", "lat", "lon"]
    path = write_csv(tmp_path / "u.csv", [["Uppsala", "2024-05-01", "klotter", 59.8586, 17.6389],
                                          ["Uppsala", "2024-05-01", "brand", 59.8590, 17.6400]],
                     header)  # fmt: skip
    res = ingest_file(engine, path, source="actor", now=NOW)
    assert res.reasons == {"no_tenant": 2}
    with engine.begin() as conn:
        ensure_tenant(conn, "uppsala", name="Uppsala", code="0380")
        square = shapely.box(17.5, 59.8, 17.8, 59.9)
        store_boundaries(conn, gpd.GeoDataFrame(
            {"kommun": ["uppsala"], "level": ["kommun"], "code": ["0380"], "name": ["Uppsala"],
             "approximate": [True], "primary": [True], "population": [None]},
            geometry=[square], crs="EPSG:4326"))  # fmt: skip
    retry = retry_quarantine(engine, reason="no_tenant", now=NOW)
    assert (retry.read, retry.stored, retry.quarantined) == (2, 2, 0)
    with engine.connect() as conn:
        q = list_quarantine(conn, resolved=True)
        reps = read_reports(conn, "uppsala")
    assert len(reps) == 2 and set(q["report_id"]) == set(
        pd.read_sql("select id from report where kommun='uppsala'", conn.engine)["id"]
    )
    assert list_quarantine(engine.connect()).empty
    # nothing left to retry
    assert retry_quarantine(engine, now=NOW).read == 0


def test_retry_with_a_new_mapping(engine: Engine, tmp_path: Path) -> None:
    header = ["TYP", "DATUM", "LAT", "LON"]
    path = write_csv(
        tmp_path / "m.csv",
        [["Klotter", "2024-05-01 10:00", *TOWN], ["Nedskräpning", "2024-05-01 11:00", *TOWN]],
        header,
    )
    base = """
[constants]
source = "actor"
[occurred_at]
column = "DATUM"
[position]
lat = "LAT"
lon = "LON"
[category]
column = "TYP"
[category.values]
"Klotter" = "klotter"
"""
    m1 = tmp_path / "m1.toml"
    m1.write_text(base, encoding="utf-8")
    res = ingest_file(engine, path, kommun="norrtalje", mapping=m1, now=NOW)
    assert (res.stored, res.reasons) == (1, {"unknown_category": 1})
    with engine.connect() as conn:
        q = list_quarantine(conn)
    assert "Nedskräpning saknas i mappningen" in q.iloc[0]["detail"]
    # retrying with the same mapping changes nothing
    same = retry_quarantine(engine, now=NOW)
    assert (same.stored, same.quarantined) == (0, 1)
    m2 = tmp_path / "m2.toml"
    m2.write_text(base + '"Nedskräpning" = "nedskrapning"\n', encoding="utf-8")
    res = retry_quarantine(engine, ids=[int(q.iloc[0]["id"])], mapping=m2, now=NOW)
    assert res.stored == 1
    with engine.connect() as conn:
        assert sorted(read_reports(conn, "norrtalje")["category"]) == ["klotter", "nedskrapning"]


def test_mapping_and_column_errors_raise_before_anything_is_stored(
    engine: Engine, tmp_path: Path
) -> None:
    path = write_csv(tmp_path / "x.csv", [["a", "b"]], ["A", "B"])
    mapping = tmp_path / "bad.toml"
    mapping.write_text(
        '[category]\ncolumn = "TYPE"\n[position]\nx = "X"\ny = "Y"\ncrs = "EPSG:1"\n',
        encoding="utf-8",
    )
    with pytest.raises(MappingError) as info:
        ingest_file(engine, path, kommun="norrtalje", source="actor", mapping=mapping)
    assert len(info.value.problems) >= 4  # TYPE, X, Y, CRS at least, all at once
    with pytest.raises(ValidationError) as info2:
        ingest_file(engine, path, kommun="norrtalje", source="actor")
    text = str(info2.value)
    assert "tidpunkt saknas" in text and "kategori saknas" in text and "position saknas" in text
    assert count(engine, report) == 0 and count(engine, import_run) == 0


def test_quarantine_export(engine: Engine, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "q.csv", [["2024-05-01", "graffiti", "Ö", *TOWN]])
    ingest_file(engine, path, kommun="norrtalje", source="actor", now=NOW)
    with engine.connect() as conn:
        frame = list_quarantine(conn)
    assert export_quarantine(frame, tmp_path / "q.json", "json") == 1
    data = json.loads((tmp_path / "q.json").read_text(encoding="utf-8"))
    assert data[0]["raw"]["description"] == "Ö" and data[0]["reason"] == "unknown_category"
    assert data[0]["reason_text"].startswith("Okänd kategori")
    assert export_quarantine(frame, tmp_path / "q.csv", "csv") == 1
    back = pd.read_csv(tmp_path / "q.csv", encoding="utf-8-sig")
    assert json.loads(back.loc[0, "raw"])["category"] == "graffiti"
    with pytest.raises(ValidationError):
        export_quarantine(frame, tmp_path / "q.xml", "xml")
