"""PostgreSQL/PostGIS specifics: geometry columns, the GIS views, the read-only role, COPY.

On PostgreSQL the migration ``store_0004`` adds a PostGIS column ``geom`` (EPSG:4326,
GiST-indexed) to every table with a position or an outline. Each is a *generated*
column computed by the database from the dialect-neutral columns the code writes
(``lat``/``lon``, ``geometry_wkb``, ``geometry_geojson``), so the same code and the same
Alembic history serve SQLite and PostgreSQL, and the geometry can never disagree with
the row. SQLite keeps the plain columns only.

The schema ``gis`` holds the views a GIS department opens in QGIS (one layer each, see
:data:`GIS_VIEWS`); :data:`READ_ONLY_ROLE_SQL` is what a database administrator runs to
give such a user read access to those views and nothing else.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import Engine, Table, event
from sqlalchemy.engine import Connection

from geo.errors import ValidationError

SRID = 4326

#: ``(table, PostGIS type, expression)`` of each generated geometry column ``geom``.
GEOMETRY_COLUMNS: tuple[tuple[str, str, str], ...] = (
    (
        "report",
        "Point",
        "CASE WHEN lat IS NOT NULL AND lon IS NOT NULL "
        f"THEN ST_SetSRID(ST_MakePoint(lon, lat), {SRID}) END",
    ),
    (
        "boundary",
        "MultiPolygon",
        f"ST_Multi(ST_CollectionExtract(ST_GeomFromWKB(geometry_wkb, {SRID}), 3))",
    ),
    (
        "hotspot_zone",
        "MultiPolygon",
        f"ST_Multi(ST_CollectionExtract(ST_GeomFromWKB(geometry_wkb, {SRID}), 3))",
    ),
    (
        "actions",
        "Geometry",
        "CASE WHEN json_typeof(geometry_geojson) = 'object' "
        f"THEN ST_SetSRID(ST_GeomFromGeoJSON(geometry_geojson::text), {SRID}) "
        "WHEN lat IS NOT NULL AND lon IS NOT NULL "
        f"THEN ST_SetSRID(ST_MakePoint(lon, lat), {SRID}) END",
    ),
)

#: The layers of the schema ``gis``: view name -> ``SELECT`` (no free text, no user names).
GIS_VIEWS: dict[str, str] = {
    "rapporter": (
        "SELECT id, kommun, source AS kalla, category AS kategori, severity AS allvarlighet, "
        "occurred_at AS tidpunkt, locality AS tatort, precision AS precision, geom "
        "FROM public.report WHERE status = 'approved' AND geom IS NOT NULL"
    ),
    "kommuner": (
        "SELECT id, kommun, code AS kod, name AS namn, approximate AS ungefarlig, geom "
        "FROM public.boundary WHERE level = 'kommun'"
    ),
    "tatorter": (
        "SELECT id, kommun, code AS kod, name AS namn, approximate AS ungefarlig, "
        "population AS befolkning, geom FROM public.boundary WHERE level = 'locality'"
    ),
    "zoner": (
        "SELECT id, kommun, week AS vecka, zone_id AS zon, name AS namn, locality AS tatort, "
        "pattern AS monster, grade AS grad, n_cells AS celler, data_version, geom "
        "FROM public.hotspot_zone"
    ),
    "atgarder": (
        "SELECT id, kommun, title AS titel, kind AS typ, status, planned_start AS start, "
        "planned_end AS slut, locality AS tatort, zone_id AS zon, public AS publik, geom "
        "FROM public.actions WHERE geom IS NOT NULL"
    ),
}

#: Run by a database administrator: a role that can read the GIS views and nothing else.
#: ``{role}`` is the group role, members log in with their own password.
READ_ONLY_ROLE_SQL: tuple[str, ...] = (
    "CREATE ROLE {role} NOLOGIN",
    "GRANT CONNECT ON DATABASE {database} TO {role}",
    "GRANT USAGE ON SCHEMA gis TO {role}",
    "GRANT SELECT ON ALL TABLES IN SCHEMA gis TO {role}",
    "GRANT USAGE ON SCHEMA public TO {role}",
    "GRANT SELECT ON public.geometry_columns, public.spatial_ref_sys TO {role}",
)


def create_geometry(conn: Connection) -> None:
    """Add the generated ``geom`` columns, their GiST indexes and the ``gis`` views."""
    conn.exec_driver_sql("CREATE EXTENSION IF NOT EXISTS postgis")
    for table, kind, expression in GEOMETRY_COLUMNS:
        conn.exec_driver_sql(
            f"ALTER TABLE {table} ADD COLUMN geom geometry({kind}, {SRID}) "
            f"GENERATED ALWAYS AS ({expression}) STORED"
        )
        conn.exec_driver_sql(f"CREATE INDEX ix_{table}_geom ON {table} USING gist (geom)")
    conn.exec_driver_sql("CREATE SCHEMA IF NOT EXISTS gis")
    for name, query in GIS_VIEWS.items():
        conn.exec_driver_sql(f"CREATE OR REPLACE VIEW gis.{name} AS {query}")


def drop_geometry(conn: Connection) -> None:
    """Undo :func:`create_geometry` (the views first, then the columns)."""
    conn.exec_driver_sql("DROP SCHEMA IF EXISTS gis CASCADE")
    for table, _, _ in GEOMETRY_COLUMNS:
        conn.exec_driver_sql(f"ALTER TABLE {table} DROP COLUMN IF EXISTS geom")


NUL_MESSAGE = "text får inte innehålla NUL-tecken (\\x00)"


def _has_nul(params: Any) -> bool:
    if isinstance(params, str):
        return "\x00" in params
    if isinstance(params, dict):
        return any(_has_nul(v) for v in params.values())
    if isinstance(params, list | tuple):
        return any(_has_nul(v) for v in params)
    return False


def refuse_nul_text(engine: Engine) -> None:
    """Make ``engine`` refuse text parameters with a NUL character (a ``ValidationError``).

    PostgreSQL cannot store or compare NUL in text; without this check such input (a
    hostile query parameter, say) would end in a driver error instead of a 400.
    """

    @event.listens_for(engine, "before_cursor_execute")
    def _check(conn, cursor, statement, parameters, context, executemany):  # type: ignore[no-untyped-def]
        if parameters and _has_nul(parameters):
            raise ValidationError(NUL_MESSAGE)


def _copy_value(value: Any) -> Any:
    if isinstance(value, float) and value != value:  # NaN: no value
        return None
    if isinstance(value, str) and "\x00" in value:
        raise ValidationError(NUL_MESSAGE)
    if isinstance(value, dt.datetime) and value.tzinfo is not None:
        return value.astimezone(dt.UTC).replace(tzinfo=None)
    return value


def copy_rows(conn: Connection, table: Table, rows: Sequence[dict[str, Any]]) -> None:
    """Insert ``rows`` into ``table`` with PostgreSQL's ``COPY … FROM STDIN`` (psycopg 3).

    Every row must have the same keys; columns not given take their defaults in the
    database (none of the bulk-loaded tables has a Python-side default that matters).
    """
    if not rows:
        return
    names = list(rows[0])
    columns = ", ".join(f'"{n}"' for n in names)
    dbapi = conn.connection.driver_connection
    assert dbapi is not None
    with dbapi.cursor() as cur, cur.copy(f"COPY {table.name} ({columns}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row([_copy_value(row[n]) for n in names])


def is_postgresql(conn: Connection) -> bool:
    """Whether ``conn`` talks to PostgreSQL."""
    return conn.dialect.name == "postgresql"


def read_only_role_sql(role: str, database: str) -> Iterable[str]:
    """The statements of :data:`READ_ONLY_ROLE_SQL` for ``role`` on ``database``."""
    return [s.format(role=role, database=database) for s in READ_ONLY_ROLE_SQL]
