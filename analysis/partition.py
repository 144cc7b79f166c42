"""A large tenant in parts: Gi* and emerging patterns per H3 parent cell, exactly.

The cells of a space-time cube are split by their parent cell at ``parent_res``
(:func:`geo.cells.cells_to_parent`). Gi* of a cell needs the values of its k-ring
(``k = 1``: the cell and its six neighbours), so a partition is computed from its own
cells plus a *halo*: the cells of the cube within ``k`` rings of its own cells that belong
to other partitions. The global window of Gi* (mean, standard deviation and size ``N`` of
all cell-steps, or of each step with ``window="step"``) is tenant-wide: it is computed
once from the whole cube and passed to every partition. Each cell's z-score is then the
same as in the unpartitioned run (:class:`analysis.emerging.EmergingHotspots`), up to
floating-point rounding (well below 1e-9).

What is computed where
----------------------
* **Per partition, phase 1** (:func:`partition_gistar`): the neighbourhood sums, Gi*
  z-scores and k-ring report counts of the partition's own cells, from its own and halo
  cells and the tenant-wide window.
* **After merging phase 1**: significance. With ``fdr=True`` the Benjamini-Hochberg
  adjustment ranks the p-values of *all* cells of a step (one family of tests per step),
  so it is decided on the merged z-scores; only ``|z|`` at or above the critical value
  can be significant, so this is a cheap pass over the merged array.
* **Per partition, phase 2** (:func:`partition_patterns`): hot and cold steps, the
  Mann-Kendall trend, ``too_few_reports`` and the emerging pattern of each own cell
  (:meth:`analysis.emerging.EmergingHotspots.classify`), from its z series, its
  significance and its k-ring counts.
* **After merging phase 2**: hotspot zones (:class:`analysis.zones.HotspotZones`: a zone
  may cross partition borders, and zone ids are matched against earlier weeks), zone and
  locality grades and everything else of :func:`analysis.hotspots.analyse`; they run on
  the merged per-cell results.

Both phases are plain functions of arrays, so ``map_fn`` can send them to a cluster
(``lambda f, parts: client.gather(client.map(f, parts))``); the default runs them here,
one after the other, which bounds the memory of the k-ring products to one partition.
Permutation p-values and a space-time ``time_lag`` are not partitioned (they raise).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

from analysis.cube import ring_weights
from analysis.emerging import PATTERNS, EmergingHotspots, _sparse, _sparse_counts
from analysis.getis_ord import _significant_rows, _window_stats
from geo.cells import cells_to_disks, cells_to_parent
from geo.errors import ValidationError

IntArray = npt.NDArray[np.int64]
MapFn = Callable[[Callable[[Any], Any], Sequence[Any]], Iterable[Any]]


@dataclass
class Partition:
    """The cells of one H3 parent cell and their halo (indices into the cube's cells)."""

    parent: int
    own: IntArray
    halo: IntArray

    @property
    def local(self) -> IntArray:
        """Own and halo cells, sorted (the rows a partition's task needs)."""
        return np.union1d(self.own, self.halo)


def partition_cells(cells: npt.ArrayLike, parent_res: int, k: int = 1) -> list[Partition]:
    """Split sorted unique ``cells`` by parent at ``parent_res``, each with its k-ring halo.

    Parameters
    ----------
    cells
        The cube's cells (sorted, unique H3 ids).
    parent_res
        Resolution of the parent cells that define the partitions (coarser than the cells).
    k
        Rings of the Gi* neighbourhood: the halo holds the cube's cells within ``k`` rings
        of a partition's cells that lie in other partitions.
    """
    arr = np.asarray(cells, dtype=np.uint64)
    if arr.size > 1 and (arr[1:] <= arr[:-1]).any():
        raise ValidationError("cells must be sorted and unique", context="partition_cells")
    parents = cells_to_parent(arr, parent_res)
    out = []
    for parent in np.unique(parents):
        own = np.flatnonzero(parents == parent).astype(np.int64)
        _origin, disk = cells_to_disks(arr[own], k)
        pos = np.searchsorted(arr, disk)
        pos = np.minimum(pos, max(arr.size - 1, 0))
        near = np.unique(pos[arr[pos] == disk]).astype(np.int64)
        out.append(Partition(int(parent), own, np.setdiff1d(near, own)))
    return out


@dataclass
class GiTask:
    """Phase-1 input of one partition (small: only its own and halo rows)."""

    cells: npt.NDArray[np.uint64]  # local cells, sorted
    own: IntArray  # positions of own cells among the local ones
    values: sp.csr_matrix  # local rows of the cube's values
    counts: sp.csr_matrix  # local rows of the report counts
    k: int
    mean: Any
    std: Any
    n_window: float


def partition_gistar(task: GiTask) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float32]]:
    """Gi* z-scores and k-ring counts (own cells x steps) of one partition.

    The formula of :mod:`analysis.getis_ord` with the tenant-wide window of the task.
    """
    W = ring_weights(task.cells, task.k)[task.own]
    S = np.asarray((W @ task.values).todense(), dtype=np.float64)
    ring = np.asarray((W @ task.counts).todense(), dtype=np.float32)
    C = np.asarray(W.sum(axis=1), dtype=np.float64).reshape(-1, 1)
    mean = task.mean if np.ndim(task.mean) == 0 else np.asarray(task.mean)[None, :]
    std = task.std if np.ndim(task.std) == 0 else np.asarray(task.std)[None, :]
    N = task.n_window
    z = S
    with np.errstate(divide="ignore", invalid="ignore"):
        z -= C * mean
        z /= std * np.sqrt(C * (N - C) / (N - 1.0))
    z[~np.isfinite(z)] = 0.0
    return z, ring


