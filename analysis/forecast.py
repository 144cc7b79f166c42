"""Risk forecast for the next period: where will the next incidents happen?

Every forecaster is a small estimator: parameters in ``__init__``, ``fit(data)`` returns
``self``, results end in ``_`` (``cells_``, ``risk_``), ``predict()`` returns the risk as a
Series indexed by cell. ``data`` is an event frame (``cell`` + ``time``, or a report
frame), a space-time cube (:class:`analysis.cube.SpaceTimeCube`) or an
:class:`~analysis._forecast_data.EventSeries`; every step of it is training history and
the forecast is for the step right after the last one.

The product's method, :class:`RiskForecast` (``"lagesbild"``)
----------------------------------------------------------------
Expected events per cell in the next step, from three principled parts:

1. **Recency-weighted counts.** Step ``s`` weighs ``0.5 ** (age_weeks / half_life)``,
   giving a weighted count ``e_i`` per cell and an exposure ``E = sum(weights)`` in
   steps. The half-life is chosen per fit (per kommun) from 4 weeks to the whole window
   by an inner rolling-origin backtest on the training data: the memory with the best
   PEI* at 0.5 % and 1 % of the cells in the last steps wins, the whole window (the
   long-run count of ``count_all`` and of SEPP on these data) being one candidate (13
   weeks when there is too little history).
2. **Local prior.** The neighbourhood rate ``m_i`` is the weighted count of the
   cell's k-ring (cell included; ``k=1``, about 400 m across at res 10) per cell and
   step; cells outside the universe count as zero.
3. **Empirical-Bayes shrinkage** (Poisson-Gamma, Marshall 1991). With a Gamma prior of
   mean ``m_i`` and shape ``kappa`` the posterior mean rate is::

       risk_i = (e_i + kappa) / (E + kappa / m_i)

   ``kappa`` is estimated from the data by the method of moments
   (``kappa = mean(m^2) / (mean((e/E - m)^2) - mean(m / E))`` over cells with
   ``m > 0``), so sparse cells and short histories are pooled with their
   neighbourhood while data-rich cells keep their own rate.
4. **80 % intervals** of the next step's count: negative binomial with the dispersion
   seen in the inner backtest, the interval whose probability is closest to 80 %, at the
   nominal level whose intervals held closest to 80 % of the inner backtest's counts.

Baselines (same interface)
--------------------------
* :class:`LastKForecast` (``"last_k"``): events in the last ``k`` steps (default 8 weeks,
  the same memory as prospective mapping).
* :class:`CountAllForecast` (``"count_all"``): mean count over the whole training window.
* :class:`~analysis.sepp.SEPPForecast` (``"sepp"``): grid self-exciting point process
  (Mohler et al. 2015), EM on exact event times.
* :class:`~analysis.learned.LearnedForecast` (``"learned"``): Poisson gradient boosting
  on past-only features.
* :class:`KDEForecast` (``"kde"``): scikit-learn Gaussian ``KernelDensity`` of the
  training events in local metres (fixed bandwidth 250 m), evaluated at cell centres.
* :class:`ProspectiveForecast` (``"prospective"``): Bowers, Johnson & Pease (2004):
  every event within 400 m and 8 weeks adds ``1 / (1 + d) * 1 / (1 + w)``, ``d`` the
  distance in cell widths (centre spacing), ``w`` the age in whole weeks.
* :class:`GiStarForecast` (``"gistar"``): the Gi* z-score of the latest step
  (:class:`analysis.getis_ord.GetisOrdGiStar`, k=1 ring, cube window).
"""

from __future__ import annotations

import math
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt
import pandas as pd
import scipy.sparse as sp

from analysis._eb import (
    ages_weeks,
    best_possible,
    eb_risk,
    estimate_kappa,
    inner_risk,
    inner_step,
)
from analysis._forecast_data import EventSeries, as_series
from analysis._predictive import (
    CALIBRATION_MIN_EXPECTED,
    calibrated_level,
    common_dispersion,
    hit_text_sv,
    negbin_interval,
    sum_interval,
)
from analysis.getis_ord import GetisOrdGiStar
from geo.cells import average_edge_m, cells_resolution
from geo.errors import ValidationError

FloatArray = npt.NDArray[np.float64]
CellArray = npt.NDArray[np.uint64]


class Forecaster(Protocol):
    """What :mod:`analysis.evaluate` needs from a forecaster."""

    cells_: CellArray
    risk_: FloatArray

    def fit(self, data: Any) -> Forecaster: ...

    def predict(self) -> pd.Series: ...


