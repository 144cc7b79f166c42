"""The forecaster chosen per kommun and week, with its figures on the recent weeks.

Revision ID: store_0008
Revises: store_0007
"""

import sqlalchemy as sa
from alembic import op

revision = "store_0008"
down_revision = "store_0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "forecast_choice",
        sa.Column(
            "kommun",
            sa.String(64),
            sa.ForeignKey("kommun.key", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("week", sa.String(16), primary_key=True),
        sa.Column("method", sa.String(32), nullable=False),
        sa.Column("params", sa.JSON, nullable=False),
        sa.Column("fallback", sa.Boolean, nullable=False),
        sa.Column("weeks_checked", sa.Integer, nullable=False),
        sa.Column("weeks_hit", sa.Integer, nullable=False),
        sa.Column("coverage", sa.Float, nullable=False),
        sa.Column("hit_rate", sa.Float, nullable=True),
        sa.Column("pei_star", sa.Float, nullable=True),
        sa.Column("interval_coverage", sa.Float, nullable=True),
        sa.Column("computed_at", sa.DateTime, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("forecast_choice")
