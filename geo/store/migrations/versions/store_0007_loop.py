"""Closing the loop: attachments of queued mail and mails that go out once only.

Revision ID: store_0007
Revises: store_0006
"""

import sqlalchemy as sa
from alembic import op

revision = "store_0007"
down_revision = "store_0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "mail_attachment",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column(
            "message_id",
            sa.Integer,
            sa.ForeignKey("mail_outbox.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("filename", sa.String(200), nullable=False),
        sa.Column("mimetype", sa.String(100), nullable=False),
        sa.Column("content", sa.LargeBinary, nullable=False),
    )
    op.create_index("ix_mail_attachment_message", "mail_attachment", ["message_id"])
    op.create_table(
        "mail_once",
        sa.Column("key", sa.String(200), primary_key=True),
        sa.Column("message_id", sa.Integer, nullable=True),
        sa.Column("at", sa.DateTime, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("mail_once")
    op.drop_index("ix_mail_attachment_message", "mail_attachment")
    op.drop_table("mail_attachment")
