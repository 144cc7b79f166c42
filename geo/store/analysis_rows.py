"""Reports as the analysis reads them: only the columns the cube needs, in one pass.

:func:`geo.store.reports.read_reports` returns every column of every report (texts,
positions, ids), which for a city's million reports means millions of Python objects.
The hotspot analysis needs seven columns of the approved reports in its period;
:func:`read_analysis_reports` selects exactly those and builds the frame column by
column (categorical strings, ``uint64`` cells), so a city's half million reports load in
about a second.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import Connection, and_, func, select

from geo.schema import Status
from geo.store.reports import _to_utc
from geo.store.tables import report as report_table

#: Columns of the frame :func:`read_analysis_reports` returns.
ANALYSIS_COLUMNS: tuple[str, ...] = (
    "occurred_at",
    "category",
    "source",
    "reporter_org",
    "locality",
    "cell",
    "status",
    "kommun",
)


def _large_share(conn: Connection, where: Any) -> bool:
    """Whether the rows matching ``where`` are more than a quarter of all reports."""
    t = report_table
    total = conn.execute(select(func.count()).select_from(t)).scalar_one()
    if total < 100_000:
        return False
    part = conn.execute(select(func.count()).select_from(t).where(where)).scalar_one()
    return bool(part * 4 > total)


def read_analysis_reports(
    conn: Connection,
    kommun: str,
    *,
    start: dt.datetime | pd.Timestamp | str | None = None,
    end: dt.datetime | pd.Timestamp | str | None = None,
) -> pd.DataFrame:
    """Approved reports of ``kommun`` with ``start <= occurred_at < end`` (UTC).

    Returns
    -------
    pandas.DataFrame
        :data:`ANALYSIS_COLUMNS`: ``occurred_at`` (UTC), the text columns as
        categoricals, ``cell`` ``uint64`` (0 = no cell), ``status`` and ``kommun``.
    """
    t = report_table
    span = []
    if start is not None:
        span.append(t.c.occurred_at >= _to_utc(start))
    if end is not None:
        span.append(t.c.occurred_at < _to_utc(end))
    tenant = t.c.kommun == kommun
    if _large_share(conn, and_(tenant, *span)):
        # most of the table: one sequential pass beats index look-ups row by row (an
        # expression on the tenant column keeps the planner off its indexes)
        tenant = func.coalesce(t.c.kommun, "") == kommun
    where = and_(tenant, t.c.status == Status.APPROVED.value, *span)
    query = select(
        t.c.occurred_at, t.c.category, t.c.source, t.c.reporter_org, t.c.locality, t.c.cell
    ).where(where)
    result = conn.execute(query)
    # raw driver rows: no per-value type processing (timestamps are parsed below, at once)
    rows = result.cursor.fetchall() if result.cursor is not None else []
    result.close()
    n = len(rows)
    table = np.array(rows, dtype=object).reshape(n, 6)
    del rows
    columns = [table[:, i] for i in range(6)]
    occurred = pd.to_datetime(pd.Series(columns[0], dtype=object), utc=True, format="ISO8601")
    cell_col = columns[5]
    cell_col[pd.isna(cell_col)] = 0
    cells = cell_col.astype(np.int64)
    frame = pd.DataFrame(
        {
            "occurred_at": occurred.astype("datetime64[ns, UTC]"),
            "category": pd.Categorical(columns[1]),
            "source": pd.Categorical(columns[2]),
            "reporter_org": pd.Categorical(columns[3]),
            "locality": pd.Categorical(columns[4]),
            "cell": cells.astype(np.uint64),
        }
    )
    # one value each: codes 0 without a list of n strings to factorize
    one = np.zeros(n, dtype=np.int8)
    frame["status"] = pd.Categorical.from_codes(one, categories=[Status.APPROVED.value][:n])
    frame["kommun"] = pd.Categorical.from_codes(one, categories=[kommun][:n])
    return frame


__all__ = ["ANALYSIS_COLUMNS", "read_analysis_reports"]
