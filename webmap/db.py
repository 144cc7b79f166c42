"""Database access for the app and the CLI: one engine per configuration.

All migration branches (geo's and the web app's) are applied by :func:`open_database`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import Engine, func, select

from geo.store import connect, upgrade
from geo.store.tables import kommun as kommun_table
from geo.tenants import seed_default_tenants

#: Folders holding the web app's own Alembic revisions (one branch per area).
VERSION_LOCATIONS: tuple[Path, ...] = (Path(__file__).parent / "migrations" / "versions",)


def open_database(config: dict[str, Any] | None = None, migrate: bool = True) -> Engine:
    """Engine for ``config['DATABASE_URL']`` (default from :func:`webmap.config.load_config`).

    Creates the database and applies every migration when ``migrate`` is true. A database
    without any tenant gets the shipped ones (Norrtälje, Kungsör, Sölvesborg with their
    approximate boundaries) unless ``SEED_DEFAULT_TENANTS`` is false.
    """
    from webmap.config import load_config

    cfg = config or load_config()
    engine = connect(cfg["DATABASE_URL"])
    if migrate:
        upgrade(engine, [p for p in VERSION_LOCATIONS if p.exists()])
        if cfg.get("SEED_DEFAULT_TENANTS", True):
            with engine.begin() as conn:
                if conn.execute(select(func.count()).select_from(kommun_table)).scalar_one() == 0:
                    seed_default_tenants(conn)
    return engine
