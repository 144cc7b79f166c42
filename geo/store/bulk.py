"""Bulk inserts of prepared reports: one ``executemany`` per batch through SQLAlchemy Core.

The statement is compiled by SQLAlchemy for the connection's dialect and the values are
converted column by column (vectorised where the dialect stores them as text), then handed
to the driver's ``executemany`` in the dialect's parameter style. This skips SQLAlchemy's
per-row parameter processing, which costs more than the database itself at a million
rows. On PostgreSQL the rows go through ``COPY … FROM STDIN`` instead
(:func:`geo.store.postgis.copy_rows`).
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pandas as pd
import pyarrow as pa
from sqlalchemy import DateTime, Engine, Table, bindparam, func, literal_column, select
from sqlalchemy.engine import Connection

from geo.store.db import utcnow
from geo.store.postgis import copy_rows, is_postgresql
from geo.store.reports import naive_utc, report_column_values
from geo.store.tables import report as report_table

#: Page cache of an SQLite connection while it imports (KiB, as ``PRAGMA cache_size``
#: takes negative numbers): random inserts into the fingerprint index stay in memory.
#: 96 MB imports 1 M rows as fast as 192 MB did, with 100 MB less peak memory.
SQLITE_IMPORT_CACHE_KIB = 98_304


#: WAL pages between automatic checkpoints while an import writes (SQLite's default is
#: 1,000): the index pages every batch touches are copied to the database file once per
#: 256 MB of WAL rather than at nearly every batch.
SQLITE_IMPORT_WAL_PAGES = 65_536
SQLITE_DEFAULT_WAL_PAGES = 1_000


def tune_for_import(conn: Connection) -> None:
    """Give an SQLite connection a larger page cache and rarer WAL checkpoints (no-op on
    other databases); :func:`finish_import` sets the checkpoints back."""
    if conn.dialect.name == "sqlite":
        conn.exec_driver_sql(f"PRAGMA cache_size=-{SQLITE_IMPORT_CACHE_KIB}")
        conn.exec_driver_sql(f"PRAGMA wal_autocheckpoint={SQLITE_IMPORT_WAL_PAGES}")


#: SQLite's default page cache (KiB): what a connection keeps after an import, and what
#: the index builds at the end of one sort in (the import's cache is given back first).
SQLITE_DEFAULT_CACHE_KIB = 2_000


def finish_import(conn: Connection) -> None:
    """SQLite's usual page cache and automatic checkpoints again on ``conn`` (no-op on
    other databases)."""
    if conn.dialect.name == "sqlite":
        conn.exec_driver_sql(f"PRAGMA cache_size=-{SQLITE_DEFAULT_CACHE_KIB}")
        conn.exec_driver_sql(f"PRAGMA wal_autocheckpoint={SQLITE_DEFAULT_WAL_PAGES}")


def _datetimes(values: pd.Series, sqlite: bool) -> list[Any]:
    """Naive UTC datetimes (None for missing): SQLite's text form there, else objects."""
    if not sqlite:
        return naive_utc(values)
    ts = (
        pd.to_datetime(values, utc=True, cache=False)
        .dt.tz_localize(None)
        .to_numpy("datetime64[us]")
    )
    # Arrow writes SQLAlchemy's storage format of DateTime on SQLite
    return list(pa.array(ts).cast(pa.string()).to_pylist())


def insert_columns(
    conn: Connection,
    table: Table,
    columns: dict[str, list[Any]],
    converted: frozenset[str] = frozenset(),
) -> None:
    """``INSERT`` the rows given as equally long column lists (one ``executemany``).

    Columns named in ``converted`` already hold the dialect's form of their values.
    """
    names = list(columns)
    if not names or not len(columns[names[0]]):
        return
    values: dict[str, list[Any]] = {}
    for name in names:
        col = columns[name]
        proc = (
            None if name in converted else table.c[name].type._cached_bind_processor(conn.dialect)
        )
        values[name] = col if proc is None else [proc(v) for v in col]
    if is_postgresql(conn):  # COPY … FROM STDIN, not an INSERT per row
        rows = [dict(zip(names, row, strict=True)) for row in zip(*values.values(), strict=True)]
        copy_rows(conn, table, rows)
        return
    # a column with one value in every row is written into the statement: fewer values
    # for the driver to bind, row by row
    literals = {n: text for n in names if (text := _sql_literal(values[n]))}
    if len(literals) < len(names):
        names = [n for n in names if n not in literals]
    else:
        literals = {}
    stmt = table.insert().values(
        {n: bindparam(n) for n in names} | {n: literal_column(t) for n, t in literals.items()}
    )
    compiled = stmt.compile(dialect=conn.dialect)
    if compiled.positional:
        order = list(compiled.positiontup or names)
        params: list[Any] = list(zip(*(values[k] for k in order), strict=True))
    else:
        rows_ = zip(*(values[k] for k in names), strict=True)
        params = [dict(zip(names, row, strict=True)) for row in rows_]
    conn.exec_driver_sql(str(compiled), params)


