"""Space-time cube: weighted report counts per H3 cell and time step.

:func:`reports_to_cube` turns a report frame (:mod:`geo.schema`) into a
:class:`SpaceTimeCube`. Everything is vectorized (``searchsorted`` + ``np.bincount``):
a million reports bin in well under a second.

Rules
-----
* Only ``status == "approved"`` reports count.
* Reports with ``cell != 0`` (point or street precision) go into cells: their stored
  res-10 cell is mapped to its parent at the analysis resolution
  (:func:`geo.cells.cells_to_parent`). Reports whose cell lies outside the cell universe
  (outside the chosen localities) are left out of the cells but still count for their
  locality.
* Reports at locality precision (cell 0, locality set) count only in the per-locality
  totals, so a locality centroid never becomes a hotspot.
* The cube is **zero-filled** over every cell of the universe (normally every cell whose
  centre lies in one of the chosen localities): cells without reports hold zeros, never
  missing values, because Gi* compares every cell with all others.
* Time steps are ``step_weeks`` long and start at the configured local weekday and
  time (default Tuesday 13:00 Europe/Stockholm, the EST reporting deadline). The grid is
  anchored at the end: the last step ends at the first period boundary at or after a
  configured ``end`` (an exclusive deadline), or strictly after the latest report when
  ``end`` is not set (moved to a ``period_anchor``-aligned boundary if given), so the
  final step is the current reporting period. Step ``t`` holds reports with
  ``edges[t] <= occurred_at < edges[t + 1]``.

Returned schema (:class:`SpaceTimeCube`, ``n`` cells, ``T`` steps, ``L`` localities)
------------------------------------------------------------------------------------
=====================  ==========================  ==========================================
attribute              type / shape                meaning
=====================  ==========================  ==========================================
cells                  uint64 (n,)                 sorted unique H3 cells at ``res``
locality               object (n,)                 locality code of each cell (``None`` if
                                                   unknown)
edges                  DatetimeIndex UTC (T+1,)    step boundaries; ``step_starts`` =
                                                   ``edges[:-1]``
values                 float64 (n, T)              severity-weighted report counts
counts                 int32 (n, T)                report counts (unweighted)
serious                int32 (n, T)                reports in serious categories
reporters              int32 (n, T)                distinct ``reporter_org`` values
sources                int32 (n, T)                distinct ``source`` values
categories             int32 (n, T)                distinct ``category`` values
detail                 DataFrame                   one row per (cell, step, category,
                                                   source, reporter) with reports:
                                                   ``cell_index`` int32, ``step`` int32,
                                                   ``category``, ``source``,
                                                   ``reporter_org``, ``count`` int64,
                                                   ``weight`` float64
locality_codes         object (L,)                 localities with totals
locality_counts        int32 (L, T)                all approved reports of the locality,
                                                   including locality-precision ones
locality_weighted      float64 (L, T)              the same, weighted
locality_serious       int32 (L, T)                the same, serious categories only
locality_reporters     int32 (L, T)                distinct reporters per locality-step
locality_precision     int32 (L, T)                reports without a cell (locality
                                                   precision) per locality-step
locality_detail        DataFrame                   like ``detail`` with ``locality``
                                                   (code) instead of ``cell_index``
res                    int                         H3 resolution
config                 AnalysisConfig | None       parameters used
summary                dict[str, int]              how many reports were read, kept,
                                                   dropped and why
=====================  ==========================  ==========================================
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
import scipy.sparse as sp

from analysis.config import AnalysisConfig
from geo._validate import Problems, require_columns
from geo.cells import cells_resolution, cells_to_neighbour_pairs, cells_to_parent
from geo.errors import ValidationError
from geo.schema import Status

CellArray = npt.NDArray[np.uint64]
FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int32]

_WEEK = pd.Timedelta(days=7)


# --------------------------------------------------------------------------- time grid
def period_edges(
    end: pd.Timestamp,
    *,
    start: pd.Timestamp | None = None,
    n_steps: int | None = None,
    step_weeks: int = 1,
    weekday: int = 1,
    hour: int = 13,
    minute: int = 0,
    timezone: str = "Europe/Stockholm",
    anchor: dt.date | None = None,
    end_inclusive: bool = True,
) -> pd.DatetimeIndex:
    """Step boundaries (UTC) of a reporting-period grid that covers ``end``.

    The last boundary is the first local ``weekday hour:minute`` strictly after ``end``
    (``end_inclusive=True``: an event at ``end`` is covered) or at/after ``end``
    (``end_inclusive=False``: ``end`` is an exclusive deadline), moved forward to a week
    that is a multiple of ``step_weeks`` from ``anchor`` when given. Going back in steps
    of ``step_weeks`` weeks, the grid has ``n_steps`` steps, or as many as needed to cover
    ``start``. Boundaries are computed in local time, so they stay at 13:00 across
    daylight-saving changes.

    Returns
    -------
    pandas.DatetimeIndex
        ``T + 1`` increasing tz-aware UTC timestamps.
    """
    end_local = pd.Timestamp(end).tz_convert(timezone).tz_localize(None)
    days_back = (end_local.weekday() - weekday) % 7
    last = end_local.normalize() - pd.Timedelta(days=days_back)
    last = last + pd.Timedelta(hours=hour, minutes=minute)
    if last > end_local:
        last -= _WEEK
    if end_inclusive or last < end_local:
        last += _WEEK  # first boundary after end
    if anchor is not None and step_weeks > 1:
        a = pd.Timestamp(anchor) + pd.Timedelta(hours=hour, minutes=minute)
        weeks = int(round((last - a) / _WEEK))
        rem = weeks % step_weeks
        if rem:
            last += (step_weeks - rem) * _WEEK
    step = step_weeks * _WEEK
    if n_steps is None:
        if start is None:
            n_steps = 1
        else:
            start_local = pd.Timestamp(start).tz_convert(timezone).tz_localize(None)
            n_steps = max(1, int(np.ceil((last - start_local) / step)))
    naive = pd.DatetimeIndex([last - (n_steps - i) * step for i in range(n_steps + 1)])
    local = naive.tz_localize(
        timezone, ambiguous=np.ones(len(naive), dtype=bool), nonexistent="shift_forward"
    )
    return local.tz_convert("UTC")


def hours_mask(
    occurred_at: pd.Series, hours: tuple[int, int], timezone: str
) -> npt.NDArray[np.bool_]:
    """Whether each timestamp's local hour lies in ``[from, to)``, wrapping midnight."""
    h = pd.DatetimeIndex(occurred_at).tz_convert(timezone).hour.to_numpy()
    lo, hi = hours
    if lo < hi:
        return (h >= lo) & (h < hi)
    return (h >= lo) | (h < hi)


