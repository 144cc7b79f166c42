"""Reading and writing stored reports (table ``report``).

Reports come back as report frames (:mod:`geo.schema`): positions in EPSG:4326, timestamps
tz-aware UTC, ``cell`` as ``uint64`` with ``0`` for reports without a cell. Storage keeps
timestamps as naive UTC and cells as signed 64-bit integers (``NULL`` = no cell).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
from sqlalchemy import bindparam, func, select, update
from sqlalchemy.engine import Connection

from geo._fingerprint import report_fingerprints
from geo.schema import REPORT_COLUMNS, Status, empty_reports
from geo.store._raw import raw_columns, tenant_filter, utc_times
from geo.store.db import utcnow
from geo.store.postgis import copy_rows, is_postgresql
from geo.store.tables import citizen_report
from geo.store.tables import report as report_table

#: Largest number of bound values in one ``IN (...)`` clause (portable across SQLite builds).
IN_CHUNK = 900

#: Columns written by :func:`insert_reports` besides ``id`` and ``created_at``.
INSERT_COLUMNS = (
    "kommun",
    "source",
    "external_id",
    "fingerprint",
    "occurred_at",
    "reported_at",
    "category",
    "severity",
    "description",
    "reporter_org",
    "location_text",
    "lat",
    "lon",
    "precision",
    "locality",
    "cell",
    "status",
    "import_id",
)


def chunks(values: Sequence[Any], size: int = IN_CHUNK) -> Iterator[Sequence[Any]]:
    """Consecutive slices of ``values`` with at most ``size`` items."""
    for start in range(0, len(values), size):
        yield values[start : start + size]


def _to_utc(value: dt.datetime | pd.Timestamp | str | None) -> dt.datetime | None:
    if value is None:
        return None
    ts = pd.Timestamp(value)
    if ts.tzinfo is not None:
        ts = ts.tz_convert("UTC").tz_localize(None)
    return ts.to_pydatetime()


def read_reports(
    conn: Connection,
    kommun: str | None = None,
    *,
    start: dt.datetime | pd.Timestamp | str | None = None,
    end: dt.datetime | pd.Timestamp | str | None = None,
    status: str | None = "approved",
    sources: Iterable[str] | None = None,
    categories: Iterable[str] | None = None,
) -> pd.DataFrame:
    """Stored reports as a report frame.

    Parameters
    ----------
    conn
        Open connection.
    kommun
        Tenant key; all tenants when None.
    start, end
        Half-open interval ``start <= occurred_at < end`` (naive values mean UTC).
    status
        Only reports with this status (default ``"approved"``, the ones the analysis uses);
        None for all.
    sources, categories
        Restrict to these source / category codes.

    Returns
    -------
    pandas.DataFrame
        Columns of :data:`geo.schema.REPORT_COLUMNS`, ordered by ``occurred_at`` and ``id``.
    """
    t = report_table
    cols = [t.c[c] for c in REPORT_COLUMNS]
    query = select(*cols).order_by(t.c.occurred_at, t.c.id)
    if kommun is not None:
        query = query.where(t.c.kommun == kommun)
    if start is not None:
        query = query.where(t.c.occurred_at >= _to_utc(start))
    if end is not None:
        query = query.where(t.c.occurred_at < _to_utc(end))
    if status is not None:
        query = query.where(t.c.status == status)
    if sources is not None:
        query = query.where(t.c.source.in_(list(sources)))
    if categories is not None:
        query = query.where(t.c.category.in_(list(categories)))
    rows = conn.execute(query).all()
    if not rows:
        return empty_reports()
    frame = pd.DataFrame(rows, columns=list(REPORT_COLUMNS))
    # keep H3 ids exact: with NULLs pandas would build a float64 column and round them
    cell_pos = list(REPORT_COLUMNS).index("cell")
    frame["cell"] = pd.Series([row[cell_pos] for row in rows], dtype=object)
    return rows_to_reports(frame)


def rows_to_reports(frame: pd.DataFrame) -> pd.DataFrame:
    """Cast raw database rows (columns of :data:`REPORT_COLUMNS`) to a report frame."""
    out = pd.DataFrame(index=pd.RangeIndex(len(frame)))
    for col, dtype in REPORT_COLUMNS.items():
        values = frame[col].reset_index(drop=True)
        if dtype.startswith("datetime64"):
            out[col] = pd.to_datetime(values, utc=True).astype(pd.api.types.pandas_dtype(dtype))
        elif col == "cell":
            # exact integers: NULLs make pandas use float64, which would round H3 ids
            cells = np.asarray(
                [0 if v is None or pd.isna(v) else int(v) for v in values], dtype=np.int64
            )
            out[col] = cells.astype(np.uint64)
        else:
            out[col] = values.astype(pd.api.types.pandas_dtype(dtype))
    return out


def report_column_values(
    frame: pd.DataFrame,
    import_id: int | None,
    datetimes: Callable[[pd.Series], list[Any]],
) -> dict[str, list[Any]]:
    """:data:`INSERT_COLUMNS` of ``frame`` as lists of plain values (``None`` for missing).

    ``datetimes`` converts a time column (the form depends on how it is written).
    """
    n = len(frame)
    data: dict[str, list[Any]] = {}
    for col in INSERT_COLUMNS:
        if col == "import_id":
            data[col] = [import_id] * n
        elif col in ("occurred_at", "reported_at"):
            data[col] = datetimes(frame[col])
        elif col == "cell":
            cells = frame[col].to_numpy(np.uint64).astype(np.int64)
            arr = cells.astype(object)
            arr[cells == 0] = None
            data[col] = list(arr)
        elif col in ("lat", "lon", "severity"):
            values = frame[col].to_numpy(np.float64)
            obj = values.astype(object)
            obj[~np.isfinite(values)] = None
            data[col] = list(obj)
        elif isinstance(frame[col].dtype, pd.StringDtype):  # missing values come out as None
            data[col] = pa.array(frame[col].array).to_pylist()
        else:
            series = frame[col].astype(object)
            data[col] = series.where(series.notna(), None).to_list()
    return data


def naive_utc(values: pd.Series) -> list[Any]:
    """Naive UTC ``datetime`` objects of ``values`` (None for missing)."""
    ts = pd.to_datetime(values, utc=True).dt.tz_localize(None)
    # datetime64[us] -> datetime.datetime objects, NaT -> None
    return list(ts.to_numpy(dtype="datetime64[us]").astype(object).tolist())


def reports_to_rows(
    frame: pd.DataFrame, import_id: int | None = None, created_at: dt.datetime | None = None
) -> list[dict[str, Any]]:
    """Rows for ``INSERT INTO report`` from a report frame with a ``fingerprint`` column."""
    data = report_column_values(frame, import_id, naive_utc)
    now = created_at or utcnow()
    data["created_at"] = [now] * len(frame)
    keys = list(data)
    return [dict(zip(keys, vals, strict=True)) for vals in zip(*data.values(), strict=True)]


def with_fingerprints(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` plus a ``fingerprint`` column (see :mod:`geo._fingerprint`).

    Without ``in_lat``/``in_lon`` the stored coordinates count as the input ones.
    """
    work = frame.copy()
    for col in REPORT_COLUMNS:
        if col not in work.columns:
            work[col] = None
    if "in_lat" not in work.columns:
        work["in_lat"] = work["lat"]
    if "in_lon" not in work.columns:
        work["in_lon"] = work["lon"]
    out = frame.copy()
    out["fingerprint"] = report_fingerprints(work).to_numpy()
    return out


