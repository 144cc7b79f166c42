"""Getis-Ord Gi* hot spot statistic for every cell and step of a space-time cube.

All steps are computed at once with one sparse product ``W @ Y`` (``W`` the binary
k-ring weights with the cell itself included, ``Y`` the n x T cube, both sparse), so
50,000 cells x 52 steps take a fraction of a second and a city's 550,000 cells x 53
steps about one.

Statistic
---------
For a cell ``i`` with neighbourhood sum ``S_i = sum_j w_ij y_j`` (``w_ii = 1``) and
cardinality ``c_i = sum_j w_ij``, over a reference population of ``N`` values with mean
``ybar`` and population standard deviation ``s``::

    z_i = (S_i - c_i * ybar) / (s * sqrt(c_i * (N - c_i) / (N - 1)))

This is Ord & Getis (1995) Gi* with binary weights, and exactly the ``Zs`` of
``esda.G_Local(y, w, star=True, transform="B")`` (esda puts weight 1 on the diagonal for
``star=True`` with binary weights; its ``(G - E[G]) / sqrt(V[G])`` reduces to the line
above). The reference population is the *global window*:

* ``window="cube"`` (default, like ArcGIS Emerging Hot Spot Analysis): all ``n * T``
  cell-steps, so ``N = n * T`` and ``ybar``, ``s`` are the cube's mean and standard
  deviation. A hotspot with steady counts then has a flat z series, and Mann-Kendall on
  the z series measures a real change.
* ``window="step"``: each step on its own (``N = n``), as a series of independent maps.
* ``time_lag=L`` (cube window only): the neighbourhood of ``(i, t)`` is the k-ring in
  steps ``t - L .. t`` (fewer at the start), a space-time Gi*.

When ``s == 0`` (all values equal) or ``c_i == N`` the z-score is defined as 0.

The window statistics come from sums over the stored (non-zero) values only:
``ybar = sum(y) / N`` and ``s^2 = (sum_{y != 0} (y - ybar)^2 + (N - nnz) ybar^2) / N``.

Compact results
---------------
A cell whose neighbourhood sums are zero in every step has ``z = -c_i ybar / (s
sqrt(c_i (N - c_i) / (N - 1)))`` in every step: the same series as every other such
cell of the same cardinality. Most cells of a city are like that, so the results are
kept once per *row*: one row per cell with reports in its neighbourhood (or asked for
with ``keep_rows``) and one per cardinality for all the others. ``rows_`` maps each
cell to its row, ``row_weight_`` says how many cells share a row, and the ``compact_*_``
arrays hold the results per row; ``z_``, ``p_``, ``q_``, ``significant_``,
``local_sum_`` and ``cardinality_`` expand them to (n, T) on access. The
Benjamini-Hochberg ranks count each row ``row_weight_`` times, so the q-values equal
those of the expanded arrays (tied p-values share a q-value either way). Significance is
decided from the p-values at or below ``alpha`` alone (only they can pass, and every
smaller p-value is among them); ``compact_q_`` and ``compact_local_sum_`` are computed
when first asked for.

p-values (one definition)
-------------------------
``p_`` is two-sided from the standard normal, ``p = 2 * (1 - Phi(|z|))``; the side (hot
``z > 0``, cold ``z < 0``) comes from the sign of ``z``. With ``permutations=R``,
``p_sim_`` is a conditional-permutation pseudo p-value: the cell's own value is kept
and ``c_i - 1`` values are drawn without replacement from the rest of the window, ``R``
times (seeded; blocks of observations share draws like esda's ``crand``). It is
*folded* to be two-sided like ``p_``::

    p_sim = min(1, 2 * min(#{sim >= obs} + 1, #{sim <= obs} + 1) / (R + 1))

Ties count in both tails (esda's ``p_sim`` is the unfolded one-sided
``(min(larger, R - larger) + 1) / (R + 1)``, which calls a tie-heavy zero neighbourhood
extreme). Significance uses ``p_sim_`` when permutations were run, else ``p_``; with
``fdr=True`` those p-values are Benjamini-Hochberg adjusted within each step (the
cells of one step are one family of tests) into ``q_``, and ``significant_ = q_ <=
alpha``.
"""

from __future__ import annotations

from typing import Any, Literal, Protocol

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp
from scipy.special import ndtr, ndtri

from geo.errors import ValidationError

FloatArray = npt.NDArray[np.float64]


class _CubeLike(Protocol):
    values: Any

    def weights(self, k: int = 1, include_self: bool = True) -> sp.csr_matrix: ...


