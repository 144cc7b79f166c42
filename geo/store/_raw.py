"""Rows straight from the database driver, as one object array per column.

SQLAlchemy's result processing turns every value into a Python object of its column's
type (a ``datetime`` parsed from SQLite's text, row by row). Readers of a city's million
reports instead take the driver's raw rows and convert each column at once (timestamps
with one :func:`pandas.to_datetime`).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
from sqlalchemy import Connection, func, select

from geo.store.tables import report as report_table


def raw_columns(conn: Connection, query: Any, n_columns: int) -> list[npt.NDArray[np.object_]]:
    """The ``n_columns`` columns of ``query``'s rows, unprocessed, as object arrays."""
    result = conn.execute(query)
    rows = result.cursor.fetchall() if result.cursor is not None else []
    result.close()
    table = np.array(rows, dtype=object).reshape(len(rows), n_columns)
    del rows
    return [table[:, i] for i in range(n_columns)]


def utc_times(values: npt.NDArray[np.object_]) -> pd.Series:
    """Driver timestamps (SQLite's ISO text or naive UTC ``datetime``) as UTC times."""
    return pd.to_datetime(pd.Series(values, dtype=object), utc=True, format="ISO8601")


def tenant_filter(conn: Connection, kommun: str, *span: Any) -> Any:
    """The condition "report of ``kommun``" for a read of its reports within ``span``.

    When those are more than a quarter of a large table, one sequential pass beats index
    look-ups row by row: an expression on the tenant column keeps the planner off its
    indexes (SQLite would otherwise walk ``ix_report_kommun_occurred``).
    """
    t = report_table
    tenant = t.c.kommun == kommun
    total = conn.execute(select(func.count()).select_from(t)).scalar_one()
    if total < 100_000:
        return tenant
    part = conn.execute(select(func.count()).select_from(t).where(tenant, *span)).scalar_one()
    return func.coalesce(t.c.kommun, "") == kommun if part * 4 > total else tenant
