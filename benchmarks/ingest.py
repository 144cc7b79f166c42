"""Benchmark: 1,000,000 reports → locality + H3 cell + weekly cell counts.

Compares, in the same run and on the same seeded data, lagesbild's vectorized chain
(:func:`geo.boundaries.assign_points`, :func:`geo.cells.points_to_cells`, a
sort-based count) with the naive chain (GeoDataFrame + ``geopandas.sjoin`` +
``DataFrame.apply(h3.latlng_to_cell)`` + ``groupby``). Each measurement runs in a fresh
process so peak memory is that method's own (resident set size above the process's size
before the method starts, sampled every 2 ms). Rounds are interleaved (ours, naive, ours, …)
and the median is reported.

Prints one JSON object. Usage::

    python benchmarks/ingest.py [--n 1000000] [--rounds 3]
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import platform
import statistics
import threading
import time
from typing import Any

import numpy as np
import pandas as pd

RES = 10
WEEK_NS = 7 * 24 * 3600 * 10**9


def make_reports(n: int, seed: int = 42) -> pd.DataFrame:
    """``n`` reports uniformly spread over the three Norrtälje localities, 52 weeks."""
    from geo.boundaries import load_boundaries, points_in_geometry

    loc = load_boundaries("locality", "norrtalje")
    loc = loc[loc["primary"]]
    rng = np.random.default_rng(seed)
    lats, lons = [], []
    weights = loc["population"].to_numpy(float)
    per = rng.multinomial(n, weights / weights.sum())
    for geom, k in zip(loc.geometry, per, strict=True):
        minx, miny, maxx, maxy = geom.bounds
        got_lat: list[np.ndarray] = []
        got = 0
        got_lon: list[np.ndarray] = []
        while got < k:
            m = int((k - got) * 1.6) + 100
            la = rng.uniform(miny, maxy, m)
            lo = rng.uniform(minx, maxx, m)
            inside = points_in_geometry(la, lo, geom)
            got_lat.append(la[inside])
            got_lon.append(lo[inside])
            got += int(inside.sum())
        lats.append(np.concatenate(got_lat)[:k])
        lons.append(np.concatenate(got_lon)[:k])
    lat = np.concatenate(lats)
    lon = np.concatenate(lons)
    order = rng.permutation(n)
    start = pd.Timestamp("2025-11-18", tz="UTC").value
    ts = start + rng.integers(0, 52 * WEEK_NS, n)
    return pd.DataFrame(
        {
            "lat": lat[order],
            "lon": lon[order],
            "occurred_at": pd.to_datetime(ts, utc=True),
        }
    )


def run_ours(df: pd.DataFrame, localities: Any) -> pd.DataFrame:
    """lagesbild: vectorized locality + cell + sort-based weekly counts."""
    from geo.boundaries import assign_points
    from geo.cells import points_to_cells

    lat = df["lat"].to_numpy()
    lon = df["lon"].to_numpy()
    cells = points_to_cells(lat, lon, RES)
    locality = assign_points(lat, lon, localities, cells=cells)
    ts = df["occurred_at"].array.asi8
    week = (ts - ts.min()) // WEEK_NS
    n_weeks = int(week.max()) + 1
    cell_idx, unique_cells = pd.factorize(cells)
    loc_idx, loc_codes = pd.factorize(locality, use_na_sentinel=False)
    counts = np.bincount(cell_idx * n_weeks + week, minlength=unique_cells.size * n_weeks)
    nz = np.flatnonzero(counts)
    # every point of a cell lies in the same locality except on a border: take the first
    first = np.full(unique_cells.size, -1, dtype=np.int64)
    first[cell_idx[::-1]] = loc_idx[::-1]
    return pd.DataFrame(
        {
            "cell": unique_cells[nz // n_weeks],
            "week": nz % n_weeks,
            "locality": np.asarray(loc_codes, dtype=object)[first[nz // n_weeks]],
            "count": counts[nz],
        }
    )


def run_naive(df: pd.DataFrame, localities: Any) -> pd.DataFrame:
    """Reference: GeoDataFrame + sjoin + DataFrame.apply(h3.latlng_to_cell) + groupby."""
    import geopandas as gpd
    import h3

    gdf = gpd.GeoDataFrame(df, geometry=gpd.points_from_xy(df["lon"], df["lat"]), crs=4326)
    joined = gpd.sjoin(gdf, localities[["code", "geometry"]], how="left", predicate="within")
    joined["cell"] = joined.apply(lambda r: h3.latlng_to_cell(r["lat"], r["lon"], RES), axis=1)
    joined["week"] = (joined["occurred_at"] - joined["occurred_at"].min()) // pd.Timedelta(weeks=1)
    out = joined.groupby(["cell", "week", "code"], dropna=False).size().reset_index(name="count")
    return out


def _measure(method: str, n: int, seed: int, queue: Any) -> None:
    import psutil

    from geo.boundaries import load_boundaries

    df = make_reports(n, seed)
    localities = load_boundaries("locality", "norrtalje")
    runner = run_ours if method == "ours" else run_naive
    runner(make_reports(200, seed + 1), localities)  # warm-up: imports, thread pools
    proc = psutil.Process()
    base = proc.memory_info().rss
    peak = [base]
    stop = threading.Event()

    def sample() -> None:
        while not stop.is_set():
            peak[0] = max(peak[0], proc.memory_info().rss)
            time.sleep(0.002)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    t0 = time.perf_counter()
    result = runner(df, localities)
    elapsed = time.perf_counter() - t0
    stop.set()
    sampler.join()
    peak[0] = max(peak[0], proc.memory_info().rss)
    total = int(result["count"].sum())
    loc_col = "locality" if "locality" in result else "code"
    in_locality = int(
        result.loc[result[loc_col].notna() & (result[loc_col] != "None"), "count"].sum()
    )
    queue.put(
        {
            "method": method,
            "seconds": elapsed,
            "peak_mb": (peak[0] - base) / 2**20,
            "rows_out": len(result),
            "counted": total,
            "in_locality": in_locality,
        }
    )


def measure(method: str, n: int, seed: int) -> dict[str, Any]:
    """Run one method in a fresh process and return its timing and peak memory."""
    ctx = mp.get_context("spawn")
    queue = ctx.Queue()
    proc = ctx.Process(target=_measure, args=(method, n, seed, queue))
    proc.start()
    while True:
        try:
            out = queue.get(timeout=5)
            break
        except Exception:
            if not proc.is_alive():
                raise RuntimeError(f"{method} run failed (exit code {proc.exitcode})") from None
    proc.join()
    return dict(out)


def check_agreement(n: int = 20_000, seed: int = 7) -> dict[str, Any]:
    """Both chains give the same (cell, week, locality) counts on a smaller sample."""
    import h3

    from geo.boundaries import load_boundaries

    df = make_reports(n, seed)
    localities = load_boundaries("locality", "norrtalje")
    ours = run_ours(df, localities)
    naive = run_naive(df, localities)
    naive["cell"] = [h3.str_to_int(c) for c in naive["cell"]]
    a = ours.set_index(["cell", "week"])["count"].sort_index()
    b = naive.groupby(["cell", "week"])["count"].sum().sort_index()
    b.index = b.index.set_levels(b.index.levels[0].astype(np.uint64), level=0)
    same_counts = bool(a.sort_index().equals(b.astype(a.dtype).sort_index()))
    loc_a = ours.groupby("locality")["count"].sum().sort_index()
    loc_b = naive.groupby("code")["count"].sum().sort_index()
    same_localities = bool((loc_a.to_numpy() == loc_b.to_numpy()).all())
    return {
        "n": n,
        "identical_cell_week_counts": same_counts,
        "identical_locality_counts": same_localities,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args()
    runs: dict[str, list[dict[str, Any]]] = {"ours": [], "naive": []}
    for r in range(args.rounds):
        for method in ("ours", "naive"):
            runs[method].append(measure(method, args.n, args.seed + r))
    med = {
        m: {
            "seconds_median": statistics.median(x["seconds"] for x in v),
            "peak_mb_median": statistics.median(x["peak_mb"] for x in v),
            "rounds": v,
        }
        for m, v in runs.items()
    }
    out = {
        "benchmark": "ingest: points -> locality + H3 res 10 + weekly cell counts",
        "n": args.n,
        "rounds": args.rounds,
        "speedup_vs_naive": med["naive"]["seconds_median"] / med["ours"]["seconds_median"],
        "peak_memory_ratio_vs_naive": med["ours"]["peak_mb_median"]
        / med["naive"]["peak_mb_median"],
        "ours": med["ours"],
        "naive": med["naive"],
        "agreement": check_agreement(),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
    }
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