def two_sided_p(z: npt.ArrayLike) -> FloatArray:
    """Two-sided standard-normal p-values of z-scores."""
    return np.asarray(2.0 * ndtr(-np.abs(np.asarray(z))))


def fdr_bh(p: npt.ArrayLike, axis: int = 0) -> FloatArray:
    """Benjamini-Hochberg adjusted p-values (q-values) along ``axis``.

    ``q_(r) = min_{j >= r} min(1, m * p_(j) / j)`` for the ``r``-th smallest of ``m``
    p-values; rejecting ``q <= alpha`` is the BH step-up procedure at level ``alpha``.
    NaN p-values are left NaN and not counted in ``m``.
    """
    arr = np.asarray(p, dtype=np.float64)
    moved = np.moveaxis(arr, axis, -1)
    m_all = moved.shape[-1]
    # families along the last, contiguous axis: sorting rows is much faster than columns
    flat = np.ascontiguousarray(moved.reshape(-1, m_all))
    nan = np.isnan(flat)
    filled = np.where(nan, np.inf, flat)
    order = np.argsort(filled, axis=1)  # ties get equal q whatever their order
    sorted_p = np.take_along_axis(filled, order, axis=1)
    m = (~nan).sum(axis=1)
    rank = np.arange(1, m_all + 1, dtype=np.float64)[None, :]
    q_sorted = sorted_p * m[:, None] / rank
    q_sorted = np.minimum.accumulate(q_sorted[:, ::-1], axis=1)[:, ::-1]
    q_sorted = np.minimum(q_sorted, 1.0)
    q = np.empty_like(q_sorted)
    np.put_along_axis(q, order, q_sorted, axis=1)
    q[nan] = np.nan
    return np.moveaxis(q.reshape(moved.shape), -1, axis)


def _draw_distinct(rng: np.random.Generator, high: int, rows: int, m: int) -> npt.NDArray:
    """``rows`` x ``m`` integers in ``[0, high)``, distinct within each row (uniform)."""
    if m == 0:
        return np.zeros((rows, 0), np.int64)
    if m > high:
        raise ValidationError("a neighbourhood is larger than the permutation pool")
    out = rng.integers(0, high, size=(rows, m))
    while True:
        s = np.sort(out, axis=1)
        dup = (s[:, 1:] == s[:, :-1]).any(axis=1)
        if not dup.any():
            return out
        out[dup] = rng.integers(0, high, size=(int(dup.sum()), m))


