"""Boundaries: import of official polygons, validation errors, point assignment."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from click.testing import CliRunner
from sqlalchemy import Engine

from geo.boundaries import (
    assign_points,
    load_boundaries,
    read_boundaries,
    read_boundary_file,
    validate_boundaries,
)
from geo.errors import BoundaryError
from geo.store import connect, current_version, upgrade
from geo.tenants import get_tenant, import_boundary_file, list_tenants, seed_default_tenants
from webmap.cli import main

ROOT = Path(__file__).resolve().parents[2]
VANCOUVER = ROOT / "tests" / "fixtures" / "vancouver" / "vancouver_neighbourhoods.geojson"
LAYER = "To2020_SR99TM"

#: SCB representative points (SWEREF 99 TM) of a few tätorter, SCB tätort register 2020.
SCB_POINTS = [
    # TATORTSKOD, TATORT, KOMMUN, KOMMUNNAMN, x, y, area_ha, population
    ("0188TC109", "Norrtälje", "0188", "Norrtälje", 708601.5, 6630078.0, 1092, 22018),
    ("0188TB111", "Rimbo", "0188", "Norrtälje", 688293.5, 6627876.2, 347, 5223),
    ("0188TB106", "Hallstavik", "0188", "Norrtälje", 700250.1, 6662015.3, 494, 4741),
    ("0188TB120", "Älmsta", "0188", "Norrtälje", 712223.9, 6654117.9, 251, 1532),
    ("0180TC101", "Stockholm", "0180", "Stockholm", 668127.9, 6579433.5, 42243, 1617407),
]


def scb_frame(rows: list[tuple[Any, ...]] = SCB_POINTS, half: float = 900.0) -> gpd.GeoDataFrame:
    """An SCB-schema tätort layer (EPSG:3006) with a square around each point."""
    data: dict[str, list[Any]] = {
        k: []
        for k in (
            "UUID",
            "TATORTSKOD",
            "TATORT",
            "KOMMUN",
            "KOMMUNNAMN",
            "LAN",
            "LANNAMN",
            "AREA_HA",
            "BEF",
            "AR",
        )
    }
    geoms = []
    for i, (code, name, kom, komnamn, x, y, area, pop) in enumerate(rows):
        data["UUID"].append(f"uuid-{i}")
        data["TATORTSKOD"].append(code)
        data["TATORT"].append(name)
        data["KOMMUN"].append(kom)
        data["KOMMUNNAMN"].append(komnamn)
        data["LAN"].append("01")
        data["LANNAMN"].append("Stockholm")
        data["AREA_HA"].append(area)
        data["BEF"].append(pop)
        data["AR"].append(2020)
        geoms.append(shapely.box(x - half, y - half, x + half, y + half))
    return gpd.GeoDataFrame(data, geometry=geoms, crs="EPSG:3006")


def write_gpkg(frame: gpd.GeoDataFrame, path: Path, layer: str = LAYER) -> Path:
    frame.to_file(path, layer=layer, driver="GPKG")
    return path


# ``engine`` (tests/geo/conftest.py): migrated, tenants seeded, SQLite and PostgreSQL


def test_scb_geopackage_replaces_approximations(engine: Engine, tmp_path: Path) -> None:
    gpkg = write_gpkg(scb_frame(), tmp_path / "Tatorter_1980_2020.gpkg")
    with engine.connect() as conn:
        before = read_boundaries(conn, "norrtalje")
        version_before = current_version(conn, "norrtalje")
    assert before["approximate"].all() and len(before) == 27
    with engine.begin() as conn:
        (summary,) = import_boundary_file(conn, gpkg, layer=LAYER, kommun="0188")
    assert summary["kommun"] == "norrtalje" and not summary["created"]
    assert (summary["count"], summary["replaced"], summary["replaced_approximate"]) == (4, 27, 27)
    assert summary["layer"] == LAYER
    with engine.connect() as conn:
        after = read_boundaries(conn, "norrtalje")
        assert current_version(conn, "norrtalje") == version_before + 1
        # other tenants untouched
        assert read_boundaries(conn, "kungsor")["approximate"].all()
        assert read_boundaries(conn, "norrtalje", level="kommun")["approximate"].all()
    assert sorted(after["code"]) == ["0188TB106", "0188TB111", "0188TB120", "0188TC109"]
    assert not after["approximate"].any()
    # the shipped primary flags are kept: Norrtälje, Rimbo, Hallstavik yes; Älmsta no
    primary = dict(zip(after["code"], after["primary"], strict=True))
    assert primary == {
        "0188TC109": True,
        "0188TB111": True,
        "0188TB106": True,
        "0188TB120": False,
    }
    assert dict(zip(after["code"], after["population"], strict=True))["0188TB111"] == 5223
    # reprojected from SWEREF 99 TM: the square's centre is the SCB point
    rimbo = after[after["code"] == "0188TB111"].to_crs("EPSG:3006").geometry.iloc[0]
    assert rimbo.centroid.x == pytest.approx(688293.5, abs=0.5)
    assert rimbo.centroid.y == pytest.approx(6627876.2, abs=0.5)
    assert rimbo.area == pytest.approx(1800.0**2, rel=1e-6)
    assert after.crs.to_epsg() == 4326


def test_unknown_kommun_code_creates_tenant(engine: Engine, tmp_path: Path) -> None:
    gpkg = write_gpkg(scb_frame(), tmp_path / "t.gpkg")
    with engine.begin() as conn:
        (summary,) = import_boundary_file(conn, gpkg, kommun="0180")
    assert summary["created"] and summary["kommun"] == "stockholm" and summary["count"] == 1
    with engine.connect() as conn:
        tenant = get_tenant(conn, "0180")
        stored = read_boundaries(conn, "stockholm")
    assert (tenant.key, tenant.name, tenant.code) == ("stockholm", "Stockholm", "0180")
    assert list(stored["code"]) == ["0180TC101"] and bool(stored["primary"].iloc[0])


def test_without_kommun_only_existing_tenants_are_imported(engine: Engine, tmp_path: Path) -> None:
    gpkg = write_gpkg(scb_frame(), tmp_path / "t.gpkg")
    with engine.begin() as conn:
        summaries = import_boundary_file(conn, gpkg)
    assert [s["kommun"] for s in summaries] == ["norrtalje"]
    with engine.connect() as conn:
        assert "stockholm" not in [t.key for t in list_tenants(conn)]


def test_tenant_key_maps_to_its_code(engine: Engine, tmp_path: Path) -> None:
    gpkg = write_gpkg(scb_frame(), tmp_path / "t.gpkg")
    with engine.begin() as conn:
        (summary,) = import_boundary_file(conn, gpkg, kommun="norrtalje")
    assert summary["count"] == 4


def test_vancouver_neighbourhoods_become_a_tenant(engine: Engine) -> None:
    with engine.begin() as conn:
        (summary,) = import_boundary_file(
            conn, VANCOUVER, kommun="vancouver", timezone="America/Vancouver"
        )
    assert summary["created"] and summary["kommun"] == "vancouver" and summary["count"] == 22
    with engine.connect() as conn:
        tenant = get_tenant(conn, "vancouver")
        stored = read_boundaries(conn, "vancouver")
    assert tenant.code is None and tenant.timezone == "America/Vancouver"
    assert "Riley Park" in set(stored["name"]) and "DS" in set(stored["code"])
    assert stored["primary"].all() and not stored["approximate"].any()
    minx, miny, maxx, maxy = stored.total_bounds
    assert -123.3 < minx < maxx < -123.0 and 49.1 < miny < maxy < 49.4


# -- bad input -----------------------------------------------------------------------------


def _error(tmp_path: Path, path: Path, **kw: Any) -> str:
    eng = connect(f"sqlite:///{tmp_path / 'err.db'}")
    upgrade(eng)
    with pytest.raises(BoundaryError) as info, eng.begin() as conn:
        seed_default_tenants(conn)
        import_boundary_file(conn, path, **kw)
    eng.dispose()
    return str(info.value)


def test_invalid_geometry_names_file_layer_feature_field(tmp_path: Path) -> None:
    frame = scb_frame()
    x, y = 688293.5, 6627876.2
    bowtie = shapely.Polygon([(x, y), (x + 500, y + 500), (x + 500, y), (x, y + 500)])
    frame.loc[1, "geometry"] = bowtie
    msg = _error(tmp_path, write_gpkg(frame, tmp_path / "bad.gpkg"), kommun="0188")
    assert "bad.gpkg" in msg and LAYER in msg
    assert "feature 2 ('Rimbo')" in msg  # GeoPackage feature ids start at 1
    assert "field 'geometry'" in msg and "invalid geometry" in msg and "Self-intersection" in msg


def test_empty_geometry(tmp_path: Path) -> None:
    frame = scb_frame()
    frame.loc[2, "geometry"] = None
    msg = _error(tmp_path, write_gpkg(frame, tmp_path / "empty.gpkg"), kommun="0188")
    assert "empty.gpkg" in msg and LAYER in msg
    assert "feature 3 ('Hallstavik'), field 'geometry': empty geometry" in msg


def test_missing_and_empty_fields(tmp_path: Path) -> None:
    frame = scb_frame().drop(columns=["TATORT"])
    msg = _error(tmp_path, write_gpkg(frame, tmp_path / "nofield.gpkg"), kommun="0188")
    assert "nofield.gpkg" in msg and LAYER in msg and "no name field found" in msg
    msg = _error(
        tmp_path, write_gpkg(scb_frame(), tmp_path / "f.gpkg"), kommun="0188", name_field="NAMN"
    )
    assert "field 'NAMN' (name) is missing" in msg and "f.gpkg" in msg
    frame = scb_frame()
    frame.loc[3, "TATORT"] = ""
    msg = _error(tmp_path, write_gpkg(frame, tmp_path / "blank.gpkg"), kommun="0188")
    assert "blank.gpkg" in msg and "feature 4: field 'TATORT' (name) is empty" in msg


def test_overlapping_localities(tmp_path: Path) -> None:
    rows = list(SCB_POINTS[:2]) + [
        ("0188TB999", "Rimbo norra", "0188", "Norrtälje", 688293.5, 6628276.2, 10, 100)
    ]
    msg = _error(tmp_path, write_gpkg(scb_frame(rows), tmp_path / "ov.gpkg"), kommun="0188")
    assert "ov.gpkg" in msg and LAYER in msg
    assert "localities overlap: feature 2 ('Rimbo') and feature 3 ('Rimbo norra')" in msg
    assert "field 'geometry'" in msg


def test_overlap_detection_on_a_frame() -> None:
    loc = load_boundaries("locality", "norrtalje")
    validate_boundaries(loc)  # the shipped approximations do not overlap
    moved = loc.copy()
    rimbo = moved.index[moved["code"] == "0188TB111"][0]
    norrtalje = moved.loc[moved["code"] == "0188TC109", "geometry"].iloc[0]
    moved.loc[rimbo, "geometry"] = shapely.affinity.translate(norrtalje, 0.005, 0.0)
    with pytest.raises(BoundaryError, match="localities overlap: feature 0 .* and feature"):
        validate_boundaries(moved)


def test_unknown_layer(tmp_path: Path) -> None:
    gpkg = write_gpkg(scb_frame(), tmp_path / "t.gpkg")
    msg = _error(tmp_path, gpkg, layer="To2021_SR99TM", kommun="0188")
    assert "t.gpkg" in msg and "layer 'To2021_SR99TM' not found" in msg and LAYER in msg


def test_shapefile_without_prj_is_missing_crs(tmp_path: Path) -> None:
    shp = tmp_path / "tatorter.shp"
    scb_frame().to_file(shp)
    shp.with_suffix(".prj").unlink()
    msg = _error(tmp_path, shp, kommun="0188")
    assert "tatorter.shp" in msg and "no CRS" in msg and ".prj" in msg


def test_shapefile_with_prj_in_other_crs_is_reprojected(tmp_path: Path) -> None:
    shp = tmp_path / "tatorter.shp"
    scb_frame().to_crs("EPSG:3857").to_file(shp)
    frame = read_boundary_file(shp, kommun_code="0188")
    assert len(frame) == 4 and frame.crs.to_epsg() == 4326
    rimbo = frame[frame["code"] == "0188TB111"].geometry.iloc[0].centroid
    assert (rimbo.y, rimbo.x) == pytest.approx((59.7459, 18.3511), abs=2e-3)


def test_no_feature_for_the_kommun(tmp_path: Path) -> None:
    gpkg = write_gpkg(scb_frame(), tmp_path / "t.gpkg")
    msg = _error(tmp_path, gpkg, kommun="1960")
    assert "no feature has KOMMUN = '1960'" in msg and "t.gpkg" in msg


def test_file_without_kommun_field_needs_kommun(tmp_path: Path) -> None:
    msg = _error(tmp_path, VANCOUVER)
    assert "vancouver_neighbourhoods.geojson" in msg and "--kommun" in msg


def test_missing_file(tmp_path: Path) -> None:
    msg = _error(tmp_path, tmp_path / "nope.gpkg")
    assert "nope.gpkg" in msg


def test_failed_import_stores_nothing(engine: Engine, tmp_path: Path) -> None:
    frame = scb_frame()
    frame.loc[2, "geometry"] = None
    gpkg = write_gpkg(frame, tmp_path / "bad.gpkg")
    with pytest.raises(BoundaryError), engine.begin() as conn:
        import_boundary_file(conn, gpkg, kommun="0180")
    with engine.connect() as conn:
        assert "stockholm" not in [t.key for t in list_tenants(conn)]
        assert read_boundaries(conn, "norrtalje")["approximate"].all()


# -- CLI -----------------------------------------------------------------------------------


def test_cli_import_and_list(tmp_path: Path) -> None:
    env = {"LAGESBILD_DATABASE_URL": f"sqlite:///{tmp_path / 'cli.db'}"}
    eng = connect(env["LAGESBILD_DATABASE_URL"])
    upgrade(eng)
    with eng.begin() as conn:
        seed_default_tenants(conn)
    eng.dispose()
    gpkg = write_gpkg(scb_frame(), tmp_path / "Tatorter_1980_2020.gpkg")
    runner = CliRunner()
    res = runner.invoke(
        main,
        ["boundaries", "import", str(gpkg), "--layer", LAYER, "--kommun", "0188", "--json"],
        env=env,
    )
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    assert out["imported"][0]["kommun"] == "norrtalje" and out["imported"][0]["count"] == 4
    res = runner.invoke(main, ["boundaries", "list", "--kommun", "norrtalje", "--json"], env=env)
    assert res.exit_code == 0, res.output
    rows = json.loads(res.stdout)["boundaries"]
    localities = [r for r in rows if r["level"] == "locality"]
    assert len(localities) == 4 and not any(r["approximate"] for r in localities)
    assert [r for r in rows if r["level"] == "kommun"][0]["approximate"] is True
    res = runner.invoke(main, ["boundaries", "list"], env=env)
    assert res.exit_code == 0 and "Sölvesborg" in res.stdout and "officiell" in res.stdout
    # a bad file: "fel: ..." naming the file, exit code 2
    res = runner.invoke(
        main, ["boundaries", "import", str(gpkg), "--layer", "nope", "--kommun", "0188"], env=env
    )
    assert res.exit_code == 2
    assert "fel:" in res.stderr and "Tatorter_1980_2020.gpkg" in res.stderr


# -- assign_points ---------------------------------------------------------------------------


def test_assign_points_equals_geopandas_sjoin() -> None:
    loc = load_boundaries("locality")
    rng = np.random.default_rng(7)
    minx, miny, maxx, maxy = loc[loc["kommun"] == "norrtalje"].total_bounds
    n = 20_000
    lon = rng.uniform(minx, maxx, n)
    lat = rng.uniform(miny, maxy, n)
    # half of the points near the big localities so that many are inside
    centres = loc[loc["primary"]].to_crs("EPSG:3006").geometry.centroid.to_crs("EPSG:4326")
    k = rng.integers(0, len(centres), n // 2)
    lon[: n // 2] = centres.x.to_numpy()[k] + rng.normal(0, 0.02, n // 2)
    lat[: n // 2] = centres.y.to_numpy()[k] + rng.normal(0, 0.01, n // 2)
    lat[:5] = np.nan  # missing positions stay unassigned
    ours = assign_points(lat, lon, loc)
    # reference: geopandas sjoin on the finite points (NaN points corrupt its STRtree query)
    ok = np.isfinite(lat)
    pts = gpd.GeoDataFrame(geometry=gpd.points_from_xy(lon[ok], lat[ok]), crs="EPSG:4326")
    joined = gpd.sjoin(pts, loc[["code", "geometry"]], how="left", predicate="within")
    assert not joined.index.duplicated().any()  # the localities do not overlap
    ref = np.full(n, None, dtype=object)
    codes = joined["code"].reindex(pts.index).to_numpy(dtype=object)
    ref[ok] = np.where(pd.isna(codes), None, codes)
    assert (ours == ref).all()
    assert sum(x is not None for x in ours) > 2_000
    assert all(x is None for x in ours[:5])
