"""Patrol observations: one row per idempotency key sent by the patrol page.

Revision ID: patrol_0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "patrol_0001"
down_revision = None
branch_labels = ("patrol",)
depends_on = "geo_0001"


def upgrade() -> None:
    op.create_table(
        "patrol_observation",
        sa.Column("key", sa.String(64), nullable=False),
        sa.Column("report_id", sa.Integer, nullable=True),
        sa.Column("kommun", sa.String(64), nullable=False),
        sa.Column("user_id", sa.Integer, nullable=True),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.PrimaryKeyConstraint("key", name="pk_patrol_observation"),
        sa.ForeignKeyConstraint(
            ["report_id"],
            ["report.id"],
            ondelete="CASCADE",
            name="fk_patrol_observation_report_id_report",
        ),
    )
    op.create_index("ix_patrol_observation_report_id", "patrol_observation", ["report_id"])


def downgrade() -> None:
    op.drop_index("ix_patrol_observation_report_id", table_name="patrol_observation")
    op.drop_table("patrol_observation")