def _crand_p(
    pool: FloatArray,
    self_pos: npt.NDArray[np.int64],
    obs: FloatArray,
    card: npt.NDArray[np.int64],
    permutations: int,
    rng: np.random.Generator,
    max_elements: int = 4_000_000,
) -> FloatArray:
    """Folded two-sided conditional-permutation p-values (see module docstring)."""
    n_obs = obs.shape[0]
    out = np.ones(n_obs)
    if n_obs == 0:
        return out
    n_pool = pool.shape[0]
    draws = (card - 1).astype(np.int64)
    m_max = int(draws.max()) if draws.size else 0
    block = max(1, max_elements // max(1, permutations * max(m_max, 1)))
    cols = np.arange(m_max)
    for lo in range(0, n_obs, block):
        hi = min(n_obs, lo + block)
        rids = _draw_distinct(rng, n_pool - 1, permutations, m_max)  # (R, m)
        pos = self_pos[lo:hi]
        idx = rids[None, :, :] + (rids[None, :, :] >= pos[:, None, None])
        mask = cols[None, None, :] < draws[lo:hi, None, None]
        sim = (pool[idx] * mask).sum(axis=2) + pool[pos][:, None]
        o = obs[lo:hi, None]
        tol = 1e-9 * (1.0 + np.abs(o))
        ge = (sim >= o - tol).sum(axis=1)
        le = (sim <= o + tol).sum(axis=1)
        tail = np.minimum(ge, le) + 1.0
        out[lo:hi] = np.minimum(1.0, 2.0 * tail / (permutations + 1.0))
    return out


def _as_2d(values: Any) -> Any:
    if sp.issparse(values):
        return values
    arr = np.asarray(values, dtype=np.float64)
    return arr[:, None] if arr.ndim == 1 else arr


def _window_stats(
    Y: sp.csr_matrix, window: str
) -> tuple[float | FloatArray, float | FloatArray, float]:
    """Mean, population standard deviation and size of the global window, from sums."""
    n, T = Y.shape
    if window == "cube":
        N = float(n * T)
        if not N:
            return 0.0, 0.0, N
        mean = float(Y.data.sum()) / N
        var = (float(((Y.data - mean) ** 2).sum()) + (N - Y.nnz) * mean**2) / N
        return mean, float(np.sqrt(max(var, 0.0))), N
    if not n:
        return np.zeros(T), np.zeros(T), float(n)
    coo = Y.tocoo()
    means = np.bincount(coo.col, weights=coo.data, minlength=T) / n
    nnz = np.bincount(coo.col, minlength=T)
    dev = np.bincount(coo.col, weights=(coo.data - means[coo.col]) ** 2, minlength=T)
    var = (dev + (n - nnz) * means**2) / n
    return means, np.sqrt(np.maximum(var, 0.0)), float(n)


def _fdr_rows(p: FloatArray, weight: npt.NDArray[np.int64]) -> FloatArray:
    """Benjamini-Hochberg q-values per column of ``p`` whose row ``r`` stands for
    ``weight[r]`` equal p-values (see the module docstring)."""
    q = np.empty_like(p)
    for t in range(p.shape[1]):
        col = p[:, t]
        order = np.argsort(col)  # tied p-values end with the same q in any order
        rank = np.cumsum(weight[order]).astype(np.float64)
        m = rank[-1] if rank.size else 0.0
        qs = col[order] * m / rank
        qs = np.minimum.accumulate(qs[::-1])[::-1]
        q[order, t] = np.minimum(qs, 1.0)
    return q


def _significant_rows(
    z: FloatArray, weight: npt.NDArray[np.int64], alpha: float, fdr: bool
) -> npt.NDArray[np.bool_]:
    """``q <= alpha`` per row and step without ranking every p-value.

    Only a p-value ``<= alpha`` can be significant, and every p-value below it lies in the
    same small set (``|z|`` at least the two-sided critical value), so ranking that set
    gives the Benjamini-Hochberg decision exactly: a p-value outside it has ``m p / j >=
    p > alpha`` at any rank ``j``.
    """
    crit = float(ndtri(1.0 - alpha / 2.0))
    # |z| >= c as two comparisons: no |z| copy of the city's rows
    reach = z >= crit - 1e-6
    reach |= z <= -(crit - 1e-6)
    rows, cols = np.nonzero(reach)
    del reach
    p = two_sided_p(z[rows, cols])
    sig = np.zeros(z.shape, dtype=bool)
    if not fdr:
        sig[rows, cols] = p <= alpha
        return sig
    if cols.size == 0:  # nothing reaches the critical value
        return sig
    m = float(weight.sum())
    order = np.lexsort((p, cols))  # by step, then p
    rows, cols, p = rows[order], cols[order], p[order]
    starts = np.flatnonzero(np.r_[True, cols[1:] != cols[:-1]])
    for lo, hi in zip(starts, np.r_[starts[1:], cols.size], strict=True):
        rank = np.cumsum(weight[rows[lo:hi]]).astype(np.float64)
        qs = np.minimum.accumulate((p[lo:hi] * m / rank)[::-1])[::-1]
        sig[rows[lo:hi], cols[lo:hi]] = np.minimum(qs, 1.0) <= alpha
    return sig


#: The parameters of :class:`GetisOrdGiStar`, for estimators that run it with their own.
GI_PARAMS = ("k", "window", "time_lag", "permutations", "seed", "fdr", "alpha")


class GetisOrdGiStar:
    """Gi* z-scores and p-values for every cell and step of a cube.

    Parameters
    ----------
    k
        Neighbourhood: the k-ring of each cell (``k=1``: the cell and its 6 neighbours).
    window
        Global window: ``"cube"`` (all cells and steps) or ``"step"`` (each step).
    time_lag
        Also use the k-ring of the previous ``time_lag`` steps (cube window only).
    permutations
        Conditional permutations for ``p_sim_`` (0 = analytical only). Cost grows with
        ``cells x steps x permutations x neighbours``.
    seed
        Seed of the permutation generator.
    fdr
        Benjamini-Hochberg adjustment within each step.
    alpha
        Significance level.

    Attributes
    ----------
    z_ : ndarray (n, T)
        Gi* z-scores.
    p_ : ndarray (n, T)
        Two-sided normal p-values.
    p_sim_ : ndarray (n, T) or None
        Folded two-sided permutation p-values (``None`` without permutations).
    q_ : ndarray (n, T)
        The p-values significance is judged on: BH-adjusted when ``fdr``, else ``p_sim_``
        or ``p_``.
    significant_ : bool ndarray (n, T)
        ``q_ <= alpha``.
    local_sum_ : ndarray (n, T)
        Neighbourhood sums ``S``.
    cardinality_ : ndarray (n, T)
        Neighbourhood sizes ``c`` (cells, times steps with a time lag).
    mean_, std_ : float or ndarray (T,)
        Window mean and population standard deviation.
    n_window_ : int
        ``N``, the size of the reference population.
    rows_ : int ndarray (n,)
        Row of each cell in the ``compact_*_`` arrays (see "Compact results").
    row_weight_ : int ndarray (rows,)
        Cells sharing each row.
    compact_z_, compact_q_, compact_significant_, compact_local_sum_, \
compact_cardinality_ : ndarray (rows, T)
        The results once per row; the (n, T) attributes above expand them on access.

    Examples
    --------
    >>> from analysis.cube import SpaceTimeCube  # doctest: +SKIP
    >>> gi = GetisOrdGiStar(k=1, fdr=True).fit(cube)  # doctest: +SKIP
    >>> hot = gi.significant_ & (gi.z_ > 0)  # doctest: +SKIP
    """

    def __init__(
        self,
        k: int = 1,
        window: Literal["cube", "step"] = "cube",
        time_lag: int = 0,
        permutations: int = 0,
        seed: int | None = 0,
        fdr: bool = False,
        alpha: float = 0.05,
    ) -> None:
        self.k = k
        self.window = window
        self.time_lag = time_lag
        self.permutations = permutations
        self.seed = seed
        self.fdr = fdr
        self.alpha = alpha

    def _check(self) -> None:
        problems = []
        if self.window not in ("cube", "step"):
            problems.append("window must be 'cube' or 'step'")
        if self.time_lag < 0:
            problems.append("time_lag must be >= 0")
        if self.time_lag and self.window != "cube":
            problems.append("time_lag > 0 needs window='cube'")
        if self.permutations < 0:
            problems.append("permutations must be >= 0")
        if not 0 < self.alpha < 1:
            problems.append("alpha must be in (0, 1)")
        if self.k < 0:
            problems.append("k must be >= 0")
        if problems:
            raise ValidationError(problems, context="GetisOrdGiStar")

    def fit(
        self,
        cube: _CubeLike,
        weights: sp.spmatrix | None = None,
        keep_rows: npt.ArrayLike | None = None,
    ) -> GetisOrdGiStar:
        """Compute z, p and significance for all cells and steps.

        Parameters
        ----------
        cube
            A :class:`analysis.cube.SpaceTimeCube` (anything with ``values`` (n, T),
            dense or sparse, and ``weights(k)``).
        weights
            Optional n x n binary weights to use instead of ``cube.weights(k)``; a zero
            diagonal is set to 1 (star).
        keep_rows
            Optional boolean (n,): cells that get a row of their own in the compact
            results even when their neighbourhood sums are all zero.
        """
        self._check()
        sparse_of = getattr(cube, "sparse", None)
        Y = sp.csr_matrix(sparse_of("values") if sparse_of else _as_2d(cube.values), dtype=float)
        Y.eliminate_zeros()
        n, T = Y.shape
        W = cube.weights(self.k) if weights is None else sp.csr_matrix(weights, dtype=float)
        if weights is not None and (W.diagonal() == 0).any():
            W = (W + sp.diags((W.diagonal() == 0).astype(float))).tocsr()
        S = sp.csr_matrix(W @ Y)
        S.eliminate_zeros()
        card = np.asarray(W.sum(axis=1)).ravel().astype(np.float64)

        # rows: cells with neighbourhood sums, then one per cardinality of the others
        own = np.diff(S.indptr) > 0
        if keep_rows is not None:
            own |= np.asarray(keep_rows, dtype=bool)
        if self.permutations:
            own[:] = True
        mine = np.flatnonzero(own)
        cls_card, cls_of = np.unique(card[~own], return_inverse=True)
        m = mine.shape[0]
        rows = np.empty(n, dtype=np.int64)
        rows[mine] = np.arange(m)
        rows[~own] = m + cls_of
        self.rows_ = rows
        self.row_weight_ = np.r_[np.ones(m, np.int64), np.bincount(cls_of, minlength=len(cls_card))]
        self._sums = (S, mine, cls_card.shape[0])
        Sc = self.compact_local_sum_
        card_c = np.r_[card[mine], cls_card][:, None]
        C: FloatArray = card_c
        if self.time_lag:
            n_in = np.minimum(np.arange(T) + 1, self.time_lag + 1).astype(np.float64)
            C = card_c * n_in[None, :]
        mean, std, N = _window_stats(Y, self.window)
        mean_b = mean if np.ndim(mean) == 0 else np.asarray(mean)[None, :]
        std_b = std if np.ndim(std) == 0 else np.asarray(std)[None, :]
        z = Sc.copy() if self.permutations else Sc  # in place: a city's rows are large
        with np.errstate(divide="ignore", invalid="ignore"):
            z -= C * mean_b
            z /= std_b * np.sqrt(C * (N - C) / (N - 1.0))
        z[~np.isfinite(z)] = 0.0

        self.compact_cardinality_ = np.broadcast_to(C, z.shape)
        self.mean_ = mean
        self.std_ = std
        self.n_window_ = int(N)
        self.compact_z_ = z
        self.p_sim_: FloatArray | None = None
        self._compact_q: FloatArray | None = None
        if self.permutations:
            self.p_sim_ = self._permute(Y.toarray(), Sc, np.broadcast_to(C, Sc.shape))
            q = fdr_bh(self.p_sim_, axis=0) if self.fdr else self.p_sim_
            self._compact_q = q
            self.compact_significant_ = q <= self.alpha
        else:
            self.compact_significant_ = _significant_rows(z, self.row_weight_, self.alpha, self.fdr)
        return self

    def _expand(self, compact: npt.NDArray[Any]) -> npt.NDArray[Any]:
        return np.asarray(compact)[self.rows_]

    @property
    def z_(self) -> FloatArray:
        """Gi* z-scores (n, T)."""
        return self._expand(self.compact_z_)

    @property
    def p_(self) -> FloatArray:
        """Two-sided normal p-values (n, T)."""
        return self._expand(two_sided_p(self.compact_z_))

    @property
    def compact_q_(self) -> FloatArray:
        """The p-values significance is judged on, per row (computed on first use)."""
        if self._compact_q is None:
            p = two_sided_p(self.compact_z_)
            self._compact_q = _fdr_rows(p, self.row_weight_) if self.fdr else p
        return self._compact_q

    def q_column(self, step: int) -> FloatArray:
        """``compact_q_[:, step]`` without computing the other steps."""
        if self._compact_q is not None:
            return self._compact_q[:, step]
        p = two_sided_p(self.compact_z_[:, step : step + 1 or None])
        return (_fdr_rows(p, self.row_weight_) if self.fdr else p)[:, 0]

    @property
    def q_(self) -> FloatArray:
        """The p-values significance is judged on (n, T)."""
        return self._expand(self.compact_q_)

    @property
    def significant_(self) -> npt.NDArray[np.bool_]:
        """``q_ <= alpha`` (n, T)."""
        return self._expand(self.compact_significant_)

    @property
    def compact_local_sum_(self) -> FloatArray:
        """Neighbourhood sums per row (recomputed from the sparse ``W @ Y`` on access)."""
        S, mine, n_classes = self._sums
        Sc = np.zeros((mine.shape[0] + n_classes, S.shape[1]))
        # written straight into the zero rows: no second dense copy of the city's rows
        S[mine].astype(np.float64, copy=False).toarray(out=Sc[: mine.shape[0]])
        if self.time_lag:
            cs = np.cumsum(Sc, axis=1)
            lagged = np.zeros_like(cs)
            L = self.time_lag + 1
            lagged[:, L:] = cs[:, :-L]
            Sc = cs - lagged
        return Sc

    @property
    def local_sum_(self) -> FloatArray:
        """Neighbourhood sums ``S`` (n, T)."""
        return self._expand(self.compact_local_sum_)

    @property
    def cardinality_(self) -> FloatArray:
        """Neighbourhood sizes ``c`` (n, T)."""
        return self._expand(self.compact_cardinality_)

    def _permute(self, Y: FloatArray, S: FloatArray, C: FloatArray) -> FloatArray:
        rng = np.random.default_rng(self.seed)
        n, T = Y.shape
        card = np.rint(C).astype(np.int64)
        if self.window == "step":
            out = np.empty((n, T))
            pos = np.arange(n, dtype=np.int64)
            for t in range(T):
                out[:, t] = _crand_p(Y[:, t], pos, S[:, t], card[:, t], self.permutations, rng)
            return out
        pool = Y.ravel()  # row-major: index i * T + t
        pos = np.arange(n * T, dtype=np.int64)
        flat = _crand_p(pool, pos, S.ravel(), card.ravel(), self.permutations, rng)
        return flat.reshape(n, T)

    @property
    def hot_(self) -> npt.NDArray[np.bool_]:
        """Significant with ``z > 0``."""
        return self.significant_ & (self.z_ > 0)

    @property
    def cold_(self) -> npt.NDArray[np.bool_]:
        """Significant with ``z < 0``."""
        return self.significant_ & (self.z_ < 0)


__all__ = ["GI_PARAMS", "GetisOrdGiStar", "fdr_bh", "two_sided_p"]
