"""Revocable sessions: a per-user session generation (``users.session_epoch``).

Every session records the generation it was opened in; logout, a password change and
disabling the user increase it, which ends every session of that user at once.

Revision ID: store_0003
Revises: store_0002
"""

import sqlalchemy as sa
from alembic import op

revision = "store_0003"
down_revision = "store_0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("session_epoch", sa.Integer, nullable=False, server_default="0"))


def downgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.drop_column("session_epoch")
