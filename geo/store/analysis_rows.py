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
from sqlalchemy import Connection, select

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
    query = select(
        t.c.occurred_at, t.c.category, t.c.source, t.c.reporter_org, t.c.locality, t.c.cell
    ).where((t.c.kommun == kommun) & (t.c.status == Status.APPROVED.value))
    if start is not None:
        query = query.where(t.c.occurred_at >= _to_utc(start))
    if end is not None:
        query = query.where(t.c.occurred_at < _to_utc(end))
    rows = conn.execute(query).all()
    columns = list(zip(*rows, strict=True)) if rows else [()] * 6
    n = len(rows)
    del rows
    occurred = pd.to_datetime(pd.Series(columns[0], dtype=object), utc=True)
    cells = np.fromiter((0 if c is None else c for c in columns[5]), dtype=np.int64, count=n)
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
    frame["status"] = pd.Categorical([Status.APPROVED.value] * n)
    frame["kommun"] = pd.Categorical([kommun] * n)
    return frame


__all__ = ["ANALYSIS_COLUMNS", "read_analysis_reports"]
