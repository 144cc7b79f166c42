"""Grid self-exciting point process (SEPP) forecast, after Mohler et al. (2015).

Each cell ``n`` has the conditional intensity (events per day)::

    lambda_n(t) = mu_n + sum_{t_i < t, i in n} theta * omega * exp(-omega * (t - t_i))

a constant background rate ``mu_n`` plus exponentially decaying self-excitation: each
event triggers on average ``theta`` further events in its cell, ``1 / omega`` days later
on average. The parameters are fitted by expectation-maximisation on the exact event
times (Mohler et al. 2015, "Randomized controlled field trials of predictive policing",
JASA 110(512)), with the branching structure as the latent variable:

* E-step: event ``j`` is background with probability ``mu_n / lambda_n(t_j)`` and the
  offspring of an earlier event ``i`` of its cell with probability
  ``theta omega exp(-omega (t_j - t_i)) / lambda_n(t_j)``;
* M-step: ``mu_n`` = expected background events of the cell / window length,
  ``theta`` = expected offspring / expected offspring an event can have inside the window
  (edge-corrected), ``omega`` = expected offspring / their summed lags.

The forecast for the next step ``[T, T + D)`` is the expected count
``mu_n D + sum_i theta (exp(-omega (T - t_i)) - exp(-omega (T + D - t_i)))``.

``ring=1`` is the smoothed variant: the background of a cell is the mean background of its
k=1 disk (the cell and its six neighbours), which pools sparse cells with their
surroundings.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

from analysis._forecast_data import EventSeries
from analysis.forecast import _Forecast
from geo.errors import ValidationError

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


def _pairs(cell: IntArray, t: FloatArray, max_pairs: int) -> tuple[IntArray, IntArray]:
    """Index pairs ``(i, j)``, ``t_i < t_j``, of events in the same cell (time-sorted input).

    When more than ``max_pairs`` pairs exist, only the shortest lags (per rank distance)
    are kept; long lags contribute nothing to a short-memory kernel.
    """
    n = t.size
    out_i: list[IntArray] = []
    out_j: list[IntArray] = []
    total = 0
    j = np.arange(n, dtype=np.int64)
    for lag in range(1, n):
        i = j[:-lag]
        jj = j[lag:]
        same = (cell[i] == cell[jj]) & (t[i] < t[jj])
        if not same.any():
            # events are sorted by cell then time: once no pair at this rank distance is in
            # the same cell, none at a larger distance is either
            if not (cell[i] == cell[jj]).any():
                break
            continue
        out_i.append(i[same])
        out_j.append(jj[same])
        total += int(same.sum())
        if total >= max_pairs:
            break
    if not out_i:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    return np.concatenate(out_i), np.concatenate(out_j)


def fit_sepp_em(
    cell: npt.ArrayLike,
    t: npt.ArrayLike,
    n_cells: int,
    window_days: float,
    *,
    smooth: Any = None,
    theta0: float = 0.5,
    omega0: float = 1.0,
    max_iter: int = 200,
    tol: float = 1e-6,
    max_pairs: int = 20_000_000,
) -> dict[str, Any]:
    """EM fit of the grid SEPP on events ``(cell, t)`` in ``[0, window_days)``.

    Parameters
    ----------
    cell
        Row (0 .. n_cells - 1) of each event.
    t
        Event times in days since the window start.
    smooth
        Optional (n_cells x n_cells) row-normalised matrix applied to the background rates
        after each M-step (the ring-1 variant).

    Returns
    -------
    dict
        ``mu`` (per cell and day), ``theta``, ``omega`` (per day), ``background_share``
        (expected share of events that are background) and ``iterations``.
    """
    c = np.asarray(cell, dtype=np.int64)
    tt = np.asarray(t, dtype=np.float64)
    order = np.lexsort((tt, c))
    c, tt = c[order], tt[order]
    T = float(window_days)
    n = tt.size
    mu = np.bincount(c, minlength=n_cells).astype(np.float64) / T * 0.5
    if smooth is not None:
        mu = np.asarray(smooth @ mu).ravel()
    theta, omega = float(theta0), float(omega0)
    if n == 0:
        return {"mu": mu, "theta": 0.0, "omega": omega, "background_share": 1.0, "iterations": 0}
    pi, pj = _pairs(c, tt, max_pairs)
    lag = tt[pj] - tt[pi]
    remaining = T - tt
    iterations = 0
    for _ in range(int(max_iter)):
        iterations += 1
        g = theta * omega * np.exp(-omega * lag)
        lam = mu[c] + np.bincount(pj, weights=g, minlength=n)
        p_bg = mu[c] / lam
        p_off = g / lam[pj]
        offspring = float(p_off.sum())
        mu_new = np.bincount(c, weights=p_bg, minlength=n_cells) / T
        if smooth is not None:
            mu_new = np.asarray(smooth @ mu_new).ravel()
        room = float(np.sum(1.0 - np.exp(-omega * remaining)))
        theta_new = min(offspring / max(room, 1e-12), 0.999)
        lag_sum = float(np.sum(p_off * lag))
        omega_new = offspring / lag_sum if lag_sum > 0 and offspring > 1e-9 else omega
        omega_new = float(np.clip(omega_new, 1e-3, 1e3))
        change = abs(theta_new - theta) + abs(omega_new - omega) / max(omega, 1e-9)
        mu, theta, omega = mu_new, float(theta_new), omega_new
        if change < tol:
            break
    return {
        "mu": mu,
        "theta": theta,
        "omega": omega,
        "background_share": float(p_bg.sum() / n),
        "iterations": iterations,
        "_cell": c,
        "_t": tt,
    }


class SEPPForecast(_Forecast):
    """Grid SEPP (Mohler et al. 2015) fitted by EM on exact event times.

    Parameters
    ----------
    ring
        0: each cell's own background (as published); 1: background pooled over the cell's
        k=1 disk.
    max_iter
        EM iterations at most.

    Attributes
    ----------
    risk_ : float (n,)
        Expected events per cell in the next step.
    theta_, omega_, background_share_ : float
        Offspring per event, decay rate per day (mean lag ``1 / omega_`` days) and the
        expected share of background events.
    """

    name = "sepp"
    expected_count = True

    def __init__(self, ring: int = 0, max_iter: int = 200) -> None:
        self.ring = ring
        self.max_iter = max_iter

    def fit(self, data: Any) -> SEPPForecast:
        if int(self.ring) not in (0, 1):
            raise ValidationError("ring must be 0 or 1", context="SEPPForecast")
        series: EventSeries = self._series(data)
        step_days = float(series.step / np.timedelta64(1, "D"))
        window = series.n_steps * step_days
        days = series.event_days()
        smooth = None
        if int(self.ring) == 1:
            W = series.weights(1, include_self=True)
            deg = np.asarray(W.sum(axis=1)).ravel()
            smooth = W.multiply(1.0 / deg[:, None]).tocsr()
        fit = fit_sepp_em(
            series.event_index,
            np.clip(days, 0.0, window),
            series.n_cells,
            window,
            smooth=smooth,
            max_iter=int(self.max_iter),
        )
        theta, omega = fit["theta"], fit["omega"]
        age = window - fit["_t"]
        carry = theta * (np.exp(-omega * age) - np.exp(-omega * (age + step_days)))
        risk = fit["mu"] * step_days + np.bincount(
            fit["_cell"], weights=carry, minlength=series.n_cells
        )
        self.theta_ = theta
        self.omega_ = omega
        self.background_share_ = fit["background_share"]
        self.mu_ = fit["mu"]
        self._done(series, risk)
        return self


class SEPPRing1Forecast(SEPPForecast):
    """:class:`SEPPForecast` with the background pooled over the k=1 disk (``ring=1``)."""

    name = "sepp_ring1"

    def __init__(self, ring: int = 1, max_iter: int = 200) -> None:
        super().__init__(ring=ring, max_iter=max_iter)


__all__ = ["SEPPForecast", "SEPPRing1Forecast", "fit_sepp_em"]
