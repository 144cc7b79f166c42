"""Vectorized Mann-Kendall trend test for many series at once.

Matches ``pymannkendall.original_test`` (Mann 1945, Kendall 1975, Gilbert 1987): score
``S = sum_{i<j} sign(x_j - x_i)``, tie-corrected variance
``Var(S) = (n(n-1)(2n+5) - sum_g t_g(t_g-1)(2t_g+5)) / 18`` (exact float equality
defines a tie, as ``np.unique`` does), continuity-corrected ``z = (S - sign(S)) /
sqrt(Var(S))`` (0 when ``S == 0``), two-sided ``p = 2 (1 - Phi(|z|))`` and Kendall's
``tau = S / (n(n-1)/2)``. A trend is significant when ``|z| > Phi^-1(1 - alpha/2)``.
Series must not contain NaN.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import numpy.typing as npt
from scipy.special import ndtr, ndtri

FloatArray = npt.NDArray[np.float64]


class MannKendallResult(NamedTuple):
    """Per-series results (all arrays of length ``m``)."""

    s: FloatArray
    var_s: FloatArray
    z: FloatArray
    p: FloatArray
    tau: FloatArray
    trend: npt.NDArray[np.int8]  # +1 increasing, -1 decreasing, 0 none (at alpha)


def mann_kendall(x: npt.ArrayLike, alpha: float = 0.05) -> MannKendallResult:
    """Mann-Kendall test of each row of ``x`` (shape ``(m, n)``, time along axis 1)."""
    arr = np.asarray(x, dtype=np.float64)
    if arr.ndim == 1:
        arr = arr[None, :]
    m, n = arr.shape
    # S counts, for each step j, the earlier steps below minus those above (time-major,
    # so each comparison runs over contiguous rows; integer counts are exact)
    at = np.ascontiguousarray(arr.T)
    s_int = np.zeros(m, dtype=np.int32)
    for j in range(1, n):
        xj, before = at[j], at[:j]
        s_int += np.sum(xj > before, axis=0, dtype=np.int32)
        s_int -= np.sum(xj < before, axis=0, dtype=np.int32)
    s = s_int.astype(np.float64)
    # ties: sizes of runs of equal values in each sorted row
    if m and n:
        srt = np.sort(arr, axis=1)
        new_run = np.ones((m, n), dtype=bool)
        new_run[:, 1:] = srt[:, 1:] != srt[:, :-1]
        run_id = np.cumsum(new_run, axis=1) - 1  # 0.. within row
        flat = (np.arange(m)[:, None] * n + run_id).ravel()
        sizes = np.bincount(flat, minlength=m * n).astype(np.float64)
        tie_term = (sizes * (sizes - 1) * (2 * sizes + 5)).reshape(m, n).sum(axis=1)
    else:
        tie_term = np.zeros(m)
    var_s = (n * (n - 1) * (2 * n + 5) - tie_term) / 18.0
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where(
            s > 0, (s - 1) / np.sqrt(var_s), np.where(s < 0, (s + 1) / np.sqrt(var_s), 0.0)
        )
    z = np.where(np.isfinite(z), z, 0.0)
    p = 2.0 * (1.0 - ndtr(np.abs(z)))
    tau = s / (0.5 * n * (n - 1)) if n > 1 else np.zeros(m)
    crit = float(ndtri(1.0 - alpha / 2.0))
    h = np.abs(z) > crit
    trend = np.where(h, np.sign(z), 0).astype(np.int8)
    return MannKendallResult(s=s, var_s=var_s, z=z, p=p, tau=tau, trend=trend)


__all__ = ["MannKendallResult", "mann_kendall"]