# --------------------------------------------------------------------------- cube
@dataclass(eq=False)
class SpaceTimeCube:
    """Cells x steps arrays of report counts (see the module docstring for the schema)."""

    cells: CellArray
    values: FloatArray
    edges: pd.DatetimeIndex
    locality: npt.NDArray[np.object_] = field(default_factory=lambda: np.empty(0, object))
    counts: IntArray | None = None
    serious: IntArray | None = None
    reporters: IntArray | None = None
    sources: IntArray | None = None
    categories: IntArray | None = None
    detail: pd.DataFrame = field(default_factory=lambda: _empty_detail())
    locality_codes: npt.NDArray[np.object_] = field(default_factory=lambda: np.empty(0, object))
    locality_counts: IntArray = field(default_factory=lambda: np.zeros((0, 0), np.int32))
    locality_weighted: FloatArray = field(default_factory=lambda: np.zeros((0, 0)))
    locality_serious: IntArray = field(default_factory=lambda: np.zeros((0, 0), np.int32))
    locality_reporters: IntArray = field(default_factory=lambda: np.zeros((0, 0), np.int32))
    locality_precision: IntArray = field(default_factory=lambda: np.zeros((0, 0), np.int32))
    locality_detail: pd.DataFrame = field(default_factory=lambda: _empty_detail())
    res: int = 9
    config: AnalysisConfig | None = None
    summary: dict[str, int] = field(default_factory=dict)
    _weights: dict[tuple[int, bool], sp.csr_matrix] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        self.cells = np.asarray(self.cells, dtype=np.uint64)
        self.values = np.asarray(self.values, dtype=np.float64)
        n = self.cells.shape[0]
        if self.values.ndim != 2 or self.values.shape[0] != n:
            raise ValidationError(
                f"values must have shape (n_cells={n}, n_steps), got {self.values.shape}"
            )
        if len(self.edges) != self.values.shape[1] + 1:
            raise ValidationError("edges must have n_steps + 1 entries")
        if self.locality.shape[0] != n:
            self.locality = np.full(n, None, dtype=object)
        if self.counts is None:
            self.counts = np.rint(self.values).astype(np.int32)
        for name in ("serious", "reporters", "sources", "categories"):
            if getattr(self, name) is None:
                setattr(self, name, np.zeros(self.values.shape, np.int32))

    # ---------------------------------------------------------------- construction
    @classmethod
    def from_arrays(
        cls,
        cells: npt.ArrayLike,
        values: npt.ArrayLike,
        *,
        counts: npt.ArrayLike | None = None,
        locality: npt.ArrayLike | None = None,
        edges: pd.DatetimeIndex | None = None,
        step_weeks: int = 1,
    ) -> SpaceTimeCube:
        """A cube from ready arrays (tests, benchmarks, other aggregations).

        ``values`` may be 1-D (one step). Without ``edges``, weekly steps ending at
        2024-01-02 13:00 UTC are invented.
        """
        cells_arr = np.asarray(cells, dtype=np.uint64)
        vals = np.asarray(values, dtype=np.float64)
        if vals.ndim == 1:
            vals = vals[:, None]
        if edges is None:
            last = pd.Timestamp("2024-01-02 13:00", tz="UTC")
            n_steps = vals.shape[1]
            edges = pd.DatetimeIndex(
                [last - (n_steps - i) * step_weeks * _WEEK for i in range(n_steps + 1)]
            )
        res = cells_resolution(cells_arr) if cells_arr.size else 9
        cnt = None if counts is None else np.asarray(counts, dtype=np.int32).reshape(vals.shape)
        loc = (
            np.full(cells_arr.shape[0], None, dtype=object)
            if locality is None
            else np.asarray(locality, dtype=object)
        )
        return cls(cells=cells_arr, values=vals, edges=edges, locality=loc, counts=cnt, res=res)

    # ---------------------------------------------------------------- properties
    @property
    def n_cells(self) -> int:
        return int(self.cells.shape[0])

    @property
    def n_steps(self) -> int:
        return int(self.values.shape[1])

    @property
    def step_starts(self) -> pd.DatetimeIndex:
        """Start of each step (UTC)."""
        return self.edges[:-1]

    @property
    def step_ends(self) -> pd.DatetimeIndex:
        """End (exclusive) of each step (UTC)."""
        return self.edges[1:]

    @property
    def step_weeks(self) -> int:
        if len(self.edges) < 2:
            return 1
        return max(1, int(round((self.edges[1] - self.edges[0]) / _WEEK)))

    def cell_index(self, cells: npt.ArrayLike) -> npt.NDArray[np.int64]:
        """Row of each of ``cells`` in the cube (``-1`` when absent)."""
        arr = np.asarray(cells, dtype=np.uint64)
        pos = np.searchsorted(self.cells, arr)
        pos = np.minimum(pos, max(self.n_cells - 1, 0))
        ok = self.cells[pos] == arr if self.n_cells else np.zeros(arr.shape, bool)
        return np.where(ok, pos, -1).astype(np.int64)

    def weights(self, k: int = 1, include_self: bool = True) -> sp.csr_matrix:
        """Binary k-ring weights (n x n CSR, cached), self included by default."""
        key = (int(k), bool(include_self))
        if key not in self._weights:
            i, j = cells_to_neighbour_pairs(self.cells, k=k, include_self=include_self)
            data = np.ones(i.shape[0], dtype=np.float64)
            w = sp.csr_matrix((data, (i, j)), shape=(self.n_cells, self.n_cells))
            w.sum_duplicates()
            w.data[:] = 1.0
            self._weights[key] = w
        return self._weights[key]

    def values_frame(self, what: str = "values") -> pd.DataFrame:
        """One of the (n, T) arrays as a DataFrame (index: cell strings, columns: steps)."""
        from geo.cells import cells_to_strings

        arr = getattr(self, what)
        return pd.DataFrame(arr, index=cells_to_strings(self.cells), columns=self.step_starts)

    def locality_frame(self) -> pd.DataFrame:
        """Per-locality totals in long form: locality, step, step_start and the counts."""
        L, T = self.locality_counts.shape
        return pd.DataFrame(
            {
                "locality": np.repeat(self.locality_codes, T),
                "step": np.tile(np.arange(T), L),
                "step_start": np.tile(self.step_starts, L),
                "count": self.locality_counts.ravel(),
                "weighted": self.locality_weighted.ravel(),
                "serious": self.locality_serious.ravel(),
                "reporters": self.locality_reporters.ravel(),
                "locality_precision": self.locality_precision.ravel(),
            }
        )


