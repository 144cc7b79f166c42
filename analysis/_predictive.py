"""Predictive figures of a count forecast: intervals, deviance and the hit rate in words."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]

#: Least expected count of the cell-steps :func:`calibrated_level` looks at.
CALIBRATION_MIN_EXPECTED = 0.5


def negbin_interval(
    mean: npt.ArrayLike, dispersion: float, level: float = 0.8
) -> tuple[FloatArray, FloatArray]:
    """Interval of a count with the given mean whose probability is closest to ``level``.

    The count is negative binomial with ``var = mean + dispersion * mean**2`` (Poisson at
    0). Counts are whole numbers, so the central interval (the ``(1 - level) / 2`` and
    ``(1 + level) / 2`` quantiles) usually holds clearly more than ``level`` (for a mean of
    1 it holds 92 % at level 0.8); of it and the intervals one shorter at either end, the
    one whose probability is closest to ``level`` is returned, so that the intervals hold
    about ``level`` of the counts on average.
    """
    return negbin_intervals(mean, dispersion, (level,))[0]


def negbin_intervals(
    mean: npt.ArrayLike, dispersion: float, levels: Sequence[float]
) -> list[tuple[FloatArray, FloatArray]]:
    """:func:`negbin_interval` at each of ``levels``, each probability evaluated once."""
    mu = np.maximum(np.asarray(mean, dtype=np.float64), 1e-12)
    # a count that is 0 with probability clearly above 1 - tail has the interval 0..0
    # (both quantiles are 0 and no shorter interval exists): most cells of a city
    if dispersion <= 1e-9:
        zero = np.exp(-mu)
    else:
        size = 1.0 / float(dispersion)
        zero = np.exp(size * np.log(size / (size + mu)))
    rests = [zero < 1.0 - (1.0 - float(level)) / 2.0 + 1e-9 for level in levels]
    some = np.logical_or.reduce(rests) if rests else np.zeros(mu.shape, dtype=bool)
    if not some.any():
        return [(np.zeros_like(mu), np.zeros_like(mu)) for _ in levels]
    every = bool(some.all())
    central = _central_intervals(mu if every else mu[some], dispersion, levels)
    out = []
    for rest, (c_lo, c_hi) in zip(rests, central, strict=True):
        if rest.all():
            out.append((c_lo, c_hi))
            continue
        lo, hi = np.zeros_like(mu), np.zeros_like(mu)
        keep = rest[some]
        lo[some], hi[some] = np.where(keep, c_lo, 0.0), np.where(keep, c_hi, 0.0)
        out.append((lo, hi))
    return out


def _central_intervals(
    mu: FloatArray, dispersion: float, levels: Sequence[float]
) -> list[tuple[FloatArray, FloatArray]]:
    """:func:`negbin_intervals` by the quantiles (``mu`` at least 1e-12)."""
    dist = _CountDistribution(mu, dispersion)
    tails = [(1.0 - float(level)) / 2.0 for level in levels]
    qs = [q for tail in tails for q in (tail, 1 - tail)]
    found = dist.ppf_many(qs) if len(qs) > 2 else [dist.ppf(q) for q in qs]
    ends = list(zip(found[::2], found[1::2], strict=True))
    asked = np.stack([k for lo0, hi0 in ends for k in (lo0 - 1, lo0, hi0 - 1, hi0)])
    cdf = dist.cdf_once(asked)
    out = []
    for i, (level, (lo0, hi0)) in enumerate(zip(levels, ends, strict=True)):
        below_lo, upto_lo, upto_below_hi, upto_hi = cdf[4 * i : 4 * i + 4]
        best_lo, best_hi = lo0, hi0
        best_gap = np.abs(upto_hi - below_lo - level)
        for lo, hi, upto, below in (
            (lo0 + 1, hi0, upto_hi, upto_lo),
            (lo0, hi0 - 1, upto_below_hi, below_lo),
        ):
            ok = lo <= hi
            gap = np.where(ok, np.abs(upto - below - level), np.inf)
            better = gap < best_gap - 1e-12
            best_lo = np.where(better, lo, best_lo)
            best_hi = np.where(better, hi, best_hi)
            best_gap = np.where(better, gap, best_gap)
        out.append((np.asarray(best_lo, dtype=np.float64), np.asarray(best_hi, dtype=np.float64)))
    return out


class _CountDistribution:
    """``cdf`` and ``ppf`` of scipy.stats' ``nbinom(1 / dispersion, ...)`` (``poisson(mu)``
    at dispersion 0) for means ``mu`` (at least 1e-12) and probabilities in (0, 1).

    The same special functions scipy.stats evaluates, without its per-call argument
    handling and without importing scipy.stats: the calibration asks for thousands of
    small intervals.
    """

    def __init__(self, mu: FloatArray, dispersion: float) -> None:
        self.mu = mu
        self.size = 1.0 / float(dispersion) if dispersion > 1e-9 else None
        self.p = None if self.size is None else self.size / (self.size + mu)

    def cdf(self, k: FloatArray, rows: npt.NDArray[np.intp] | None = None) -> FloatArray:
        """P(count <= k) of each mean (of ``mu[rows]`` when given); 0 below 0."""
        import scipy.special as sc
        from scipy.special import _ufuncs

        kk = np.maximum(np.floor(k), 0.0)
        if self.size is None:
            value = sc.pdtr(kk, self.mu if rows is None else self.mu[rows])
        else:
            p = self.p if rows is None else self.p[rows]  # type: ignore[index]
            value = _ufuncs._nbinom_cdf(kk, self.size, p)
        return np.where(np.floor(k) >= 0, np.clip(value, 0.0, 1.0), 0.0)

    def cdf_once(self, k: FloatArray) -> FloatArray:
        """:meth:`cdf` of the rows ``k[j]`` (each of the means' length), every distinct
        (mean, count) evaluated once: nearby levels ask for the same counts."""
        n = self.mu.shape[0]
        if k.shape[0] <= 4 or n == 0 or float(k.max()) * n > 2.0**50:
            return self.cdf(k)
        key = (k + 1.0) * n + np.arange(n, dtype=np.float64)  # exact: whole numbers
        distinct, where = np.unique(key, return_inverse=True)
        rows = np.mod(distinct, n).astype(np.intp)
        counts = np.floor_divide(distinct, n) - 1.0
        return self.cdf(counts, rows)[where].reshape(k.shape)

    def ppf_many(self, qs: Sequence[float], most: int = 256) -> list[FloatArray]:
        """:meth:`ppf` at each of ``qs`` from one walk up the cdf of each mean.

        The smallest count whose cdf is at least ``q`` is read off the cdf at 0, 1, 2, ...
        (up to ``most``); where a cdf lies within 1e-12 of ``q`` (rounding could decide)
        or the count is beyond ``most``, :meth:`ppf` itself answers.
        """
        n = self.mu.shape[0]
        top = max(qs)
        table = np.ones((n, most + 1))
        active = np.arange(n)
        for k in range(most + 1):
            if active.size == 0:
                break
            value = self.cdf(np.full(active.size, float(k)), active)
            table[active, k] = value
            active = active[value < top]
        out = []
        for q in qs:
            k = np.argmax(table >= q, axis=1)
            at = table[np.arange(n), k]
            before = np.where(k > 0, table[np.arange(n), np.maximum(k - 1, 0)], -1.0)
            unsure = (at - q < 1e-12) | (q - before < 1e-12)
            unsure[active] = True  # beyond ``most``
            found = k.astype(np.float64)
            if unsure.any():
                found[unsure] = self.ppf(q, np.flatnonzero(unsure))
            out.append(found)
        return out

    def ppf(self, q: float, rows: npt.NDArray[np.intp] | None = None) -> FloatArray:
        """The smallest count whose cdf is at least ``q`` (of ``mu[rows]`` when given)."""
        import scipy.special as sc
        from scipy.special import _ufuncs

        if self.size is not None:
            p = self.p if rows is None else self.p[rows]  # type: ignore[index]
            with np.errstate(over="ignore"):
                return np.asarray(_ufuncs._nbinom_ppf(q, self.size, p), dtype=np.float64)
        mu = self.mu if rows is None else self.mu[rows]
        vals = np.ceil(sc.pdtrik(q, mu))
        below = np.maximum(vals - 1, 0)
        return np.where(sc.pdtr(below, mu) >= q, below, vals)


#: Nominal levels tried around the wanted one when calibrating on past forecasts.
LEVEL_STEPS: tuple[float, ...] = (0.0,) + tuple(
    s * d for d in (0.025, 0.05, 0.075, 0.1, 0.125, 0.15) for s in (-1, 1)
)

#: Past cell-steps needed before intervals are calibrated on them.
MIN_CALIBRATION_CELLS = 30

#: Past steps needed to estimate the shock all cells share (:func:`common_dispersion`).
MIN_COMMON_STEPS = 4

#: At most this many past cell-steps (evenly spaced) are used to calibrate.
MAX_CALIBRATION_CELLS = 2000


def calibrated_level(
    mean: npt.ArrayLike,
    actual: npt.ArrayLike,
    dispersion: float,
    level: float = 0.8,
    min_expected: float = CALIBRATION_MIN_EXPECTED,
) -> float:
    """The nominal level whose intervals held closest to ``level`` of past counts.

    ``mean`` and ``actual`` are past forecasts and what then happened (e.g. an inner
    backtest); only cell-steps expecting at least ``min_expected`` count, as in the
    interval check of the backtest. Counts are whole numbers and the dispersion is an
    estimate, so intervals at the nominal level may hold clearly more or less than it;
    the nominal levels ``level + LEVEL_STEPS`` are tried (nearest first) and the one whose
    past coverage is closest to ``level`` wins. With fewer than
    :data:`MIN_CALIBRATION_CELLS` past cell-steps ``level`` is returned unchanged; of more
    than :data:`MAX_CALIBRATION_CELLS` an evenly spaced sample is used.
    """
    mu = np.asarray(mean, dtype=np.float64)
    y = np.asarray(actual, dtype=np.float64)
    sel = mu >= min_expected
    if int(sel.sum()) < MIN_CALIBRATION_CELLS:
        return float(level)
    mu, y = mu[sel], y[sel]
    if mu.size > MAX_CALIBRATION_CELLS:  # an even, deterministic sample bounds the cost
        pick = np.linspace(0, mu.size - 1, MAX_CALIBRATION_CELLS).astype(np.int64)
        mu, y = mu[pick], y[pick]
    best, gap = float(level), math.inf
    nominals = [min(max(float(level) + step, 0.05), 0.99) for step in LEVEL_STEPS]
    intervals = negbin_intervals(mu, dispersion, nominals)
    for nominal, (lo, hi) in zip(nominals, intervals, strict=True):
        g = abs(float(np.mean((y >= lo) & (y <= hi))) - float(level))
        if g < gap - 1e-9:
            best, gap = nominal, g
    return best


def sum_interval(
    means: npt.ArrayLike, dispersion: float, level: float = 0.8, common: float = 0.0
) -> tuple[float, float]:
    """``level`` interval of the total count of several cells with the given means.

    Each cell's count has ``var = mu + dispersion * mu**2``; beyond that the cells share a
    common multiplicative shock of relative variance ``common`` (a busy or quiet week
    everywhere, see :func:`common_dispersion`), so the total ``M`` has
    ``var = M + dispersion * sum(mu**2) + common * M**2`` and is taken as negative
    binomial with that mean and variance.
    """
    mu = np.asarray(means, dtype=np.float64)
    total = float(mu.sum())
    if total <= 0:
        return 0.0, 0.0
    phi = float(dispersion) * float(np.sum(mu**2)) / total**2 + max(float(common), 0.0)
    lo, hi = negbin_interval(np.array([total]), phi, level)
    return float(lo[0]), float(hi[0])


def common_dispersion(past: Sequence[tuple[FloatArray, FloatArray]], dispersion: float) -> float:
    """Relative variance of a shock shared by all cells, from past forecasts' totals.

    ``past`` holds ``(forecast means, actual counts)`` per step. With ``M``, ``Y`` and
    ``Q = sum(mu**2)`` of each step, the method of moments gives
    ``sum((Y - M)**2 - M - dispersion * Q) / sum(M**2)`` (at least 0; 0 with fewer than
    :data:`MIN_COMMON_STEPS` steps).
    """
    if len(past) < MIN_COMMON_STEPS:
        return 0.0
    M = np.array([float(np.sum(r)) for r, _ in past])
    Y = np.array([float(np.sum(y)) for _, y in past])
    Q = np.array([float(np.sum(np.asarray(r) ** 2)) for r, _ in past])
    denom = float(np.sum(M**2))
    if denom <= 0:
        return 0.0
    return max(0.0, float(np.sum((Y - M) ** 2 - M - float(dispersion) * Q)) / denom)


def hit_text_sv(share: float | None, coverage: float, steps: int) -> str:
    """Plain Swedish: how much of what happened the forecast had pointed out."""
    if share is None or steps == 0:
        return "Prognosen har ännu för lite historik för att visa hur ofta den träffar."
    return (
        f"De senaste {steps} veckorna hände {round(100 * share)} % av händelserna på de "
        f"{round(100 * coverage)} % av platserna som prognosen pekade ut som mest utsatta."
    )


def poisson_deviance(y: FloatArray, mu: FloatArray) -> float:
    """Summed Poisson deviance of counts ``y`` under means ``mu``."""
    mu = np.maximum(mu, 1e-9)
    safe = np.where(y > 0, y, 1.0)
    return float(2.0 * np.sum(np.where(y > 0, y * np.log(safe / mu), 0.0) - (y - mu)))


def poisson_deviance_sparse(rows: npt.ArrayLike, counts: npt.ArrayLike, mu: FloatArray) -> float:
    """:func:`poisson_deviance` of the counts that are ``counts`` at ``rows``, 0 elsewhere."""
    mu = np.maximum(mu, 1e-9)
    y = np.asarray(counts, dtype=np.float64)
    at = mu[np.asarray(rows, dtype=np.int64)]
    pos = y > 0
    logs = float(np.sum(y[pos] * np.log(y[pos] / at[pos])))
    return float(2.0 * (logs - float(y.sum()) + float(mu.sum())))


__all__ = [
    "CALIBRATION_MIN_EXPECTED",
    "calibrated_level",
    "common_dispersion",
    "hit_text_sv",
    "negbin_interval",
    "negbin_intervals",
    "poisson_deviance",
    "poisson_deviance_sparse",
    "sum_interval",
]
