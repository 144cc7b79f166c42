"""Actions (åtgärder) with follow-ups, grade decisions (audit) and published weeks.

Revision ID: webmap_0002
Revises: webmap_0001
"""

import sqlalchemy as sa
from alembic import op

revision = "webmap_0002"
down_revision = "webmap_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "actions",
        sa.Column("id", sa.Integer, autoincrement=True),
        sa.Column("kommun", sa.String(64), nullable=False),
        sa.Column("title", sa.String(300), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("responsible", sa.String(200), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("planned_start", sa.Date, nullable=True),
        sa.Column("planned_end", sa.Date, nullable=True),
        sa.Column("description", sa.Text, nullable=True),
        sa.Column("locality", sa.String(64), nullable=True),
        sa.Column("zone_id", sa.String(64), nullable=True),
        sa.Column("cells", sa.JSON, nullable=False),
        sa.Column("lat", sa.Float, nullable=True),
        sa.Column("lon", sa.Float, nullable=True),
        sa.Column("geometry_geojson", sa.JSON, nullable=True),
        sa.Column("public", sa.Boolean, nullable=False),
        sa.Column("external_key", sa.String(200), nullable=True),
        sa.Column("created_by", sa.String(100), nullable=True),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("updated_at", sa.DateTime, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_actions"),
        sa.ForeignKeyConstraint(
            ["kommun"], ["kommun.key"], ondelete="CASCADE", name="fk_actions_kommun_kommun"
        ),
        sa.UniqueConstraint("kommun", "external_key", name="uq_actions_kommun_external_key"),
    )
    op.create_index("ix_actions_kommun_status", "actions", ["kommun", "status"])
    op.create_table(
        "action_followups",
        sa.Column("id", sa.Integer, autoincrement=True),
        sa.Column("action_id", sa.Integer, nullable=False),
        sa.Column("meeting_date", sa.Date, nullable=False),
        sa.Column("note", sa.Text, nullable=False),
        sa.Column("status", sa.String(16), nullable=True),
        sa.Column("author", sa.String(100), nullable=True),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_action_followups"),
        sa.ForeignKeyConstraint(
            ["action_id"],
            ["actions.id"],
            ondelete="CASCADE",
            name="fk_action_followups_action_id_actions",
        ),
    )
    op.create_index("ix_action_followups_action", "action_followups", ["action_id"])
    op.create_table(
        "grade_decisions",
        sa.Column("id", sa.Integer, autoincrement=True),
        sa.Column("kommun", sa.String(64), nullable=False),
        sa.Column("period", sa.String(16), nullable=False),
        sa.Column("locality", sa.String(64), nullable=False),
        sa.Column("suggested_grade", sa.Integer, nullable=True),
        sa.Column("suggested_explanation", sa.Text, nullable=True),
        sa.Column("grade", sa.Integer, nullable=False),
        sa.Column("comment", sa.Text, nullable=True),
        sa.Column("decided_by", sa.String(100), nullable=False),
        sa.Column("decided_at", sa.DateTime, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_grade_decisions"),
        sa.ForeignKeyConstraint(
            ["kommun"], ["kommun.key"], ondelete="CASCADE", name="fk_grade_decisions_kommun_kommun"
        ),
        sa.CheckConstraint("grade BETWEEN 1 AND 5", name="ck_grade_decisions_grade"),
    )
    op.create_index(
        "ix_grade_decisions_period", "grade_decisions", ["kommun", "period", "locality"]
    )
    op.create_table(
        "publications",
        sa.Column("id", sa.Integer, autoincrement=True),
        sa.Column("kommun", sa.String(64), nullable=False),
        sa.Column("period", sa.String(16), nullable=False),
        sa.Column("published_by", sa.String(100), nullable=False),
        sa.Column("published_at", sa.DateTime, nullable=False),
        sa.Column("data_version", sa.Integer, nullable=False),
        sa.Column("html", sa.Text, nullable=False),
        sa.Column("pdf", sa.LargeBinary, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_publications"),
        sa.ForeignKeyConstraint(
            ["kommun"], ["kommun.key"], ondelete="CASCADE", name="fk_publications_kommun_kommun"
        ),
    )
    op.create_index("ix_publications_period", "publications", ["kommun", "period"])


def downgrade() -> None:
    op.drop_table("publications")
    op.drop_table("grade_decisions")
    op.drop_table("action_followups")
    op.drop_table("actions")
