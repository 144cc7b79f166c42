"""The import pipeline: files and frames of reports into the database.

Every input row ends in exactly one of three outcomes:

* **stored** as a report (table ``report``),
* **duplicate** of a stored report: same ``(kommun, source, external_id)`` or, without an
  external id, the same content fingerprint (:mod:`geo._fingerprint`; it includes the
  occurrence ordinal of identical rows, so two identical rows of one file are both stored
  and a re-import matches both),
* **quarantined** with a reason code (:class:`geo.schema.Reason`), the raw row (JSON) and
  a Swedish detail message (table ``quarantine``, deduplicated by a raw fingerprint).

Stages (vectorized over a chunk of :data:`CHUNK_ROWS` rows; the first failing check
decides the reason; occurrence ordinals continue from chunk to chunk, so the result does
not depend on the chunk size):

1. read (:func:`geo.readers.open_table`: CSV in streaming chunks, every reader within
   :class:`geo.readers.ReadLimits`; a CSV row that does not fit the header is ``bad_row``)
   and stage: native columns (:func:`geo.mapping.stage_native`), a TOML mapping
   (:class:`geo.mapping.Mapping`) or Polisen events (:mod:`geo.polisen`); coordinates
   that cannot be degrees in a file without a CRS stop the import with a hint for
   ``--crs`` (:func:`geo.boundaries.projected_hint`);
2. ``missing_field`` (kommun, source, occurred_at, category), ``unknown_source``,
   ``no_tenant``, ``too_long`` (:data:`MAX_LENGTHS`), ``bad_timestamp``,
   ``future_timestamp`` (more than :data:`FUTURE_TOLERANCE` ahead), ``unknown_category``;
3. position: coordinates in EPSG:4326 or any CRS (pyproj, vectorized), ``x = y = 0`` or
   empty means no position (never (0, 0)); ``bad_coordinates`` when unparseable or out of
   range; without coordinates the location text is geocoded (:mod:`geo.gazetteer`),
   otherwise ``no_position``;
4. boundaries per tenant: outside :func:`geo.boundaries.tenant_extent` ->
   ``outside_boundary``; locality by :func:`geo.boundaries.assign_points` (NULL when inside
   the kommun but outside all localities); H3 cell (:func:`geo.cells.points_to_cells`) only
   at ``point``/``street`` precision;
5. store in batches of :data:`BATCH_SIZE` rows (one ``executemany``, :mod:`geo.store.bulk`),
   each in one transaction together with the import run's progress (``rows_done`` and
   cumulative counts), so an import killed at any moment resumes where it stopped when
   the same command runs again. Each batch bumps the data version of every kommun that
   got new reports. A large import on SQLite builds the indexes it does not read once at
   its end (:func:`geo.store.bulk.deferred_indexes`). On SQLite, in a kommun that had no
   reports when the import began, only the rows the import may already have stored are
   looked up (:class:`geo._store_batch.ImportedFingerprints`), as long as no one else
   stores reports meanwhile.

Test hook: when the environment variable ``LAGESBILD_TEST_PAUSE_AFTER_BATCH`` is ``"N"``
or ``"N:SECONDS"``, :func:`ingest_file` writes ``lagesbild: paus efter batch N`` to stderr
after committing its N-th batch and sleeps (default 600 s), so a test can kill the process
at a known point.
"""

from __future__ import annotations

import datetime as dt
import itertools
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
from pyproj import CRS
from sqlalchemy import Engine
from sqlalchemy.engine import Connection

from geo._fingerprint import RunningOrdinals, without_bad_row_columns
from geo._import_run import (
    BATCH_SIZE,
    PAUSE_ENV,
    _begin_run,
    _pause_hook,
    _progress,
    import_key,
    import_key_of_file,
)
from geo._positions import default_geocoder
from geo._prepare import FUTURE_TOLERANCE, MAX_LENGTHS, load_mapping, prepare, stage
from geo._result import IngestResult
from geo._retry import retry_quarantine
from geo._staging import Staged, to_float
from geo._store_batch import (
    ImportedFingerprints,
    _quarantine_fingerprints,
    _store,
    mark_bad_rows,
)
from geo._tenant_index import TenantIndex
from geo.boundaries import projected_hint
from geo.errors import ValidationError
from geo.mapping import Mapping
from geo.polisen import Geocoder
from geo.readers import ReadLimits, _as_strings, open_table
from geo.schema import (
    Source,
    Status,
)
from geo.store.bulk import (
    LARGE_IMPORT_BYTES,
    deferred_indexes,
    finish_import,
    has_reports,
    last_report_id,
    tune_for_import,
)
from geo.store.imports import finish_run, record_progress
from geo.tenants import get_tenant


