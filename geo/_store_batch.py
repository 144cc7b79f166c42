"""Storing one batch of prepared rows: reports, duplicates and quarantined rows."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy.engine import Connection

from geo._fingerprint import BAD_ROW_COLUMNS, RunningOrdinals, raw_fingerprints
from geo.quarantine import (
    existing_raw_fingerprints,
    insert_quarantine,
    resolve_quarantine,
    update_quarantine_reason,
)
from geo.schema import Reason
from geo.store.bulk import has_reports, insert_report_frame, last_report_id
from geo.store.db import bump_version, utcnow
from geo.store.reports import existing_external_ids, existing_fingerprints, insert_reports

#: Most fingerprints :class:`ImportedFingerprints` keeps (32 bytes each); an import that
#: stores more looks the rest up in the database.
MEMORY_FINGERPRINTS = 4_000_000


class ImportedFingerprints:
    """What a file import stored in kommuner that had no reports when it began, so that
    its batches look up only the likely duplicates of its own earlier rows: the first 8
    bytes of each fingerprint, sorted (8 bytes a report). A fingerprint whose first 8
    bytes are not there was not stored; the others are looked up in the database.

    Such a kommun's reports are all this import's own as long as no one else stores a
    report: every batch compares the largest report id, read in the batch's transaction,
    with the one the import's previous batch left (another writer after that read makes
    the batch's insert fail rather than slip past it). After any other write, or beyond
    :data:`MEMORY_FINGERPRINTS`, the import looks everything up in the database.
    """

    def __init__(self) -> None:
        self.active = True
        self._fresh: dict[str, bool] = {}
        self._keys = np.zeros(0, dtype=np.uint64)
        self._last_id: int | None = None

    def check(self, conn: Connection) -> bool:
        """Whether the batch in ``conn``'s transaction may use the memory."""
        if self.active:
            last = last_report_id(conn)
            if self._last_id is not None and last != self._last_id:
                self.active = False
            self._last_id = last
        return self.active

    def covers(self, conn: Connection, kommun: str) -> bool:
        """Whether every stored report of ``kommun`` is one this import stored."""
        if kommun not in self._fresh:
            self._fresh[kommun] = not has_reports(conn, kommun)
        return self._fresh[kommun]

    def maybe(self, fingerprints: pd.Series) -> np.ndarray:
        """Which of ``fingerprints`` (hex) this import may have stored."""
        keys = _keys(fingerprints)
        pos = np.searchsorted(self._keys, keys).clip(max=max(len(self._keys) - 1, 0))
        if not len(self._keys):
            return np.zeros(len(keys), dtype=bool)
        return np.asarray(self._keys[pos] == keys, dtype=bool)

    def add(self, conn: Connection, fingerprints: pd.Series) -> None:
        """Record the just stored ``fingerprints`` (after the batch's insert)."""
        keys = np.sort(_keys(fingerprints))
        self._keys = np.insert(self._keys, np.searchsorted(self._keys, keys), keys)
        self._last_id = last_report_id(conn)
        if len(self._keys) > MEMORY_FINGERPRINTS:
            self.active = False
            self._keys = self._keys[:0]


def _keys(fingerprints: pd.Series) -> np.ndarray:
    """The first 8 bytes (16 hex digits) of each fingerprint as an unsigned integer."""
    if not len(fingerprints):
        return np.zeros(0, dtype=np.uint64)
    raw = bytes.fromhex("".join([f[:16] for f in fingerprints.tolist()]))
    return np.frombuffer(raw, dtype=">u8").astype(np.uint64)


def _raw_records(raw: pd.DataFrame) -> list[dict[str, Any]]:
    """Each raw row as a dict of strings (None for empty cells), keys in column order.

    A bad row (see :mod:`geo._csv_stream`) is kept as ``{"_text": <the row as read>}``.
    """
    text = raw["_text"] if "_text" in raw.columns else None
    cols = [c for c in raw.columns if c not in BAD_ROW_COLUMNS]
    values = [raw[c].astype(object).where(raw[c].notna(), None).tolist() for c in cols]
    records = [dict(zip(cols, row, strict=True)) for row in zip(*values, strict=True)]
    if text is not None:
        for i, t in enumerate(text.tolist()):
            if isinstance(t, str):
                records[i] = {"_text": t}
    return records