class _Forecast:
    """Shared plumbing: validation, fitted attributes and ``predict``."""

    name = "forecast"

    def get_params(self) -> dict[str, Any]:
        """Constructor parameters (scikit-learn style)."""
        return {k: v for k, v in vars(self).items() if not k.endswith("_")}

    def _series(self, data: Any) -> EventSeries:
        series = as_series(data)
        problems = []
        if series.n_cells == 0:
            problems.append("no cells to forecast")
        if series.n_steps == 0:
            problems.append("no time steps to learn from")
        if problems:
            raise ValidationError(problems, context=type(self).__name__)
        return series

    def _done(self, series: EventSeries, risk: FloatArray) -> None:
        risk = np.asarray(risk, dtype=np.float64)
        self.cells_ = series.cells
        self.risk_ = np.where(np.isfinite(risk), risk, -np.inf)
        start = series.edges[-1]
        self.period_ = (start, start + series.step)

    def predict(self) -> pd.Series:
        """Risk per cell for the next step (higher = more likely)."""
        if not hasattr(self, "risk_"):
            raise ValidationError(f"{type(self).__name__} is not fitted; call fit() first")
        return pd.Series(self.risk_, index=pd.Index(self.cells_, name="cell"), name="risk")

    def fit(self, data: Any) -> _Forecast:  # pragma: no cover - overridden
        raise NotImplementedError


#: Half-lives (weeks) the product chooses among; ``inf`` weighs the whole window equally.
HALF_LIFE_GRID: tuple[float, ...] = (4.0, 8.0, 13.0, 26.0, 52.0, math.inf)

#: Coverages (share of cells) at which the inner backtest scores the candidate memories:
#: the 0.5 % and 1 % of the area a planner's hotspot list and the backtest flag.
SELECT_COVERAGES: tuple[float, ...] = (0.005, 0.01)

#: Events the inner backtest needs before it chooses a memory (else the fallback is used).
MIN_SELECT_EVENTS = 20

#: Half-life (weeks) used when the history is too short to choose one.
FALLBACK_HALF_LIFE = 13.0

#: Coverage of the plain-words hit rate told to planners.
REPORT_COVERAGE = 0.05


