"""Solvers behind patrol planning: maximal covering (MIP and greedy) and walking order.

Maximal covering location problem (Church & ReVelle 1974)
--------------------------------------------------------
Demand cells ``i`` with weights ``w_i`` (expected incidents), candidate areas ``j`` with
incidence ``A[i, j] = 1`` when area ``j`` contains cell ``i``. Choose at most ``K`` areas
to maximise the weight of the covered cells (a cell covered twice counts once)::

    max  sum_i w_i y_i
    s.t. y_i <= sum_j A[i, j] x_j          (a cell counts only when an area covers it)
         sum_j x_j <= K
         sum_{j in M} x_j >= 1              (each must-visit group M)
         sum_{j in g} x_j <= cap            (each group g, when areas are spread)
         x binary, 0 <= y <= 1

The exact model is solved by CBC through PuLP. Before that the instance is reduced
without losing optimality: with ``LB`` the greedy value, an area ``j`` can only belong to
a solution worth ``>= LB`` when ``f(j) + (sum of the K-1 largest other single-area
values) >= LB`` (coverage is subadditive), so every other area is dropped, and so are
cells no remaining area covers.

Greedy (Nemhauser, Wolsey & Fisher 1978) picks the area with the largest marginal gain
``K`` times; coverage is monotone submodular, so without side constraints it is within
``1 - 1/e`` (63.2 %) of the optimum, and within 1/2 under the spread caps (a matroid).
Its a-posteriori bound ``OPT <= f(S) + sum of the K largest marginal gains at S`` is
reported too.
"""

from __future__ import annotations

import itertools
import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

GREEDY_RATIO = 1.0 - 1.0 / math.e


@dataclass
class CoverResult:
    """Chosen candidates and how they were found."""

    chosen: list[int]
    value: float
    method: str  # "mip" | "greedy"
    optimal: bool
    bound: float  # proven upper bound on the optimum
    guarantee: float | None = None  # greedy's worst-case ratio when it applies
    notes: list[str] = field(default_factory=list)


def coverage_value(A: sp.csc_matrix, w: FloatArray, chosen: Sequence[int]) -> float:
    """Weight of the cells covered by ``chosen`` (each cell once)."""
    if len(chosen) == 0:
        return 0.0
    covered = np.asarray(A[:, list(chosen)].sum(axis=1)).ravel() > 0
    return float(w[covered].sum())


def greedy_cover(
    A: sp.csc_matrix,
    w: FloatArray,
    k: int,
    *,
    must: Sequence[npt.ArrayLike] = (),
    groups: npt.ArrayLike | None = None,
    cap: int | None = None,
) -> CoverResult:
    """Greedy maximal covering with must-visit groups and per-group caps.

    Must-visit groups are served first (the best area of each group that is still
    unserved), then the largest marginal gain is taken until ``k`` areas are chosen or
    nothing more can be covered. Ties go to the smaller candidate index.
    """
    A = sp.csc_matrix(A)
    At = A.T.tocsr()
    n_cand = A.shape[1]
    group = np.full(n_cand, -1, np.int64) if groups is None else np.asarray(groups, np.int64)
    uncovered = np.ones(A.shape[0], dtype=bool)
    chosen: list[int] = []
    used: dict[int, int] = {}
    must_sets = [np.asarray(m, dtype=np.int64) for m in must]

    def gains() -> FloatArray:
        return np.asarray(At @ (w * uncovered)).ravel()

    def allowed() -> npt.NDArray[np.bool_]:
        ok = np.ones(n_cand, dtype=bool)
        ok[chosen] = False
        if cap is not None:
            for g, count in used.items():
                if g >= 0 and count >= cap:
                    ok[group == g] = False
        return ok

    def take(j: int) -> None:
        chosen.append(j)
        uncovered[A.indices[A.indptr[j] : A.indptr[j + 1]]] = False
        used[int(group[j])] = used.get(int(group[j]), 0) + 1

    for m in must_sets:
        if len(chosen) >= k or np.isin(m, chosen).any():
            continue
        g = gains()
        ok = allowed()
        cand = m[ok[m]]
        if cand.size == 0:
            continue
        take(int(cand[np.argmax(g[cand])]))  # argmax: first (smallest) on ties
    while len(chosen) < k:
        g = np.where(allowed(), gains(), -np.inf)
        j = int(np.argmax(g))
        if not g[j] > 0:
            break
        take(j)
    value = coverage_value(A, w, chosen)
    g_final = np.where(allowed(), gains(), 0.0)
    top = np.sort(g_final)[::-1][:k]
    bound = value + float(top[top > 0].sum())
    guarantee = None
    if not must_sets:
        guarantee = GREEDY_RATIO if cap is None else 0.5
    return CoverResult(
        chosen=chosen,
        value=value,
        method="greedy",
        optimal=bound <= value * (1 + 1e-9) + 1e-12,
        bound=bound,
        guarantee=guarantee,
    )


