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
from sqlalchemy.engine import Connection

from geo.errors import ValidationError
from geo.schema import REASON_TEXT_SV, Reason
from geo.store.quarantined import (
    existing_raw_fingerprints,
    insert_quarantine,
    quarantine_counts,
    quarantine_rows,
    resolve_quarantine,
    update_quarantine_reason,
)

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
    rows = quarantine_rows(
        conn, LIST_COLUMNS, reason=reason, kommun=kommun, ids=ids, resolved=resolved, limit=limit
    )
    frame = pd.DataFrame(rows, columns=list(LIST_COLUMNS))
    for col in ("import_id", "row_number", "report_id"):
        frame[col] = frame[col].astype("Int64")
    return frame


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
