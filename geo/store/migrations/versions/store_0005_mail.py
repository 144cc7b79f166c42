"""Outgoing mail: the outbox, citizens' addresses, actors' localities and empty weeks.

Revision ID: store_0005
Revises: store_0004
"""

import sqlalchemy as sa
from alembic import op

revision = "store_0005"
down_revision = "store_0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "mail_outbox",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("recipient", sa.String(320), nullable=False),
        sa.Column("subject", sa.String(300), nullable=False),
        sa.Column("body_text", sa.Text, nullable=False),
        sa.Column("body_html", sa.Text, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("next_try_at", sa.DateTime, nullable=False),
        sa.Column("last_error", sa.Text, nullable=True),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("sent_at", sa.DateTime, nullable=True),
    )
    op.create_index("ix_mail_outbox_status_next", "mail_outbox", ["status", "next_try_at"])
    op.create_table(
        "citizen_contact",
        sa.Column(
            "report_id",
            sa.Integer,
            sa.ForeignKey("report.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("email", sa.String(320), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("confirmed_at", sa.DateTime, nullable=True),
        sa.Column("created_at", sa.DateTime, nullable=False),
    )
    op.create_table(
        "actor_contact",
        sa.Column(
            "user_id", sa.Integer, sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
        ),
        sa.Column(
            "kommun", sa.String(64), sa.ForeignKey("kommun.key", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("locality", sa.String(64), nullable=True),
        sa.Column("email", sa.String(320), nullable=True),
        sa.Column("updated_at", sa.DateTime, nullable=False),
    )
    op.create_table(
        "actor_week",
        sa.Column(
            "user_id", sa.Integer, sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
        ),
        sa.Column(
            "kommun",
            sa.String(64),
            sa.ForeignKey("kommun.key", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("week", sa.String(16), primary_key=True),
        sa.Column("at", sa.DateTime, nullable=False),
    )
    op.create_table(
        "mail_reminder_run",
        sa.Column(
            "kommun",
            sa.String(64),
            sa.ForeignKey("kommun.key", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("week", sa.String(16), primary_key=True),
        sa.Column("at", sa.DateTime, nullable=False),
        sa.Column("reminded", sa.Integer, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("mail_reminder_run")
    op.drop_table("actor_week")
    op.drop_table("actor_contact")
    op.drop_table("citizen_contact")
    op.drop_index("ix_mail_outbox_status_next", "mail_outbox")
    op.drop_table("mail_outbox")
