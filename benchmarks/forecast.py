"""Benchmark: forecast accuracy on Vancouver 2020 (speed, the default table, sensitivity).

1. ``evaluate_s``: the whole ``lagesbild evaluate`` pipeline (read the .csv.gz, drop
   unlocated rows, bin, 26 rolling origins x 5 methods x 3 coverages) and its table of
   median hit rate, PAI and PEI* (res 10, weekly steps, 26 training weeks, 26 origins).
2. Sensitivity: the same backtest for other parameters of every method (``last_k`` with
   k = 1 ... 26, KDE bandwidths, the product's half-life and ring), with the median PEI*
   and the mean paired difference to the product's default (per origin, with its
   standard error), so no conclusion rests on one parameter choice.
3. A reference that is *not* a forecast (it peeks at the future): each cell's count over
   all 51 other weeks of the year. It shows how close to the attainable ceiling the
   count-based methods get at this scale.

4. ``speed``: fit + predict of the product's forecaster on 50,000 cells x 104 weeks
   (synthetic counts on real H3 cells), the automatic memory choice against the fixed
   13-week half-life of earlier releases, timed in the same run (best of 3).
5. ``--references``: the product against the published references (``count_all``,
   ``sepp``, ``sepp_ring1``, ``learned``) on the two protocols of issue 16, with the
   paired per-origin PEI* differences (median, IQR, bootstrap 95 % interval, Wilcoxon p),
   the 80 % interval coverage and the Poisson deviance per cell-step:
   Vancouver 2020 (weekly, 26 training weeks, 26 origins, the neighbourhoods as boundary)
   and Portland 2016 (NIJ calls for service, daily, 35 training days, 26 origins, the
   universe from each origin's training window). The Portland shapefiles
   (``../shared/data/real/portland-nij-cfs-2016``, EPSG:2913, date-only ``occ_date``) are
   read by :func:`portland_events`; the same table as a CSV for ``lagesbild evaluate``::

       python benchmarks/forecast.py --portland-csv portland.csv
       lagesbild evaluate portland.csv --time-col occ_date --x-col x --y-col y \
           --crs EPSG:2913 --step 1d --train-steps 35 --origins 26 \
           --methods lagesbild,count_all,sepp,sepp_ring1,learned

Prints one JSON object::

    python benchmarks/forecast.py [--boundary] [--speed-only] [--references]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path
from typing import Any

# benchmarks/analysis.py is named like the package: keep this folder off the import path
_HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]
sys.path.insert(0, str(_HERE.parent))

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from analysis.evaluate import (  # noqa: E402
    DEFAULT_METHODS,
    backtest,
    evaluate_events,
    prepare_series,
    rank_cells,
    read_events,
    score_flags,
)
from geo.cells import cells_area_m2  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
#: The real data sets (``../shared/data/real`` beside the repository, or $LAGESBILD_REAL_DATA).
REAL = Path(os.environ.get("LAGESBILD_REAL_DATA") or ROOT.parent / "shared" / "data" / "real")
DATA = REAL / "vancouver-vpd-2020"
CSV = DATA / "crimedata_csv_AllNeighbourhoods_2020.csv.gz"
HOODS = DATA / "vancouver_neighbourhoods.geojson"
PORTLAND = REAL / "portland-nij-cfs-2016"
PORTLAND_MONTHS = (
    ("080116_083116_Data.zip", "NIJ2016_AUG01_AUG31.shp"),
    ("090116_093016_Data.zip", "NIJ2016_SEP01_SEP30.shp"),
)
REFERENCE_METHODS = ("lagesbild", "count_all", "sepp", "sepp_ring1", "learned")
COVERAGES = (0.005, 0.01, 0.05)

VARIANTS: list[tuple[str, dict[str, Any]]] = [
    ("last_k", {"k": 1}),
    ("last_k", {"k": 4}),
    ("last_k", {"k": 13}),
    ("last_k", {"k": 26}),
    ("kde", {"bandwidth_m": 100.0}),
    ("kde", {"bandwidth_m": 150.0}),
    ("kde", {"bandwidth_m": 400.0}),
    ("prospective", {"radius_m": 200.0, "weeks": 4.0}),
    ("gistar", {"k": 1, "window": "step"}),
    ("lagesbild", {"half_life_weeks": 6.5}),
    ("lagesbild", {"half_life_weeks": 26.0}),
    ("lagesbild", {"k": 0}),
    ("lagesbild", {"k": 2}),
]


def _load(boundary: bool) -> tuple[pd.DataFrame, dict[str, int], Any]:
    raw = pd.read_csv(CSV, low_memory=False)
    events, summary = read_events(
        raw,
        time_parts=["YEAR", "MONTH", "DAY", "HOUR", "MINUTE"],
        x_col="X",
        y_col="Y",
        crs="EPSG:32610",
    )
    region = None
    if boundary:
        import geopandas as gpd

        region = gpd.read_file(HOODS).to_crs(4326).geometry.make_valid().union_all()
    return events, summary, region


def portland_table() -> pd.DataFrame:
    """The Portland calls of August and September 2016: ``occ_date``, ``x``, ``y`` (feet).

    The one empty record (no category, coordinates 0, 0) is left out.
    """
    import geopandas as gpd

    parts = [gpd.read_file(f"zip://{PORTLAND / z}!{shp}") for z, shp in PORTLAND_MONTHS]
    calls = pd.concat(parts, ignore_index=True)
    calls = calls[calls["x_coordina"] > 0]
    return pd.DataFrame(
        {
            "occ_date": pd.to_datetime(calls["occ_date"]).dt.strftime("%Y-%m-%d"),
            "x": calls["x_coordina"].to_numpy(float),
            "y": calls["y_coordina"].to_numpy(float),
        }
    )


def portland_events() -> tuple[pd.DataFrame, dict[str, int]]:
    """Located Portland calls (``time``, ``lat``, ``lon``) and the read summary."""
    return read_events(portland_table(), time_col="occ_date", x_col="x", y_col="y", crs="EPSG:2913")


def references() -> dict[str, Any]:
    """The product against the references on both protocols (paired, per coverage)."""
    methods = {m: DEFAULT_METHODS[m] for m in REFERENCE_METHODS}
    out: dict[str, Any] = {}
    van, van_summary, region = _load(True)
    por, por_summary = portland_events()
    runs = (
        ("vancouver_2020", van, van_summary, region, "1w", 26),
        ("portland_2016", por, por_summary, None, "1d", 35),
    )
    for name, events, summary, boundary, step, train in runs:
        t0 = time.perf_counter()
        result = evaluate_events(
            events,
            step=step,
            train_steps=train,
            origins=26,
            boundary=boundary,
            methods=methods,
            read_summary=summary,
        )
        result["seconds"] = round(time.perf_counter() - t0, 1)
        out[name] = result
    return out


def speed(n_cells: int = 50_000, weeks: int = 104, repeats: int = 3) -> dict[str, Any]:
    """Seconds of fit + predict, automatic memory vs the fixed 13-week half-life."""
    from analysis._forecast_data import EventSeries
    from analysis.forecast import RiskForecast
    from geo.cells import cells_to_disks, points_to_cells

    k = 1
    while 1 + 3 * k * (k + 1) < n_cells:
        k += 1
    _, disk = cells_to_disks(points_to_cells([59.33], [18.06], 10), k)
    cells = np.unique(disk)[:n_cells]
    rng = np.random.default_rng(0)
    rate = rng.gamma(0.3, 0.5, size=(cells.size, 1))
    counts = rng.poisson(np.broadcast_to(rate, (cells.size, weeks))).astype(np.float64)
    edges = pd.date_range("2024-01-01", periods=weeks + 1, freq="7D")
    out: dict[str, Any] = {"cells": int(cells.size), "weeks": weeks}
    for label, params in (
        ("fixed_13w_s", {"half_life_weeks": 13.0}),
        ("auto_s", {"half_life_weeks": "auto"}),
    ):
        best = np.inf
        for _ in range(repeats):
            series = EventSeries(cells=cells, counts=counts, edges=edges)  # fresh cache
            t0 = time.perf_counter()
            RiskForecast(**params).fit(series).predict()
            best = min(best, time.perf_counter() - t0)
        out[label] = round(best, 3)
    out["auto_over_fixed"] = round(out["auto_s"] / out["fixed_13w_s"], 2)
    return out


def _pei(scores: pd.DataFrame) -> pd.DataFrame:
    return scores.pivot_table(index="origin", columns="coverage", values="pei_star")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--boundary", action="store_true", help="A = the 22 neighbourhoods")
    parser.add_argument("--speed-only", action="store_true", help="only the speed part")
    parser.add_argument(
        "--references", action="store_true", help="only the paired comparison (issue 16)"
    )
    parser.add_argument("--portland-csv", type=Path, help="write the Portland calls as CSV")
    args = parser.parse_args()
    if args.portland_csv is not None:
        portland_table().to_csv(args.portland_csv, index=False)
        print(json.dumps({"benchmark": "forecast", "portland_csv": str(args.portland_csv)}))
        return
    if args.references:
        print(json.dumps({"benchmark": "forecast", "references": references()}))
        return
    if args.speed_only:
        print(json.dumps({"benchmark": "forecast", "speed": speed()}))
        return
    started = time.perf_counter()
    events, summary, region = _load(args.boundary)
    result = evaluate_events(events, boundary=region, read_summary=summary)
    evaluate_s = time.perf_counter() - started

    series, info = prepare_series(events, res=10, step="1w", n_steps=52, boundary=region)
    A = info["area_m2"]
    universe = "boundary" if region is not None else "training"
    base = backtest(
        series,
        methods={"lagesbild": DEFAULT_METHODS["lagesbild"]},
        total_area_m2=A,
        universe=universe,
    )
    base_pei = _pei(base)
    sensitivity = []
    for method, params in [(m, p) for m, p in DEFAULT_METHODS.items()] + VARIANTS:
        merged = {**DEFAULT_METHODS[method], **params}
        scores = backtest(series, methods={method: merged}, total_area_m2=A, universe=universe)
        pei = _pei(scores)
        diff = pei - base_pei
        sensitivity.append(
            {
                "method": method,
                "params": merged,
                "pei_star_median": {str(c): round(float(pei[c].median()), 4) for c in COVERAGES},
                "pai_median": {
                    str(c): round(float(v), 2)
                    for c, v in scores.groupby("coverage")["pai"].median().items()
                },
                "pei_star_minus_lagesbild_mean": {
                    str(c): [
                        round(float(diff[c].mean()), 4),
                        round(float(diff[c].std(ddof=1) / np.sqrt(len(diff))), 4),
                    ]
                    for c in COVERAGES
                },
            }
        )

    # reference (peeks at the future): counts of every other week of the year
    area = cells_area_m2(series.cells)
    total = series.counts.sum(axis=1)
    ref: dict[float, list[float]] = {c: [] for c in COVERAGES}
    for t in range(26, 52):
        y = series.counts[:, t]
        order = rank_cells(total - y, series.cells)
        cum = np.cumsum(area[order])
        for c in COVERAGES:
            m = int(np.searchsorted(cum, c * A * (1 - 1e-12))) + 1
            ref[c].append(score_flags(order[:m], y, area, A)["pei_star"])
    out = {
        "benchmark": "forecast",
        "data": "Vancouver VPD 2020",
        "evaluate_s": round(evaluate_s, 2),
        "speed": speed(),
        "evaluate": result,
        "sensitivity": sensitivity,
        "reference_not_a_forecast": {
            "what": "each cell's count in the 51 other weeks (uses future data)",
            "pei_star_median": {str(c): round(float(np.median(v)), 4) for c, v in ref.items()},
        },
        "python": platform.python_version(),
        "seconds": round(time.perf_counter() - started, 1),
    }
    print(json.dumps(out, ensure_ascii=False))


if __name__ == "__main__":
    main()
