"""Load benchmark: concurrent simulated citizens submitting reports to the production server.

Starts the production server, ``lagesbild serve`` (waitress, secure cookies as in
``ProductionConfig``), on the loopback interface with a fresh SQLite database (WAL):
``--processes`` worker processes (default 2, one per core; they share the port with
``SO_REUSEPORT``), ``--threads`` threads each (default
1: with one thread per process no thread waits for the GIL while it holds SQLite's
write lock). Then ``--clients`` simulated citizens (asyncio, one keep-alive connection
each) submit for ``--duration`` seconds: ``POST /api/reports`` (JSON, a new
``Idempotency-Key``) with a random position inside Norrtälje tätort, then a pause
(``--think-ms``, uniform between 0 and twice the mean); every 10th request re-sends the
previous one (same key) and must get the same receipt back without a second row.

Rate limiting stays on (storage ``lagesbild-memory://``, see
:mod:`webmap.ratelimit_storage`; ``--storage memory://`` for limits' own). The server
trusts ``X-Forwarded-For`` from 127.0.0.1 (``--trusted-proxy``), as behind a
reverse proxy; each citizen has its own simulated address and the per-client limit of the
run (``--limit``, default 300/minute) is above what one citizen sends, so the figure
measures the server, not the limiter. One extra "abuser" address (one connection, several
requests a second) exceeds it and is expected to receive 429s (``deliberate_429``, not errors).

After the run the database is checked: every accepted receipt must be stored exactly
once with its idempotency key (``lost``: receipts not found; ``duplicates_stored``).

Prints one JSON object with ``accepted_per_s``, ``p50_ms``, ``p95_ms``, ``p99_ms``,
``errors`` (anything but 200/201 and the abuser's 429s) and ``lost``. Usage::

    python benchmarks/load.py [--duration 60] [--clients 200] [--processes 2]

Loops are bounded by ``--duration`` (and a hard timeout); only 127.0.0.1 is contacted.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import os
import platform
import random
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
HOST = "127.0.0.1"
#: The one simulated address that exceeds the per-client limit on purpose (429s expected).
ABUSER_ADDRESS = "10.255.0.1"
ABUSER_CONNECTIONS = 1
#: Pause of the abuser between requests (s): several requests a second, above the limit.
ABUSER_PAUSE = 0.02
CATEGORIES = ("otrygg_plats", "skadegorelse", "klotter", "nedskrapning", "belysning", "trafik")
TEXTS = (
    "Mörkt och otryggt här på kvällarna.",
    "Krossade flaskor vid bänkarna.",
    "",
    "Gatlyktan har varit trasig i två veckor.",
    "Mopeder kör fort genom parken.",
)


@dataclass
class Stats:
    latencies_ms: list[float] = field(default_factory=list)
    done_at: list[float] = field(default_factory=list)
    accepted: dict[str, str] = field(default_factory=dict)  # receipt -> idempotency key
    statuses: dict[int, int] = field(default_factory=dict)
    replays_ok: int = 0
    replays_bad: int = 0
    errors: int = 0
    deliberate_429: int = 0
    abuser_ok: int = 0
    error_samples: list[str] = field(default_factory=list)


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


def sample_points(n: int, seed: int = 7) -> list[tuple[float, float]]:
    """``n`` random points inside Norrtälje tätort (the shipped approximate polygon)."""
    import numpy as np
    import shapely

    from geo.boundaries import load_boundaries

    loc = load_boundaries("locality", "norrtalje")
    poly = loc.loc[loc["code"] == "0188TC109", "geometry"].iloc[0]
    rng = np.random.default_rng(seed)
    minx, miny, maxx, maxy = poly.bounds
    out: list[tuple[float, float]] = []
    while len(out) < n:
        x = rng.uniform(minx, maxx, 4 * n)
        y = rng.uniform(miny, maxy, 4 * n)
        inside = shapely.contains_xy(poly, x, y)
        out.extend(zip(y[inside].tolist(), x[inside].tolist(), strict=True))
    return out[:n]


async def http_post(
    reader: asyncio.StreamReader,
    writer: asyncio.StreamWriter,
    path: str,
    body: bytes,
    headers: dict[str, str],
    keepalive: bool = True,
) -> tuple[int, bytes]:
    """One HTTP/1.1 POST; returns (status, body)."""
    head = [f"POST {path} HTTP/1.1", f"Host: {HOST}", "Content-Type: application/json"]
    if not keepalive:
        head.append("Connection: close")
    head += [f"{k}: {v}" for k, v in headers.items()]
    head.append(f"Content-Length: {len(body)}")
    writer.write(("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + body)
    await writer.drain()
    return await read_response(reader, keepalive)


async def read_response(reader: asyncio.StreamReader, keepalive: bool = True) -> tuple[int, bytes]:
    """Status and body of one HTTP/1.1 response (``Content-Length`` or chunked)."""
    status_line = await reader.readline()
    if not status_line:
        raise ConnectionError("connection closed")
    status = int(status_line.split()[1])
    length, chunked, close = 0, False, False
    while True:
        line = await reader.readline()
        if line in (b"\r\n", b"\n", b""):
            break
        name, _, value = line.decode("latin-1").partition(":")
        name, value = name.strip().lower(), value.strip().lower()
        if name == "content-length":
            length = int(value)
        elif name == "transfer-encoding" and "chunked" in value:
            chunked = True
        elif name == "connection" and value == "close":
            close = True
    if chunked:
        parts = []
        while size := int((await reader.readline()).strip() or b"0", 16):
            parts.append(await reader.readexactly(size))
            await reader.readline()
        await reader.readline()
        data = b"".join(parts)
    else:
        data = await reader.readexactly(length) if length else b""
    if close and keepalive:
        raise ConnectionResetError("server closed the connection")
    return status, data


_RECEIPT = re.compile(rb'"receipt":\s*"([0-9A-Z-]+)"')


def _receipt(data: bytes) -> str:
    m = _RECEIPT.search(data)
    return m.group(1).decode() if m else ""


def make_bodies(points: list[tuple[float, float]], n: int = 2000, seed: int = 11) -> list[bytes]:
    """Pre-built request bodies (random position, category and text)."""
    rnd = random.Random(seed)
    out = []
    for _ in range(n):
        lat, lon = points[rnd.randrange(len(points))]
        payload = {
            "category": rnd.choice(CATEGORIES),
            "lat": round(lat, 6),
            "lon": round(lon, 6),
            "description": rnd.choice(TEXTS),
        }
        out.append(json.dumps(payload).encode())
    return out


async def citizen(
    idx: int,
    port: int,
    deadline: float,
    bodies: list[bytes],
    run_id: str,
    stats: Stats,
    think_s: float,
    keepalive: bool,
    abuser: bool = False,
) -> None:
    rnd = random.Random(idx)
    # one simulated address per citizen (behind the trusted proxy); the abuser shares one
    addr = ABUSER_ADDRESS if abuser else f"10.1.{idx // 250}.{idx % 250 + 1}"
    await asyncio.sleep(rnd.uniform(0, think_s))  # citizens do not all start at once
    reader: asyncio.StreamReader | None = None
    writer: asyncio.StreamWriter | None = None
    last: tuple[bytes, dict[str, str], str] | None = None
    n = 0
    try:
        while time.monotonic() < deadline:
            n += 1
            replay = last is not None and n % 10 == 0 and not abuser
            if replay:
                assert last is not None
                body, headers, expected = last
            else:
                body = bodies[rnd.randrange(len(bodies))]
                headers = {"Idempotency-Key": f"{run_id}-{idx}-{n}", "X-Forwarded-For": addr}
                expected = ""
            t0 = time.perf_counter()
            try:
                if writer is None:
                    reader, writer = await asyncio.open_connection(HOST, port)
                assert reader is not None
                status, data = await asyncio.wait_for(
                    http_post(reader, writer, "/api/reports", body, headers, keepalive),
                    timeout=30,
                )
            except (ConnectionError, asyncio.IncompleteReadError, TimeoutError, OSError) as exc:
                stats.errors += 1
                if len(stats.error_samples) < 5:
                    stats.error_samples.append(f"{type(exc).__name__}: {exc}")
                if writer is not None:
                    writer.close()
                reader = writer = None
                continue
            finally:
                if not keepalive and writer is not None:
                    writer.close()
                    reader = writer = None
            ms = (time.perf_counter() - t0) * 1000
            stats.statuses[status] = stats.statuses.get(status, 0) + 1
            if abuser:
                if status == 429:
                    stats.deliberate_429 += 1
                elif status in (200, 201):
                    stats.abuser_ok += 1
                    stats.accepted[_receipt(data)] = headers["Idempotency-Key"]
                else:
                    stats.errors += 1
                await asyncio.sleep(ABUSER_PAUSE)
                continue
            if think_s:
                await asyncio.sleep(rnd.uniform(0, 2 * think_s))
            if replay:
                receipt = _receipt(data) if status == 200 else ""
                if receipt and receipt == expected:
                    stats.replays_ok += 1
                else:
                    stats.replays_bad += 1
                    stats.errors += 1
                continue
            if status == 201 and _receipt(data):
                receipt = _receipt(data)
                stats.accepted[receipt] = headers["Idempotency-Key"]
                stats.latencies_ms.append(ms)
                stats.done_at.append(time.monotonic())
                last = (body, headers, receipt)
            else:
                stats.errors += 1
                if len(stats.error_samples) < 5:
                    stats.error_samples.append(f"HTTP {status}: {data[:200]!r}")
    finally:
        if writer is not None:
            writer.close()


async def run_clients(
    port: int, clients: int, duration: float, think_s: float, keepalive: bool, stats: Stats
) -> tuple[float, float]:
    bodies = make_bodies(sample_points(5000))
    run_id = uuid.uuid4().hex[:12]
    start = time.monotonic()
    deadline = start + duration
    tasks = [
        citizen(i, port, deadline, bodies, run_id, stats, think_s, keepalive)
        for i in range(clients)
    ]
    tasks += [
        citizen(clients + j, port, deadline, bodies, run_id, stats, 0.0, True, abuser=True)
        for j in range(ABUSER_CONNECTIONS)
    ]
    await asyncio.wait_for(asyncio.gather(*tasks), timeout=duration + 120)
    return time.monotonic() - start, start


def wait_ready(
    port: int, proc: subprocess.Popen[bytes], processes: int, timeout: float = 90.0
) -> list[int]:
    """Wait until ``/healthz`` answers and every worker listens; return the workers' pids."""
    import urllib.request

    import psutil

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError("server exited early")
        try:
            with urllib.request.urlopen(f"http://{HOST}:{port}/healthz", timeout=2) as r:
                healthy = r.status == 200
        except OSError:
            healthy = False
        if healthy:
            tree = [psutil.Process(proc.pid), *psutil.Process(proc.pid).children(recursive=True)]
            listening = [
                p.pid
                for p in tree
                if any(
                    c.status == psutil.CONN_LISTEN and c.laddr and c.laddr.port == port
                    for c in p.net_connections(kind="tcp")
                )
            ]
            if len(listening) >= processes:
                return listening
        time.sleep(0.2)
    raise TimeoutError("server did not start")


