"""Engine creation, migrations and the per-kommun data version."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, Table, create_engine, event, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.pool import QueuePool

from geo.store.postgis import refuse_nul_text
from geo.store.tables import data_version

MIGRATIONS = Path(__file__).parent / "migrations"


def utcnow() -> dt.datetime:
    """Current time as naive UTC (the storage convention)."""
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def _json_dumps(value: object) -> str:
    return json.dumps(value, ensure_ascii=False)


def connect(url: str, **kwargs: object) -> Engine:
    """Create an engine for ``url``; SQLite gets WAL, foreign keys and a busy timeout.

    A PostgreSQL engine refuses text with a NUL character with a ``ValidationError``
    (PostgreSQL cannot store it).

    A relative SQLite path is resolved against the current directory and its parent
    folder is created.
    """
    kwargs.setdefault("json_serializer", _json_dumps)
    if url.startswith("sqlite:///") and not url.startswith("sqlite:///:memory:"):
        path = Path(url.removeprefix("sqlite:///"))
        path.parent.mkdir(parents=True, exist_ok=True)
        # a small pool: opening a connection and setting the pragmas costs ~1 ms, which
        # mattered on every request; connections are shared between threads (WAL)
        kwargs.setdefault("pool_size", 8)
        kwargs.setdefault("max_overflow", 16)
        kwargs.setdefault("connect_args", {"check_same_thread": False})
        engine = create_engine(url, poolclass=QueuePool, **kwargs)  # type: ignore[arg-type]
    else:
        engine = create_engine(url, **kwargs)  # type: ignore[arg-type]
    if engine.dialect.name == "sqlite":

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_conn, _record):  # type: ignore[no-untyped-def]
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.close()

    if engine.dialect.name == "postgresql":
        refuse_nul_text(engine)
    return engine


def upgrade(engine: Engine) -> None:
    """Bring the schema to the newest revision (``alembic upgrade heads``).

    Every table has its revisions in ``geo/store/migrations/versions``; the former
    per-area branches meet in ``store_0002``, so a database of any earlier layout
    upgrades to the one head.
    """
    with engine.begin() as conn:
        command.upgrade(migration_config(conn), "heads")


def migration_config(conn: Connection) -> Config:
    """Alembic configuration of the one migration history, running on ``conn``."""
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("version_locations", str(MIGRATIONS / "versions"))
    cfg.set_main_option("path_separator", "space")
    cfg.attributes["connection"] = conn
    return cfg


def insert_row(conn: Connection, table: Table, **values: object) -> int:
    """Insert one row into ``table`` and return its generated integer primary key."""
    pk = conn.execute(table.insert().values(**values)).inserted_primary_key
    assert pk is not None
    return int(pk[0])


def current_version(conn: Connection, kommun: str) -> int:
    """Data version of ``kommun`` (0 when nothing was stored yet)."""
    value = conn.execute(
        select(data_version.c.version).where(data_version.c.kommun == kommun)
    ).scalar_one_or_none()
    return int(value or 0)


def bump_version(conn: Connection, kommun: str) -> int:
    """Increase and return the data version of ``kommun`` (inside the caller's transaction)."""
    now = utcnow()
    res = conn.execute(
        update(data_version)
        .where(data_version.c.kommun == kommun)
        .values(version=data_version.c.version + 1, updated_at=now)
    )
    if res.rowcount == 0:
        conn.execute(data_version.insert().values(kommun=kommun, version=1, updated_at=now))
    return current_version(conn, kommun)