def _prune(A: sp.csc_matrix, w: FloatArray, k: int, lower: float) -> npt.NDArray[np.bool_]:
    """Candidates that can belong to a solution worth at least ``lower``."""
    single = np.asarray(A.T @ w).ravel()
    if k <= 1:
        return single >= lower * (1 - 1e-9)
    order = np.sort(single)[::-1]
    top_km1 = order[: k - 1].sum()
    kth = order[k - 1] if order.size >= k else 0.0
    # sum of the k-1 largest among the *other* candidates
    others = np.where(single >= order[min(k - 2, order.size - 1)], top_km1 - single + kth, top_km1)
    return single + others >= lower * (1 - 1e-9)


def _cbc(time_limit: float) -> Any:
    """The CBC solver: PuLP's bundled binary (PuLP < 4), else a CBC on the PATH."""
    import pulp

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        # no "threads" option: CBC's thread pool can stall until the time limit on tiny models
        options = {"msg": False, "timeLimit": time_limit}
        bundled = getattr(pulp, "PULP_CBC_CMD", None)
        if bundled is not None:
            solver = bundled(**options)
            if solver.available():
                return solver
        solver = pulp.COIN_CMD(**options)
        return solver if solver.available() else None


def _variable(prob: Any, name: str, low: float, up: float, cat: str) -> Any:
    """A model variable (``add_variable`` from PuLP 3.3 on, ``LpVariable`` before)."""
    import pulp

    if hasattr(prob, "add_variable"):
        return prob.add_variable(name, lowBound=low, upBound=up, cat=cat)
    return pulp.LpVariable(name, lowBound=low, upBound=up, cat=cat)


def mip_cover(
    A: sp.csc_matrix,
    w: FloatArray,
    k: int,
    *,
    must: Sequence[npt.ArrayLike] = (),
    groups: npt.ArrayLike | None = None,
    cap: int | None = None,
    time_limit: float = 5.0,
    max_terms: int = 60_000,
    start: CoverResult | None = None,
) -> CoverResult:
    """Exact maximal covering by CBC (PuLP), falling back to greedy when it cannot finish.

    ``start`` is a feasible (greedy) solution used for the reduction; it is computed when
    not given. The greedy result is returned (``method="greedy"``) when the reduced
    model still has more than ``max_terms`` incidence terms, or CBC does not prove
    optimality within ``time_limit`` seconds.
    """
    import pulp

    A = sp.csc_matrix(A)
    greedy = start or greedy_cover(A, w, k, must=must, groups=groups, cap=cap)
    keep = _prune(A, w, k, greedy.value)
    keep[greedy.chosen] = True
    cand = np.flatnonzero(keep)
    sub = A[:, cand].tocsr()
    rows = np.flatnonzero((np.diff(sub.indptr) > 0) & (w > 0))
    sub = sub[rows]
    if sub.nnz > max_terms:
        greedy.notes.append(
            f"exakt lösning hoppades över: {sub.nnz} termer efter reduktion (gräns {max_terms})"
        )
        return greedy
    solver = _cbc(time_limit)
    if solver is None:
        greedy.notes.append("CBC saknas i denna installation; girig lösning används")
        return greedy
    prob = pulp.LpProblem("mclp", pulp.LpMaximize)
    x = [_variable(prob, f"x{j}", 0, 1, "Binary") for j in range(cand.size)]
    y = [_variable(prob, f"y{i}", 0, 1, "Continuous") for i in range(rows.size)]
    prob += pulp.LpAffineExpression([(y[i], float(w[r])) for i, r in enumerate(rows)])
    prob += pulp.LpAffineExpression([(v, 1.0) for v in x]) <= k
    for i in range(rows.size):
        js = sub.indices[sub.indptr[i] : sub.indptr[i + 1]]
        prob += pulp.LpAffineExpression([(x[j], 1.0) for j in js] + [(y[i], -1.0)]) >= 0
    position = {int(c): p for p, c in enumerate(cand)}
    for m in must:
        members = [position[int(c)] for c in np.asarray(m, np.int64) if int(c) in position]
        if members:
            prob += pulp.LpAffineExpression([(x[p], 1.0) for p in members]) >= 1
    if cap is not None and groups is not None:
        g = np.asarray(groups, np.int64)[cand]
        for value in np.unique(g[g >= 0]):
            in_group = np.flatnonzero(g == value)
            prob += pulp.LpAffineExpression([(x[int(p)], 1.0) for p in in_group]) <= cap
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        prob.solve(solver)
    if prob.sol_status != pulp.LpSolutionOptimal:
        greedy.notes.append(
            f"CBC bevisade ingen optimal lösning ({pulp.LpStatus[prob.status]}, "
            f"gräns {time_limit:g} s); girig lösning används"
        )
        return greedy
    sol = [int(cand[j]) for j, v in enumerate(x) if (v.value() or 0.0) > 0.5]
    # drop areas that add nothing (the model allows them) and keep a stable order
    sol.sort(key=lambda j: -float(np.asarray(A[:, j].T @ w).ravel()[0]))
    chosen: list[int] = []
    for j in sol:
        if coverage_value(A, w, [*chosen, j]) > coverage_value(A, w, chosen) or any(
            np.isin(np.asarray(m, np.int64), [j]).any() for m in must
        ):
            chosen.append(j)
    value = coverage_value(A, w, chosen)
    if value + 1e-9 < greedy.value:  # CBC tolerance; never return worse than greedy
        greedy.notes.append("CBC:s lösning var sämre än den giriga; girig lösning används")
        return greedy
    return CoverResult(chosen=chosen, value=value, method="mip", optimal=True, bound=value)