def mark_bad_rows(prepared: pd.DataFrame, raw: pd.DataFrame) -> None:
    """Quarantine the bad rows of ``raw`` as ``bad_row`` (in place)."""
    if "_bad_row" not in raw.columns:
        return
    why = raw["_bad_row"]
    bad = why.notna().to_numpy()
    if not bad.any():
        return
    prepared.loc[bad, "_reason"] = Reason.BAD_ROW.value
    prepared.loc[bad, "_detail"] = why[bad].astype(object).to_numpy()
    prepared.loc[bad, "fingerprint"] = None


def _store(
    conn: Connection,
    batch: pd.DataFrame,
    raw: pd.DataFrame,
    raw_fp: pd.Series,
    *,
    import_id: int | None,
    row_offset: int = 0,
    quarantine_ids: pd.Series | None = None,
    now: dt.datetime | None = None,
    collect: bool = True,
    memo: ImportedFingerprints | None = None,
) -> tuple[dict[str, Any], pd.DataFrame]:
    """Store one batch inside the caller's transaction; return ``(counts, outcomes)``.

    With ``quarantine_ids`` (a retry) no quarantine rows are inserted: existing ones are
    resolved or get their new reason. With ``memo`` (a file import, ``collect=False``)
    duplicates of the import's own rows are found in memory where it may
    (:class:`ImportedFingerprints`); their ``report_id`` is then not read.
    """
    when = now or utcnow()
    outcomes = pd.DataFrame(
        {
            "outcome": pd.Series("quarantined", index=batch.index, dtype=object),
            "report_id": pd.Series(pd.NA, index=batch.index, dtype="Int64"),
            "reason": batch["_reason"],
            "detail": batch["_detail"],
            "quarantine_id": pd.Series(pd.NA, index=batch.index, dtype="Int64"),
        }
    )
    ok = batch["_reason"].isna()
    acc = batch[ok]
    memory = memo is not None and memo.check(conn)
    # fingerprints embed the kommun, so they are unique across tenants
    known: dict[str, int] = {}  # fingerprint -> report id
    kommuner = acc["kommun"].unique()
    for key in kommuner:
        part = acc if len(kommuner) == 1 else acc[acc["kommun"] == key]
        if memory and memo is not None and memo.covers(conn, str(key)):
            # only this import's rows are stored: the ones it may have stored are looked up
            maybe = part["fingerprint"][memo.maybe(part["fingerprint"])]
            known.update(existing_fingerprints(conn, str(key), maybe.tolist()))
            continue
        known.update(existing_fingerprints(conn, str(key), part["fingerprint"].tolist()))
        has_ext = part["external_id"].notna()
        for src in part.loc[has_ext, "source"].unique():
            sub = part[has_ext & (part["source"] == src)]
            ext = sub["external_id"].tolist()
            by_ext = existing_external_ids(conn, str(key), str(src), ext)
            if by_ext:
                hit = sub["external_id"].isin(list(by_ext))
                ext_ids = sub.loc[hit, "external_id"].map(by_ext)
                known.update(dict(zip(sub.loc[hit, "fingerprint"], ext_ids, strict=True)))
    in_db = acc["fingerprint"].isin(list(known))
    is_dup = in_db | acc.duplicated("fingerprint", keep="first")
    new = acc[~is_dup]
    if collect or quarantine_ids is not None:
        ids = insert_reports(conn, new, import_id, return_ids=True)
    else:  # a file import: one executemany, no ids read back
        insert_report_frame(conn, new, import_id, when)
        ids = np.zeros(0, dtype=np.int64)
        if memory and memo is not None and len(new):
            keys = [k for k in new["kommun"].unique() if memo.covers(conn, str(k))]
            memo.add(conn, new.loc[new["kommun"].isin(keys), "fingerprint"])
    outcomes.loc[new.index, "outcome"] = "stored"
    if len(ids):
        known.update(dict(zip(new["fingerprint"], ids.tolist(), strict=True)))
        outcomes.loc[new.index, "report_id"] = ids
    dup_idx = acc.index[is_dup.to_numpy()]
    outcomes.loc[dup_idx, "outcome"] = "duplicate"
    outcomes.loc[dup_idx, "report_id"] = acc.loc[dup_idx, "fingerprint"].map(known).to_numpy()
    for key in new["kommun"].unique():
        bump_version(conn, str(key))

    bad = batch[~ok]
    if quarantine_ids is None and len(bad):
        fps = raw_fp[bad.index]
        existing = existing_raw_fingerprints(conn, fps.tolist())
        fresh = ~fps.isin(list(existing))
        # identical raw rows within one batch get distinct fingerprints (ordinal)
        fresh_idx = bad.index[fresh.to_numpy()]
        positions = row_offset + batch.index.get_indexer(fresh_idx) + 1
        columns = {
            "kommun": batch.loc[fresh_idx, "_qkommun"],
            "source": batch.loc[fresh_idx, "_qsource"],
            "reason": batch.loc[fresh_idx, "_reason"],
            "detail": batch.loc[fresh_idx, "_detail"],
            "raw_fingerprint": fps[fresh_idx],
        }
        lists = {k: v.astype(object).where(v.notna(), None).tolist() for k, v in columns.items()}
        lists["row_number"] = positions.tolist()
        lists["raw"] = _raw_records(raw.loc[fresh_idx])
        names = list(lists)
        rows = [
            {**dict(zip(names, vals, strict=True)), "import_id": import_id, "created_at": when}
            for vals in zip(*lists.values(), strict=True)
        ]
        qids = insert_quarantine(conn, rows, return_ids=collect)
        if qids:
            outcomes.loc[fresh_idx, "quarantine_id"] = qids
        old_idx = bad.index[~fresh.to_numpy()]
        outcomes.loc[old_idx, "quarantine_id"] = [existing[fps[i]] for i in old_idx]
    elif quarantine_ids is not None:
        outcomes["quarantine_id"] = quarantine_ids.astype("Int64")
        resolved = outcomes["outcome"] != "quarantined"
        resolve_quarantine(
            conn,
            [
                (int(q), int(r))
                for q, r in zip(
                    outcomes.loc[resolved, "quarantine_id"],
                    outcomes.loc[resolved, "report_id"],
                    strict=True,
                )
            ],
            when,
        )
        update_quarantine_reason(
            conn,
            [
                (int(q), str(r), None if pd.isna(d) else str(d))
                for q, r, d in zip(
                    outcomes.loc[~resolved, "quarantine_id"],
                    outcomes.loc[~resolved, "reason"],
                    outcomes.loc[~resolved, "detail"],
                    strict=True,
                )
            ],
        )

    counts: dict[str, Any] = {
        "stored": len(new),
        "duplicates": int(is_dup.sum()),
        "quarantined": int((~ok).sum()),
        "reasons": {str(k): int(v) for k, v in batch.loc[~ok, "_reason"].value_counts().items()},
        "precision": {str(k): int(v) for k, v in new["precision"].value_counts().items()},
        "kommuner": sorted(str(k) for k in new["kommun"].unique()),
    }
    if "_placed" in batch.columns:  # Polisen events
        counts["placed_from_text"] = int(new["_placed"].sum())
    return counts, outcomes


def _quarantine_fingerprints(
    prepared: pd.DataFrame,
    raw: pd.DataFrame,
    kommun: str | None,
    source: str | None,
    running: RunningOrdinals | None = None,
) -> pd.Series:
    bad = prepared["_reason"].notna()
    out = pd.Series(None, index=prepared.index, dtype=object)
    if bad.any():
        scope = json.dumps({"kommun": kommun, "source": source}, sort_keys=True)
        out[bad] = raw_fingerprints(raw[bad.to_numpy()], scope, running=running).to_numpy()
    return out
