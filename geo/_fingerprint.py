"""Fingerprints that make imports idempotent.

* A **report fingerprint** identifies a report within a kommun (unique in the database).
  Rows with an external id are identified by ``(kommun, source, external_id)``; rows
  without one by their content (what the source said: time, category, place, text) plus
  the **occurrence ordinal** of identical content within the input, so two genuinely
  identical rows of one file are two reports, and importing the file again matches both.
* A **raw fingerprint** identifies a quarantined input row (its raw content, the import's
  kommun/source options and the ordinal of identical raw rows), so re-running an import
  does not quarantine the same row twice.

Key strings are assembled with vectorized pandas string operations; only the SHA-256 of
each key is computed per row (C speed, ~1 µs a row).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

import numpy as np
import pandas as pd
import polars as pl
import pyarrow as pa
import pyarrow.compute as pc

from geo._csv_stream import BAD_ROW, RAW_TEXT
from geo._staging import STR

SEP = "\x1f"  # unit separator: never part of real text


def sha256_hex(keys: Iterable[str] | pd.Series) -> np.ndarray:
    """SHA-256 hex digest of each string (a series of strings is encoded by Arrow)."""
    sha = hashlib.sha256
    if isinstance(keys, pd.Series):
        blobs = pa.array(keys.astype(STR).array).cast(pa.binary()).to_pylist()
        return np.asarray([sha(b).hexdigest() for b in blobs], dtype=object)
    return np.asarray([sha(k.encode("utf-8")).hexdigest() for k in keys], dtype=object)


def text_part(values: pd.Series) -> pd.Series:
    """Strings with missing values as ``""`` (for key assembly)."""
    return values.astype(STR).fillna("")


def float_part(values: pd.Series, decimals: int = 6) -> pd.Series:
    """Rounded floats as fixed-point strings (Python's ``str``), ``""`` when missing."""
    nums = (pd.to_numeric(values, errors="coerce").astype(float).round(decimals) + 0.0).to_numpy()
    present = ~np.isnan(nums)  # "+ 0.0" above: no -0.0
    text = pc.cast(pa.array(nums), pa.string())
    # Arrow writes what Python's str does (the shortest round trip, positional) for
    # numbers with a fraction between 1e-4 and 1e9; Python writes the others
    size = np.abs(nums)
    slow = present & ~((size >= 1e-4) & (size < 1e9) & (nums != np.round(nums)))
    if slow.any():
        words = pa.array([str(v) for v in nums[slow].tolist()], type=pa.string())
        text = pc.replace_with_mask(text, pa.array(slow), words)
    text = pc.if_else(pa.array(present), text, pa.scalar("", pa.string()))
    return pd.Series(pd.array(text, dtype=STR), index=values.index)


def time_part(values: pd.Series) -> pd.Series:
    """UTC timestamps as whole epoch seconds, ``""`` when missing."""
    ts = pd.to_datetime(values, utc=True, cache=False)
    secs = pa.array(ts.to_numpy("datetime64[s]").astype(np.int64)).cast(pa.string())
    return pd.Series(pd.array(secs, dtype=STR), index=values.index).where(ts.notna(), "")


def join_parts(parts: list[pd.Series]) -> pd.Series:
    """Join equally indexed string series with :data:`SEP` (one Arrow kernel)."""
    arrays = [pa.array(p.astype(STR)) for p in parts]
    joined = pc.binary_join_element_wise(*arrays, pa.scalar(SEP, arrays[0].type))
    return pd.Series(pd.array(joined, dtype=STR), index=parts[0].index)


def ordinals(keys: pd.Series, running: RunningOrdinals | None = None) -> pd.Series:
    """0 for the first occurrence of each key, 1 for the second, … (input order).

    With ``running`` the count continues from the keys of earlier calls (the chunks of a
    file read piece by piece get the ordinals of the whole file).
    """
    if running is None:
        return keys.groupby(keys, sort=False).cumcount()
    return running.continue_from(keys)


def external_id_fingerprint(kommun: str, source: str, external_id: str) -> str:
    """Fingerprint of one report identified by its external id (the rule of
    :func:`report_fingerprints` for a row with an external id, without pandas)."""
    key = SEP.join(["id", kommun, source, external_id.strip()])
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


class RunningOrdinals:
    """Occurrence counts of keys over consecutive chunks, in bounded memory.

    Keeps the sorted 64-bit hashes of the keys seen (8 bytes a key, hashed by polars) and
    a count only for keys seen more than once.
    """

    def __init__(self) -> None:
        self._seen = np.zeros(0, dtype=np.uint64)
        self._repeats: dict[int, int] = {}

    def continue_from(self, keys: pd.Series) -> pd.Series:
        """Ordinals of ``keys`` counting the keys of earlier chunks (keys compared by their
        64-bit hash)."""
        if len(keys) == 0:
            return pd.Series(np.zeros(0, dtype=np.int64), index=keys.index)
        # any 64-bit hash serves, as long as it is the same for every chunk of the run
        h = pl.Series(pa.array(keys.astype(STR).array)).hash(seed=0).to_numpy()
        h = h.astype(np.uint64, copy=False)
        local = pd.Series(h).groupby(h, sort=False).cumcount()
        pos = np.searchsorted(self._seen, h)
        found = pos < len(self._seen)
        found[found] = self._seen[pos[found]] == h[found]
        prior = np.zeros(len(h), dtype=np.int64)
        if found.any():
            prior[found] = [self._repeats.get(int(v), 1) for v in h[found].tolist()]
        out = local.to_numpy(np.int64) + prior
        order = np.argsort(h, kind="stable")
        hs = h[order]
        starts = np.flatnonzero(np.r_[True, hs[1:] != hs[:-1]])
        uniq = hs[starts]
        counts = np.diff(np.r_[starts, len(hs)])
        totals = prior[order[starts]] + counts
        for v, t in zip(uniq[totals > 1].tolist(), totals[totals > 1].tolist(), strict=True):
            self._repeats[int(v)] = int(t)
        merged = np.concatenate([self._seen, uniq[~found[order[starts]]]])
        merged.sort(kind="stable")  # two sorted runs: a linear merge
        self._seen = merged
        return pd.Series(out, index=keys.index)


def report_fingerprints(frame: pd.DataFrame, running: RunningOrdinals | None = None) -> pd.Series:
    """Fingerprint of each report of a prepared frame.

    ``frame`` needs ``kommun``, ``source``, ``external_id``, ``occurred_at``,
    ``reported_at``, ``category``, ``severity``, ``description``, ``reporter_org``,
    ``location_text`` and the *input* coordinates ``in_lat``/``in_lon`` (NaN when the
    position was geocoded, so a better gazetteer does not change the fingerprint).
    """
    kommun = text_part(frame["kommun"])
    source = text_part(frame["source"])
    ext = text_part(frame["external_id"]).str.strip()
    by_id = join_parts([pd.Series("id", index=frame.index), kommun, source, ext])
    content = join_parts(
        [
            pd.Series("content", index=frame.index),
            kommun,
            source,
            time_part(frame["occurred_at"]),
            time_part(frame["reported_at"]),
            text_part(frame["category"]),
            float_part(frame["severity"], 2),
            text_part(frame["description"]),
            text_part(frame["reporter_org"]),
            text_part(frame["location_text"]),
            float_part(frame["in_lat"]),
            float_part(frame["in_lon"]),
        ]
    )
    content = content + SEP + ordinals(content, running).astype(str).astype(STR)
    keys = by_id.where(ext != "", content)
    return pd.Series(sha256_hex(keys), index=frame.index, dtype=object)


#: Hidden columns of a chunk with bad rows (see :mod:`geo._csv_stream`).
BAD_ROW_COLUMNS = (BAD_ROW, RAW_TEXT)


def without_bad_row_columns(raw: pd.DataFrame) -> pd.DataFrame:
    """``raw`` without its :data:`BAD_ROW_COLUMNS` (``raw`` itself when it has none)."""
    hidden = [c for c in BAD_ROW_COLUMNS if c in raw.columns]
    return raw.drop(columns=hidden) if hidden else raw


def _row_hashes(raw: pd.DataFrame, scope: str, chunk: int) -> list[str]:
    hashes: list[str] = []
    for start in range(0, len(raw), chunk):
        part = raw.iloc[start : start + chunk]
        parts = [pd.Series(scope, index=part.index, dtype=STR)]
        for col in part.columns:
            parts.append(str(col) + "=" + part[col].astype(STR).fillna("\x00"))
        hashes.extend(sha256_hex(join_parts(parts)))
    return hashes


def raw_fingerprints(
    raw: pd.DataFrame,
    scope: str,
    chunk: int = 10_000,
    running: RunningOrdinals | None = None,
) -> pd.Series:
    """Fingerprint of each raw input row (all its columns) within an import ``scope``.

    Rows are hashed in chunks (bounded memory for files with long texts); identical rows
    get their occurrence ordinal mixed in afterwards (continued from earlier chunks of the
    same file with ``running``). A bad row (column ``_text``, see :mod:`geo._csv_stream`)
    is identified by its text alone.
    """
    plain = without_bad_row_columns(raw)
    if "_text" in raw.columns and raw["_text"].notna().any():
        has = raw["_text"].notna().to_numpy()
        first = pd.Series(None, index=raw.index, dtype=object)
        first[~has] = _row_hashes(plain[~has], scope, chunk)
        first[has] = _row_hashes(raw.loc[has, ["_text"]], scope, chunk)
    else:
        first = pd.Series(_row_hashes(plain, scope, chunk), index=raw.index, dtype=object)
    nth = ordinals(first, running)
    repeated = nth > 0
    if repeated.any():
        keys = first[repeated] + SEP + nth[repeated].astype(str)
        first[repeated] = sha256_hex(keys)
    return first


__all__ = [
    "BAD_ROW_COLUMNS",
    "RunningOrdinals",
    "external_id_fingerprint",
    "float_part",
    "join_parts",
    "ordinals",
    "raw_fingerprints",
    "report_fingerprints",
    "sha256_hex",
    "text_part",
    "time_part",
    "without_bad_row_columns",
]
