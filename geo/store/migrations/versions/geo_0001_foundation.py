"""Foundation: tenants, boundaries, imports, reports, quarantine, data versions, geocode cache.

Revision ID: geo_0001
Revises:
"""

from alembic import op

from geo.store.tables import metadata

revision = "geo_0001"
down_revision = None
branch_labels = ("geo",)
depends_on = None

TABLES = [
    "kommun",
    "boundary",
    "import_run",
    "report",
    "quarantine",
    "data_version",
    "geocode_cache",
]


def upgrade() -> None:
    bind = op.get_bind()
    metadata.create_all(bind, tables=[metadata.tables[t] for t in TABLES])


def downgrade() -> None:
    bind = op.get_bind()
    metadata.drop_all(bind, tables=[metadata.tables[t] for t in reversed(TABLES)])
