"""Web app benchmark: page size, bytes per cell, cached API time, first frame, load.

Runs the production WSGI server (waitress, :class:`webmap.serving.BackgroundServer`) on
the loopback interface with seeded synthetic data (26 weeks, four planted hotspots) and
prints one JSON object:

``shell_bytes``        initial HTML of ``/karta`` (Leaflet, h3-js and karta.js excluded)
``bytes_per_cell``     layer API bytes per cell for the demo data
``bytes_per_cell_50k`` the same for 50,000 synthetic cells (one response, uncoarsened)
``api_10k_ms``         median time of a cached 10,000-cell layer request
``first_frame_ms``     headless Chromium: navigation start to the first frame after all
                       layers are drawn
``load``               p50/p95 (ms) per endpoint with 50 concurrent clients (bounded)
                       against ``lagesbild serve`` in its own process (``load_2_processes``:
                       with ``--processes 2``)

Targets: shell ≤ 100 KB, ≤ 60 bytes per cell, 10,000-cell response ≤ 100 ms (cached).
Usage: ``.venv/bin/python benchmarks/web.py [--clients 50] [--requests 10]``.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import http.client
import json
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

WEEK = "2026-W47"


def _seed(app: Any) -> None:
    from analysis.demo import synthetic_reports
    from geo.store import bump_version
    from geo.store.reports import insert_reports
    from geo.tenants import seed_default_tenants
    from webmap.auth.views import create_user

    engine = app.extensions["lagesbild"].engine
    reports, _ = synthetic_reports(seed=0, weeks=26, end="2026-11-17 13:00")
    reports = reports.copy()
    reports["fingerprint"] = [
        hashlib.sha256(str(i).encode()).hexdigest() for i in range(len(reports))
    ]
    with engine.begin() as conn:
        seed_default_tenants(conn)
        insert_reports(conn, reports)
        bump_version(conn, "norrtalje")
        create_user(conn, "bench", "bench-password-1", "planner")


def _session_cookie(app: Any) -> str:
    import re

    client = app.test_client()
    html = client.get("/logga-in").get_data(as_text=True)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html).group(1)  # type: ignore[union-attr]
    resp = client.post(
        "/logga-in", data={"username": "bench", "password": "bench-password-1", "csrf_token": token}
    )
    assert resp.status_code == 302
    cookie = resp.headers["Set-Cookie"].split(";", 1)[0]
    return cookie


def _get(conn: http.client.HTTPConnection, path: str, cookie: str) -> tuple[int, bytes, float]:
    t0 = time.perf_counter()
    conn.request("GET", path, headers={"Cookie": cookie, "Accept": "application/json"})
    resp = conn.getresponse()
    body = resp.read()
    return resp.status, body, (time.perf_counter() - t0) * 1000


def _fake_result(n: int, week: str, version: int, seed: int = 0) -> Any:
    """A cached result with ``n`` cells around Norrtälje (for size and speed figures)."""
    from geo.cells import cells_to_strings, points_to_cells
    from webmap.results import CachedResult

    rng = np.random.default_rng(seed)
    cells: np.ndarray = np.zeros(0, np.uint64)
    spread = 0.05
    while len(cells) < n:
        m = n * 3
        lat = 59.76 + (rng.random(m) - 0.5) * spread
        lon = 18.70 + (rng.random(m) - 0.5) * spread * 2
        cells = np.unique(np.concatenate([cells, points_to_cells(lat, lon, 10)]))
        spread *= 1.5
    cells = np.sort(rng.choice(cells, n, replace=False))
    steps = 26
    frame = pd.DataFrame(
        {
            "cell_id": cells_to_strings(cells),
            "locality": "0188TC109",
            "pattern": "no_pattern",
            "pattern_sv": "inget mönster",
            "z": 0.0,
            "hot": False,
            "count": 1,
            "weighted": 1.0,
            "zone": None,
        }
    )
    z = rng.normal(size=(n, steps)).astype(np.float32)
    w = rng.poisson(1.0, size=(n, steps)) * rng.choice([0.3, 0.5, 1.0, 1.5, 3.0], (n, steps))
    w[:, -1] = np.maximum(w[:, -1], 0.5)  # every cell has reports in the final step
    meta = {
        "format": 1,
        "kommun": "norrtalje",
        "week": week,
        "version": version,
        "period_start": "2026-05-19T11:00:00+00:00",
        "period_end": "2026-11-17T12:00:00+00:00",
        "step_starts": [f"2026-05-{19 + i}" for i in range(steps)],
        "step_weeks": 1,
        "res": 10,
        "summary": {},
        "config": {},
    }
    return CachedResult(
        kommun="norrtalje",
        week=week,
        version=version,
        meta=meta,
        cells=frame,
        z=z,
        weighted=w.astype(np.float32),
        zones=[],
        localities=[],
    )


def _inject(app: Any, result: Any, week: str) -> None:
    """Put ``result`` into the app's result store under the key of (norrtalje, week)."""
    from geo.tenants import get_tenant
    from webmap.results import Filters, analysis_config, config_hash
    from webmap.web import result_store

    with app.test_request_context("/"):
        store = result_store()
    with app.extensions["lagesbild"].engine.connect() as conn:
        tenant = get_tenant(conn, "norrtalje")
    key = ("norrtalje", result.version, config_hash(analysis_config(tenant, week, Filters())))
    store._memory.put(key, result)