class RiskForecast(_Forecast):
    """The product's forecast: recency-weighted counts with local empirical-Bayes pooling.

    Parameters
    ----------
    half_life_weeks
        Half-life of the recency weights in weeks; ``"auto"`` chooses it per fit from
        :data:`HALF_LIFE_GRID` by an inner rolling-origin backtest on the training data
        (the half-life with the highest summed PEI* in the last ``select_steps`` steps at
        :data:`SELECT_COVERAGES`), so each kommun gets the memory its data favour;
        with fewer than :data:`MIN_SELECT_EVENTS` events in those steps it falls back to
        :data:`FALLBACK_HALF_LIFE`.
    k
        Ring size of the local prior (1 = the cell and its six neighbours).
    shrinkage
        ``"auto"`` estimates the prior shape ``kappa`` from the data; a number fixes it.
    select_steps
        Inner origins of the automatic choice (and of the interval's dispersion).
    level
        Central probability of the interval ``lower_ .. upper_``.
    select_by
        Score of the automatic choice: ``"pei"`` (summed PEI*, each step weighing the
        same), ``"hits"`` (expected events caught) or ``"deviance"`` (Poisson deviance,
        lowest wins).

    Attributes
    ----------
    cells_ : uint64 (n,)
    risk_ : float (n,)
        Expected events per cell in the next step.
    lower_, upper_ : float (n,)
        ``level`` predictive interval of the next step's count (negative binomial with the
        dispersion seen in the inner backtest).
    rate_ : float (n,)
        The cell's own recency-weighted rate per step (``e / E``).
    prior_ : float (n,)
        Neighbourhood rate per cell and step.
    kappa_ : float
        Shape of the Gamma prior used.
    exposure_ : float
        Sum of the step weights (effective number of steps).
    half_life_weeks_chosen_ : float
        The half-life used (``inf`` = the whole window weighed equally).
    dispersion_ : float
        ``phi`` of ``var = mu + phi mu^2`` from the inner backtest.
    common_dispersion_ : float
        Relative variance of the shock all cells share in a step (a busy or quiet week
        everywhere), from the inner backtest's totals; widens intervals of sums of cells
        (:func:`~analysis._predictive.sum_interval`).
    interval_level_ : float
        Nominal level of ``lower_ .. upper_``: the one whose intervals held closest to
        ``level`` of the counts in the inner backtest (``level`` without enough of them).
    selection_ : dict
        Score (``select_by``) of every candidate half-life in the inner backtest.
    hit_share_ : float or None
        Share of the inner backtest's events in the :data:`REPORT_COVERAGE` riskiest cells
        (what :func:`hit_text_sv` tells planners); ``hit_steps_`` inner steps.
    """

    name = "lagesbild"
    expected_count = True

    def __init__(
        self,
        half_life_weeks: float | str = "auto",
        k: int = 1,
        shrinkage: float | str = "auto",
        select_steps: int = 8,
        level: float = 0.8,
        select_by: str = "pei",
    ) -> None:
        self.select_by = select_by
        self.half_life_weeks = half_life_weeks
        self.k = k
        self.shrinkage = shrinkage
        self.select_steps = select_steps
        self.level = level

    def _check(self) -> None:
        problems = []
        hl = self.half_life_weeks
        if hl != "auto" and not (isinstance(hl, (int, float)) and hl > 0):
            problems.append("half_life_weeks must be 'auto' or > 0")
        if int(self.k) < 0:
            problems.append("k must be >= 0")
        if self.select_by not in ("pei", "hits", "deviance"):
            problems.append("select_by must be 'pei', 'hits' or 'deviance'")
        if self.shrinkage != "auto" and not (
            isinstance(self.shrinkage, (int, float)) and self.shrinkage > 0
        ):
            problems.append("shrinkage must be 'auto' or a positive number")
        if not 0 < float(self.level) < 1:
            problems.append("level must be in (0, 1)")
        if problems:
            raise ValidationError(problems, context="RiskForecast")

    def fit(self, data: Any) -> RiskForecast:
        self._check()
        series = self._series(data)
        ring = int(self.k)
        W = series.weights(ring, include_self=True) if ring > 0 else None
        counts = series.counts
        T = series.n_steps
        inner = list(range(max(2, T - int(self.select_steps)), T))
        grid = HALF_LIFE_GRID if self.half_life_weeks == "auto" else (float(self.half_life_weeks),)  # type: ignore[arg-type]
        hits = {h: 0.0 for h in grid}
        told = {h: 0.0 for h in grid}
        m_told = max(1, int(math.ceil(REPORT_COVERAGE * series.n_cells)))
        n = series.n_cells
        sizes = [max(1, int(math.ceil(c * n))) for c in SELECT_COVERAGES]
        devs: dict[float, list[float]] = {h: [] for h in grid}
        told_at = (*sizes, m_told)
        for s in inner:
            top = best_possible(series, s, tuple(sizes))
            for h in grid:
                caught, d = inner_step(series, s, h, W, ring, self.shrinkage, told_at)
                for c, best_m in zip(caught[:-1], top, strict=True):
                    if self.select_by != "pei":
                        hits[h] += c
                    elif best_m > 0:
                        hits[h] += c / best_m
                told[h] += caught[-1]
                devs[h].append(d)
        # most expected hits; among equal hits the lowest Poisson deviance
        dev = {h: sum(devs[h]) for h in grid}
        # events of the inner steps (whole counts: the sparse columns' sums are exact)
        events = float(sum(series.step_nonzero(s)[1].sum() for s in inner))
        enough = bool(inner) and events >= MIN_SELECT_EVENTS
        if len(grid) == 1:
            best = grid[0]
        elif not enough:
            best = FALLBACK_HALF_LIFE  # too little history to choose: the stated default
        elif self.select_by == "deviance":
            best = min(grid, key=lambda h: (dev[h], -hits[h]))
        else:
            best = max(grid, key=lambda h: (round(hits[h], 9), -dev[h]))
        resid = (
            [
                (
                    inner_risk(series, s, best, W, ring, self.shrinkage),
                    counts[:, s],
                )
                for s in inner
            ]
            if best in devs
            else []
        )
        risk, e, exposure, m, kappa = eb_risk(series, T, best, W, ring, self.shrinkage)
        phi = 0.0
        nominal = float(self.level)
        if resid:
            # sums over all inner cell-steps as dot products per step (no stacked copies)
            denom = float(sum(float(r @ r) for r, _ in resid))
            if denom > 0:
                excess = 0.0
                for r, y in resid:
                    miss = y - r
                    excess += float(miss @ miss) - float(r.sum())
                phi = max(0.0, excess / denom)
            # only the cell-steps the calibration looks at are stacked
            kept = [r >= CALIBRATION_MIN_EXPECTED for r, _ in resid]
            mu = np.concatenate([r[k] for (r, _), k in zip(resid, kept, strict=True)])
            yy = np.concatenate([y[k] for (_, y), k in zip(resid, kept, strict=True)])
            nominal = calibrated_level(mu, yy, phi, float(self.level))
        self.lower_, self.upper_ = negbin_interval(risk, phi, nominal)
        self.interval_level_ = nominal
        self.rate_ = e / exposure
        self.prior_ = m
        self.kappa_ = kappa
        self.exposure_ = exposure
        self.half_life_weeks_chosen_ = float(best)
        self.dispersion_ = phi
        self.common_dispersion_ = common_dispersion(resid, phi)
        self.selection_ = {str(h): round(v, 3) for h, v in hits.items()}
        self.hit_share_ = told[best] / events if events > 0 and best in told else None
        self.hit_steps_ = len(inner)
        self._done(series, risk)
        return self