def _empty_detail() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "cell_index": pd.Series(dtype=np.int32),
            "step": pd.Series(dtype=np.int32),
            "category": pd.Series(dtype=object),
            "source": pd.Series(dtype=object),
            "reporter_org": pd.Series(dtype=object),
            "count": pd.Series(dtype=np.int64),
            "weight": pd.Series(dtype=np.float64),
        }
    )


def _codes(values: npt.ArrayLike) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.object_]]:
    """Integer codes (``-1`` = missing) and the distinct values, in order of appearance."""
    codes, uniques = pd.factorize(pd.Series(np.asarray(values, dtype=object)), use_na_sentinel=True)
    return codes.astype(np.int64), np.asarray(uniques, dtype=object)


def _sorted_unique(keys: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
    """``np.unique`` by sorting (much faster than hashing for a million int64 keys)."""
    if keys.size == 0:
        return keys
    k = np.sort(keys)
    first = np.ones(k.shape[0], dtype=bool)
    first[1:] = k[1:] != k[:-1]
    return k[first]


def _distinct_per_bin(
    bins: npt.NDArray[np.int64], n_bins: int, codes: npt.NDArray[np.int64], n_labels: int
) -> npt.NDArray[np.int64]:
    """Number of distinct non-missing label ``codes`` (``-1`` = missing) in each bin."""
    ok = codes >= 0
    if not ok.any():
        return np.zeros(n_bins, np.int64)
    n_lab = max(n_labels, 1)
    key = _sorted_unique(bins[ok] * n_lab + codes[ok])
    return np.bincount(key // n_lab, minlength=n_bins)


def _group(
    parts: list[tuple[npt.NDArray[np.int64], int]], weight: FloatArray
) -> tuple[list[npt.NDArray[np.int64]], npt.NDArray[np.int64], FloatArray]:
    """Group rows by several integer codes (each ``0 <= code < radix``).

    Returns the codes of each group (sorted by the composite key), its row count and the
    sum of ``weight``. The composite key is a mixed-radix int64 (checked not to overflow).
    """
    total = 1
    for _, radix in parts:
        total *= max(int(radix), 1)
    if total >= 2**62:
        raise ValidationError("too many distinct values to group reports")
    key = np.zeros(weight.shape[0], dtype=np.int64)
    for codes, radix in parts:
        key = key * max(int(radix), 1) + codes
    order = np.argsort(key, kind="stable")
    sk = key[order]
    if sk.size == 0:
        return [np.zeros(0, np.int64) for _ in parts], np.zeros(0, np.int64), np.zeros(0)
    first = np.flatnonzero(np.r_[True, sk[1:] != sk[:-1]])
    counts = np.diff(np.r_[first, sk.shape[0]]).astype(np.int64)
    sums = np.add.reduceat(weight[order], first)
    uniq = sk[first]
    decoded: list[npt.NDArray[np.int64]] = []
    for _, radix in reversed(parts):
        r = max(int(radix), 1)
        decoded.append(uniq % r)
        uniq = uniq // r
    return decoded[::-1], counts, sums


def _detail_frame(
    first_name: str,
    first_values: npt.NDArray[Any],
    step: npt.NDArray[np.int64],
    cat: tuple[npt.NDArray[np.int64], npt.NDArray[np.object_]],
    src: tuple[npt.NDArray[np.int64], npt.NDArray[np.object_]],
    org: tuple[npt.NDArray[np.int64], npt.NDArray[np.object_]],
    weight: FloatArray,
) -> pd.DataFrame:
    """Counts and weights per (first, step, category, source, reporter) without groupby."""
    if np.asarray(first_values).dtype.kind in "iu":
        first_codes = np.asarray(first_values, dtype=np.int64)
        first_uniques = np.arange(int(first_codes.max()) + 1 if first_codes.size else 0)
    else:
        codes_, uniq_ = pd.factorize(pd.Series(np.asarray(first_values, dtype=object)), sort=True)
        first_codes, first_uniques = codes_.astype(np.int64), np.asarray(uniq_, dtype=object)
    parts = [(first_codes, len(first_uniques)), (step.astype(np.int64), int(step.max()) + 1)]
    labels = []
    for codes, uniques in (cat, src, org):
        n_u = len(uniques)
        parts.append((np.where(codes < 0, n_u, codes), n_u + 1))  # missing -> extra code
        labels.append(np.r_[uniques, np.array([None], dtype=object)])
    (fc, st, cc, sc, oc), counts, sums = _group(parts, weight)
    frame = pd.DataFrame(
        {
            first_name: first_uniques[fc],
            "step": st.astype(np.int32),
            "category": labels[0][cc],
            "source": labels[1][sc],
            "reporter_org": labels[2][oc],
            "count": counts,
            "weight": sums,
        }
    )
    return frame  # already ordered by (first, step, ...): the composite key is sorted


def _none_for_na(values: npt.ArrayLike) -> npt.NDArray[np.object_]:
    """Object array with every missing value (NaN, NA, None) as ``None``."""
    out = np.asarray(values, dtype=object).copy()
    out[pd.isna(out)] = None
    return out


def _universe(cells: Any, res: int) -> tuple[CellArray, npt.NDArray[np.object_]]:
    """Sorted unique cells at ``res`` with their locality from a frame or an array."""
    if isinstance(cells, pd.DataFrame):
        if "cell" not in cells.columns:
            raise ValidationError("cell universe frame needs a 'cell' column")
        arr = np.asarray(cells["cell"].to_numpy(), dtype=np.uint64)
        loc = (
            cells["locality"].astype(object).to_numpy()
            if "locality" in cells.columns
            else np.full(arr.shape[0], None, dtype=object)
        )
    else:
        arr = np.asarray(cells, dtype=np.uint64)
        loc = np.full(arr.shape[0], None, dtype=object)
    keep = arr != 0
    arr, loc = arr[keep], loc[keep]
    if arr.size:
        r = cells_resolution(arr)
        if r < res:
            raise ValidationError(
                f"cell universe is at res {r}, coarser than the analysis res {res}"
            )
        if r > res:
            arr = cells_to_parent(arr, res)
    order = np.argsort(arr, kind="stable")
    arr, loc = arr[order], loc[order]
    first = np.ones(arr.shape[0], dtype=bool)
    first[1:] = arr[1:] != arr[:-1]
    return arr[first], _none_for_na(loc)[first]


def reports_to_cube(
    reports: pd.DataFrame,
    cells: pd.DataFrame | npt.ArrayLike,
    config: AnalysisConfig | None = None,
) -> SpaceTimeCube:
    """Bin reports into a zero-filled cells x steps cube.

    Parameters
    ----------
    reports
        Report frame (:data:`geo.schema.REPORT_COLUMNS`). Required columns:
        ``occurred_at``, ``category``, ``cell``, ``status``; ``kommun``, ``source``,
        ``reporter_org``, ``locality`` are used when present.
    cells
        The cell universe: a DataFrame ``[cell, locality]`` such as
        :func:`geo.boundaries.localities_to_cells` returns, or an array of cells. Cells
        finer than ``config.res`` are mapped to their parents; with
        ``config.localities`` only the cells of those localities are kept.
    config
        Filters, resolution and time grid (default :class:`AnalysisConfig`).

    Returns
    -------
    SpaceTimeCube
        See the module docstring for every attribute.
    """
    cfg = config or AnalysisConfig()
    problems = Problems("report frame")
    require_columns(reports, ("occurred_at", "category", "cell", "status"), problems)
    problems.raise_if_any()
    universe, cell_locality = _universe(cells, cfg.res)
    if cfg.localities is not None and any(c is not None for c in cell_locality):
        chosen = np.isin(cell_locality.astype(str), list(cfg.localities))
        universe, cell_locality = universe[chosen], cell_locality[chosen]
    n = universe.shape[0]
    summary: dict[str, int] = {"input": len(reports)}

    frame = reports
    keep = (frame["status"].astype("string") == Status.APPROVED.value).fillna(False).to_numpy()
    if cfg.kommun is not None and "kommun" in frame.columns:
        keep &= (frame["kommun"].astype("string") == cfg.kommun).fillna(False).to_numpy()
    frame = frame.loc[keep]
    summary["approved"] = len(frame)
    occurred = pd.to_datetime(frame["occurred_at"], utc=True)

    # time grid from approved reports of the kommun (not from the other filters, so a
    # category or source filter never shifts the steps)
    if cfg.end is not None:
        end = cfg.end
    elif len(frame) and occurred.notna().any():
        end = occurred.max()
    else:
        end = pd.Timestamp.now(tz="UTC")
    if cfg.start is not None:
        edges = period_edges(
            end,
            start=cfg.start,
            step_weeks=cfg.step_weeks,
            weekday=cfg.period_weekday,
            hour=cfg.period_hour,
            minute=cfg.period_minute,
            timezone=cfg.timezone,
            anchor=cfg.period_anchor,
            end_inclusive=cfg.end is None,
        )
    else:
        edges = period_edges(
            end,
            n_steps=cfg.n_steps,
            step_weeks=cfg.step_weeks,
            weekday=cfg.period_weekday,
            hour=cfg.period_hour,
            minute=cfg.period_minute,
            timezone=cfg.timezone,
            anchor=cfg.period_anchor,
            end_inclusive=cfg.end is None,
        )
        first = occurred.min() if len(frame) and occurred.notna().any() else end
        # shorten the default lookback to the first report
        first_ns = pd.Timestamp(first).as_unit("ns").value
        drop = int(np.searchsorted(edges.as_unit("ns").asi8, first_ns, side="right")) - 1
        drop = min(max(drop, 0), len(edges) - 2)
        edges = edges[drop:]
    T = len(edges) - 1

    # filters
    keep = np.ones(len(frame), dtype=bool)
    if cfg.sources is not None and "source" in frame.columns:
        keep &= frame["source"].astype("string").isin(cfg.sources).fillna(False).to_numpy()
    if cfg.categories is not None:
        keep &= frame["category"].astype("string").isin(cfg.categories).fillna(False).to_numpy()
    if cfg.hours is not None:
        keep &= hours_mask(occurred, cfg.hours, cfg.timezone)
    occ_ns = pd.DatetimeIndex(occurred).as_unit("ns").asi8
    step = np.searchsorted(edges.as_unit("ns").asi8, occ_ns, side="right") - 1
    step = np.where(occurred.isna().to_numpy(), -1, step)
    keep &= (step >= 0) & (step < T)
    summary["filtered_out"] = int((~keep).sum())
    frame = frame.loc[keep]
    step = step[keep].astype(np.int64)
    summary["in_period"] = len(frame)

    category = frame["category"].astype(object).to_numpy()
    wmap = cfg.weight_map
    cat_codes, cat_uniques = pd.factorize(pd.Series(category, dtype=object))
    cat_w = np.asarray([wmap.get(str(c), cfg.default_weight) for c in cat_uniques], float)
    weight = cat_w[cat_codes] if len(cat_uniques) else np.zeros(len(frame))
    serious_set = set(cfg.serious_categories)
    cat_serious = np.asarray([str(c) in serious_set for c in cat_uniques], bool)
    is_serious = cat_serious[cat_codes] if len(cat_uniques) else np.zeros(len(frame), bool)
    source = (
        frame["source"].astype(object).to_numpy()
        if "source" in frame.columns
        else np.full(len(frame), None, object)
    )
    org = (
        frame["reporter_org"].astype(object).to_numpy()
        if "reporter_org" in frame.columns
        else np.full(len(frame), None, object)
    )

    # ---- cells
    raw_cell = np.asarray(frame["cell"].fillna(0).to_numpy(), dtype=np.uint64)
    has_cell = raw_cell != 0
    parent = np.zeros(raw_cell.shape[0], np.uint64)
    if has_cell.any():
        parent[has_cell] = cells_to_parent(raw_cell[has_cell], cfg.res)
    pos = np.searchsorted(universe, parent) if n else np.zeros(parent.shape[0], np.int64)
    pos = np.minimum(pos, max(n - 1, 0))
    inside = has_cell & (universe[pos] == parent) if n else np.zeros(parent.shape[0], bool)
    summary["in_cells"] = int(inside.sum())
    summary["cell_outside_universe"] = int((has_cell & ~inside).sum())
    summary["without_cell"] = int((~has_cell).sum())

    n_bins = n * T
    b = pos[inside].astype(np.int64) * T + step[inside]
    values = np.asarray(
        np.bincount(b, weights=weight[inside], minlength=n_bins), dtype=np.float64
    ).reshape(n, T)
    counts = np.bincount(b, minlength=n_bins).reshape(n, T).astype(np.int32)
    serious = (
        np.bincount(b, weights=is_serious[inside].astype(float), minlength=n_bins)
        .reshape(n, T)
        .astype(np.int32)
    )
    cat_c = cat_codes.astype(np.int64)
    src_c, src_u = _codes(source)
    org_c, org_u = _codes(org)
    reporters = _distinct_per_bin(b, n_bins, org_c[inside], len(org_u)).reshape(n, T)
    sources = _distinct_per_bin(b, n_bins, src_c[inside], len(src_u)).reshape(n, T)
    categories = _distinct_per_bin(b, n_bins, cat_c[inside], len(cat_uniques)).reshape(n, T)

    if inside.any():
        detail = _detail_frame(
            "cell_index",
            pos[inside].astype(np.int64),
            step[inside],
            (cat_c[inside], np.asarray(cat_uniques, dtype=object)),
            (src_c[inside], src_u),
            (org_c[inside], org_u),
            weight[inside],
        )
        detail["cell_index"] = detail["cell_index"].astype(np.int32)
    else:
        detail = _empty_detail()

    # ---- localities (all precisions)
    rep_loc = (
        frame["locality"].astype(object).to_numpy()
        if "locality" in frame.columns
        else np.full(len(frame), None, object)
    )
    rep_loc = _none_for_na(rep_loc)
    if n:
        missing = pd.isna(rep_loc) & inside
        rep_loc[missing] = cell_locality[pos[missing]]
    if cfg.localities is not None:
        loc_codes = np.asarray(sorted(cfg.localities), dtype=object)
    else:
        known = [c for c in cell_locality if c is not None]
        if not known:
            known = [c for c in rep_loc if c is not None]
        loc_codes = np.asarray(sorted(set(known)), dtype=object)
    L = loc_codes.shape[0]
    li = (
        pd.Index(loc_codes).get_indexer(pd.Index(rep_loc, dtype=object))
        if L
        else np.full(len(frame), -1)
    )
    in_loc = li >= 0
    summary["other_locality"] = int((~in_loc & pd.notna(rep_loc)).sum())
    summary["no_locality"] = int(pd.isna(rep_loc).sum())
    lb = li[in_loc].astype(np.int64) * T + step[in_loc]
    lbins = L * T
    loc_counts = np.bincount(lb, minlength=lbins).reshape(L, T).astype(np.int32)
    loc_weighted = np.asarray(
        np.bincount(lb, weights=weight[in_loc], minlength=lbins), dtype=np.float64
    ).reshape(L, T)
    loc_serious = (
        np.bincount(lb, weights=is_serious[in_loc].astype(float), minlength=lbins)
        .reshape(L, T)
        .astype(np.int32)
    )
    loc_reporters = (
        _distinct_per_bin(lb, lbins, org_c[in_loc], len(org_u)).reshape(L, T).astype(np.int32)
    )
    loc_precision = (
        np.bincount(lb, weights=(~has_cell[in_loc]).astype(float), minlength=lbins)
        .reshape(L, T)
        .astype(np.int32)
    )
    if in_loc.any():
        locality_detail = _detail_frame(
            "locality",
            loc_codes[li[in_loc]],
            step[in_loc],
            (cat_c[in_loc], np.asarray(cat_uniques, dtype=object)),
            (src_c[in_loc], src_u),
            (org_c[in_loc], org_u),
            weight[in_loc],
        )
    else:
        locality_detail = (
            _empty_detail().drop(columns="cell_index").assign(locality=pd.Series(dtype=object))
        )

    return SpaceTimeCube(
        cells=universe,
        values=values,
        edges=edges,
        locality=cell_locality,
        counts=counts,
        serious=serious,
        reporters=reporters.astype(np.int32),
        sources=sources.astype(np.int32),
        categories=categories.astype(np.int32),
        detail=detail,
        locality_codes=loc_codes,
        locality_counts=loc_counts,
        locality_weighted=loc_weighted,
        locality_serious=loc_serious,
        locality_reporters=loc_reporters,
        locality_precision=loc_precision,
        locality_detail=locality_detail,
        res=cfg.res,
        config=cfg,
        summary=summary,
    )


__all__ = ["SpaceTimeCube", "hours_mask", "period_edges", "reports_to_cube"]
