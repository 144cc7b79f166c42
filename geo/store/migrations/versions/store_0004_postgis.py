"""Hotspot zones in the store; PostGIS geometry columns and GIS views on PostgreSQL.

``hotspot_zone`` keeps the zones of each analysed week (outline as WKB, EPSG:4326) so a
GIS client reads them from the database. On PostgreSQL, reports, boundaries, zones and
actions get a generated, GiST-indexed ``geom`` column and the schema ``gis`` its views
(:mod:`geo.store.postgis`); SQLite is unchanged apart from the new table.

Revision ID: store_0004
Revises: store_0003
"""

import sqlalchemy as sa
from alembic import op

from geo.store.postgis import create_geometry, drop_geometry

revision = "store_0004"
down_revision = "store_0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "hotspot_zone",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column(
            "kommun",
            sa.String(64),
            sa.ForeignKey("kommun.key", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("week", sa.String(16), nullable=False),
        sa.Column("zone_id", sa.String(64), nullable=False),
        sa.Column("name", sa.String(200), nullable=True),
        sa.Column("locality", sa.String(64), nullable=True),
        sa.Column("pattern", sa.String(64), nullable=True),
        sa.Column("grade", sa.Integer, nullable=True),
        sa.Column("n_cells", sa.Integer, nullable=False),
        sa.Column("geometry_wkb", sa.LargeBinary, nullable=False),
        sa.Column("data_version", sa.Integer, nullable=False),
        sa.Column("computed_at", sa.DateTime, nullable=False),
        sa.UniqueConstraint("kommun", "week", "zone_id", name="uq_hotspot_zone_kommun_week_zone"),
    )
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        create_geometry(bind)


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        drop_geometry(bind)
    op.drop_table("hotspot_zone")
