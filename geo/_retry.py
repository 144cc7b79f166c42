"""Running the pipeline again on quarantined rows."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Sequence
from pathlib import Path

import pandas as pd
from sqlalchemy import Engine

from geo._prepare import load_mapping, prepare, stage
from geo._result import IngestResult
from geo._store_batch import _store
from geo._tenant_index import TenantIndex
from geo.errors import ValidationError
from geo.mapping import Mapping
from geo.polisen import Geocoder
from geo.quarantine import (
    list_quarantine,
)
from geo.readers import _as_strings
from geo.schema import (
    Status,
)
from geo.store.imports import run_options


def retry_quarantine(
    engine: Engine,
    *,
    ids: Sequence[int] | None = None,
    reason: str | None = None,
    kommun: str | None = None,
    mapping: Mapping | str | Path | None = None,
    geocoder: Geocoder | None = None,
    now: dt.datetime | pd.Timestamp | None = None,
) -> IngestResult:
    """Run the pipeline again on open quarantined rows.

    Rows are re-read from their raw content with the options of the import that
    quarantined them (format, mapping, CRS, kommun, source, status); ``mapping`` replaces
    the mapping. Rows that are now stored (or found to duplicate a stored report) are
    marked resolved with the report id; the others keep their quarantine entry with the
    new reason and detail. Rows quarantined by :func:`ingest_frame` without an import run
    are re-read as schema columns with their quarantine kommun/source and status
    ``pending``.
    """
    t0 = time.perf_counter()
    override = load_mapping(mapping)
    with engine.connect() as conn:
        rows = list_quarantine(conn, reason=reason, kommun=kommun, ids=ids, resolved=False)
        run_ids = [int(i) for i in rows["import_id"].dropna().unique()]
        run_opts = run_options(conn, run_ids)
        index = TenantIndex(conn)
    result = IngestResult(read=len(rows))
    if rows.empty:
        result.seconds = time.perf_counter() - t0
        return result
    # bad rows (kept as their text) cannot be read again: they stay as they are
    as_text = rows["raw"].map(lambda r: isinstance(r, dict) and "_text" in r).astype(bool)
    if as_text.any():
        reasons = rows.loc[as_text, "reason"].astype(str).value_counts().to_dict()
        result.add({"quarantined": int(as_text.sum()), "reasons": reasons})
        rows = rows[~as_text].copy()
    rows["_run"] = rows["import_id"].fillna(-1).astype(int)
    for run_key, group in rows.groupby("_run", sort=True):
        run = int(str(run_key))
        raw = _as_strings(pd.DataFrame.from_records(list(group["raw"])))
        raw.index = group.index
        if run == -1:
            # rows of ingest_frame(): schema columns; tenant and source from the quarantine row
            labels = [group["kommun"].fillna(""), group["source"].fillna("")]
            for (qk, qs), sub in group.groupby(labels, sort=False):
                sub_raw = raw.loc[sub.index]
                qk, qs = str(qk), str(qs)
                k = qk if qk in index.tenants and not _has_values(sub_raw, "kommun") else None
                s = qs if qs and not _has_values(sub_raw, "source") else None
                _retry_part(
                    engine,
                    sub_raw,
                    sub,
                    "csv",
                    index,
                    override,
                    None,
                    k,
                    s,
                    Status.PENDING.value,
                    geocoder,
                    now,
                    result,
                )
            continue
        opts = run_opts.get(run, {})
        fmt = str(opts.get("format") or "csv")
        use_mapping = override
        if use_mapping is None and opts.get("mapping"):
            use_mapping = Mapping.from_text(
                str(opts["mapping"]), name=str(opts.get("mapping_name") or "mapping")
            )
        if fmt in ("polisen", "polisen-json"):
            use_mapping = None
        kom = opts.get("kommun")
        _retry_part(
            engine,
            raw,
            group,
            fmt,
            index,
            use_mapping,
            opts.get("crs"),
            kom if kom in index.tenants else None,
            opts.get("source"),
            str(opts.get("status") or Status.APPROVED.value),
            geocoder,
            now,
            result,
        )
    result.seconds = time.perf_counter() - t0
    return result


def _has_values(frame: pd.DataFrame, col: str) -> bool:
    return col in frame.columns and bool(frame[col].notna().any())


def _retry_part(
    engine: Engine,
    raw: pd.DataFrame,
    group: pd.DataFrame,
    fmt: str,
    index: TenantIndex,
    mapping: Mapping | None,
    crs: str | None,
    kommun: str | None,
    source: str | None,
    status: str,
    geocoder: Geocoder | None,
    now: dt.datetime | pd.Timestamp | None,
    result: IngestResult,
) -> None:
    try:
        staged = stage(
            raw,
            fmt,
            index,
            mapping=mapping,
            crs=crs,
            kommun=kommun,
            source=source,
            geocoder=geocoder,
        )
    except ValidationError as exc:  # MappingError too: the rows stay as they are
        result.problems.append(f"{len(group)} rader kunde inte prövas igen: {exc}")
        result.add(
            {
                "quarantined": len(group),
                "reasons": group["reason"].astype(str).value_counts().to_dict(),
            }
        )
        return
    prepared = prepare(
        staged, index, kommun=kommun, source=source, status=status, geocoder=geocoder, now=now
    )
    with engine.begin() as conn:
        counts, _ = _store(
            conn,
            prepared,
            raw,
            pd.Series(None, index=raw.index, dtype=object),
            import_id=None,
            quarantine_ids=group["id"],
        )
    result.add(counts)


__all__ = ["retry_quarantine"]