def max_cover(
    A: sp.spmatrix,
    w: npt.ArrayLike,
    k: int,
    *,
    must: Sequence[npt.ArrayLike] = (),
    groups: npt.ArrayLike | None = None,
    cap: int | None = None,
    method: str = "auto",
    time_limit: float = 5.0,
    max_terms: int = 60_000,
) -> CoverResult:
    """Solve the maximal covering problem (``method``: ``"auto"``, ``"mip"``, ``"greedy"``).

    ``"auto"`` (and ``"mip"``) run greedy first, reduce the instance with its value and
    solve the exact model when it has at most ``max_terms`` incidence terms and CBC
    finishes within ``time_limit`` seconds; otherwise the greedy result is returned.
    """
    if method not in ("auto", "mip", "greedy"):
        raise ValueError(f"method must be 'auto', 'mip' or 'greedy', got {method!r}")
    Acsc = sp.csc_matrix(A, dtype=np.float64)
    Acsc.data[:] = 1.0
    weights = np.asarray(w, dtype=np.float64)
    greedy = greedy_cover(Acsc, weights, k, must=must, groups=groups, cap=cap)
    if method == "greedy":
        return greedy
    return mip_cover(
        Acsc,
        weights,
        k,
        must=must,
        groups=groups,
        cap=cap,
        time_limit=time_limit,
        max_terms=max_terms,
        start=greedy,
    )


# ---------------------------------------------------------------------- walking order
def path_length(xy: FloatArray, order: Sequence[int]) -> float:
    """Length of the open path visiting ``xy`` in ``order``."""
    pts = xy[list(order)]
    return float(np.hypot(*np.diff(pts, axis=0).T).sum()) if len(order) > 1 else 0.0


def walking_order(xy: npt.ArrayLike, brute_force_max: int = 8) -> list[int]:
    """Shortest open walk through all points (straight lines, free start and end).

    Exact by enumeration for up to ``brute_force_max`` points; otherwise nearest
    neighbour from every start followed by 2-opt.
    """
    pts = np.asarray(xy, dtype=np.float64)
    n = pts.shape[0]
    if n <= 2:
        return list(range(n))
    D = np.hypot(*(pts[:, None, :] - pts[None, :, :]).transpose(2, 0, 1))
    if n <= brute_force_max:
        best, best_len = None, np.inf
        for perm in itertools.permutations(range(n)):
            if perm[0] > perm[-1]:
                continue  # a path and its reverse have the same length
            length = D[perm[:-1], perm[1:]].sum()
            if length < best_len - 1e-9:
                best, best_len = perm, length
        assert best is not None
        return list(best)
    best_order: list[int] = []
    best_len = np.inf
    for s in range(n):
        order = [s]
        free = set(range(n)) - {s}
        while free:
            last = order[-1]
            nxt = min(free, key=lambda j: (D[last, j], j))
            order.append(nxt)
            free.remove(nxt)
        order = _two_opt(order, D)
        length = D[order[:-1], order[1:]].sum()
        if length < best_len - 1e-9:
            best_order, best_len = order, length
    return best_order


def _two_opt(order: list[int], D: FloatArray) -> list[int]:
    """Reverse segments while that shortens the open path."""
    improved = True
    n = len(order)
    while improved:
        improved = False
        for i in range(0, n - 1):
            for j in range(i + 1, n):
                a, b = order[i - 1] if i > 0 else None, order[i]
                c, d = order[j], order[j + 1] if j + 1 < n else None
                before = (D[a, b] if a is not None else 0.0) + (D[c, d] if d is not None else 0.0)
                after = (D[a, c] if a is not None else 0.0) + (D[b, d] if d is not None else 0.0)
                if after < before - 1e-9:
                    order[i : j + 1] = order[i : j + 1][::-1]
                    improved = True
    return order


__all__ = [
    "GREEDY_RATIO",
    "CoverResult",
    "coverage_value",
    "greedy_cover",
    "max_cover",
    "mip_cover",
    "path_length",
    "walking_order",
]
