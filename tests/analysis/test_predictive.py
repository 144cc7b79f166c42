"""Count intervals: the same as scipy.stats' quantiles and probabilities give."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import nbinom, poisson

from analysis._predictive import negbin_interval, negbin_intervals


def _by_scipy_stats(mu: np.ndarray, dispersion: float, level: float) -> tuple[np.ndarray, ...]:
    """The interval rule of :func:`negbin_interval` written with scipy.stats' frozen
    distributions, one level at a time (the reference)."""
    mu = np.maximum(mu, 1e-12)
    tail = (1.0 - level) / 2.0
    if dispersion <= 1e-9:
        dist = poisson(mu)
    else:
        size = 1.0 / dispersion
        dist = nbinom(size, size / (size + mu))
    lo0, hi0 = dist.ppf(tail), dist.ppf(1 - tail)
    best = (lo0, hi0, np.abs(dist.cdf(hi0) - dist.cdf(lo0 - 1) - level))
    for lo, hi in ((lo0 + 1, hi0), (lo0, hi0 - 1)):
        gap = np.where(lo <= hi, np.abs(dist.cdf(hi) - dist.cdf(lo - 1) - level), np.inf)
        better = gap < best[2] - 1e-12
        best = tuple(
            np.where(better, new, old) for new, old in zip((lo, hi, gap), best, strict=True)
        )
    zero = dist.cdf(0)
    sure_zero = zero >= 1.0 - tail + 1e-9
    return np.where(sure_zero, 0.0, best[0]), np.where(sure_zero, 0.0, best[1])


@pytest.mark.parametrize("dispersion", [0.0, 0.05, 0.7, 3.0])
def test_intervals_equal_those_of_scipy_stats_at_every_level(dispersion: float) -> None:
    rng = np.random.default_rng(int(dispersion * 100))
    # small and large means: a walk up the cdf and, beyond it, the quantile function
    mu = np.concatenate([np.exp(rng.uniform(np.log(1e-3), np.log(400.0), 3000)), [0.0, 1.0]])
    levels = [0.05, 0.5, 0.675, 0.8, 0.8, 0.95, 0.99]
    many = negbin_intervals(mu, dispersion, levels)
    for level, (lo, hi) in zip(levels, many, strict=True):
        ref_lo, ref_hi = _by_scipy_stats(mu, dispersion, level)
        np.testing.assert_array_equal(lo, ref_lo)
        np.testing.assert_array_equal(hi, ref_hi)
        one_lo, one_hi = negbin_interval(mu, dispersion, level)
        np.testing.assert_array_equal(one_lo, lo)
        np.testing.assert_array_equal(one_hi, hi)
    assert np.all(many[-1][1] >= many[0][1])  # a higher level, a wider interval


def test_no_mean_far_from_zero_gives_only_zero_intervals() -> None:
    lo, hi = negbin_intervals(np.full(5, 1e-6), 0.3, [0.5, 0.8])[1]
    assert not lo.any() and not hi.any()
    assert negbin_intervals(np.zeros(0), 0.0, [0.8, 0.9])[0][0].shape == (0,)
