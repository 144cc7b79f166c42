"""Quarantined input rows: listing, export and bookkeeping.

An input row that cannot be stored is kept in table ``quarantine`` with its raw content
(JSON of the row as read), a reason code (:class:`geo.schema.Reason`) and a Swedish
detail message. Rows are deduplicated by a raw fingerprint, so re-running an import does
not quarantine a row twice. :func:`geo.ingest.retry_quarantine` re-runs the pipeline on
them (e.g. after a tenant or boundary was added); rows that then succeed are marked
resolved with the id of their report.

``row_number`` is the 1-based data row of the input (the header line not counted).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd
from sqlalchemy import func, select, update
from sqlalchemy.engine import Connection

from geo.errors import ValidationError
from geo.schema import REASON_TEXT_SV, Reason
from geo.store.reports import chunks
from geo.store.tables import import_run
from geo.store.tables import quarantine as quarantine_table

LIST_COLUMNS = (
    "id",
    "import_id",
    "kommun",
    "source",
    "row_number",
    "reason",
    "detail",
    "raw",
    "created_at",
    "resolved_at",
    "report_id",
    "file_name",
)


def check_reason(reason: str | None) -> None:
    """Raise :class:`ValidationError` for an unknown reason code."""
    if reason is not None and reason not in {r.value for r in Reason}:
        known = ", ".join(r.value for r in Reason)
        raise ValidationError(f"okänd orsak {reason!r}; kända: {known}")


def list_quarantine(
    conn: Connection,
    *,
    reason: str | None = None,
    kommun: str | None = None,
    ids: Sequence[int] | None = None,
    resolved: bool | None = False,
    limit: int | None = None,
) -> pd.DataFrame:
    """Quarantined rows as a frame (columns :data:`LIST_COLUMNS`), oldest first.

    ``resolved`` False lists open rows, True resolved ones, None both.
    """
    check_reason(reason)
    q, r = quarantine_table, import_run
    query = (
        select(*[q.c[c] for c in LIST_COLUMNS if c != "file_name"], r.c.file_name)
        .select_from(q.outerjoin(r, q.c.import_id == r.c.id))
        .order_by(q.c.id)
    )
    if reason is not None:
        query = query.where(q.c.reason == reason)
    if kommun is not None:
        query = query.where(q.c.kommun == kommun)
    if ids is not None:
        query = query.where(q.c.id.in_([int(i) for i in ids]))
    if resolved is False:
        query = query.where(q.c.resolved_at.is_(None))
    elif resolved is True:
        query = query.where(q.c.resolved_at.is_not(None))
    if limit is not None:
        query = query.limit(int(limit))
    rows = conn.execute(query).all()
    frame = pd.DataFrame(rows, columns=list(LIST_COLUMNS))
    for col in ("import_id", "row_number", "report_id"):
        frame[col] = frame[col].astype("Int64")
    return frame


def quarantine_counts(conn: Connection, kommun: str | None = None) -> dict[str, int]:
    """Open (unresolved) quarantined rows per reason code."""
    q = quarantine_table
    query = select(q.c.reason, func.count()).where(q.c.resolved_at.is_(None)).group_by(q.c.reason)
    if kommun is not None:
        query = query.where(q.c.kommun == kommun)
    return {str(reason): int(n) for reason, n in conn.execute(query)}


def existing_raw_fingerprints(conn: Connection, fingerprints: Sequence[str]) -> dict[str, int]:
    """Raw fingerprint -> quarantine id for those already quarantined."""
    q = quarantine_table
    found: dict[str, int] = {}
    for part in chunks(list(fingerprints)):
        res = conn.execute(
            select(q.c.raw_fingerprint, q.c.id).where(q.c.raw_fingerprint.in_(list(part)))
        )
        found.update({str(fp): int(i) for fp, i in res})
    return found


def insert_quarantine(
    conn: Connection, rows: list[dict[str, Any]], return_ids: bool = True
) -> list[int]:
    """Insert quarantine rows; return their ids in order (read back by raw fingerprint)."""
    if not rows:
        return []
    conn.execute(quarantine_table.insert(), rows)
    if not return_ids:
        return []
    found = existing_raw_fingerprints(conn, [r["raw_fingerprint"] for r in rows])
    return [found[r["raw_fingerprint"]] for r in rows]


def resolve_quarantine(
    conn: Connection, pairs: Sequence[tuple[int, int]], when: dt.datetime
) -> None:
    """Mark quarantine rows resolved: ``pairs`` of (quarantine id, report id)."""
    q = quarantine_table
    for qid, rid in pairs:
        conn.execute(
            update(q).where(q.c.id == int(qid)).values(resolved_at=when, report_id=int(rid))
        )


def update_quarantine_reason(conn: Connection, rows: Sequence[tuple[int, str, str | None]]) -> None:
    """Record a new reason/detail for quarantine rows: ``rows`` of (id, reason, detail)."""
    q = quarantine_table
    for qid, reason, detail in rows:
        conn.execute(update(q).where(q.c.id == int(qid)).values(reason=reason, detail=detail))


def _jsonable(value: Any) -> Any:
    if value is None or (isinstance(value, float) and pd.isna(value)) or value is pd.NA:
        return None
    if isinstance(value, (pd.Timestamp, dt.datetime)):
        return value.isoformat()
    if hasattr(value, "item"):
        return value.item()
    return value


def quarantine_records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """Rows of :func:`list_quarantine` as JSON-ready dicts (with the Swedish reason text)."""
    out: list[dict[str, Any]] = []
    for row in frame.to_dict("records"):
        rec = {str(k): _jsonable(v) for k, v in row.items()}
        rec["reason_text"] = REASON_TEXT_SV.get(str(rec["reason"]), "")
        out.append(rec)
    return out


def export_quarantine(frame: pd.DataFrame, path: str | Path, format: str = "csv") -> int:
    """Write quarantined rows to ``path`` as CSV (raw as a JSON column) or JSON; return rows."""
    if format not in ("csv", "json"):
        raise ValidationError(f"okänt exportformat {format!r}; välj csv eller json")
    records = quarantine_records(frame)
    path = Path(path)
    if format == "json":
        path.write_text(json.dumps(records, ensure_ascii=False, indent=2), encoding="utf-8")
        return len(records)
    buf = io.StringIO()
    fields = [*LIST_COLUMNS, "reason_text"]
    writer = csv.DictWriter(buf, fieldnames=fields)
    writer.writeheader()
    for rec in records:
        rec = dict(rec)
        rec["raw"] = json.dumps(rec["raw"], ensure_ascii=False)
        writer.writerow(rec)
    path.write_text(buf.getvalue(), encoding="utf-8-sig")  # BOM: Excel opens åäö correctly
    return len(records)


__all__ = [
    "LIST_COLUMNS",
    "check_reason",
    "existing_raw_fingerprints",
    "export_quarantine",
    "insert_quarantine",
    "list_quarantine",
    "quarantine_counts",
    "quarantine_records",
    "resolve_quarantine",
    "update_quarantine_reason",
]
