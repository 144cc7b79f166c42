"""Database access for the app and the CLI: one engine per configuration.

Every table and migration lives in :mod:`geo.store`; :func:`open_database` applies them.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine

from geo.store import connect, upgrade
from geo.tenants import list_tenants, seed_default_tenants


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
        upgrade(engine)
        if cfg.get("SEED_DEFAULT_TENANTS", True):
            with engine.begin() as conn:
                if not list_tenants(conn):
                    seed_default_tenants(conn)
    return engine
