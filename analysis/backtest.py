"""Rolling-origin backtest and paired comparison of forecast methods.

Protocol (no future information)
--------------------------------
With ``train_steps`` = L and ``origins`` = O the last ``L + O`` steps of a series are
used; origin ``o`` fits every method on steps ``o .. o + L - 1`` and scores step ``o + L``.
The cell universe and the study area ``A`` at an origin come from what was known then:

* ``universe="boundary"``: every cell of the series (the cells inside a boundary) and the
  boundary's area, the same at every origin;
* ``universe="training"``: the cells with at least one event in the origin's training
  window and their area. Events of the test step outside them count for no method.

Ties at the cut-off are scored by their expected value (:mod:`analysis._ranking`).

Paired comparison
-----------------
Every origin scores all methods on the same events, so methods are compared by the
per-origin differences ``product - other`` (PEI* by default): their median and
inter-quartile range, a bootstrap 95 % interval of the median (origins resampled, seeded)
and the two-sided Wilcoxon signed-rank p-value. Origins where either score is undefined
are left out.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np
import pandas as pd

from analysis._forecast_data import EventSeries
from analysis._predictive import poisson_deviance
from analysis._ranking import capture_scores, expected_capture, n_star
from analysis.forecast import make_forecaster
from geo._validate import Problems
from geo.cells import cells_area_m2

#: Methods compared by default, with their (stated) parameters.
DEFAULT_METHODS: dict[str, dict[str, Any]] = {
    "lagesbild": {"half_life_weeks": "auto", "k": 1, "shrinkage": "auto"},
    "count_all": {},
    "sepp": {"ring": 0},
    "sepp_ring1": {"ring": 1},
    "learned": {"max_iter": 100, "seed": 0},
    "last_k": {"k": 8},
    "kde": {"bandwidth_m": 250.0, "max_points": 20_000, "seed": 0},
    "prospective": {"radius_m": 400.0, "weeks": 8.0},
    "gistar": {"k": 1, "window": "cube"},
}

#: Fitted figures recorded per origin when a method has them (``theta`` -> ``theta_``).
FITTED_FIGURES = ("theta", "omega", "background_share", "half_life_weeks_chosen", "dispersion")

#: Expected count from which a cell-week enters the interval coverage check.
INTERVAL_MIN_EXPECTED = 0.5


def check_protocol(
    problems: Problems, train_steps: int, origins: int, coverages: Iterable[float]
) -> Problems:
    """Add every problem of the backtest's steps, origins and coverages to ``problems``."""
    if train_steps < 1:
        problems.add(f"train steps must be >= 1, got {train_steps}")
    if origins < 1:
        problems.add(f"origins must be >= 1, got {origins}")
    for c in coverages:
        if not 0 < c <= 1:
            problems.add(f"coverage must be in (0, 1], got {c}")
    return problems


def backtest(
    series: EventSeries,
    *,
    train_steps: int = 26,
    origins: int = 26,
    coverages: Iterable[float] = (0.005, 0.01, 0.05),
    methods: Mapping[str, Mapping[str, Any]] | None = None,
    total_area_m2: float | None = None,
    universe: str = "boundary",
) -> pd.DataFrame:
    """Rolling-origin backtest over the last ``train_steps + origins`` steps.

    Parameters
    ----------
    series
        Counts over the candidate cells (all cells of a boundary, or every cell with an
        event somewhere in the series when ``universe="training"``).
    total_area_m2
        ``A`` for ``universe="boundary"`` (default: the cells' area).
    universe
        ``"boundary"`` or ``"training"`` (see the module docstring).

    Returns
    -------
    pandas.DataFrame
        One row per origin, method and coverage: ``origin``, ``test_start``, ``method``,
        ``coverage``, the scores of :func:`analysis.evaluate.score_forecast`, and per origin
        and method ``deviance`` / ``cell_steps`` (Poisson deviance of methods whose risk is
        an expected count) and ``in_interval`` / ``interval_cells`` (80 % interval hits
        among cells expecting at least :data:`INTERVAL_MIN_EXPECTED`).
    """
    covs = [float(c) for c in coverages]
    methods = dict(DEFAULT_METHODS if methods is None else methods)
    problems = check_protocol(Problems("backtest"), train_steps, origins, covs)
    if not methods:
        problems.add("no methods to compare")
    if universe not in ("boundary", "training"):
        problems.add(f"universe must be 'boundary' or 'training', got {universe!r}")
    need = train_steps + origins
    if series.n_steps < need:
        problems.add(
            f"too few steps: {train_steps} training steps + {origins} origins need "
            f"{need} complete steps, the data has {series.n_steps}"
        )
    if series.n_cells == 0 or series.counts.sum() == 0:
        problems.add("no events in the evaluation window")
    problems.raise_if_any()
    forecasters = {name: make_forecaster(name, **dict(params)) for name, params in methods.items()}
    area_all = cells_area_m2(series.cells)
    first = series.n_steps - need
    rows: list[dict[str, Any]] = []
    for o in range(origins):
        lo = first + o
        test = lo + train_steps
        if universe == "training":
            keep = np.flatnonzero(series.counts[:, lo:test].sum(axis=1) > 0)
            if keep.size == 0:
                continue
            train = series.subset(keep).window(lo, test)
            area = area_all[keep]
            A = float(area.sum())
            actual = series.counts[keep, test]
        else:
            train = series.window(lo, test)
            area = area_all
            A = float(area.sum()) if total_area_m2 is None else float(total_area_m2)
            actual = series.counts[:, test]
        N = float(actual.sum())
        for name, forecaster in forecasters.items():
            fitted = forecaster.fit(train)
            risk = fitted.risk_
            extra: dict[str, float] = {}
            if getattr(fitted, "expected_count", False):
                extra["deviance"] = poisson_deviance(actual, np.maximum(risk, 0.0))
                extra["cell_steps"] = float(actual.size)
            for attr in FITTED_FIGURES:
                if hasattr(fitted, attr + "_"):
                    extra[attr] = float(getattr(fitted, attr + "_"))
            lower = getattr(fitted, "lower_", None)
            if lower is not None:
                sel = risk >= INTERVAL_MIN_EXPECTED
                upper = getattr(fitted, "upper_")  # noqa: B009
                hit = (actual[sel] >= lower[sel]) & (actual[sel] <= upper[sel])
                extra["in_interval"] = float(hit.sum())
                extra["interval_cells"] = float(sel.sum())
            for c in covs:
                n, a, m = expected_capture(risk, actual, area, c * A)
                score = capture_scores(n, N, n_star(actual, m), m, a, A)
                rows.append(
                    {
                        "origin": o,
                        "test_start": series.edges[test],
                        "method": name,
                        "coverage": c,
                        "area_total_m2": A,
                        **score,
                        **extra,
                    }
                )
    return pd.DataFrame(rows)


