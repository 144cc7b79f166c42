"""Space-time cube: weighted report counts per H3 cell and time step.

:func:`reports_to_cube` turns a report frame (:mod:`geo.schema`) into a
:class:`SpaceTimeCube`. Everything is vectorized (``searchsorted`` + sparse sums over
integer cell ids): a million reports bin in well under a second.

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
* The cells x steps arrays are stored **sparse** (CSR over integer cell ids and steps,
  :meth:`SpaceTimeCube.sparse`): a city has half a million cells x 53 steps, nearly all
  empty. The attributes below give dense arrays on access (for small cubes, tests and
  plots); the analysis itself works on the sparse ones.
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
values                 float64 (n, T)                   severity-weighted report counts
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

from collections.abc import Callable
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
import scipy.sparse as sp

from analysis._grouping import (
    bins_to_csr,
    cell_universe,
    detail_frame,
    distinct_per_bin,
    distinct_to_csr,
    empty_detail,
    label_codes,
    none_for_na,
)
from analysis._timegrid import WEEK, hours_mask, period_edges
from analysis.config import AnalysisConfig
from geo._validate import Problems, require_columns
from geo.cells import cells_resolution, cells_to_disks, cells_to_parent
from geo.errors import ValidationError
from geo.schema import Status

CellArray = npt.NDArray[np.uint64]
FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int32]


#: The cells x steps arrays of a cube and their dtypes.
CELL_ARRAYS: dict[str, Any] = {
    "values": np.float64,
    "counts": np.int32,
    "serious": np.int32,
    "reporters": np.int32,
    "sources": np.int32,
    "categories": np.int32,
}


def _as_csr(values: Any, dtype: Any) -> sp.csr_matrix:
    """A CSR matrix of ``dtype`` from a dense array or any sparse matrix (zeros dropped)."""
    if sp.issparse(values):
        out = sp.csr_matrix(values, dtype=dtype)
    else:
        out = sp.csr_matrix(np.asarray(values, dtype=dtype))
    out.eliminate_zeros()
    return out


def _cell_array(name: str) -> property:
    def get(self: SpaceTimeCube) -> Any:
        return self.dense(name)

    def put(self: SpaceTimeCube, value: Any) -> None:
        self._arrays[name] = _as_csr(value, CELL_ARRAYS[name])

    return property(get, put, doc=f"``{name}`` as a dense (n, T) array (see :meth:`sparse`).")


# --------------------------------------------------------------------------- cube
class SpaceTimeCube:
    """Cells x steps arrays of report counts (see the module docstring for the schema).

    The (n, T) arrays may be given dense or sparse; they are kept as CSR matrices.
    """

    values = _cell_array("values")
    counts = _cell_array("counts")
    serious = _cell_array("serious")
    reporters = _cell_array("reporters")
    sources = _cell_array("sources")
    categories = _cell_array("categories")

    def __init__(
        self,
        cells: npt.ArrayLike,
        values: Any,
        edges: pd.DatetimeIndex,
        locality: npt.ArrayLike | None = None,
        counts: Any = None,
        serious: Any = None,
        reporters: Any = None,
        sources: Any = None,
        categories: Any = None,
        detail: pd.DataFrame | None = None,
        locality_codes: npt.ArrayLike | None = None,
        locality_counts: IntArray | None = None,
        locality_weighted: FloatArray | None = None,
        locality_serious: IntArray | None = None,
        locality_reporters: IntArray | None = None,
        locality_precision: IntArray | None = None,
        locality_detail: pd.DataFrame | None = None,
        res: int = 9,
        config: AnalysisConfig | None = None,
        summary: dict[str, int] | None = None,
    ) -> None:
        self.cells = np.asarray(cells, dtype=np.uint64)
        n = self.cells.shape[0]
        shape = getattr(values, "shape", np.shape(values))
        if len(shape) != 2 or shape[0] != n:
            raise ValidationError(f"values must have shape (n_cells={n}, n_steps), got {shape}")
        if len(edges) != shape[1] + 1:
            raise ValidationError("edges must have n_steps + 1 entries")
        self.edges = edges
        self._arrays: dict[str, sp.csr_matrix] = {"values": _as_csr(values, np.float64)}
        if counts is None:
            counts = self._arrays["values"].copy()
            counts.data = np.rint(counts.data)
        given = {"counts": counts, "serious": serious, "reporters": reporters}
        given.update(sources=sources, categories=categories)
        for name, arr in given.items():
            src = sp.csr_matrix(shape, dtype=np.int32) if arr is None else arr
            self._arrays[name] = _as_csr(src, CELL_ARRAYS[name])
        loc = np.full(n, None, dtype=object) if locality is None else np.asarray(locality)
        self.locality = loc if loc.shape[0] == n else np.full(n, None, dtype=object)
        self.detail = empty_detail() if detail is None else detail
        self.locality_codes = np.asarray(
            [] if locality_codes is None else locality_codes, dtype=object
        )
        L, T = self.locality_codes.shape[0], shape[1]
        self.locality_counts = _or_zeros(locality_counts, (L, T), np.int32)
        self.locality_weighted = _or_zeros(locality_weighted, (L, T), np.float64)
        self.locality_serious = _or_zeros(locality_serious, (L, T), np.int32)
        self.locality_reporters = _or_zeros(locality_reporters, (L, T), np.int32)
        self.locality_precision = _or_zeros(locality_precision, (L, T), np.int32)
        if locality_detail is None:
            locality_detail = (
                empty_detail().drop(columns="cell_index").assign(locality=pd.Series(dtype=object))
            )
        self.locality_detail = locality_detail
        self.res = res
        self.config = config
        self.summary: dict[str, int] = dict(summary or {})
        self._weights: dict[tuple[int, bool], sp.csr_matrix] = {}
        #: How :meth:`weights` builds a ring (``ring_weights`` or one that keeps them).
        self.ring_builder: Callable[..., sp.csr_matrix] = ring_weights

    def __repr__(self) -> str:
        return f"SpaceTimeCube(n_cells={self.n_cells}, n_steps={self.n_steps}, res={self.res})"

    # ---------------------------------------------------------------- storage
    def sparse(self, name: str = "values") -> sp.csr_matrix:
        """One of the (n, T) arrays (:data:`CELL_ARRAYS`) as stored: a CSR matrix."""
        return self._arrays[name]

    def dense(self, name: str = "values") -> npt.NDArray[Any]:
        """One of the (n, T) arrays as a new dense array."""
        return np.asarray(self._arrays[name].toarray(), dtype=CELL_ARRAYS[name])

    # ---------------------------------------------------------------- construction
    @classmethod
    def from_arrays(
        cls,
        cells: npt.ArrayLike,
        values: Any,
        *,
        counts: npt.ArrayLike | None = None,
        locality: npt.ArrayLike | None = None,
        edges: pd.DatetimeIndex | None = None,
        step_weeks: int = 1,
    ) -> SpaceTimeCube:
        """A cube from ready arrays (tests, benchmarks, other aggregations).

        ``values`` may be 1-D (one step) or sparse. Without ``edges``, weekly steps
        ending at 2024-01-02 13:00 UTC are invented.
        """
        cells_arr = np.asarray(cells, dtype=np.uint64)
        vals = values if sp.issparse(values) else np.asarray(values, dtype=np.float64)
        if vals.ndim == 1:
            vals = vals[:, None]
        if edges is None:
            last = pd.Timestamp("2024-01-02 13:00", tz="UTC")
            n_steps = vals.shape[1]
            edges = pd.DatetimeIndex(
                [last - (n_steps - i) * step_weeks * WEEK for i in range(n_steps + 1)]
            )
        res = cells_resolution(cells_arr) if cells_arr.size else 9
        cnt = None if counts is None else np.asarray(counts, dtype=np.int32).reshape(vals.shape)
        return cls(
            cells=cells_arr, values=vals, edges=edges, locality=locality, counts=cnt, res=res
        )

    # ---------------------------------------------------------------- properties
    @property
    def n_cells(self) -> int:
        return int(self.cells.shape[0])

    @property
    def n_steps(self) -> int:
        return int(self._arrays["values"].shape[1])

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
        return max(1, int(round((self.edges[1] - self.edges[0]) / WEEK)))

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
            self._weights[key] = self.ring_builder(self.cells, k, include_self)
        return self._weights[key]

    def values_frame(self, what: str = "values") -> pd.DataFrame:
        """One of the (n, T) arrays as a DataFrame (index: cell strings, columns: steps)."""
        from geo.cells import cells_to_strings

        arr = self.dense(what)
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


def ring_weights(cells: npt.ArrayLike, k: int = 1, include_self: bool = True) -> sp.csr_matrix:
    """Binary k-ring weights between ``cells`` (unique): an n x n CSR matrix of ones.

    Built row by row from the disks (each origin's disk comes as one block, in the order
    of ``cells``), so only the neighbours are looked up.
    """
    arr = np.asarray(cells, dtype=np.uint64)
    n = arr.shape[0]
    ascending = bool(np.all(arr[1:] > arr[:-1]))
    order = np.arange(n) if ascending else np.argsort(arr, kind="stable")
    sorted_cells = arr[order]
    if not ascending and n and (np.diff(sorted_cells) == 0).any():
        raise ValidationError("cells must be unique to build neighbour pairs")
    origin, disk = cells_to_disks(arr, k)
    row = np.cumsum(np.r_[True, origin[1:] != origin[:-1]]) - 1 if origin.size else origin
    pos = np.searchsorted(sorted_cells, disk)
    pos[pos >= n] = 0
    inside = sorted_cells[pos] == disk if n else np.zeros(0, dtype=bool)
    i, j = row[inside].astype(np.int64), order[pos[inside]].astype(np.int64)
    if not include_self:
        keep = i != j
        i, j = i[keep], j[keep]
    indptr = np.r_[0, np.cumsum(np.bincount(i, minlength=n))].astype(np.int64)
    w = sp.csr_matrix((np.ones(i.shape[0]), j, indptr), shape=(n, n))
    w.sort_indices()
    return w


def _or_zeros(value: Any, shape: tuple[int, int], dtype: Any) -> npt.NDArray[Any]:
    return np.zeros(shape, dtype) if value is None else np.asarray(value, dtype=dtype)


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
    universe, cell_locality = cell_universe(cells, cfg.res)
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
    edges = period_edges(
        end,
        start=cfg.start,
        n_steps=cfg.n_steps if cfg.start is None else None,
        step_weeks=cfg.step_weeks,
        weekday=cfg.period_weekday,
        hour=cfg.period_hour,
        minute=cfg.period_minute,
        timezone=cfg.timezone,
        anchor=cfg.period_anchor,
        end_inclusive=cfg.end is None,
    )
    if cfg.start is None:
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

    rows, cols = pos[inside].astype(np.int64), step[inside]
    shape = (n, T)
    values = bins_to_csr(rows, cols, shape, weight[inside])
    counts = bins_to_csr(rows, cols, shape, dtype=np.int32)
    serious = bins_to_csr(rows, cols, shape, is_serious[inside], dtype=np.int32)
    cat_c = cat_codes.astype(np.int64)
    src_c, src_u = label_codes(source)
    org_c, org_u = label_codes(org)
    reporters = distinct_to_csr(rows, cols, shape, org_c[inside], len(org_u))
    sources = distinct_to_csr(rows, cols, shape, src_c[inside], len(src_u))
    categories = distinct_to_csr(rows, cols, shape, cat_c[inside], len(cat_uniques))

    if inside.any():
        detail = detail_frame(
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
        detail = empty_detail()

    # ---- localities (all precisions)
    rep_loc = (
        frame["locality"].astype(object).to_numpy()
        if "locality" in frame.columns
        else np.full(len(frame), None, object)
    )
    rep_loc = none_for_na(rep_loc)
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
        distinct_per_bin(lb, lbins, org_c[in_loc], len(org_u)).reshape(L, T).astype(np.int32)
    )
    loc_precision = (
        np.bincount(lb, weights=(~has_cell[in_loc]).astype(float), minlength=lbins)
        .reshape(L, T)
        .astype(np.int32)
    )
    if in_loc.any():
        locality_detail = detail_frame(
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
            empty_detail().drop(columns="cell_index").assign(locality=pd.Series(dtype=object))
        )

    return SpaceTimeCube(
        cells=universe,
        values=values,
        edges=edges,
        locality=cell_locality,
        counts=counts,
        serious=serious,
        reporters=reporters,
        sources=sources,
        categories=categories,
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


__all__ = [
    "CELL_ARRAYS",
    "SpaceTimeCube",
    "hours_mask",
    "period_edges",
    "reports_to_cube",
    "ring_weights",
]