def stop_server(proc: subprocess.Popen[bytes]) -> None:
    """Terminate the server (its workers follow) and wait for it; kill it if it hangs."""
    proc.terminate()
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def process_cpu_s(pid: int) -> float:
    """User + system CPU seconds of a process (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = os.sysconf("SC_CLK_TCK")
    return (int(fields[11]) + int(fields[12])) / ticks


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    idx = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[idx]


def check_database(db_url: str, accepted: dict[str, str]) -> dict[str, int]:
    """Every accepted receipt stored exactly once with its idempotency key."""
    from sqlalchemy import create_engine, func, select

    from geo.store.tables import citizen_report

    engine = create_engine(db_url)
    with engine.connect() as conn:
        rows = conn.execute(
            select(citizen_report.c.receipt, citizen_report.c.idempotency_key)
        ).all()
        total = conn.execute(select(func.count()).select_from(citizen_report)).scalar_one()
    engine.dispose()
    stored = {}
    for receipt, key in rows:
        stored[receipt] = key
    lost = 0
    wrong_key = 0
    for receipt, key in accepted.items():
        if receipt not in stored:
            lost += 1
        elif stored[receipt] != hashlib.sha256(f"api\x1f{key}".encode()).hexdigest():
            wrong_key += 1
    keys = [k for _r, k in rows]
    return {
        "stored_rows": int(total),
        "lost": lost,
        "wrong_key": wrong_key,
        "duplicates_stored": len(keys) - len(set(keys)),
        "unaccounted_rows": int(total) - (len(accepted) - lost),
    }


def main(argv: list[str] | None = None) -> dict[str, Any]:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--duration", type=float, default=60.0, help="seconds of load (default 60)")
    ap.add_argument("--clients", type=int, default=200, help="simulated citizens (default 200)")
    ap.add_argument("--threads", type=int, default=1, help="waitress threads per process")
    ap.add_argument(
        "--limit",
        default="180/minute",
        help="per-client rate limit during the run ('off' disables the limiter)",
    )
    ap.add_argument(
        "--keepalive",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="citizens keep their connection open between submissions (default yes)",
    )
    ap.add_argument("--keep", action="store_true", help="keep the database and server log")
    ap.add_argument(
        "--storage",
        default="lagesbild-memory://",
        help="rate-limit storage URI (default lagesbild-memory://; memory:// is limits' own)",
    )
    ap.add_argument(
        "--processes",
        type=int,
        default=2,
        help="waitress processes sharing the port (SO_REUSEPORT); default 2 (one per core)",
    )
    ap.add_argument(
        "--think-ms",
        type=float,
        default=500.0,
        help="mean pause of a citizen between submissions (uniform 0..2x; default 500)",
    )
    args = ap.parse_args(argv)
    if not 1 <= args.duration <= 600:
        ap.error("--duration must be 1-600 s")

    sys.path.insert(0, str(ROOT))
    from geo.tenants import seed_default_tenants
    from webmap.config import ProductionConfig, load_config
    from webmap.db import open_database

    tmp = Path(tempfile.mkdtemp(prefix="lagesbild-load-"))
    db_url = f"sqlite:///{tmp / 'load.db'}"
    app_cfg = {
        "DATABASE_URL": db_url,
        "INSTANCE_DIR": str(tmp / "instance"),
        "TILES": "",
        "CITIZEN_RATE_LIMIT": args.limit if args.limit != "off" else "1/minute",
        "RATELIMIT_ENABLED": args.limit != "off",
        "RATELIMIT_STORAGE_URI": args.storage,
    }
    engine = open_database(load_config(ProductionConfig, env={}, **app_cfg))
    with engine.begin() as conn:
        seed_default_tenants(conn)
    engine.dispose()

    port = free_port()
    # the production command itself: ``lagesbild serve`` with its worker processes
    command = [
        sys.executable,
        "-c",
        "from webmap.cli import main; main()",
        "serve",
        "--host",
        HOST,
        "--port",
        str(port),
        "--threads",
        str(args.threads),
        "--processes",
        str(args.processes),
        "--trusted-proxy",
        HOST,
        "--connection-limit",
        str(args.clients + 100),
    ]
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    env.update({f"LAGESBILD_{k}": str(v) for k, v in app_cfg.items()})
    env["LAGESBILD_SESSION_COOKIE_SECURE"] = "true"  # ProductionConfig
    log_path = tmp / "server.log"
    log = log_path.open("wb")
    proc = subprocess.Popen(command, cwd=str(tmp), env=env, stdout=subprocess.DEVNULL, stderr=log)
    stats = Stats()
    try:
        workers = wait_ready(port, proc, args.processes)
        cpu0 = sum(process_cpu_s(pid) for pid in workers)
        client0 = time.process_time()
        elapsed, started = asyncio.run(
            run_clients(
                port, args.clients, args.duration, args.think_ms / 1000, args.keepalive, stats
            )
        )
        server_cpu = sum(process_cpu_s(pid) for pid in workers) - cpu0
        client_cpu = time.process_time() - client0
    finally:
        stop_server(proc)
        log.close()
    err = log_path.read_bytes()
    check = check_database(db_url, stats.accepted)
    lat = stats.latencies_ms
    accepted = len(stats.accepted) - stats.abuser_ok
    result = {
        "benchmark": "load",
        "duration_s": round(elapsed, 2),
        "clients": args.clients,
        "server": f"waitress {args.threads} threads x {args.processes} process(es), SQLite WAL",
        "per_client_limit": args.limit,
        "limit_storage": args.storage,
        "think_ms_mean": args.think_ms,
        "keepalive": args.keepalive,
        "requests": sum(stats.statuses.values()),
        "accepted": accepted,
        "accepted_per_s": round(accepted / elapsed, 1),
        "p50_ms": round(statistics.median(lat), 1) if lat else None,
        "p95_ms": round(percentile(lat, 95), 1) if lat else None,
        "p99_ms": round(percentile(lat, 99), 1) if lat else None,
        "accepted_per_s_by_10s": [
            round(sum(1 for t in stats.done_at if lo <= t - started < lo + 10) / 10, 1)
            for lo in range(0, int(args.duration), 10)
        ],
        "errors": stats.errors,
        "error_samples": stats.error_samples,
        "deliberate_429": stats.deliberate_429,
        "idempotent_replays": stats.replays_ok,
        "lost": check["lost"],
        "duplicates_stored": check["duplicates_stored"] + check["wrong_key"],
        "stored_rows": check["stored_rows"],
        "unaccounted_rows": check["unaccounted_rows"],
        "statuses": {str(k): v for k, v in sorted(stats.statuses.items())},
        "server_cpu_ms_per_request": round(
            server_cpu * 1000 / max(sum(stats.statuses.values()), 1), 2
        ),
        "client_cpu_s_per_s": round(client_cpu / elapsed, 2),
        "load_average_1m": round(os.getloadavg()[0], 2),
        "cpu_count": os.cpu_count(),
        "python": platform.python_version(),
        "server_log_has_client_address": re.search(rb"\b10\.\d+\.\d+\.\d+\b", err) is not None,
    }
    if not args.keep:
        shutil.rmtree(tmp, ignore_errors=True)
    else:
        result["workdir"] = str(tmp)
    print(json.dumps(result))
    return result


if __name__ == "__main__":
    main()
