"""Reading report files: CSV dialects and encodings, gzip, xlsx, GeoJSON, Polisen JSON."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from geo.errors import ValidationError
from geo.readers import (
    POLISEN_COLUMNS,
    decode_text,
    detect_format,
    read_bytes,
    read_table,
    sniff_delimiter,
)

ROWS = [
    ["2024-05-01 22:10", "klotter", "Klotter på väggen vid Åkerivägen", "59,7560", "18,7138"],
    ["2024-05-02 01:30", "skadegorelse", "Krossad ruta, Södra Bergen", "59,7561", "18,7139"],
]
HEADER = ["occurred_at", "category", "description", "lat", "lon"]


def _write(path: Path, text: str, encoding: str) -> Path:
    path.write_bytes(text.encode(encoding))
    return path


def _csv(delim: str, rows: list[list[str]] = ROWS) -> str:
    return "\n".join(delim.join(r) for r in [HEADER, *rows]) + "\n"


def test_semicolon_cp1252_is_decoded_and_split(tmp_path: Path) -> None:
    path = _write(tmp_path / "excel.csv", _csv(";"), "cp1252")
    table = read_table(path)
    assert table.format == "csv"
    assert table.delimiter == ";"
    assert table.encoding == "cp1252"
    assert list(table.frame.columns) == HEADER
    assert table.frame.loc[0, "description"] == "Klotter på väggen vid Åkerivägen"
    assert table.frame.loc[1, "lat"] == "59,7561"  # decimal comma kept as text


def test_utf8_with_bom_has_a_clean_first_column(tmp_path: Path) -> None:
    rows = [
        [r[0], r[1], "Krossad ruta", r[3].replace(",", "."), r[4].replace(",", ".")] for r in ROWS
    ]
    path = _write(tmp_path / "bom.csv", "\ufeff" + _csv(",", rows), "utf-8")
    table = read_table(path)
    assert table.encoding == "utf-8-sig"
    assert table.delimiter == ","
    assert table.frame.columns[0] == "occurred_at"
    assert table.frame.loc[1, "description"] == "Krossad ruta"
    assert table.frame.loc[1, "lat"] == "59.7561"


def test_comma_with_quoted_commas_and_tab(tmp_path: Path) -> None:
    text = 'occurred_at,category,description\n2024-05-01,klotter,"ett, två, tre"\n'
    table = read_table(_write(tmp_path / "c.csv", text, "utf-8"))
    assert table.delimiter == ","
    assert table.frame.loc[0, "description"] == "ett, två, tre"
    tab = read_table(_write(tmp_path / "t.tsv", _csv("\t"), "utf-8"))
    assert tab.delimiter == "\t"
    assert tab.frame.shape == (2, 5)


def test_empty_cells_are_missing_and_values_stripped(tmp_path: Path) -> None:
    text = "occurred_at;category;description\n 2024-05-01 ; klotter ;\n"
    frame = read_table(_write(tmp_path / "e.csv", text, "utf-8")).frame
    assert frame.loc[0, "occurred_at"] == "2024-05-01"
    assert frame.loc[0, "category"] == "klotter"
    assert pd.isna(frame.loc[0, "description"])


def test_gzip_is_read_transparently(tmp_path: Path) -> None:
    path = tmp_path / "data.csv.gz"
    path.write_bytes(gzip.compress(_csv(";").encode("cp1252")))
    assert read_bytes(path).startswith(b"occurred_at;")
    table = read_table(path)
    assert table.frame.loc[0, "description"].startswith("Klotter på")


def test_decode_and_sniff_helpers() -> None:
    assert decode_text("Sölvesborg".encode("cp1252")) == ("Sölvesborg", "cp1252")
    assert decode_text("Sölvesborg".encode()) == ("Sölvesborg", "utf-8")
    # 0x81 is not in Windows-1252: another encoding is detected, nothing raises
    text, enc = decode_text("Grüße aus Kungsör".encode() + b"\x81")
    assert enc not in ("utf-8", "cp1252") and text.startswith("Gr")
    assert decode_text("Sölvesborg".encode("utf-16")) == ("Sölvesborg", "utf-16")
    assert sniff_delimiter("a|b|c\n1|2|3\n") == "|"
    assert sniff_delimiter("a;b\n1,5;2\n") == ";"


def test_xlsx_written_with_openpyxl(tmp_path: Path) -> None:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["occurred_at", "category", "lat", "lon", "year"])
    ws.append(["2024-05-01 22:10", "klotter", 59.756, 18.7138, 2024])
    ws.append([None, None, None, None, None])  # an empty row is dropped
    ws.append(["2024-05-02 01:30", "brand", 59.7561, 18.7139, 2024])
    path = tmp_path / "rapporter.xlsx"
    wb.save(path)
    table = read_table(path)
    assert table.format == "xlsx"
    assert len(table.frame) == 2
    assert table.frame.loc[0, "lat"] == "59.756"
    assert table.frame.loc[1, "year"] == "2024"  # not "2024.0"


def test_geojson_in_sweref_becomes_wgs84_points(tmp_path: Path) -> None:
    fc = {
        "type": "FeatureCollection",
        "crs": {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::3006"}},
        "features": [
            {
                "type": "Feature",
                "properties": {"category": "klotter", "occurred_at": "2024-05-01T22:10"},
                "geometry": {"type": "Point", "coordinates": [708598.6, 6630081.4]},
            },
            {
                "type": "Feature",
                "properties": {"category": "brand", "occurred_at": "2024-05-02T01:00"},
                "geometry": None,
            },
            {
                "type": "Feature",
                "properties": {"category": "brand", "occurred_at": "2024-05-02T01:00"},
                "geometry": {
                    "type": "Polygon",
                    "coordinates": [[[689656, 6628847], [689756, 6628847], [689756, 6628947],
                                     [689656, 6628847]]],
                },
            },
        ],
    }  # fmt: skip
    path = tmp_path / "rapporter.geojson"
    path.write_text(json.dumps(fc), encoding="utf-8")
    table = read_table(path)
    assert table.format == "geojson"
    frame = table.frame
    assert float(frame.loc[0, "lat"]) == pytest.approx(59.7560, abs=1e-5)
    assert float(frame.loc[0, "lon"]) == pytest.approx(18.7138, abs=1e-5)
    assert pd.isna(frame.loc[1, "lat"])
    assert frame.loc[2, "_geometry"] == "Polygon"


def test_polisen_api_json_is_flattened_to_archive_columns(tmp_path: Path) -> None:
    events = [
        {
            "id": 1,
            "datetime": "2024-04-04 19:59:45 +02:00",
            "name": "04 april 19:30, Brand, Norrtälje",
            "summary": "Brand i Rimbo.",
            "url": "/aktuellt/handelser/x",
            "type": "Brand",
            "location": {"name": "Norrtälje", "gps": "59.759584,18.701358"},
        }
    ]
    path = tmp_path / "events.json"
    path.write_text(json.dumps(events, ensure_ascii=False), encoding="utf-8")
    table = read_table(path)
    assert table.format == "polisen-json"
    assert list(table.frame.columns) == list(POLISEN_COLUMNS)
    row = table.frame.iloc[0]
    assert row["published"] == "2024-04-04 19:59:45 +02:00"
    assert row["location_name"] == "Norrtälje"
    assert row["location_gps"] == "59.759584,18.701358"
    assert pd.isna(row["body_text"])


def test_polisen_archive_csv_is_recognised(tmp_path: Path) -> None:
    header = ",".join(POLISEN_COLUMNS)
    data = (header + '\n1,2024-04-04 19:59:45 +02:00,"x, Brand, Rimbo",Brand,,,,,,\n').encode()
    assert detect_format("events.csv", data) == "polisen"
    assert detect_format("x.csv", b"occurred_at,category\n") == "csv"
    assert detect_format("x.json", b'{"type": "FeatureCollection"}') == "geojson"
    assert detect_format("x.json", b"[]") == "polisen-json"


def test_missing_file_and_unknown_format(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="finns inte"):
        read_table(tmp_path / "nope.csv")
    path = _write(tmp_path / "a.csv", _csv(","), "utf-8")
    with pytest.raises(ValidationError, match="okänt format"):
        read_table(path, format="parquet")
    bad = tmp_path / "bad.xlsx"
    bad.write_bytes(b"not a workbook")
    with pytest.raises(ValidationError, match="kan inte läsa"):
        read_table(bad)