def ingest_frame(
    conn: Connection,
    frame: pd.DataFrame,
    kommun: str | None = None,
    source: str | None = None,
    status: str = Status.APPROVED.value,
    *,
    crs: str | None = None,
    mapping: Mapping | str | Path | None = None,
    format: str = "csv",
    geocoder: Geocoder | None = None,
    import_id: int | None = None,
    now: dt.datetime | pd.Timestamp | None = None,
) -> IngestResult:
    """Run the pipeline on an in-memory frame inside the caller's transaction.

    Meant for single web submissions (citizen, patrol, actor forms) and small batches: the
    frame has schema columns (or a mapping's columns); values may be strings or typed.
    Nothing is committed here; the caller's ``engine.begin()`` block commits.

    Parameters
    ----------
    conn
        Connection in a transaction.
    frame
        Input rows.
    kommun, source
        Constant tenant key and source for all rows (else columns ``kommun``/``source``).
    status
        Status of stored reports (``"pending"`` for citizen reports awaiting moderation).
    crs
        CRS of ``x``/``y`` columns.
    mapping
        Optional TOML mapping (path or :class:`Mapping`).
    format
        ``"csv"`` for schema/mapping columns, ``"polisen"`` for Polisen event columns.
    geocoder
        Object with ``lookup_many(texts, kommun)``; default: the offline gazetteer.

    Returns
    -------
    IngestResult
        Counts and :attr:`IngestResult.outcomes` with one row per input row (same index):
        ``outcome``, ``report_id``, ``reason``, ``detail``, ``quarantine_id``.
    """
    t0 = time.perf_counter()
    kommun = _check_options(conn, kommun, source, status)
    raw = _as_strings(frame.reset_index(drop=True))
    index = TenantIndex(conn)
    staged = stage(
        raw,
        format,
        index,
        mapping=load_mapping(mapping),
        crs=crs,
        kommun=kommun,
        source=source,
        geocoder=geocoder,
    )
    prepared = prepare(
        staged, index, kommun=kommun, source=source, status=status, geocoder=geocoder, now=now
    )
    raw_fp = _quarantine_fingerprints(prepared, raw, kommun, source)
    counts, outcomes = _store(conn, prepared, raw, raw_fp, import_id=import_id)
    result = IngestResult(read=len(frame), format=format)
    result.add(counts)
    if staged.kind != "polisen":
        result.placed_from_text = None
    outcomes.index = frame.index
    for col in ("reason", "detail"):
        outcomes[col] = outcomes[col].astype(object).where(outcomes[col].notna(), None)
    result.outcomes = outcomes
    result.seconds = time.perf_counter() - t0
    return result


def _check_options(
    conn: Connection, kommun: str | None, source: str | None, status: str
) -> str | None:
    """Validate the constant options; return the tenant key of ``kommun``."""
    problems: list[str] = []
    if source is not None and source not in {s.value for s in Source}:
        problems.append(f"okänd källa {source!r}; välj {', '.join(s.value for s in Source)}")
    if status not in {s.value for s in Status}:
        problems.append(f"okänd status {status!r}; välj {', '.join(s.value for s in Status)}")
    if problems:
        raise ValidationError(problems)
    if kommun is None:
        return None
    return get_tenant(conn, kommun).key


def _staged_chunks(
    chunks: Iterator[pd.DataFrame], fmt: str, index: TenantIndex, **options: Any
) -> Iterator[tuple[pd.DataFrame, Staged]]:
    """Each raw chunk with its staged frame (bad-row columns left out of staging)."""
    for raw in chunks:
        yield raw, stage(without_bad_row_columns(raw), fmt, index, **options)


def _check_degrees(staged: Staged, name: str) -> None:
    """Refuse coordinates taken as degrees that are clearly projected (no ``--crs``)."""
    cols = staged.frame.columns
    if "x" not in cols or "y" not in cols or not CRS.from_user_input(staged.crs).is_geographic:
        return
    hint = projected_hint(to_float(staged.frame["x"]), to_float(staged.frame["y"]))
    if hint:
        raise ValidationError(hint, context=name)


