"""Predictive figures of a count forecast: intervals, deviance and the hit rate in words."""

from __future__ import annotations

import math
from collections.abc import Sequence

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
    mu = np.maximum(np.asarray(mean, dtype=np.float64), 1e-12)
    tail = (1.0 - float(level)) / 2.0
    # a count that is 0 with probability clearly above 1 - tail has the interval 0..0
    # (both quantiles are 0 and no shorter interval exists): most cells of a city
    if dispersion <= 1e-9:
        zero = np.exp(-mu)
    else:
        size = 1.0 / float(dispersion)
        zero = np.exp(size * np.log(size / (size + mu)))
    rest = zero < 1.0 - tail + 1e-9
    if rest.all():
        return _central_interval(mu, dispersion, level)
    lo, hi = np.zeros_like(mu), np.zeros_like(mu)
    if rest.any():
        lo[rest], hi[rest] = _central_interval(mu[rest], dispersion, level)
    return lo, hi


def _central_interval(
    mu: FloatArray, dispersion: float, level: float
) -> tuple[FloatArray, FloatArray]:
    """:func:`negbin_interval` by the quantiles (``mu`` at least 1e-12)."""
    from scipy.stats import nbinom, poisson

    tail = (1.0 - float(level)) / 2.0
    if dispersion <= 1e-9:
        dist = poisson(mu)
    else:
        size = 1.0 / float(dispersion)
        dist = nbinom(size, size / (size + mu))
    lo0, hi0 = dist.ppf(tail), dist.ppf(1 - tail)
    best_lo, best_hi = lo0, hi0
    below_lo, upto_hi = dist.cdf(lo0 - 1), dist.cdf(hi0)  # each cdf evaluated once
    best_gap = np.abs(upto_hi - below_lo - level)
    for lo, hi, upto, below in (
        (lo0 + 1, hi0, upto_hi, dist.cdf(lo0)),
        (lo0, hi0 - 1, dist.cdf(hi0 - 1), below_lo),
    ):
        ok = lo <= hi
        gap = np.where(ok, np.abs(upto - below - level), np.inf)
        better = gap < best_gap - 1e-12
        best_lo = np.where(better, lo, best_lo)
        best_hi = np.where(better, hi, best_hi)
        best_gap = np.where(better, gap, best_gap)
    return np.asarray(best_lo, dtype=np.float64), np.asarray(best_hi, dtype=np.float64)


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
    min_expected: float = 0.5,
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
    for step in LEVEL_STEPS:
        nominal = min(max(float(level) + step, 0.05), 0.99)
        lo, hi = negbin_interval(mu, dispersion, nominal)
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


__all__ = [
    "calibrated_level",
    "common_dispersion",
    "hit_text_sv",
    "negbin_interval",
    "poisson_deviance",
    "sum_interval",
]
