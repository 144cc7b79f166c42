"""One history: joins the former per-area branches (geo, webmap, citizen, patrol).

Databases created before the tables moved into :mod:`geo.store` carry one head per
branch; this revision merges them so every later revision has a single parent. It
changes no table.

Revision ID: store_0002
Revises: citizen_0001, patrol_0001, webmap_0002
"""

revision = "store_0002"
down_revision = ("citizen_0001", "patrol_0001", "webmap_0002")
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
