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

import numpy as np
import pandas as pd
from sqlalchemy import Connection, and_, select

from geo.schema import Status
from geo.store._raw import raw_columns, tenant_filter, utc_times
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


def read_analysis_reports(
    conn: Connection,
    kommun: str,
    *,
    start: dt.datetime | pd.Timestamp | str | None = None,
    end: dt.datetime | pd.Timestamp | str | None = None,
    ordered: bool = False,
) -> pd.DataFrame:
    """Approved reports of ``kommun`` with ``start <= occurred_at < end`` (UTC).

    ``ordered`` sorts them by ``occurred_at`` and id, as
    :func:`geo.store.reports.read_reports` does (for estimators whose sums follow the
    row order).

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
    tenant = tenant_filter(conn, kommun, *span)
    where = and_(tenant, t.c.status == Status.APPROVED.value, *span)
    query = select(
        t.c.occurred_at, t.c.category, t.c.source, t.c.reporter_org, t.c.locality, t.c.cell
    ).where(where)
    if ordered:
        query = query.order_by(t.c.occurred_at, t.c.id)
    # raw driver rows: no per-value type processing (timestamps are parsed below, at once)
    columns = raw_columns(conn, query, 6)
    n = len(columns[0])
    occurred = utc_times(columns[0])
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
