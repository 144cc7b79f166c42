"""Database access for the app and the CLI: one engine per configuration.

All migration branches (geo's and the web app's) are applied by :func:`open_database`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import Engine

from geo.store import connect, upgrade

#: Folders holding the web app's own Alembic revisions (one branch per area).
VERSION_LOCATIONS: tuple[Path, ...] = (Path(__file__).parent / "migrations" / "versions",)


def open_database(config: dict[str, Any] | None = None, migrate: bool = True) -> Engine:
    """Engine for ``config['DATABASE_URL']`` (default from :func:`webmap.config.load_config`).

    Creates the database and applies every migration when ``migrate`` is true.
    """
    from webmap.config import load_config

    cfg = config or load_config()
    engine = connect(cfg["DATABASE_URL"])
    if migrate:
        upgrade(engine, [p for p in VERSION_LOCATIONS if p.exists()])
    return engine
