"""The staged frame: input rows translated to schema field names, not yet interpreted.

Each input path (native columns, a TOML mapping, Polisen events) produces a
:class:`Staged`; :mod:`geo.ingest` then parses, validates, positions and stores it the
same way for all of them.

Columns of ``Staged.frame`` (all optional, strings unless noted):
``kommun``, ``source``, ``external_id``, ``occurred_at``, ``reported_at`` (strings or
datetime64), ``category``, ``severity``, ``description``, ``reporter_org``,
``location_text``, ``precision``, ``locality``, ``x``, ``y`` (in ``Staged.crs``), and the
private columns ``_category_problem`` (why a category could not be mapped),
``_geometry`` (a non-point geometry type) and ``_placed_from_text`` (bool).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc


@dataclass
class Staged:
    """Rows in schema field names plus how to interpret them."""

    frame: pd.DataFrame
    crs: str = "EPSG:4326"
    timezone: str | None = None  # for naive timestamps; None = the tenant's time zone
    time_formats: dict[str, str] = field(default_factory=dict)  # column -> strptime format
    zero_is_missing: bool = True  # x = y = 0 means "no position"
    geocode: bool = True  # rows without coordinates may be geocoded from location_text
    kind: str = "native"


#: Arrow-backed strings: the ``.str`` methods run in C (pyarrow.compute), not per row.
STR = pd.StringDtype("pyarrow")


def strings(values: pd.Series) -> pd.Series:
    """Stripped strings (dtype :data:`STR`) with empty values as ``<NA>``."""
    if isinstance(values.dtype, pd.StringDtype) and values.dtype.storage == "pyarrow":
        s = values
    else:
        s = values.astype(STR)
    s = s.str.strip()
    return s.where(s != "", pd.NA)


def is_datetime(values: pd.Series) -> bool:
    """Whether ``values`` already holds timestamps (naive or tz-aware)."""
    return isinstance(values.dtype, pd.DatetimeTZDtype) or pd.api.types.is_datetime64_dtype(
        values.dtype
    )


def present(values: pd.Series) -> pd.Series:
    """Non-missing values (strings: non-empty after stripping)."""
    if pd.api.types.is_numeric_dtype(values.dtype) or is_datetime(values):
        return values.notna()
    return strings(values).notna()


def to_float(values: pd.Series) -> pd.Series:
    """Parse numbers, accepting a decimal comma (``"59,76"``); unparseable -> NaN."""
    if pd.api.types.is_numeric_dtype(values):
        return values.astype(float)
    text = pa.array(values.astype(STR).array)
    # plain decimals of at most 15 digits (coordinates as files write them): Arrow parses
    # them to the same doubles as pandas does, without the clean-up below
    plain = pc.and_(
        pc.match_substring_regex(text, r"^-?[0-9]+\.?[0-9]*$"),
        pc.less_equal(pc.utf8_length(text), 15),
    )
    fast = np.asarray(pc.fill_null(plain, False).to_numpy(zero_copy_only=False), dtype=bool)
    out = np.full(len(values), np.nan)
    if fast.any():
        parsed = pc.cast(pc.filter(text, pa.array(fast)), pa.float64())
        out[fast] = parsed.to_numpy(zero_copy_only=False)
    rest = ~fast & values.notna().to_numpy(bool)
    if rest.any():
        out[rest] = _parse_floats(values[rest]).to_numpy(float)
    return pd.Series(out, index=values.index)


def _parse_floats(values: pd.Series) -> pd.Series:
    s = values.astype(STR).str.strip().str.replace("\u2212", "-", regex=False)
    comma = s.str.contains(",", regex=False, na=False) & ~s.str.contains(".", regex=False, na=False)
    s = s.where(~comma, s.str.replace(",", ".", regex=False))
    s = s.str.replace("[\\s\u00a0]", "", regex=True)
    return pd.to_numeric(s, errors="coerce").astype(float)


def column(frame: pd.DataFrame, name: str) -> pd.Series:
    """Column ``name`` or an all-None object series."""
    if name in frame.columns:
        return frame[name]
    return pd.Series(np.full(len(frame), None, dtype=object), index=frame.index)


__all__ = ["STR", "Staged", "column", "is_datetime", "present", "strings", "to_float"]