def _first_frame(base: str, cookie: str) -> float:
    from playwright.sync_api import sync_playwright

    name, value = cookie.split("=", 1)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path="/usr/bin/chromium",
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
                "--disable-quic",
            ],
        )
        context = browser.new_context()
        context.add_cookies([{"name": name, "value": value, "url": base}])
        page = context.new_page()
        times = []
        for _ in range(3):
            page.goto(f"{base}/karta?kommun=norrtalje&vecka={WEEK}")
            page.wait_for_function(
                "() => window.lagesbild && window.lagesbild.ready", timeout=60_000
            )
            t = page.evaluate(
                "() => new Promise(r => requestAnimationFrame(() => r(performance.now())))"
            )
            times.append(float(t))
        browser.close()
    return statistics.median(times[1:])  # first load warms the analysis cache


@contextlib.contextmanager
def _serve(cfg: dict[str, Any], processes: int) -> Iterator[int]:
    """``lagesbild serve`` on the benchmark's database; yields the port when it is ready."""
    import os
    import socket
    import subprocess

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = int(s.getsockname()[1])
    env = dict(
        os.environ,
        PYTHONPATH=str(ROOT),
        LAGESBILD_DATABASE_URL=cfg["DATABASE_URL"],
        LAGESBILD_INSTANCE_DIR=cfg["INSTANCE_DIR"],
        LAGESBILD_TILES="",
        LAGESBILD_RATELIMIT_ENABLED="false",
    )
    command = [sys.executable, "-c", "from webmap.cli import main; main()", "serve"]
    command += ["--port", str(port), "--processes", str(processes)]
    proc = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        ready = 0
        while ready < 3 * processes:  # several answers: every worker is up
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("lagesbild serve did not start")
            try:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
                status, _, _ = _get(conn, f"/api/karta/norrtalje/celler?vecka={WEEK}", "")
                conn.close()
                ready += status in (200, 401, 403)
            except OSError:
                time.sleep(0.2)
        yield port
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def _load(port: int, cookie: str, clients: int, per_client: int) -> dict[str, Any]:
    paths = {
        "karta": f"/karta?kommun=norrtalje&vecka={WEEK}",
        "tatorter": f"/api/karta/norrtalje/tatorter?vecka={WEEK}",
        "zoner": f"/api/karta/norrtalje/zoner?vecka={WEEK}",
        "celler": f"/api/karta/norrtalje/celler?vecka={WEEK}",
        "atgarder": "/api/karta/norrtalje/atgarder",
    }
    names = list(paths)
    lat: dict[str, list[float]] = {k: [] for k in names}
    errors: list[str] = []
    lock = threading.Lock()
    deadline = time.monotonic() + 120

    def worker(i: int) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        try:
            for j in range(per_client):
                if time.monotonic() > deadline:
                    break
                name = names[(i + j) % len(names)]
                status, _, ms = _get(conn, paths[name], cookie)
                with lock:
                    (lat[name].append(ms) if status == 200 else errors.append(f"{name}:{status}"))
        except OSError as exc:
            with lock:
                errors.append(str(exc))
        finally:
            conn.close()

    t0 = time.perf_counter()
    threads = [threading.Thread(target=worker, args=(i,)) for i in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(150)
    wall = time.perf_counter() - t0
    out: dict[str, Any] = {
        "clients": clients,
        "requests": sum(len(v) for v in lat.values()),
        "errors": len(errors),
        "seconds": round(wall, 2),
    }
    for name, values in lat.items():
        if values:
            arr = np.asarray(values)
            out[name] = {
                "p50_ms": round(float(np.percentile(arr, 50)), 1),
                "p95_ms": round(float(np.percentile(arr, 95)), 1),
            }
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--requests", type=int, default=10, help="requests per client")
    parser.add_argument("--no-browser", action="store_true")
    parser.add_argument(
        "--processes", type=int, default=2, help="also measure the load with N server processes"
    )
    args = parser.parse_args()

    from webmap.app import create_app
    from webmap.config import Config, load_config
    from webmap.render.layers import cells_payload
    from webmap.serving import BackgroundServer
    from webmap.web import json_bytes

    tmp = Path(tempfile.mkdtemp(prefix="lagesbild-bench-"))
    cfg = load_config(
        Config,
        env={},
        DATABASE_URL=f"sqlite:///{tmp / 'bench.db'}",
        INSTANCE_DIR=str(tmp / "instance"),
        TILES="",
        RATELIMIT_ENABLED=False,
    )
    app = create_app(cfg)
    _seed(app)
    cookie = _session_cookie(app)
    result: dict[str, Any] = {}
    with BackgroundServer(app, threads=8) as server:
        conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=120)
        status, body, ms = _get(conn, f"/api/karta/norrtalje/celler?vecka={WEEK}", cookie)
        assert status == 200
        result["analysis_first_request_ms"] = round(ms, 1)
        n = json.loads(body)["n"]
        result["demo_cells"] = n
        result["bytes_per_cell"] = round(len(body) / max(n, 1), 1)
        status, body, _ = _get(conn, f"/karta?kommun=norrtalje&vecka={WEEK}", cookie)
        assert status == 200
        result["shell_bytes"] = len(body)

        # 50,000 cells: size of one uncoarsened response
        big = _fake_result(50_000, "2026-W40", 1, seed=1)
        idx = np.arange(50_000)
        from geo.cells import strings_to_cells

        payload = cells_payload(
            strings_to_cells(big.cells["cell_id"].to_numpy()[idx]),
            big.weighted[:, -1],
            big.z[:, -1],
            max_cells=50_000,
        )
        result["bytes_per_cell_50k"] = round(len(json_bytes(payload)) / 50_000, 1)
        # the API coarsens a 50,000-cell view to at most 10,000 polygons
        version = (
            app.extensions["lagesbild"]
            .engine.connect()
            .execute(
                __import__("sqlalchemy").text(
                    "select version from data_version where kommun='norrtalje'"
                )
            )
            .scalar_one()
        )
        big.version = int(version)
        _inject(app, big, "2026-W40")
        status, body, _ = _get(conn, "/api/karta/norrtalje/celler?vecka=2026-W40", cookie)
        data = json.loads(body)
        result["view_50k"] = {
            "n": data["n"],
            "res": data["res"],
            "coarsened": data["coarsened"],
            "bytes": len(body),
        }

        # 10,000 cells, cached
        ten = _fake_result(10_000, "2026-W41", int(version), seed=2)
        _inject(app, ten, "2026-W41")
        times = []
        for _ in range(21):
            status, body, ms = _get(conn, "/api/karta/norrtalje/celler?vecka=2026-W41", cookie)
            assert status == 200
            times.append(ms)
        result["api_10k_ms"] = round(statistics.median(times[1:]), 1)
        result["api_10k_bytes"] = len(body)
        conn.close()
        if not args.no_browser:
            result["first_frame_ms"] = round(_first_frame(server.url.rstrip("/"), cookie), 1)
    # the concurrent load runs against ``lagesbild serve`` in its own process(es), so the
    # clients of this process do not share the server's interpreter
    for processes in sorted({1, args.processes}):
        key = "load" if processes == 1 else f"load_{processes}_processes"
        with _serve(cfg, processes) as port:
            result[key] = _load(port, cookie, args.clients, args.requests)
    result["targets"] = {"shell_bytes": 100_000, "bytes_per_cell": 60, "api_10k_ms": 100}
    print(json.dumps(result, ensure_ascii=False))


if __name__ == "__main__":
    main()
