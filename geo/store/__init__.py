"""Storage of reports, boundaries and tenants (SQLAlchemy 2 Core + Alembic).

The database URL comes from the caller (the web app reads ``LAGESBILD_DATABASE_URL``);
SQLite is the embedded default and runs in WAL mode; PostgreSQL with PostGIS
(``postgresql+psycopg://…``) runs the same migrations and queries and adds generated
geometry columns, GIS views and ``COPY`` for bulk inserts (:mod:`geo.store.postgis`).
Both are tested.
"""

from __future__ import annotations

from geo.store.db import bump_version, connect, current_version, upgrade, utcnow
from geo.store.tables import (
    boundary,
    data_version,
    geocode_cache,
    import_run,
    kommun,
    metadata,
    quarantine,
    report,
)

__all__ = [
    "boundary",
    "bump_version",
    "connect",
    "current_version",
    "data_version",
    "geocode_cache",
    "import_run",
    "kommun",
    "metadata",
    "quarantine",
    "report",
    "upgrade",
    "utcnow",
]
