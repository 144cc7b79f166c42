"""Empirical-Bayes risk of :class:`analysis.forecast.RiskForecast` and its inner backtest.

:func:`eb_risk` is the posterior mean rate per cell for one half-life on the steps before
an origin. :func:`inner_step` scores one (origin, half-life) pair of the inner
rolling-origin backtest. Windows of an :class:`~analysis._forecast_data.EventSeries` share
one cache and know where they start, so the scores of a pair are computed once for all
the windows that start at the same step (the forecast choice fits eleven nested windows
whose inner backtests overlap in all but one origin). The risk arrays themselves are
kept for the most recent pairs only (those of the chosen half-life give the interval's
dispersion).
"""

from __future__ import annotations

import math
from collections import OrderedDict
from typing import Any

import numpy as np
import numpy.typing as npt

from analysis._forecast_data import EventSeries
from analysis._predictive import poisson_deviance_sparse
from analysis._ranking import caught_many, n_star

FloatArray = npt.NDArray[np.float64]

#: Bytes of risk arrays of inner (origin, half-life) pairs kept per series family.
RISK_CACHE_BYTES = 64 * 2**20


def ages_weeks(n_steps: int, step_weeks: float) -> FloatArray:
    """Age of each of ``n_steps`` steps in weeks (0 for the latest step)."""
    ages = (n_steps - 1 - np.arange(n_steps)) * step_weeks
    return np.asarray(ages, dtype=np.float64)


def ring_size(k: int) -> int:
    """Cells of a k-ring (the cell included)."""
    return 1 + 3 * k * (k + 1)


def estimate_kappa(e: FloatArray, exposure: float, m: FloatArray) -> float:
    """Method-of-moments shape of the Gamma prior (large = pool fully with the prior).

    Under ``y_i ~ Poisson(E * r_i)``, ``r_i ~ Gamma(mean m_i, shape kappa)``:
    ``E[(y_i/E - m_i)^2] = m_i / E + m_i^2 / kappa``.
    """
    ok = m > 0
    if not ok.any():
        return 1.0
    if not ok.all():  # (all cells usually: no copies then)
        e, m = e[ok], m[ok]
    n = m.shape[0]
    d = e / exposure
    d -= m
    # sums of squares as dot products: no squared copies of the city's cells
    excess = float(d @ d) / n - float(m.sum()) / (n * exposure)
    second = float(m @ m) / n
    if excess <= 0 or second <= 0:
        return 1e6  # no variation beyond Poisson noise: the neighbourhood says it all
    return float(np.clip(second / excess, 1e-3, 1e6))


def eb_risk(
    series: EventSeries, stop: int, half_life: float, W: Any, ring: int, shrinkage: Any
) -> tuple[FloatArray, FloatArray, float, FloatArray, float]:
    """Posterior mean rate per cell on the steps before ``stop``.

    Returns ``(risk, e, exposure, prior m, kappa)``.
    """
    ages = ages_weeks(stop, series.step_weeks)
    w = 0.5 ** (ages / float(half_life)) if math.isfinite(half_life) else np.ones(stop)
    e = series.recency_sums(stop, w)
    exposure = float(w.sum())
    n = series.n_cells
    if ring > 0:
        m = np.asarray(W @ e).ravel() / (ring_size(ring) * exposure)
    else:
        m = np.full(n, e.sum() / (n * exposure))
    kappa = estimate_kappa(e, exposure, m) if shrinkage == "auto" else float(shrinkage)
    # (e + kappa) * m / (exposure * m + kappa) where m > 0, else 0, in two buffers
    risk = e + kappa
    risk *= m
    denom = m * exposure
    denom += kappa
    with np.errstate(divide="ignore", invalid="ignore"):
        risk /= denom
    risk[~(m > 0)] = 0.0
    return risk, e, exposure, m, kappa


def inner_step(
    series: EventSeries,
    s: int,
    half_life: float,
    W: Any,
    ring: int,
    shrinkage: Any,
    sizes: tuple[int, ...],
) -> tuple[tuple[float, ...], float]:
    """Score the risk of ``half_life`` on the steps before ``s`` against step ``s``.

    Returns the events caught by flagging each of ``sizes`` riskiest cells (the
    :func:`~analysis._ranking.flag_weights` of each size times the counts of step ``s``)
    and the Poisson deviance of step ``s`` under the risk; :func:`inner_risk` gives the
    risk itself. Cached in the series' cache by the step and the parameters.
    """
    key = ("eb-inner", series.offset, s, half_life, ring, shrinkage, sizes)
    found = series.cache.get(key)
    if found is None:
        r = inner_risk(series, s, half_life, W, ring, shrinkage)
        rows, y = series.step_nonzero(s)
        caught = tuple(caught_many(r, sizes, rows, y))
        found = series.cache[key] = (caught, poisson_deviance_sparse(rows, y, r))
    return found


def best_possible(series: EventSeries, s: int, sizes: tuple[int, ...]) -> tuple[float, ...]:
    """:func:`~analysis._ranking.n_star` of step ``s`` for each of ``sizes`` (cached)."""
    key = ("n-star", series.offset + s, sizes)
    found = series.cache.get(key)
    if found is None:
        y = series.step_nonzero(s)[1]  # the cells with events: the zeros add nothing
        found = series.cache[key] = tuple(n_star(y, size) for size in sizes)
    return found


def inner_risk(
    series: EventSeries, s: int, half_life: float, W: Any, ring: int, shrinkage: Any
) -> FloatArray:
    """:func:`eb_risk` on the steps before ``s`` (the latest :data:`RISK_CACHE_BYTES` kept)."""
    lru: OrderedDict[Any, FloatArray] = series.cache.setdefault("eb-risk", OrderedDict())
    key = (series.offset, s, half_life, ring, shrinkage)
    r = lru.get(key)
    if r is None:
        r = eb_risk(series, s, half_life, W, ring, shrinkage)[0]
        lru[key] = r
        while len(lru) > 1 and len(lru) * r.nbytes > RISK_CACHE_BYTES:
            lru.popitem(last=False)
    else:
        lru.move_to_end(key)
    return r


__all__ = [
    "RISK_CACHE_BYTES",
    "ages_weeks",
    "best_possible",
    "eb_risk",
    "estimate_kappa",
    "inner_risk",
    "inner_step",
    "ring_size",
]