class LastKForecast(_Forecast):
    """Events in the last ``k`` steps (a naive hotspot map).

    Parameters
    ----------
    k
        Number of most recent steps counted (all when the history is shorter).
    """

    name = "last_k"

    def __init__(self, k: int = 8) -> None:
        self.k = k

    def fit(self, data: Any) -> LastKForecast:
        if int(self.k) < 1:
            raise ValidationError("k must be >= 1", context="LastKForecast")
        series = self._series(data)
        self._done(series, series.counts[:, -int(self.k) :].sum(axis=1))
        return self


class CountAllForecast(_Forecast):
    """Mean count per step over the whole training window (the long-run count)."""

    name = "count_all"
    expected_count = True

    def fit(self, data: Any) -> CountAllForecast:
        series = self._series(data)
        self._done(series, series.counts.sum(axis=1) / series.n_steps)
        return self


class KDEForecast(_Forecast):
    """Gaussian kernel density of the training events, evaluated at cell centres.

    Parameters
    ----------
    bandwidth_m
        Fixed bandwidth in metres.
    max_points
        Training events above this number are sampled (seeded) to bound the cost.
    seed
        Seed of that sample.
    rtol
        Relative tolerance of scikit-learn's tree evaluation.
    """

    name = "kde"

    def __init__(
        self,
        bandwidth_m: float = 250.0,
        max_points: int = 20_000,
        seed: int = 0,
        rtol: float = 1e-4,
    ) -> None:
        self.bandwidth_m = bandwidth_m
        self.max_points = max_points
        self.seed = seed
        self.rtol = rtol

    def fit(self, data: Any) -> KDEForecast:
        if not self.bandwidth_m > 0:
            raise ValidationError("bandwidth_m must be > 0", context="KDEForecast")
        series = self._series(data)
        grid = series.centres_xy()
        if series.event_index.size == 0:
            # a cube without event positions: the counts sit at their cell centres
            total = series.counts.sum(axis=1)
            has = total > 0
            log_sum = self._log_kernel_sum(grid[has], grid, total[has])
        else:
            # A Gaussian KDE is a sum over events, so the window's density is the sum of
            # per-step densities; those are cached by step start and shared by the
            # overlapping windows of a backtest (the result equals one fit on all points).
            xy = series.events_xy()
            parts = []
            for t in range(series.n_steps):
                key = ("kde", float(self.bandwidth_m), float(self.rtol), series.edges[t])
                if key not in series.cache:
                    pts = xy[series.event_step == t]
                    series.cache[key] = self._log_kernel_sum(pts, grid)
                parts.append(series.cache[key])
            log_sum = np.logaddexp.reduce(np.vstack(parts), axis=0)
        self._done(series, log_sum)  # log of the summed kernels: same ranking as density
        return self

    def _log_kernel_sum(
        self, points: FloatArray, grid: FloatArray, weights: FloatArray | None = None
    ) -> FloatArray:
        """``log(sum_j w_j K(x - p_j))`` at every grid point (``-inf`` without points)."""
        if points.shape[0] == 0:
            return np.full(grid.shape[0], -np.inf)
        total = float(points.shape[0] if weights is None else np.sum(weights))
        if weights is None and points.shape[0] > int(self.max_points):
            rng = np.random.default_rng(self.seed)
            points = points[rng.choice(points.shape[0], int(self.max_points), replace=False)]
        from sklearn.neighbors import KernelDensity  # imported when used: heavy

        kde = KernelDensity(
            bandwidth=float(self.bandwidth_m), kernel="gaussian", rtol=float(self.rtol)
        )
        kde.fit(points, sample_weight=weights)
        return kde.score_samples(grid) + np.log(total)


