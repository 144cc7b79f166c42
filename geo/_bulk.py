"""Bulk inserts of prepared reports: one ``executemany`` per batch through SQLAlchemy Core.

The statement is compiled by SQLAlchemy for the connection's dialect and the values are
converted column by column (vectorised where the dialect stores them as text), then handed
to the driver's ``executemany`` in the dialect's parameter style. This skips SQLAlchemy's
per-row parameter processing, which costs more than the database itself at a million
rows. A PostgreSQL ``COPY`` path can be added as another branch of :func:`insert_columns`.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import DateTime, Table
from sqlalchemy.engine import Connection

from geo.store.db import utcnow
from geo.store.reports import INSERT_COLUMNS
from geo.store.tables import report as report_table

#: Page cache of an SQLite connection while it imports (KiB, as ``PRAGMA cache_size``
#: takes negative numbers): random inserts into the fingerprint index stay in memory.
SQLITE_IMPORT_CACHE_KIB = 262_144


def tune_for_import(conn: Connection) -> None:
    """Give an SQLite connection a larger page cache (no-op on other databases)."""
    if conn.dialect.name == "sqlite":
        conn.exec_driver_sql(f"PRAGMA cache_size=-{SQLITE_IMPORT_CACHE_KIB}")


def _datetimes(values: pd.Series, sqlite: bool) -> list[Any]:
    """Naive UTC datetimes (None for missing): SQLite's text form there, else objects."""
    ts = pd.to_datetime(values, utc=True).dt.tz_localize(None).to_numpy("datetime64[us]")
    missing = np.isnat(ts)
    if sqlite:  # SQLAlchemy's storage format for DateTime on SQLite
        text = np.char.replace(ts.astype(str).astype("U26"), "T", " ")
        out = text.astype(object)
    else:
        out = ts.astype(object)
    out[missing] = None
    return list(out)


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
    compiled = table.insert().compile(dialect=conn.dialect, column_keys=names)
    values: dict[str, list[Any]] = {}
    for name in names:
        col = columns[name]
        proc = (
            None if name in converted else table.c[name].type._cached_bind_processor(conn.dialect)
        )
        values[name] = col if proc is None else [proc(v) for v in col]
    if compiled.positional:
        order = list(compiled.positiontup or names)
        params: list[Any] = list(zip(*(values[k] for k in order), strict=True))
    else:
        params = [dict(zip(names, row, strict=True)) for row in zip(*values.values(), strict=True)]
    conn.exec_driver_sql(str(compiled), params)


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
    data: dict[str, list[Any]] = {}
    for col in INSERT_COLUMNS:
        if col == "import_id":
            data[col] = [import_id] * n
        elif col in ("occurred_at", "reported_at"):
            data[col] = _datetimes(frame[col], sqlite)
        elif col == "cell":
            cells = frame[col].to_numpy(np.uint64).astype(np.int64)
            arr = cells.astype(object)
            arr[cells == 0] = None
            data[col] = list(arr)
        elif col in ("lat", "lon", "severity"):
            arr = frame[col].to_numpy(np.float64)
            obj = arr.astype(object)
            obj[~np.isfinite(arr)] = None
            data[col] = list(obj)
        else:
            series = frame[col].astype(object)
            data[col] = series.where(series.notna(), None).to_list()
    now = created_at or utcnow()
    data["created_at"] = _datetimes(pd.Series([now] * n), sqlite)
    # on SQLite the DateTime columns are already text: no per-value processing
    dt_cols = frozenset(c.name for c in report_table.c if isinstance(c.type, DateTime))
    insert_columns(conn, report_table, data, dt_cols if sqlite else frozenset())


__all__ = ["SQLITE_IMPORT_CACHE_KIB", "insert_columns", "insert_report_frame", "tune_for_import"]