def _sql_literal(values: list[Any]) -> str:
    """The SQL literal of the one value every item of ``values`` equals, else ``""`` (also
    for values without a plain literal: only None, numbers and text without NUL have one;
    equal numbers of another type are stored alike by the column's affinity)."""
    first = values[0]
    if first is None:
        text = "NULL"
    elif isinstance(first, str) and "\x00" not in first:
        text = "'" + first.replace("'", "''") + "'"
    elif isinstance(first, int | float) and not isinstance(first, bool) and math.isfinite(first):
        text = repr(first)
    else:
        return ""
    return text if values.count(first) == len(values) else ""


def insert_report_frame(
    conn: Connection,
    frame: pd.DataFrame,
    import_id: int | None,
    created_at: dt.datetime | None = None,
) -> None:
    """Insert prepared reports (report columns plus ``fingerprint``) in one statement."""
    n = len(frame)
    if not n:
        return
    sqlite = conn.dialect.name == "sqlite"
    data = report_column_values(frame, import_id, lambda values: _datetimes(values, sqlite))
    now = created_at or utcnow()
    data["created_at"] = _datetimes(pd.Series([now]), sqlite) * n
    # on SQLite the DateTime columns are already text: no per-value processing
    dt_cols = frozenset(c.name for c in report_table.c if isinstance(c.type, DateTime))
    insert_columns(conn, report_table, data, dt_cols if sqlite else frozenset())


def last_report_id(conn: Connection) -> int:
    """The largest report id (0 without reports): one step down the primary key."""
    return int(conn.execute(select(func.max(report_table.c.id))).scalar() or 0)


def has_reports(conn: Connection, kommun: str) -> bool:
    """Whether any report of ``kommun`` is stored."""
    q = select(report_table.c.id).where(report_table.c.kommun == kommun).limit(1)
    return conn.execute(q).first() is not None


#: Indexes of table ``report`` that an import never reads: a large import drops them and
#: builds them once at its end (a sorted build instead of a million random inserts).
DEFERRED_INDEXES = ("ix_report_kommun_occurred", "ix_report_kommun_cell")
#: Files from this size on defer those indexes (SQLite only).
LARGE_IMPORT_BYTES = 32 * 1024 * 1024


#: Also deferred when the import's kommun had no reports (or the table none, for files
#: naming the kommun per row): such an import looks its external ids up in memory
#: (:class:`geo._store_batch.ImportedFingerprints`), not by this index.
FRESH_DEFERRED_INDEXES = ("ix_report_source_external",)


@contextmanager
def deferred_indexes(engine: Engine, defer: bool, fresh: bool = False) -> Iterator[None]:
    """Drop :data:`DEFERRED_INDEXES` (and with ``fresh`` :data:`FRESH_DEFERRED_INDEXES`)
    for the block and build them again after it (also when it fails); the others of
    both only made sure to exist (an import killed while they were dropped gets them back
    on the next run)."""
    names = DEFERRED_INDEXES + FRESH_DEFERRED_INDEXES
    dropped = DEFERRED_INDEXES + (FRESH_DEFERRED_INDEXES if fresh else ()) if defer else ()
    indexes = [i for i in report_table.indexes if i.name in names]
    with engine.begin() as conn:
        for index in indexes:
            if index.name in dropped:
                index.drop(conn, checkfirst=True)
            else:
                index.create(conn, checkfirst=True)
    try:
        yield
    finally:
        if dropped:
            with engine.begin() as conn:
                finish_import(conn)
                for index in indexes:
                    index.create(conn, checkfirst=True)


__all__ = [
    "DEFERRED_INDEXES",
    "FRESH_DEFERRED_INDEXES",
    "LARGE_IMPORT_BYTES",
    "SQLITE_IMPORT_CACHE_KIB",
    "deferred_indexes",
    "finish_import",
    "has_reports",
    "insert_columns",
    "insert_report_frame",
    "last_report_id",
    "tune_for_import",
]