class ProspectiveForecast(_Forecast):
    """Prospective hotspotting (Bowers, Johnson & Pease 2004).

    Parameters
    ----------
    radius_m
        Spatial bandwidth: events farther than this from a cell centre add nothing.
    weeks
        Temporal bandwidth: only events younger than this many weeks count.
    cell_width_m
        Distance unit of the ``1 / (1 + d)`` decay; default the centre spacing of
        neighbouring cells at the series' resolution (``sqrt(3)`` x average edge).
    """

    name = "prospective"

    def __init__(
        self, radius_m: float = 400.0, weeks: float = 8.0, cell_width_m: float | None = None
    ) -> None:
        self.radius_m = radius_m
        self.weeks = weeks
        self.cell_width_m = cell_width_m

    def fit(self, data: Any) -> ProspectiveForecast:
        if not (self.radius_m > 0 and self.weeks > 0):
            raise ValidationError("radius_m and weeks must be > 0", context="ProspectiveForecast")
        series = self._series(data)
        edge = average_edge_m(cells_resolution(series.cells))
        width = float(self.cell_width_m or math.sqrt(3.0) * edge)
        # the k-ring must reach radius_m in every direction (spacing varies ~ +-20 %)
        k = max(1, math.ceil(float(self.radius_m) / (0.8 * math.sqrt(3.0) / 2 * width)))
        key = ("prospective", float(self.radius_m), width)
        if key not in series.cache:
            i, j, d = series.pairs_within(float(self.radius_m), k)
            series.cache[key] = sp.csr_matrix(
                (1.0 / (1.0 + d / width), (i, j)), shape=(series.n_cells, series.n_cells)
            )
        W = series.cache[key]
        age = np.floor(ages_weeks(series.n_steps, series.step_weeks) + 1e-9)
        tw = np.where(age < float(self.weeks), 1.0 / (1.0 + age), 0.0)
        self._done(series, np.asarray(W @ (series.counts @ tw)).ravel())
        return self


class GiStarForecast(_Forecast):
    """Rank cells by the Gi* z-score of the latest step.

    Parameters
    ----------
    k
        Ring size of the Gi* neighbourhood.
    window
        Gi* reference window (``"cube"``: all cells and steps, as in the emerging
        hotspot analysis).
    """

    name = "gistar"

    def __init__(self, k: int = 1, window: str = "cube") -> None:
        self.k = k
        self.window = window

    def fit(self, data: Any) -> GiStarForecast:
        series = self._series(data)
        gi = GetisOrdGiStar(k=int(self.k), window=self.window).fit(series)  # type: ignore[arg-type]
        self._done(series, gi.z_[:, -1])
        return self


#: Method name -> forecaster class (names used by ``lagesbild evaluate``).
FORECASTERS: dict[str, type[_Forecast]] = {
    RiskForecast.name: RiskForecast,
    LastKForecast.name: LastKForecast,
    CountAllForecast.name: CountAllForecast,
    KDEForecast.name: KDEForecast,
    ProspectiveForecast.name: ProspectiveForecast,
    GiStarForecast.name: GiStarForecast,
}


def _register_references() -> None:
    """Add the reference methods of their own modules (imported late: they build on this)."""
    from analysis.learned import LearnedForecast
    from analysis.sepp import SEPPForecast, SEPPRing1Forecast

    for cls in (SEPPForecast, SEPPRing1Forecast, LearnedForecast):
        FORECASTERS.setdefault(cls.name, cls)


def make_forecaster(method: str, **params: Any) -> _Forecast:
    """A forecaster by method name (see :data:`FORECASTERS`)."""
    _register_references()
    if method not in FORECASTERS:
        raise ValidationError(
            f"unknown forecast method {method!r}; choose from {sorted(FORECASTERS)}"
        )
    return FORECASTERS[method](**params)


__all__ = [
    "FORECASTERS",
    "CountAllForecast",
    "Forecaster",
    "GiStarForecast",
    "KDEForecast",
    "LastKForecast",
    "ProspectiveForecast",
    "RiskForecast",
    "HALF_LIFE_GRID",
    "estimate_kappa",
    "make_forecaster",
    "hit_text_sv",
    "negbin_interval",
    "sum_interval",
]
