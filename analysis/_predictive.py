"""Predictive figures of a count forecast: intervals, deviance and the hit rate in words."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]


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
    from scipy.stats import nbinom, poisson

    mu = np.maximum(np.asarray(mean, dtype=np.float64), 1e-12)
    tail = (1.0 - float(level)) / 2.0
    if dispersion <= 1e-9:
        dist = poisson(mu)
    else:
        size = 1.0 / float(dispersion)
        dist = nbinom(size, size / (size + mu))
    lo0, hi0 = dist.ppf(tail), dist.ppf(1 - tail)
    best_lo, best_hi = lo0, hi0
    best_gap = np.abs(dist.cdf(hi0) - dist.cdf(lo0 - 1) - level)
    for lo, hi in ((lo0 + 1, hi0), (lo0, hi0 - 1)):
        ok = lo <= hi
        gap = np.where(ok, np.abs(dist.cdf(hi) - dist.cdf(lo - 1) - level), np.inf)
        better = gap < best_gap - 1e-12
        best_lo = np.where(better, lo, best_lo)
        best_hi = np.where(better, hi, best_hi)
        best_gap = np.where(better, gap, best_gap)
    return np.asarray(best_lo, dtype=np.float64), np.asarray(best_hi, dtype=np.float64)


def sum_interval(
    means: npt.ArrayLike, dispersion: float, level: float = 0.8
) -> tuple[float, float]:
    """``level`` interval of the total count of several cells with the given means.

    Each cell's count has ``var = mu + dispersion * mu**2``; cells are taken as
    independent and the total as negative binomial with the same mean and variance.
    """
    mu = np.asarray(means, dtype=np.float64)
    total = float(mu.sum())
    if total <= 0:
        return 0.0, 0.0
    phi = float(dispersion) * float(np.sum(mu**2)) / total**2
    lo, hi = negbin_interval(np.array([total]), phi, level)
    return float(lo[0]), float(hi[0])


def hit_text_sv(share: float | None, coverage: float, steps: int) -> str:
    """Plain Swedish: how much of what happened the forecast had pointed out."""
    if share is None or steps == 0:
        return "Prognosen har ännu för lite historik för att visa hur ofta den träffar."
    return (
        f"De senaste {steps} veckorna hände {round(100 * share)} % av händelserna på de "
        f"{coverage:.0%} av platserna som prognosen pekade ut som mest utsatta."
    )


def poisson_deviance(y: FloatArray, mu: FloatArray) -> float:
    """Summed Poisson deviance of counts ``y`` under means ``mu``."""
    mu = np.maximum(mu, 1e-9)
    safe = np.where(y > 0, y, 1.0)
    return float(2.0 * np.sum(np.where(y > 0, y * np.log(safe / mu), 0.0) - (y - mu)))


__all__ = ["hit_text_sv", "negbin_interval", "poisson_deviance", "sum_interval"]
