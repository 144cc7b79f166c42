"""Benchmarks of the import: the real ``lagesbild ingest`` and the placement chain.

``--mode cli`` (default): the test set of issue 11 (:mod:`_city_data`: 1,000,000 reports
over 104 weeks in Stockholm län's 26 kommuner imported as 26 localities of one tenant,
from ``../shared`` or a synthetic equivalent) imported end to end by ``lagesbild ingest``
in its own process, against the reference in the same run: pyogrio writing the same CSV
to a GeoPackage (SQLite with a spatial index) in its own process. Prints both times, the
peak resident memory of each process tree (sampled every 20 ms and the kernel's maximum),
their CPU time (a fair comparison on a loaded machine) and the ratios.

``--mode placement``: 1,000,000 reports → locality + H3 cell + weekly cell counts.
Compares, in the same run and on the same seeded data, lagesbild's vectorized chain
(:func:`geo.boundaries.assign_points`, :func:`geo.cells.points_to_cells`, a
sort-based count) with the naive chain (GeoDataFrame + ``geopandas.sjoin`` +
``DataFrame.apply(h3.latlng_to_cell)`` + ``groupby``). Each measurement runs in a fresh
process so peak memory is that method's own (resident set size above the process's size
before the method starts, sampled every 2 ms). Rounds are interleaved (ours, naive, ours, …)
and the median is reported.

Prints one JSON object. Usage::

    python benchmarks/ingest.py [--mode cli] [--n 1000000] [--shared ../shared]
    python benchmarks/ingest.py --mode placement [--n 1000000] [--rounds 3]
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
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


REFERENCE = """
import sys, pyogrio
frame = pyogrio.read_dataframe(
    sys.argv[1], X_POSSIBLE_NAMES="lon", Y_POSSIBLE_NAMES="lat", KEEP_GEOM_COLUMNS="NO"
)
frame = frame.set_crs("EPSG:4326", allow_override=True)
pyogrio.write_dataframe(frame, sys.argv[2], layer="reports", driver="GPKG", SPATIAL_INDEX=True)
print(len(frame))
"""


def run_process(cmd: list[str], env: dict[str, str] | None = None) -> dict[str, Any]:
    """Run ``cmd``: wall time, CPU time (user + system, from the kernel), peak RSS of its
    process tree (MB, sampled every 20 ms, and the kernel's maximum) and stdout.

    CPU seconds compare fairly on a loaded machine, wall seconds only on an idle one.
    """
    import psutil

    t0 = time.perf_counter()
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        proc = subprocess.Popen(cmd, env=env, stdout=out, stderr=err)
        ps = psutil.Process(proc.pid)
        peak = 0
        status, usage = 0, None
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            try:
                tree = [ps, *ps.children(recursive=True)]
                peak = max(peak, sum(p.memory_info().rss for p in tree))
            except psutil.Error:
                pass
            time.sleep(0.02)
        seconds = time.perf_counter() - t0
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read().decode(), err.read().decode()
    if proc.returncode != 0:
        raise RuntimeError(f"{cmd[:3]} failed ({proc.returncode}): {stderr[-2000:]}")
    return {
        "seconds": seconds,
        "cpu_seconds": usage.ru_utime + usage.ru_stime,
        "peak_rss_mb": max(peak, usage.ru_maxrss * 1024) / 2**20,
        "stdout": stdout,
    }


def run_cli(n: int, shared: Path | None, keep: Path | None) -> dict[str, Any]:
    """Issue 11's import figure: ``lagesbild ingest`` against pyogrio, same data, same run."""
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import _city_data as city

    work = Path(tempfile.mkdtemp(prefix="lagesbild-ingest-", dir=keep))
    try:
        return _run_cli(work, n, shared, keep, city)
    finally:
        if keep is None:
            import shutil

            shutil.rmtree(work, ignore_errors=True)


def _run_cli(work: Path, n: int, shared: Path | None, keep: Path | None, city: Any) -> dict:
    kom, pts, real = city.boundaries(
        shared / "data" / "real" / "boundaries" if shared else city.REAL
    )
    geojson = city.write_boundaries(kom, work / "stockholms_lan.geojson")
    t0 = time.perf_counter()
    csv_path = city.make_csv(work / "rapporter.csv", n, pts)
    made = time.perf_counter() - t0
    env = {
        **os.environ,
        "LAGESBILD_DATABASE_URL": f"sqlite:///{work / 'lagesbild.db'}",
        "LAGESBILD_INSTANCE_DIR": str(work / "instance"),
    }
    exe = str(Path(sys.executable).with_name("lagesbild"))
    subprocess.run([exe, "db", "upgrade"], env=env, check=True, capture_output=True)
    subprocess.run(
        [exe, "boundaries", "import", str(geojson), "--kommun", city.TENANT,
         "--name-field", "name", "--code-field", "code"],
        env=env, check=True, capture_output=True,
    )  # fmt: skip
    ours = run_process(
        [exe, "ingest", str(csv_path), "--kommun", city.TENANT, "--source", "actor", "--json"],
        env,
    )
    counts = json.loads(ours.pop("stdout").strip().splitlines()[-1])
    ref = run_process([sys.executable, "-c", REFERENCE, str(csv_path), str(work / "ref.gpkg")])
    ref_rows = int(ref.pop("stdout").strip().splitlines()[-1])
    return {
        "benchmark": "lagesbild ingest (end to end, own process) vs pyogrio CSV -> GeoPackage",
        "n": n,
        "data": "real boundaries (../shared)" if real else "synthetic boundaries",
        "csv_mb": csv_path.stat().st_size / 2**20,
        "seconds_to_generate": made,
        "ours": {**ours, "counts": counts},
        "reference": {**ref, "rows": ref_rows},
        "time_ratio": ours["seconds"] / ref["seconds"],
        "cpu_time_ratio": ours["cpu_seconds"] / ref["cpu_seconds"],
        "peak_rss_ratio": ours["peak_rss_mb"] / ref["peak_rss_mb"],
        "targets": {"time_ratio_max": 3.0, "peak_rss_mb_max": 1024},
        "met": {
            "time": ours["seconds"] <= 3.0 * ref["seconds"],
            "cpu_time": ours["cpu_seconds"] <= 3.0 * ref["cpu_seconds"],
            "memory": ours["peak_rss_mb"] <= 1024,
        },
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "loadavg_after": list(os.getloadavg()),
        },
        "workdir": str(work) if keep else None,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mode", choices=["cli", "placement"], default="cli")
    parser.add_argument("--n", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--shared", type=Path, default=None, help="the ../shared folder")
    parser.add_argument("--keep", type=Path, default=None, help="keep the work files here")
    args = parser.parse_args()
    if args.mode == "cli":
        print(json.dumps(run_cli(args.n, args.shared, args.keep), indent=2))
        return
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