def ingest_file(
    engine: Engine,
    path: str | Path,
    *,
    kommun: str | None = None,
    source: str | None = None,
    mapping: Mapping | str | Path | None = None,
    crs: str | None = None,
    format: str = "auto",
    status: str = Status.APPROVED.value,
    geocoder: Geocoder | None = None,
    batch_size: int = BATCH_SIZE,
    progress: bool = False,
    now: dt.datetime | pd.Timestamp | None = None,
    chunk_rows: int | None = None,
    limits: ReadLimits | None = None,
    defer_indexes: bool | None = None,
) -> IngestResult:
    """Import a file in chunks; resumable and idempotent.

    Parameters
    ----------
    engine
        Database engine (each batch commits in its own transaction).
    path
        CSV, ``.xlsx``, GeoJSON or Polisen events (``.gz`` read transparently).
    kommun, source
        Constant tenant key and source (else from columns / the mapping).
    mapping
        TOML column mapping (path or :class:`Mapping`).
    crs
        CRS of ``x``/``y`` columns (e.g. ``"EPSG:3006"``).
    format
        ``auto``, ``csv``, ``xlsx``, ``geojson``, ``polisen`` or ``polisen-json``.
    status
        Status of stored reports.
    geocoder
        Object with ``lookup_many(texts, kommun)``; default: the offline gazetteer.
    batch_size
        Rows per transaction.
    progress
        Show a tqdm progress bar on stderr (only on a terminal).
    now
        The current time (for ``future_timestamp``); default the clock.
    chunk_rows
        Rows read, validated and placed at a time (default :data:`CHUNK_ROWS` rounded to
        whole batches); memory grows with it, not with the file.
    limits
        Limits on unpacked size and row length (default :meth:`ReadLimits.from_env`).
    defer_indexes
        Drop the indexes an import does not read and build them once at the end
        (:func:`geo.store.bulk.deferred_indexes`); default: for files from
        :data:`geo.store.bulk.LARGE_IMPORT_BYTES` on, on SQLite.

    Returns
    -------
    IngestResult
        Cumulative counts over all runs of this import (including resumed ones).
    """
    t0 = time.perf_counter()
    path = Path(path)
    batch_size = max(1, int(batch_size))
    if chunk_rows is None:
        chunk_rows = batch_size * max(1, CHUNK_ROWS // batch_size)
    with engine.connect() as conn:
        kommun = _check_options(conn, kommun, source, status)
        index = TenantIndex(conn)
    mapping_obj = load_mapping(mapping)
    table = open_table(path, format, limits or ReadLimits.from_env(), crs=crs)
    with table:
        options = {
            "format": table.format,
            "kommun": kommun,
            "source": source,
            "crs": crs,
            "status": status,
            "mapping": mapping_obj.text if mapping_obj is not None else None,
        }
        stored_options = {
            **options,
            "mapping_name": mapping_obj.name if mapping_obj is not None else None,
        }
        # the first chunk is staged before the run starts: column and mapping errors
        # stop the import before anything is recorded
        staged_chunks = _staged_chunks(
            table.chunks(chunk_rows),
            table.format,
            index,
            mapping=mapping_obj,
            crs=crs,
            kommun=kommun,
            source=source,
            geocoder=geocoder,
        )
        first_chunk = next(staged_chunks, None)
        if first_chunk is not None:
            _check_degrees(first_chunk[1], path.name)
        key = import_key_of_file(path, options)
        run_id, done, result = _begin_run(engine, key, path.name, stored_options, 0)
        result.resumed_from = done
        result.import_id = run_id
        result.format, result.delimiter = table.format, table.delimiter
        content, raw_seen = RunningOrdinals(), RunningOrdinals()
        memo = ImportedFingerprints() if engine.dialect.name == "sqlite" else None
        large = path.stat().st_size >= LARGE_IMPORT_BYTES and engine.dialect.name == "sqlite"
        defer = large if defer_indexes is None else defer_indexes
        fresh = False
        if defer and memo is not None:
            with engine.connect() as conn:
                fresh = not has_reports(conn, kommun) if kommun else last_report_id(conn) == 0
        with deferred_indexes(engine, defer, fresh):
            bar = _progress(path.stat().st_size, path.name, progress)
            batch_no = n = 0
            try:
                for raw, staged in itertools.chain(
                    [first_chunk] if first_chunk else [], staged_chunks
                ):
                    prepared = prepare(
                        staged,
                        index,
                        kommun=kommun,
                        source=source,
                        status=status,
                        geocoder=geocoder,
                        now=now,
                        ordinals=content,
                    )
                    mark_bad_rows(prepared, raw)
                    raw_fp = _quarantine_fingerprints(prepared, raw, kommun, source, raw_seen)
                    if staged.kind == "polisen" and result.placed_from_text is None:
                        result.placed_from_text = 0
                    first, n = n, n + len(raw)
                    start = max(done, first)
                    while start < n:
                        # batches on the grid done + k * batch_size, whatever the chunks
                        end = min(n, done + ((start - done) // batch_size + 1) * batch_size)
                        rows = slice(start - first, end - first)
                        with engine.begin() as conn:
                            tune_for_import(conn)
                            counts, _ = _store(
                                conn,
                                prepared.iloc[rows],
                                raw.iloc[rows],
                                raw_fp.iloc[rows],
                                import_id=run_id,
                                row_offset=start,
                                collect=False,
                                memo=memo,
                            )
                            result.add(counts)
                            record_progress(conn, run_id, end, result.counts())
                        batch_no += 1
                        start = end
                        _pause_hook(batch_no)
                    if bar is not None:
                        bar.update(table.position - bar.n)
            finally:
                if bar is not None:
                    bar.close()
        result.encoding = table.encoding
    result.read = n
    with engine.begin() as conn:
        finish_import(conn)
        finish_run(conn, run_id, n, result.counts())
    result.seconds = time.perf_counter() - t0
    return result


#: Rows read, validated and placed at a time by :func:`ingest_file`.
CHUNK_ROWS = 50_000

__all__ = [
    "BATCH_SIZE",
    "CHUNK_ROWS",
    "FUTURE_TOLERANCE",
    "MAX_LENGTHS",
    "PAUSE_ENV",
    "IngestResult",
    "default_geocoder",
    "import_key",
    "ingest_file",
    "ingest_frame",
    "load_mapping",
    "prepare",
    "retry_quarantine",
    "stage",
]
