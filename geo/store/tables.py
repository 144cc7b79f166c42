"""Every table of the lagesbild database (SQLAlchemy Core, dialect-neutral, one MetaData).

Positions are stored as WGS84 ``lat``/``lon`` columns and H3 cells as signed 64-bit
integers (every valid H3 index is below 2**63). Geometries of boundaries and zones are
stored as WKB in EPSG:4326. Timestamps are stored as naive UTC. On PostgreSQL the tables
with a position or outline also have a generated PostGIS column ``geom`` (EPSG:4326,
GiST-indexed; see :mod:`geo.store.postgis`), which the code never writes.

The tables are created by the Alembic revisions in ``geo/store/migrations/versions`` with
explicit ``op.create_table`` calls; the definitions here are what the code queries.

Privacy notes (citizen tables)
------------------------------
* No table has a column for an IP address, user agent or any other identifier of the
  person who reported.
* ``citizen_report.pii_flags`` holds only the *kinds* of personal data found (``"phone"``),
  never the matched text.
* ``moderation_log`` keeps before/after hashes of the text, salted with the report's own
  ``text_salt``; retention deletes the salt together with the text, after which the hashes
  can no longer be linked to any guessed text (crypto-shredding).
* ``api_key`` stores only a SHA-256 hash of each key and a short public prefix.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
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


# --------------------------------------------------------------------------- web app

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


#: Hotspot zones of each analysed week (migration ``store_0004``), for GIS clients; on
#: PostgreSQL a generated PostGIS column ``geom`` follows ``geometry_wkb``.
hotspot_zone = Table(
    "hotspot_zone",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("kommun", String(64), ForeignKey("kommun.key", ondelete="CASCADE"), nullable=False),
    Column("week", String(16), nullable=False),  # ISO week "2026-W47"
    Column("zone_id", String(64), nullable=False),
    Column("name", String(200), nullable=True),
    Column("locality", String(64), nullable=True),
    Column("pattern", String(64), nullable=True),
    Column("grade", Integer, nullable=True),
    Column("n_cells", Integer, nullable=False),
    Column("geometry_wkb", LargeBinary, nullable=False),  # EPSG:4326
    Column("data_version", Integer, nullable=False),
    Column("computed_at", DateTime, nullable=False),
    UniqueConstraint("kommun", "week", "zone_id", name="uq_hotspot_zone_kommun_week_zone"),
)


# --------------------------------------------------------------------------- citizens


#: Partner systems allowed to POST Open311 requests (``api_key`` parameter).
api_key = Table(
    "api_key",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("name", String(200), nullable=False),
    Column("prefix", String(16), nullable=False, unique=True),
    Column("key_hash", String(64), nullable=False, unique=True),
    Column("kommun", String(64), ForeignKey(kommun.c.key, ondelete="CASCADE"), nullable=True),
    Column("created_by", String(100), nullable=True),
    Column("created_at", DateTime, nullable=False),
    Column("last_used_at", DateTime, nullable=True),
    Column("revoked_at", DateTime, nullable=True),
)

#: One row per citizen report: receipt, idempotency key, channel, flags, moderation state.
citizen_report = Table(
    "citizen_report",
    metadata,
    Column("report_id", Integer, ForeignKey(report.c.id, ondelete="CASCADE"), primary_key=True),
    Column("kommun", String(64), nullable=False),
    Column("receipt", String(24), nullable=False, unique=True),
    Column("idempotency_key", String(64), nullable=True, unique=True),
    Column("channel", String(16), nullable=False),  # web | api | open311
    Column("api_key_id", Integer, ForeignKey("api_key.id"), nullable=True),
    Column("time_of_day", String(16), nullable=True),
    Column("pii_flags", JSON, nullable=False, default=list),
    Column("text_salt", String(32), nullable=True),
    Column("submitted_at", DateTime, nullable=False),
    Column("moderated_at", DateTime, nullable=True),
    Column("moderated_by", String(100), nullable=True),
    Column("text_deleted_at", DateTime, nullable=True),
    Index("ix_citizen_report_kommun_submitted", "kommun", "submitted_at"),
)

#: Audit log of every moderation decision (who, when, what, text hashes before/after).
moderation_log = Table(
    "moderation_log",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("report_id", Integer, ForeignKey(report.c.id, ondelete="CASCADE"), nullable=False),
    Column("kommun", String(64), nullable=False),
    Column("action", String(16), nullable=False),  # approve | reject | redact
    Column("actor", String(100), nullable=False),
    Column("actor_id", Integer, nullable=True),
    Column("at", DateTime, nullable=False),
    Column("status_before", String(16), nullable=False),
    Column("status_after", String(16), nullable=False),
    Column("text_hash_before", String(64), nullable=True),
    Column("text_hash_after", String(64), nullable=True),
    Column("pii_flags", JSON, nullable=False, default=list),
    Index("ix_moderation_log_report", "report_id"),
    Index("ix_moderation_log_kommun_at", "kommun", "at"),
)


# --------------------------------------------------------------------------- patrol

#: One row per idempotency key of the patrol page (migration ``patrol_0001``).
patrol_observation = Table(
    "patrol_observation",
    metadata,
    Column("key", String(64), primary_key=True),
    Column("report_id", Integer, ForeignKey(report.c.id, ondelete="CASCADE"), index=True),
    Column("kommun", String(64), nullable=False),
    Column("user_id", Integer, nullable=True),
    Column("created_at", DateTime, nullable=False),
)


# --------------------------------------------------------------------------- mail

#: Every outgoing message waits here until the SMTP server has accepted it (migration
#: ``store_0005_mail``). ``status`` is ``pending`` (due at ``next_try_at``), ``sent`` or
#: ``failed`` (gave up after the last attempt); ``last_error`` says why the last try failed.
mail_outbox = Table(
    "mail_outbox",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("kind", String(32), nullable=False),  # confirm | approved | rejected | ...
    Column("recipient", String(320), nullable=False),
    Column("subject", String(300), nullable=False),
    Column("body_text", Text, nullable=False),
    Column("body_html", Text, nullable=False),
    Column("status", String(16), nullable=False),
    Column("attempts", Integer, nullable=False, default=0),
    Column("next_try_at", DateTime, nullable=False),
    Column("last_error", Text, nullable=True),
    Column("created_at", DateTime, nullable=False),
    Column("sent_at", DateTime, nullable=True),
    Index("ix_mail_outbox_status_next", "status", "next_try_at"),
)

#: A citizen's e-mail address, kept apart from the report (never shown to planners, never
#: public); the row is deleted when the report is closed or by retention.
citizen_contact = Table(
    "citizen_contact",
    metadata,
    Column("report_id", Integer, ForeignKey(report.c.id, ondelete="CASCADE"), primary_key=True),
    Column("email", String(320), nullable=False),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("confirmed_at", DateTime, nullable=True),
    Column("created_at", DateTime, nullable=False),
)

#: A reporting actor's locality and mail address (EST coverage and reminders).
actor_contact = Table(
    "actor_contact",
    metadata,
    Column("user_id", Integer, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    Column("kommun", String(64), ForeignKey("kommun.key", ondelete="CASCADE"), nullable=False),
    Column("locality", String(64), nullable=True),  # locality code
    Column("email", String(320), nullable=True),
    Column("updated_at", DateTime, nullable=False),
)

#: "Inget att rapportera denna vecka": an actor's explicit empty report of a meeting week.
actor_week = Table(
    "actor_week",
    metadata,
    Column("user_id", Integer, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    Column("kommun", String(64), ForeignKey("kommun.key", ondelete="CASCADE"), primary_key=True),
    Column("week", String(16), primary_key=True),  # ISO week "2026-W47"
    Column("at", DateTime, nullable=False),
)

#: Automatic reminder rounds already queued (one per kommun and meeting week).
mail_reminder_run = Table(
    "mail_reminder_run",
    metadata,
    Column("kommun", String(64), ForeignKey("kommun.key", ondelete="CASCADE"), primary_key=True),
    Column("week", String(16), primary_key=True),
    Column("at", DateTime, nullable=False),
    Column("reminded", Integer, nullable=False),
)

#: A citizen's photo of a report: the re-encoded JPEG lives under ``<instance>/photos/``
#: with a random ``name`` (never the upload name, no metadata); moderators decide per
#: photo (``pending`` | ``approved`` | ``rejected``, the file of a rejected one is deleted).
citizen_photo = Table(
    "citizen_photo",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("report_id", Integer, ForeignKey(report.c.id, ondelete="CASCADE"), nullable=False),
    Column("name", String(64), nullable=False, unique=True),
    Column("width", Integer, nullable=False),
    Column("height", Integer, nullable=False),
    Column("bytes", Integer, nullable=False),
    Column("status", String(16), nullable=False),
    Column("created_at", DateTime, nullable=False),
    Column("decided_by", String(100), nullable=True),
    Column("decided_at", DateTime, nullable=True),
    Index("ix_citizen_photo_report", "report_id"),
)

#: Files attached to a queued message (e.g. the published lägesbild PDF).
mail_attachment = Table(
    "mail_attachment",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("message_id", Integer, ForeignKey("mail_outbox.id", ondelete="CASCADE"), nullable=False),
    Column("filename", String(200), nullable=False),
    Column("mimetype", String(100), nullable=False),
    Column("content", LargeBinary, nullable=False),
    Index("ix_mail_attachment_message", "message_id"),
)

#: Mails that must go out once only: one row per sent-once key (e.g. the lägesbild of a
#: week to one address, or one action event to one report's address).
mail_once = Table(
    "mail_once",
    metadata,
    Column("key", String(200), primary_key=True),
    Column("message_id", Integer, nullable=True),  # the queued message (None: nothing sent)
    Column("at", DateTime, nullable=False),
)

# --------------------------------------------------------------------------- forecast
#: The forecaster chosen for a kommun's week by ``lagesbild analyse`` and its figures on
#: the recent weeks (migration ``store_0008_forecast``; analysis.forecast_choice).
forecast_choice = Table(
    "forecast_choice",
    metadata,
    Column("kommun", String(64), ForeignKey("kommun.key", ondelete="CASCADE"), primary_key=True),
    Column("week", String(16), primary_key=True),  # ISO week "2026-W47"
    Column("method", String(32), nullable=False),
    Column("params", JSON, nullable=False, default=dict),
    Column("fallback", Boolean, nullable=False),
    Column("weeks_checked", Integer, nullable=False),
    Column("weeks_hit", Integer, nullable=False),
    Column("coverage", Float, nullable=False),
    Column("hit_rate", Float, nullable=True),
    Column("pei_star", Float, nullable=True),
    Column("interval_coverage", Float, nullable=True),
    Column("computed_at", DateTime, nullable=False),
)
