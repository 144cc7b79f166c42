"""Web app users (planners, readers, patrol hosts, reporting actors).

Revision ID: webmap_0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "webmap_0001"
down_revision = None
branch_labels = ("webmap",)
depends_on = "geo_0001"


def upgrade() -> None:
    op.create_table(
        "users",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("username", sa.String(100), nullable=False),
        sa.Column("password_hash", sa.String(255), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("kommuner", sa.JSON, nullable=False),
        sa.Column("reporter_org", sa.String(200), nullable=True),
        sa.Column("active", sa.Boolean, nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("last_login", sa.DateTime, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_users"),
        sa.UniqueConstraint("username", name="uq_users_username"),
        sa.CheckConstraint(
            "role IN ('planner', 'reader', 'patrol', 'reporter')", name="ck_users_role"
        ),
    )


def downgrade() -> None:
    op.drop_table("users")
