"""Database tables of the web app (SQLAlchemy Core).

The tables are created by the web app's own Alembic branch (``webmap``) in
``webmap/migrations/versions/`` with explicit ``op.create_table`` calls; the definitions
here are what the code queries. Timestamps are naive UTC like in :mod:`geo.store`.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Date,
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

from geo.store.tables import NAMING

metadata = MetaData(naming_convention=NAMING)

#: Roles a user can have; a planner may do everything.
ROLES: tuple[str, ...] = ("planner", "reader", "patrol", "reporter")

#: Users of the web app (planners, readers, patrol hosts, reporting actors).
users = Table(
    "users",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("username", String(100), nullable=False, unique=True),
    Column("password_hash", String(255), nullable=False),
    Column("role", String(16), nullable=False),
    Column("kommuner", JSON, nullable=False, default=list),  # [] = every kommun
    Column("reporter_org", String(200), nullable=True),
    Column("active", Boolean, nullable=False, default=True),
    Column("created_at", DateTime, nullable=False),
    Column("last_login", DateTime, nullable=True),
    # generation of the user's sessions; raised by logout, password change, disable
    Column("session_epoch", Integer, nullable=False, default=0, server_default="0"),
)

#: Kinds and statuses of actions (Swedish codes, shown as-is in the UI).
ACTION_KINDS: tuple[str, ...] = (
    "kamerabevakning",
    "belysning",
    "ombyggnad",
    "ordningsvakter",
    "trygghetsvandring",
    "städning",
    "annat",
)
ACTION_STATUSES: tuple[str, ...] = ("planerad", "pågår", "genomförd", "avbruten")

#: Measures (åtgärder) decided by the safety work, tied to a place.
actions = Table(
    "actions",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("kommun", String(64), ForeignKey("kommun.key", ondelete="CASCADE"), nullable=False),
    Column("title", String(300), nullable=False),
    Column("kind", String(32), nullable=False),
    Column("responsible", String(200), nullable=True),
    Column("status", String(16), nullable=False),
    Column("planned_start", Date, nullable=True),
    Column("planned_end", Date, nullable=True),
    Column("description", Text, nullable=True),
    Column("locality", String(64), nullable=True),  # locality code
    Column("zone_id", String(64), nullable=True),
    Column("cells", JSON, nullable=False, default=list),  # H3 ids as strings
    Column("lat", Float, nullable=True),
    Column("lon", Float, nullable=True),
    Column("geometry_geojson", JSON, nullable=True),  # optional area (EPSG:4326)
    Column("public", Boolean, nullable=False, default=False),
    Column("external_key", String(200), nullable=True),  # idempotent demo/import loads
    Column("created_by", String(100), nullable=True),
    Column("created_at", DateTime, nullable=False),
    Column("updated_at", DateTime, nullable=False),
    UniqueConstraint("kommun", "external_key", name="uq_actions_kommun_external_key"),
    Index("ix_actions_kommun_status", "kommun", "status"),
)

#: Follow-up notes of an action, dated per meeting.
action_followups = Table(
    "action_followups",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("action_id", Integer, ForeignKey("actions.id", ondelete="CASCADE"), nullable=False),
    Column("meeting_date", Date, nullable=False),
    Column("note", Text, nullable=False),
    Column("status", String(16), nullable=True),  # status set at that meeting
    Column("author", String(100), nullable=True),
    Column("created_at", DateTime, nullable=False),
    Index("ix_action_followups_action", "action_id"),
)

#: Grades per locality and period: suggested by the analysis, set by the meeting (audit).
grade_decisions = Table(
    "grade_decisions",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("kommun", String(64), ForeignKey("kommun.key", ondelete="CASCADE"), nullable=False),
    Column("period", String(16), nullable=False),  # ISO week "2026-W47"
    Column("locality", String(64), nullable=False),
    Column("suggested_grade", Integer, nullable=True),
    Column("suggested_explanation", Text, nullable=True),
    Column("grade", Integer, nullable=False),
    Column("comment", Text, nullable=True),
    Column("decided_by", String(100), nullable=False),
    Column("decided_at", DateTime, nullable=False),
    Index("ix_grade_decisions_period", "kommun", "period", "locality"),
)

#: Published weekly pictures (the HTML and PDF of one kommun and week).
publications = Table(
    "publications",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("kommun", String(64), ForeignKey("kommun.key", ondelete="CASCADE"), nullable=False),
    Column("period", String(16), nullable=False),
    Column("published_by", String(100), nullable=False),
    Column("published_at", DateTime, nullable=False),
    Column("data_version", Integer, nullable=False),
    Column("html", Text, nullable=False),
    Column("pdf", LargeBinary, nullable=False),
    Index("ix_publications_period", "kommun", "period"),
)
