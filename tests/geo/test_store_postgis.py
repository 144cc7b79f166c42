"""PostgreSQL/PostGIS: geometry columns, GIS views, the read-only role, COPY, GDAL access.

Runs on the session's throwaway PostgreSQL cluster (``engine`` on PostgreSQL); the layers are
opened the way a GIS client does, through GDAL's PostgreSQL driver and a ``PG:``
connection string, and read back with pyogrio.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import pandas as pd
import psycopg
import pyogrio
import pytest
import shapely
from shapely.geometry import Polygon, mapping
from sqlalchemy import Engine, inspect, select, text

from geo.ingest import ingest_frame
from geo.store import report
from geo.store.actions import insert_action
from geo.store.postgis import GIS_VIEWS, read_only_role_sql
from geo.store.zones import read_zones, replace_zones

TOWN = (59.7580, 18.7050)  # Norrtälje centre
ZONE = Polygon([(18.700, 59.755), (18.710, 59.755), (18.710, 59.761), (18.700, 59.761)])
AREA = Polygon([(18.702, 59.756), (18.706, 59.756), (18.706, 59.758)])


pytestmark = pytest.mark.dialects("postgresql")


def _store_layers(engine: Engine) -> tuple[int, int]:
    """A zone of week 2026-W47 and two actions (an area, a point); returns the action ids."""
    with engine.begin() as conn:
        replace_zones(
            conn,
            "norrtalje",
            "2026-W47",
            7,
            [
                {
                    "id": "z1",
                    "name": "Torget",
                    "grade": 4,
                    "cells": ["a", "b"],
                    "geometry": mapping(ZONE),
                }
            ],
        )
        area = insert_action(
            conn,
            "norrtalje",
            {"title": "Belysning", "kind": "belysning", "status": "planerad",
             "geometry_geojson": mapping(AREA), "cells": []},
        )  # fmt: skip
        point = insert_action(
            conn,
            "norrtalje",
            {"title": "Kamera", "kind": "kamerabevakning", "status": "pågår",
             "lat": TOWN[0], "lon": TOWN[1], "cells": []},
        )  # fmt: skip
    return area, point


def test_geometry_columns_have_srid_4326_and_gist_indexes(engine: Engine) -> None:
    with engine.connect() as conn:
        columns = conn.execute(
            text("SELECT f_table_name, type, srid FROM geometry_columns WHERE f_geometry_column"
                 " = 'geom' AND f_table_schema = 'public' ORDER BY 1")
        ).all()  # fmt: skip
        indexes = {
            ix["name"]: ix for t in ("report", "boundary", "hotspot_zone", "actions")
            for ix in inspect(conn).get_indexes(t)
        }  # fmt: skip
        methods = dict(
            conn.execute(
                text("SELECT c.relname, am.amname FROM pg_class c JOIN pg_am am ON am.oid = "
                     "c.relam WHERE c.relname LIKE 'ix_%_geom'")
            ).all()
        )  # fmt: skip
        boundaries = conn.execute(
            text("SELECT count(*), min(ST_SRID(geom)), bool_and(ST_IsValid(geom) AND NOT "
                 "ST_IsEmpty(geom)) FROM boundary")
        ).one()  # fmt: skip
    assert [tuple(c) for c in columns] == [
        ("actions", "GEOMETRY", 4326),
        ("boundary", "MULTIPOLYGON", 4326),
        ("hotspot_zone", "MULTIPOLYGON", 4326),
        ("report", "POINT", 4326),
    ]
    assert {f"ix_{t}_geom" for t in ("report", "boundary", "hotspot_zone", "actions")} <= set(
        indexes
    )
    assert set(methods.values()) == {"gist"} and len(methods) == 4
    assert boundaries[0] > 0 and boundaries[1] == 4326 and boundaries[2]


def test_report_points_follow_lat_lon_and_are_copied_in(engine: Engine) -> None:
    frame = pd.DataFrame(
        [{"occurred_at": "2024-05-01 22:10", "category": "klotter", "lat": TOWN[0] + i * 1e-4,
          "lon": TOWN[1], "external_id": f"r{i}"} for i in range(300)]
        + [{"occurred_at": "2024-05-01 22:10", "category": "klotter", "lat": None, "lon": None,
            "location_text": "Norrtälje", "external_id": "text"}]
    )  # fmt: skip
    with engine.begin() as conn:
        res = ingest_frame(conn, frame, kommun="norrtalje", source="actor")
    assert res.counts()["stored"] == 301
    with engine.connect() as conn:
        rows = conn.execute(
            text("SELECT external_id, lat, lon, ST_X(geom), ST_Y(geom), ST_SRID(geom) "
                 "FROM report ORDER BY id")
        ).all()  # fmt: skip
        view = conn.execute(text("SELECT count(*) FROM gis.rapporter")).scalar_one()
    points = [r for r in rows if r[0] != "text"]
    assert len(points) == 300
    assert all(r[3] == r[2] and r[4] == r[1] and r[5] == 4326 for r in points)
    placed = next(r for r in rows if r[0] == "text")
    # a report placed from its text has the locality's point, never an invented one
    assert (placed[3] is None) == (placed[1] is None)
    assert view == sum(1 for r in rows if r[3] is not None)


def test_zones_and_actions_are_stored_with_their_geometry(engine: Engine) -> None:
    area, point = _store_layers(engine)
    with engine.connect() as conn:
        zones = read_zones(conn, "norrtalje", "2026-W47")
        geoms = dict(
            conn.execute(text("SELECT id, ST_AsBinary(geom) FROM actions")).all()
        )  # fmt: skip
        zone_geom = conn.execute(text("SELECT ST_AsBinary(geom) FROM hotspot_zone")).scalar_one()
    assert [z["zone_id"] for z in zones] == ["z1"] and zones[0]["n_cells"] == 2
    assert shapely.from_wkb(bytes(zone_geom)).equals(ZONE)
    assert shapely.from_wkb(bytes(geoms[area])).equals(AREA)
    assert shapely.from_wkb(bytes(geoms[point])).equals(shapely.Point(TOWN[1], TOWN[0]))
    with engine.begin() as conn:  # a new analysis of the week replaces its zones
        replace_zones(conn, "norrtalje", "2026-W47", 8, [])
        assert read_zones(conn, "norrtalje", "2026-W47") == []


def test_read_only_role_reads_the_gis_views_and_nothing_else(
    engine: Engine, postgres_server: Any
) -> None:
    _store_layers(engine)
    database = engine.url.database
    assert database is not None
    with engine.begin() as conn:
        for statement in read_only_role_sql("lagesbild_gis_test", database):
            conn.exec_driver_sql(statement)
        conn.exec_driver_sql("CREATE ROLE qgis_anna LOGIN IN ROLE lagesbild_gis_test")
    try:
        with psycopg.connect(
            host="127.0.0.1", port=postgres_server.port, user="qgis_anna", dbname=database
        ) as conn:
            for view in GIS_VIEWS:
                conn.execute(f"SELECT * FROM gis.{view}").fetchall()  # type: ignore[arg-type]
            assert conn.execute("SELECT count(*) FROM gis.atgarder").fetchone() == (2,)
            conn.rollback()
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute("SELECT description FROM public.report")
            conn.rollback()
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute("DELETE FROM gis.zoner")
            conn.rollback()
    finally:
        with engine.begin() as conn:
            conn.exec_driver_sql("DROP ROLE qgis_anna")
            conn.exec_driver_sql("DROP OWNED BY lagesbild_gis_test")
            conn.exec_driver_sql("DROP ROLE lagesbild_gis_test")


def test_gdal_opens_the_postgis_layers_like_a_gis_client(
    engine: Engine, postgres_server: Any, tmp_path: Path
) -> None:
    area, point = _store_layers(engine)
    ogr2ogr = shutil.which("ogr2ogr")
    assert ogr2ogr, "GDAL saknas: kör `make system-deps` (Debian-paketet gdal-bin)"
    pg = (
        f"PG:host=127.0.0.1 port={postgres_server.port} dbname={engine.url.database} "
        f"user={engine.url.username}"
    )
    listing = subprocess.run(
        [shutil.which("ogrinfo") or "ogrinfo", "-ro", "-q", pg],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    for layer in ("gis.zoner", "gis.atgarder", "gis.tatorter", "gis.kommuner", "gis.rapporter"):
        assert layer in listing.stdout, listing.stdout
    out = tmp_path / "lager.gpkg"
    subprocess.run(
        [ogr2ogr, "-f", "GPKG", str(out), pg, "gis.zoner", "gis.atgarder", "gis.tatorter"],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    layers = {name for name, _ in pyogrio.list_layers(out)}
    assert {"gis_zoner", "gis_atgarder", "gis_tatorter"} <= layers | {
        n.replace(".", "_") for n in layers
    }
    zoner_layer = next(n for n in layers if n.endswith("zoner"))
    atgarder_layer = next(n for n in layers if n.endswith("atgarder"))
    assert pyogrio.read_info(out, layer=zoner_layer)["crs"] == "EPSG:4326"
    assert pyogrio.read_info(out, layer=atgarder_layer)["crs"] == "EPSG:4326"
    zones = pyogrio.read_dataframe(out, layer=zoner_layer)
    actions = pyogrio.read_dataframe(out, layer=atgarder_layer)
    assert zones.crs.to_epsg() == 4326 and actions.crs.to_epsg() == 4326
    assert list(zones["zon"]) == ["z1"] and list(zones["grad"]) == [4]
    assert zones.geometry.iloc[0].equals(shapely.MultiPolygon([ZONE]))
    by_title = dict(zip(actions["titel"], actions.geometry, strict=True))
    assert by_title["Belysning"].equals(AREA)
    assert by_title["Kamera"].equals(shapely.Point(TOWN[1], TOWN[0]))


@pytest.mark.dialects("sqlite")
def test_sqlite_keeps_plain_columns(engine: Engine) -> None:
    for table in ("report", "boundary", "hotspot_zone", "actions"):
        assert "geom" not in {c["name"] for c in inspect(engine).get_columns(table)}
    with engine.connect() as conn:
        assert conn.execute(select(report.c.id)).all() == []