def summarize_backtest(scores: pd.DataFrame) -> list[dict[str, Any]]:
    """Median hit rate, PAI and PEI* per method and coverage (NaN origins left out).

    Adds the Poisson deviance per cell-step and the 80 % interval coverage where the
    method provides them.
    """
    out: list[dict[str, Any]] = []
    for (method, coverage), group in scores.groupby(["method", "coverage"], sort=False):
        entry: dict[str, Any] = {"method": method, "coverage": float(coverage)}  # type: ignore[arg-type]
        for key in ("hit_rate", "pai", "pei_star"):
            vals = group[key].to_numpy(np.float64)
            vals = vals[np.isfinite(vals)]
            entry[key] = round(float(np.median(vals)), 4) if vals.size else None
        entry["cells"] = int(np.median(group["cells"]))
        entry["area_km2"] = round(float(np.median(group["area_m2"])) / 1e6, 4)
        if "deviance" in group and group["deviance"].notna().any():
            entry["deviance_per_cell_step"] = round(
                float(group["deviance"].sum() / group["cell_steps"].sum()), 5
            )
        if "in_interval" in group and group["interval_cells"].sum() > 0:
            entry["interval_80_coverage"] = round(
                float(group["in_interval"].sum() / group["interval_cells"].sum()), 4
            )
            entry["interval_cell_steps"] = int(group["interval_cells"].sum())
        out.append(entry)
    return out


def fitted_summary(scores: pd.DataFrame) -> dict[str, dict[str, float]]:
    """Median over origins of each method's fitted figures (e.g. SEPP's theta, omega)."""
    out: dict[str, dict[str, float]] = {}
    cols = [c for c in FITTED_FIGURES if c in scores.columns]
    for method, group in scores.groupby("method", sort=False):
        figs = {c: round(float(group[c].median()), 4) for c in cols if group[c].notna().any()}
        if figs:
            out[str(method)] = figs
    return out


def paired_differences(
    scores: pd.DataFrame,
    *,
    product: str = "lagesbild",
    metric: str = "pei_star",
    n_boot: int = 2000,
    seed: int = 0,
) -> list[dict[str, Any]]:
    """Per-origin ``product - other`` differences of ``metric`` for every other method.

    Returns one entry per coverage and other method with ``origins`` (paired origins),
    ``median``, ``q25``, ``q75``, ``mean``, ``ci95`` (bootstrap interval of the median),
    ``wilcoxon_p`` (two-sided; 1 when every difference is zero) and ``verdict``:
    ``"ahead"`` / ``"behind"`` when ``p < 0.05`` and the median (or, at a zero median,
    the mean) says which way, otherwise ``"level"``.
    """
    out: list[dict[str, Any]] = []
    if scores.empty or product not in set(scores["method"]):
        return out
    table = scores.pivot_table(index=["coverage", "origin"], columns="method", values=metric)
    rng = np.random.default_rng(seed)
    for coverage in sorted(table.index.get_level_values(0).unique()):
        sub = table.xs(coverage, level=0)
        for other in [m for m in sub.columns if m != product]:
            d = (sub[product] - sub[other]).to_numpy(np.float64)
            d = d[np.isfinite(d)]
            if d.size == 0:
                continue
            boot = np.median(d[rng.integers(0, d.size, size=(int(n_boot), d.size))], axis=1)
            p = 1.0
            if np.any(d != 0):
                from scipy.stats import wilcoxon

                p = float(wilcoxon(d, zero_method="wilcox", alternative="two-sided").pvalue)
            med = float(np.median(d))
            sign = med if med != 0 else float(np.mean(d))
            verdict = "level"
            if p < 0.05 and sign != 0:
                verdict = "ahead" if sign > 0 else "behind"
            out.append(
                {
                    "coverage": float(coverage),
                    "product": product,
                    "other": str(other),
                    "origins": int(d.size),
                    "median": round(med, 4),
                    "q25": round(float(np.quantile(d, 0.25)), 4),
                    "q75": round(float(np.quantile(d, 0.75)), 4),
                    "mean": round(float(np.mean(d)), 4),
                    "ci95": [
                        round(float(np.quantile(boot, 0.025)), 4),
                        round(float(np.quantile(boot, 0.975)), 4),
                    ],
                    "wilcoxon_p": round(p, 4) if math.isfinite(p) else None,
                    "verdict": verdict,
                }
            )
    return out


__all__ = [
    "DEFAULT_METHODS",
    "INTERVAL_MIN_EXPECTED",
    "FITTED_FIGURES",
    "backtest",
    "check_protocol",
    "fitted_summary",
    "paired_differences",
    "summarize_backtest",
]
