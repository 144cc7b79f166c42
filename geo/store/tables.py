"""Database tables of the geo package (SQLAlchemy Core, dialect-neutral).

Positions are stored as WGS84 ``lat``/``lon`` columns and H3 cells as signed 64-bit
integers (every valid H3 index is below 2**63). Geometries of boundaries are stored as
WKB in EPSG:4326. Timestamps are stored as naive UTC.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

metadata = MetaData(naming_convention=NAMING)

#: A kommun is a tenant: boundaries, categories and settings are per kommun.
kommun = Table(
    "kommun",
    metadata,
    Column("key", String(64), primary_key=True),  # slug, e.g. "norrtalje", "vancouver"
    Column("code", String(16), nullable=True, unique=True),  # SCB code, e.g. "0188"
    Column("name", String(200), nullable=False),
    Column("settings", JSON, nullable=False, default=dict),  # categories, weights, k, tz...
    Column("created_at", DateTime, nullable=False),
)

#: Kommun and locality polygons (approximated or official).
boundary = Table(
    "boundary",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("kommun", String(64), ForeignKey("kommun.key", ondelete="CASCADE"), nullable=False),
    Column("level", String(16), nullable=False),  # "kommun" | "locality"
    Column("code", String(64), nullable=False),
    Column("name", String(200), nullable=False),
    Column("geometry_wkb", LargeBinary, nullable=False),  # EPSG:4326
    Column("approximate", Boolean, nullable=False, default=False),
    Column("primary", Boolean, nullable=False, default=True),  # shown in the lägesbild
    Column("source", Text, nullable=True),
    Column("population", Integer, nullable=True),
    Column("imported_at", DateTime, nullable=False),
    UniqueConstraint("kommun", "level", "code", name="uq_boundary_kommun_level_code"),
)

#: One import of one file (or one web submission batch); resumable.
import_run = Table(
    "import_run",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("key", String(128), nullable=False, unique=True),  # sha256 of file+options
    Column("file_name", Text, nullable=True),
    Column("kommun", String(64), nullable=True),
    Column("source", String(16), nullable=True),
    Column("options", JSON, nullable=False, default=dict),
    Column("rows_done", Integer, nullable=False, default=0),
    Column("counts", JSON, nullable=False, default=dict),
    Column("status", String(16), nullable=False),  # running | done
    Column("started_at", DateTime, nullable=False),
    Column("finished_at", DateTime, nullable=True),
)

#: Stored reports (see :mod:`geo.schema` for the meaning of each column).
report = Table(
    "report",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("kommun", String(64), ForeignKey("kommun.key", ondelete="CASCADE"), nullable=False),
    Column("source", String(16), nullable=False),
    Column("external_id", String(200), nullable=True),
    Column("fingerprint", String(64), nullable=False),
    Column("occurred_at", DateTime, nullable=False),
    Column("reported_at", DateTime, nullable=True),
    Column("category", String(64), nullable=False),
    Column("severity", Float, nullable=True),
    Column("description", Text, nullable=True),
    Column("reporter_org", String(200), nullable=True),
    Column("location_text", Text, nullable=True),
    Column("lat", Float, nullable=True),
    Column("lon", Float, nullable=True),
    Column("precision", String(16), nullable=False),
    Column("locality", String(64), nullable=True),
    Column("cell", BigInteger, nullable=True),  # H3 at STORAGE_RES; NULL = no cell
    Column("status", String(16), nullable=False, default="approved"),
    Column("import_id", Integer, ForeignKey("import_run.id"), nullable=True),
    Column("created_at", DateTime, nullable=False),
    UniqueConstraint("kommun", "fingerprint", name="uq_report_kommun_fingerprint"),
    Index("ix_report_kommun_occurred", "kommun", "occurred_at"),
    Index("ix_report_kommun_cell", "kommun", "cell"),
    Index("ix_report_source_external", "kommun", "source", "external_id"),
)

#: Rows that could not be stored, kept with their raw content so nothing is lost.
quarantine = Table(
    "quarantine",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("import_id", Integer, ForeignKey("import_run.id"), nullable=True),
    Column("kommun", String(64), nullable=True),
    Column("source", String(16), nullable=True),
    Column("row_number", Integer, nullable=True),
    Column("reason", String(32), nullable=False),
    Column("detail", Text, nullable=True),
    Column("raw", JSON, nullable=False),
    Column("raw_fingerprint", String(64), nullable=False, unique=True),
    Column("created_at", DateTime, nullable=False),
    Column("resolved_at", DateTime, nullable=True),
    Column("report_id", Integer, ForeignKey("report.id"), nullable=True),
)

#: Monotonic data version per kommun: bumped whenever reports change (cache key).
data_version = Table(
    "data_version",
    metadata,
    Column("kommun", String(64), ForeignKey("kommun.key", ondelete="CASCADE"), primary_key=True),
    Column("version", Integer, nullable=False, default=0),
    Column("updated_at", DateTime, nullable=False),
)

#: On-disk cache of online geocoder answers.
geocode_cache = Table(
    "geocode_cache",
    metadata,
    Column("provider", String(32), primary_key=True),
    Column("query", String(500), primary_key=True),
    Column("lat", Float, nullable=True),
    Column("lon", Float, nullable=True),
    Column("precision", String(16), nullable=True),
    Column("label", Text, nullable=True),
    Column("created_at", DateTime, nullable=False),
)