def insert_reports(
    conn: Connection, frame: pd.DataFrame, import_id: int | None = None, return_ids: bool = True
) -> np.ndarray:
    """Insert a report frame; return the new ids in row order.

    Rows need the report columns; a missing ``fingerprint`` is computed
    (:func:`with_fingerprints`).

    Uses PostgreSQL's ``COPY`` there and one ``executemany`` elsewhere and, with
    ``return_ids``, reads the ids back by fingerprint (unique per kommun).
    """
    if len(frame) == 0:
        return np.zeros(0, dtype=np.int64)
    if "fingerprint" not in frame.columns:
        frame = with_fingerprints(frame)
    rows = reports_to_rows(frame, import_id)
    if is_postgresql(conn):
        copy_rows(conn, report_table, rows)
    else:
        conn.execute(report_table.insert(), rows)
    if not return_ids:
        return np.zeros(0, dtype=np.int64)
    ids = np.zeros(len(frame), dtype=np.int64)
    kommuner = frame["kommun"].astype(str).to_numpy()
    fps = frame["fingerprint"].astype(str).to_numpy()
    for key in np.unique(kommuner):
        sel = kommuner == key
        found = existing_fingerprints(conn, str(key), fps[sel].tolist())
        ids[sel] = [found[fp] for fp in fps[sel]]
    return ids


def read_public_reports(
    conn: Connection, kommun: str, start: dt.datetime, sources: Sequence[str]
) -> pd.DataFrame:
    """Approved reports with a cell since ``start`` and the instant each became public.

    Returns ``DataFrame[cell (uint64), category, occurred_at, published_at]`` (UTC); a
    citizen report became public when it was approved, any other when it was stored.
    """
    r, c = report_table, citizen_report
    published = func.coalesce(c.c.moderated_at, r.c.created_at)
    query = (
        select(r.c.cell, r.c.category, r.c.occurred_at, published.label("published_at"))
        .select_from(r.outerjoin(c, c.c.report_id == r.c.id))
        .where(
            tenant_filter(conn, kommun, r.c.occurred_at >= start),
            r.c.status == Status.APPROVED.value,
            r.c.cell.is_not(None),
            r.c.occurred_at >= start,
            r.c.source.in_(list(sources)),
        )
    )
    # a city's whole history: raw driver rows, each column converted at once
    cell, category, occurred, published_at = raw_columns(conn, query, 4)
    return pd.DataFrame(
        {
            "cell": cell.astype(np.int64).astype(np.uint64),
            "category": pd.Series(category, dtype=object),
            "occurred_at": utc_times(occurred),
            "published_at": utc_times(published_at),
        }
    )


