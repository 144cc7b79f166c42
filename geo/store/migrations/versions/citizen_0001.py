"""Citizen channel: receipts and idempotency keys, moderation audit log, partner API keys.

Revision ID: citizen_0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "citizen_0001"
down_revision = None
branch_labels = ("citizen",)
depends_on = "geo_0001"


def upgrade() -> None:
    op.create_table(
        "api_key",
        sa.Column("id", sa.Integer, autoincrement=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("prefix", sa.String(16), nullable=False),
        sa.Column("key_hash", sa.String(64), nullable=False),
        sa.Column("kommun", sa.String(64), nullable=True),
        sa.Column("created_by", sa.String(100), nullable=True),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("last_used_at", sa.DateTime, nullable=True),
        sa.Column("revoked_at", sa.DateTime, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_api_key"),
        sa.UniqueConstraint("prefix", name="uq_api_key_prefix"),
        sa.UniqueConstraint("key_hash", name="uq_api_key_key_hash"),
        sa.ForeignKeyConstraint(
            ["kommun"], ["kommun.key"], ondelete="CASCADE", name="fk_api_key_kommun_kommun"
        ),
    )
    op.create_table(
        "citizen_report",
        sa.Column("report_id", sa.Integer, nullable=False),
        sa.Column("kommun", sa.String(64), nullable=False),
        sa.Column("receipt", sa.String(24), nullable=False),
        sa.Column("idempotency_key", sa.String(64), nullable=True),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("api_key_id", sa.Integer, nullable=True),
        sa.Column("time_of_day", sa.String(16), nullable=True),
        sa.Column("pii_flags", sa.JSON, nullable=False),
        sa.Column("text_salt", sa.String(32), nullable=True),
        sa.Column("submitted_at", sa.DateTime, nullable=False),
        sa.Column("moderated_at", sa.DateTime, nullable=True),
        sa.Column("moderated_by", sa.String(100), nullable=True),
        sa.Column("text_deleted_at", sa.DateTime, nullable=True),
        sa.PrimaryKeyConstraint("report_id", name="pk_citizen_report"),
        sa.UniqueConstraint("receipt", name="uq_citizen_report_receipt"),
        sa.UniqueConstraint("idempotency_key", name="uq_citizen_report_idempotency_key"),
        sa.ForeignKeyConstraint(
            ["report_id"],
            ["report.id"],
            ondelete="CASCADE",
            name="fk_citizen_report_report_id_report",
        ),
        sa.ForeignKeyConstraint(
            ["api_key_id"], ["api_key.id"], name="fk_citizen_report_api_key_id_api_key"
        ),
        sa.CheckConstraint(
            "channel IN ('web', 'api', 'open311')", name="ck_citizen_report_channel"
        ),
    )
    op.create_index(
        "ix_citizen_report_kommun_submitted", "citizen_report", ["kommun", "submitted_at"]
    )
    op.create_table(
        "moderation_log",
        sa.Column("id", sa.Integer, autoincrement=True),
        sa.Column("report_id", sa.Integer, nullable=False),
        sa.Column("kommun", sa.String(64), nullable=False),
        sa.Column("action", sa.String(16), nullable=False),
        sa.Column("actor", sa.String(100), nullable=False),
        sa.Column("actor_id", sa.Integer, nullable=True),
        sa.Column("at", sa.DateTime, nullable=False),
        sa.Column("status_before", sa.String(16), nullable=False),
        sa.Column("status_after", sa.String(16), nullable=False),
        sa.Column("text_hash_before", sa.String(64), nullable=True),
        sa.Column("text_hash_after", sa.String(64), nullable=True),
        sa.Column("pii_flags", sa.JSON, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_moderation_log"),
        sa.ForeignKeyConstraint(
            ["report_id"],
            ["report.id"],
            ondelete="CASCADE",
            name="fk_moderation_log_report_id_report",
        ),
        sa.CheckConstraint(
            "action IN ('approve', 'reject', 'redact')", name="ck_moderation_log_action"
        ),
    )
    op.create_index("ix_moderation_log_report", "moderation_log", ["report_id"])
    op.create_index("ix_moderation_log_kommun_at", "moderation_log", ["kommun", "at"])


def downgrade() -> None:
    op.drop_index("ix_moderation_log_kommun_at", table_name="moderation_log")
    op.drop_index("ix_moderation_log_report", table_name="moderation_log")
    op.drop_table("moderation_log")
    op.drop_index("ix_citizen_report_kommun_submitted", table_name="citizen_report")
    op.drop_table("citizen_report")
    op.drop_table("api_key")