@dataclass
class PatternTask:
    """Phase-2 input of one partition: its own cells' merged Gi* results."""

    model: EmergingHotspots
    z: npt.NDArray[np.float64]
    significant: npt.NDArray[np.bool_]
    ring: npt.NDArray[np.float32]


def partition_patterns(task: PatternTask) -> dict[str, npt.NDArray[Any]]:
    """Hot/cold steps, trend and pattern of one partition's own cells."""
    return task.model.classify(task.z, task.significant, task.ring)


@dataclass
class GiWindow:
    """The Gi* parameters and tenant-wide window of a partitioned run (what zones and
    grades read from ``EmergingHotspots.gistar_``; the z-scores are in ``z_``)."""

    k: int
    window: str
    time_lag: int
    fdr: bool
    alpha: float
    mean_: Any
    std_: Any
    n_window_: int


class PartitionedEmerging:
    """Emerging hot spot analysis of a large cube, computed per H3 parent cell.

    Gives the same per-cell results as :class:`analysis.emerging.EmergingHotspots` with
    the same parameters (see the module docstring for what runs per partition).

    Parameters
    ----------
    model
        The analysis to partition: an unfitted :class:`analysis.emerging.EmergingHotspots`
        with the parameters to use (default: its defaults). ``permutations`` and
        ``time_lag`` must be 0.
    parent_res
        Resolution of the partitions' parent cells (6: about 36 km², some 340 cells of
        resolution 10 each).
    map_fn
        ``map_fn(function, tasks)`` runs the partition tasks (default: here, in order).

    Attributes
    ----------
    partitions_ : list of Partition
    z_ : ndarray (n, T)
        Gi* z-scores.
    significant_, hot_, cold_ : bool ndarray (n, T)
    ring_counts_ : ndarray (n, T)
    tau_, tau_p_, trend_, too_few_, pattern_code_, pattern_, hot_share_, recurring_, \
ring_total_, steps_with_reports_ : ndarray (n,)
        As the attributes of the same name of ``EmergingHotspots``.
    mean_, std_, n_window_
        The tenant-wide window passed to every partition.
    gistar_ : GiWindow
        The Gi* parameters and window, so :class:`analysis.zones.HotspotZones` builds the
        zones from the merged result (``HotspotZones().fit(cube, emerging=this)``).
    alpha, hot_share, min_step_count, k
        The model's parameters (read by the zones).
    """

    def __init__(
        self,
        model: EmergingHotspots | None = None,
        parent_res: int = 6,
        map_fn: MapFn | None = None,
    ) -> None:
        self.model = model
        self.parent_res = parent_res
        self.map_fn = map_fn

    def fit(self, cube: Any) -> PartitionedEmerging:
        """Classify every cell of ``cube`` partition by partition."""
        model = self.model or EmergingHotspots()
        problems = []
        if model.window not in ("cube", "step"):
            problems.append("window must be 'cube' or 'step'")
        if model.permutations or model.time_lag:
            problems.append("permutations and time_lag are not partitioned; use 0")
        res = int(getattr(cube, "res", 15))
        if not 0 <= self.parent_res <= res:
            problems.append(f"parent_res must lie between 0 and the cells' resolution {res}")
        if problems:
            raise ValidationError(problems, context="PartitionedEmerging")
        run: MapFn = self.map_fn or (lambda f, tasks: map(f, tasks))
        cells = np.asarray(cube.cells, dtype=np.uint64)
        Y = sp.csr_matrix(_sparse(cube, "values"), dtype=np.float64)
        Y.eliminate_zeros()
        counts = _sparse_counts(cube)
        n, T = Y.shape
        mean, std, N = _window_stats(Y, model.window)  # tenant-wide, once
        parts = partition_cells(cells, self.parent_res, model.k)
        tasks = []
        for part in parts:
            local = part.local
            tasks.append(
                GiTask(
                    cells=cells[local],
                    own=np.searchsorted(local, part.own),
                    values=Y[local],
                    counts=counts[local],
                    k=model.k,
                    mean=mean,
                    std=std,
                    n_window=N,
                )
            )
        z = np.zeros((n, T))
        ring = np.zeros((n, T), np.float32)
        for part, (z_part, ring_part) in zip(parts, run(partition_gistar, tasks), strict=True):
            z[part.own], ring[part.own] = z_part, ring_part
        del tasks
        significant = _significant_rows(z, np.ones(n, np.int64), model.alpha, model.fdr)
        pattern_tasks = [
            PatternTask(model, z[p.own], significant[p.own], ring[p.own]) for p in parts
        ]
        merged: dict[str, npt.NDArray[Any]] = {}
        for part, out in zip(parts, run(partition_patterns, pattern_tasks), strict=True):
            for name, values in out.items():
                if name not in merged:
                    merged[name] = np.zeros((n, *values.shape[1:]), values.dtype)
                merged[name][part.own] = values
        self.partitions_ = parts
        self.mean_, self.std_, self.n_window_ = mean, std, int(N)
        self.gistar_ = GiWindow(
            model.k, model.window, model.time_lag, model.fdr, model.alpha, mean, std, int(N)
        )
        self.alpha, self.hot_share = model.alpha, model.hot_share
        self.min_step_count, self.k = model.min_step_count, model.k
        self.z_ = z
        self.significant_ = significant
        self.ring_counts_ = ring
        self.hot_ = merged.get("hot", np.zeros((n, T), bool))
        self.cold_ = merged.get("cold", np.zeros((n, T), bool))
        self.tau_ = merged.get("tau", np.zeros(n))
        self.tau_p_ = merged.get("tau_p", np.ones(n))
        self.trend_ = merged.get("trend", np.zeros(n, np.int8))
        self.too_few_ = merged.get("too_few", np.zeros(n, bool))
        self.pattern_code_ = merged.get("pattern_code", np.zeros(n, np.int8))
        self.hot_share_ = merged.get("hot_share", np.zeros(n))
        self.recurring_ = merged.get("recurring", np.zeros(n, bool))
        self.ring_total_ = merged.get("ring_total", np.zeros(n))
        self.steps_with_reports_ = merged.get("steps_with_reports", np.zeros(n, np.int64))
        self.pattern_ = np.asarray(PATTERNS, dtype=object)[
            np.asarray(self.pattern_code_, dtype=np.int64)
        ]
        return self


__all__ = [
    "GiTask",
    "GiWindow",
    "PartitionedEmerging",
    "Partition",
    "PatternTask",
    "partition_cells",
    "partition_gistar",
    "partition_patterns",
]
