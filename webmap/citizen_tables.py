"""Tables of the citizen channel (SQLAlchemy Core): receipts, moderation audit, API keys.

Created by the ``citizen`` Alembic branch (``webmap/migrations/versions/citizen_0001.py``).
The report itself lives in :data:`geo.store.tables.report` (``source = "citizen"``); the
rows here add what only citizen reports have. Timestamps are naive UTC.

Privacy notes
-------------
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
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
)

from geo.store.tables import NAMING
from geo.store.tables import kommun as kommun_table
from geo.store.tables import report as report_table

metadata = MetaData(naming_convention=NAMING)


#: Partner systems allowed to POST Open311 requests (``api_key`` parameter).
api_key = Table(
    "api_key",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("name", String(200), nullable=False),
    Column("prefix", String(16), nullable=False, unique=True),
    Column("key_hash", String(64), nullable=False, unique=True),
    Column("kommun", String(64), ForeignKey(kommun_table.c.key, ondelete="CASCADE"), nullable=True),
    Column("created_by", String(100), nullable=True),
    Column("created_at", DateTime, nullable=False),
    Column("last_used_at", DateTime, nullable=True),
    Column("revoked_at", DateTime, nullable=True),
)

#: One row per citizen report: receipt, idempotency key, channel, flags, moderation state.
citizen_report = Table(
    "citizen_report",
    metadata,
    Column(
        "report_id", Integer, ForeignKey(report_table.c.id, ondelete="CASCADE"), primary_key=True
    ),
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
    Column("report_id", Integer, ForeignKey(report_table.c.id, ondelete="CASCADE"), nullable=False),
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

__all__ = ["api_key", "citizen_report", "metadata", "moderation_log"]