def occurred_range(
    conn: Connection, kommun: str, status: str | None = Status.APPROVED.value
) -> tuple[dt.datetime | None, dt.datetime | None]:
    """First and last ``occurred_at`` (naive UTC) of the reports of ``kommun``.

    Two index walks (first row in each order), not a scan with min and max.
    """
    t = report_table
    first = select(t.c.occurred_at).where(t.c.kommun == kommun).limit(1)
    if status is not None:
        first = first.where(t.c.status == status)
    lo = conn.execute(first.order_by(t.c.occurred_at)).scalar()
    hi = conn.execute(first.order_by(t.c.occurred_at.desc())).scalar()
    return lo, hi


def latest_occurred_before(
    conn: Connection, kommun: str, before: dt.datetime, status: str | None = Status.APPROVED.value
) -> dt.datetime | None:
    """The latest ``occurred_at`` (naive UTC) of the reports of ``kommun`` before ``before``."""
    t = report_table
    q = select(func.max(t.c.occurred_at)).where((t.c.kommun == kommun) & (t.c.occurred_at < before))
    if status is not None:
        q = q.where(t.c.status == status)
    return conn.execute(q).scalar_one_or_none()


def count_reports(conn: Connection, kommun: str | None = None) -> int:
    """Number of stored reports (of ``kommun``, or of every kommun)."""
    q = select(func.count()).select_from(report_table)
    if kommun is not None:
        q = q.where(report_table.c.kommun == kommun)
    return int(conn.execute(q).scalar_one())


def backdate_filing(conn: Connection, kommun: str) -> int:
    """Date each report of ``kommun`` as stored when it was reported (synthetic data).

    ``created_at`` becomes ``reported_at`` (or ``occurred_at``) where that is earlier, as
    if a year of reports had been filed week by week. Returns the rows changed.
    """
    filed = func.coalesce(report_table.c.reported_at, report_table.c.occurred_at)
    res = conn.execute(
        update(report_table)
        .where(report_table.c.kommun == kommun, filed < report_table.c.created_at)
        .values(created_at=filed)
    )
    return int(res.rowcount)


#: Values per ``IN (...)`` of the id look-ups by fingerprint or external id (SQLite
#: allows 32,766 since 3.32): few statements for a batch of an import.
LOOKUP_CHUNK = 10_000


def _ids_by(
    conn: Connection, column: str, values: Sequence[str], kommun: str, source: str | None = None
) -> dict[str, int]:
    """``value -> report id`` for the ``values`` of ``column`` stored for ``kommun``
    (and ``source``)."""
    t = report_table
    sqlite = conn.dialect.name == "sqlite"
    if sqlite:  # the list as one JSON text: no statement with thousands of placeholders
        listed = func.json_each(bindparam("v")).table_valued("value")
        cond = (t.c.kommun == bindparam("k")) & t.c[column].in_(select(listed.c.value))
    else:
        cond = (t.c.kommun == bindparam("k")) & t.c[column].in_(bindparam("v", expanding=True))
    if source is not None:
        cond = cond & (t.c.source == bindparam("s"))
    stmt = select(t.c[column], t.c.id).where(cond)  # compiled once, the list expanded
    found: dict[str, int] = {}
    for part in chunks(list(values), LOOKUP_CHUNK):
        listed_values: Any = json.dumps([str(v) for v in part]) if sqlite else list(part)
        rows = conn.execute(stmt, {"k": kommun, "v": listed_values, "s": source})
        found.update({str(v): int(i) for v, i in rows})
    return found


def existing_fingerprints(
    conn: Connection, kommun: str, fingerprints: Sequence[str]
) -> dict[str, int]:
    """Fingerprint -> report id for those of ``fingerprints`` already stored for ``kommun``."""
    return _ids_by(conn, "fingerprint", fingerprints, kommun)


def existing_external_ids(
    conn: Connection, kommun: str, source: str, external_ids: Sequence[str]
) -> dict[str, int]:
    """External id -> report id for those already stored for ``kommun`` and ``source``."""
    return _ids_by(conn, "external_id", external_ids, kommun, source)


__all__ = [
    "LOOKUP_CHUNK",
    "backdate_filing",
    "count_reports",
    "existing_external_ids",
    "existing_fingerprints",
    "insert_reports",
    "occurred_range",
    "read_public_reports",
    "read_reports",
    "report_column_values",
    "reports_to_rows",
    "rows_to_reports",
    "with_fingerprints",
]
