"""Exports readable by GDAL: GeoPackage and GeoJSON read back with pyogrio, CSV with WKT."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pandas as pd
import pyogrio
import pytest


@pytest.mark.parametrize("what", ["rapporter", "zoner", "celler", "atgarder"])
def test_geopackage_export_reads_back(
    demo_app: Any, client: Any, make_user: Any, login: Any, tmp_path: Path, what: str
) -> None:
    creds = make_user("reader")
    login(client, creds.username, creds.password)
    resp = client.get(f"/export/{what}.gpkg?kommun=norrtalje&vecka=2026-W47")
    assert resp.status_code == 200
    assert "attachment" in resp.headers["Content-Disposition"]
    path = tmp_path / f"{what}.gpkg"
    path.write_bytes(resp.data)
    layers = pyogrio.list_layers(path)
    assert layers[0][0] == what
    frame = pyogrio.read_dataframe(path)
    assert frame.crs.to_epsg() == 4326
    if what == "rapporter":
        assert len(frame) > 500 and {"category", "occurred_at", "source"} <= set(frame.columns)
    if what == "zoner":
        assert len(frame) >= 2 and frame.geometry.notna().all()
        assert {"pattern_sv", "explanation", "grade"} <= set(frame.columns)
    if what == "celler":
        assert len(frame) > 10 and (frame.geometry.geom_type == "Polygon").all()


def test_geojson_and_csv_exports(
    demo_app: Any, client: Any, make_user: Any, login: Any, tmp_path: Path
) -> None:
    creds = make_user("planner")
    login(client, creds.username, creds.password)
    gj = client.get("/export/zoner.geojson?kommun=norrtalje&vecka=2026-W47")
    path = tmp_path / "zoner.geojson"
    path.write_bytes(gj.data)
    assert len(pyogrio.read_dataframe(path)) >= 2
    csv = client.get("/export/rapporter.csv?kommun=norrtalje")
    frame = pd.read_csv(io.BytesIO(csv.data))
    assert "wkt" in frame.columns and frame["wkt"].str.startswith("POINT").sum() > 500
    assert client.get("/export/hemligt.csv").status_code == 404


def test_csv_export_keeps_formulas_inert_and_swedish_letters_readable() -> None:
    import geopandas as gpd
    from shapely.geometry import Point

    from webmap.planner.exports import frame_to_bytes

    texts = ['=HYPERLINK("http://x.invalid","klicka")', "+1+2", "-3", "@SUM(A1)"]
    texts.append("Klotter på förskolan")
    frame = gpd.GeoDataFrame(
        {"description": texts, "count": [1, -2, 3, 4, 5]},
        geometry=[Point(18.7, 59.76)] * 5,
        crs="EPSG:4326",
    )
    data = frame_to_bytes(frame, "csv", "rapporter")
    assert data.startswith(b"\xef\xbb\xbf")  # Excel reads the file as UTF-8
    back = pd.read_csv(io.BytesIO(data), encoding="utf-8-sig")
    assert back["description"].tolist() == ["'" + t for t in texts[:4]] + [texts[4]]
    assert back["count"].tolist() == [1, -2, 3, 4, 5]  # numbers stay numbers
    assert back["wkt"].str.startswith("POINT").all()
