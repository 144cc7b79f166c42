"""Public load benchmark: a shared link to the public map, 100 clients without think time.

Loads the demo data into a fresh SQLite database, runs ``lagesbild analyse`` (which also
stores the ready public payloads) and starts ``lagesbild serve`` in its own process(es)
(``--processes``, default 2, one per core) behind a simulated trusted proxy. Then
``--clients`` (default 100) clients, each with its own address (``X-Forwarded-For``) and
one keep-alive connection, send requests back to back for ``--duration`` seconds (closed
loop, no think time), in the mix:

=====================================  =====
``GET /``                              16 %
``GET /karta/publik``                  16 %
``GET /api/public/cells``              16 %
``GET /api/public/summary``            16 %
``GET /api/publik/<kommun>/celler``    16 %
``POST /api/reports`` (a submission)   20 %
=====================================  =====

The per-client rate limits are raised for the run (``--limit``), so the figure measures
the server, not the limiter (``benchmarks/load.py`` measures the limiter's behaviour).
Afterwards the database is checked: every accepted submission (201 with a receipt) must
be stored exactly once with its idempotency key.

Prints one JSON object: ``requests_per_s``, ``p50_ms``, ``p95_ms``, ``p99_ms`` (all
requests and per kind), ``errors``, ``submissions_sent``, ``submissions_accepted``,
``submissions_stored``, ``lost`` and ``duplicates_stored``. Usage::

    python benchmarks/public_load.py [--duration 30] [--clients 100] [--processes 2]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
sys.path.insert(1, str(ROOT))

from load import (  # noqa: E402
    HOST,
    _receipt,
    check_database,
    free_port,
    make_bodies,
    percentile,
    process_cpu_s,
    read_response,
    sample_points,
    stop_server,
    wait_ready,
)

KOMMUN = "norrtalje"
GETS = (
    ("index", "/"),
    ("karta_publik", f"/karta/publik?kommun={KOMMUN}"),
    ("api_public_cells", f"/api/public/cells?kommun={KOMMUN}"),
    ("api_public_summary", f"/api/public/summary?kommun={KOMMUN}"),
    ("api_publik_celler", f"/api/publik/{KOMMUN}/celler"),
)
SUBMIT_SHARE = 0.20


@dataclass
class Stats:
    latencies_ms: dict[str, list[float]] = field(default_factory=dict)
    statuses: dict[int, int] = field(default_factory=dict)
    accepted: dict[str, str] = field(default_factory=dict)  # receipt -> idempotency key
    submissions_sent: int = 0
    errors: int = 0
    error_samples: list[str] = field(default_factory=list)

    def error(self, text: str) -> None:
        self.errors += 1
        if len(self.error_samples) < 5:
            self.error_samples.append(text)


async def request(
    reader: asyncio.StreamReader,
    writer: asyncio.StreamWriter,
    method: str,
    path: str,
    headers: dict[str, str],
    body: bytes = b"",
) -> tuple[int, bytes]:
    """One HTTP/1.1 request on a keep-alive connection; returns (status, body)."""
    head = [f"{method} {path} HTTP/1.1", f"Host: {HOST}"]
    head += [f"{k}: {v}" for k, v in headers.items()]
    if method == "POST":
        head += ["Content-Type: application/json", f"Content-Length: {len(body)}"]
    writer.write(("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + body)
    await writer.drain()
    return await read_response(reader)


async def client(
    idx: int, port: int, deadline: float, bodies: list[bytes], run_id: str, stats: Stats
) -> None:
    rnd = random.Random(idx)
    addr = f"10.2.{idx // 250}.{idx % 250 + 1}"
    reader: asyncio.StreamReader | None = None
    writer: asyncio.StreamWriter | None = None
    n = 0
    try:
        while time.monotonic() < deadline:
            n += 1
            submit = rnd.random() < SUBMIT_SHARE
            headers = {"X-Forwarded-For": addr, "Accept": "application/json, text/html"}
            if submit:
                kind, path, method = "submission", "/api/reports", "POST"
                body = bodies[rnd.randrange(len(bodies))]
                headers["Idempotency-Key"] = f"{run_id}-{idx}-{n}"
                stats.submissions_sent += 1
            else:
                (kind, path), method, body = GETS[rnd.randrange(len(GETS))], "GET", b""
            t0 = time.perf_counter()
            try:
                if writer is None:
                    reader, writer = await asyncio.open_connection(HOST, port)
                assert reader is not None
                status, data = await asyncio.wait_for(
                    request(reader, writer, method, path, headers, body), timeout=30
                )
            except (ConnectionError, asyncio.IncompleteReadError, TimeoutError, OSError) as exc:
                stats.error(f"{kind}: {type(exc).__name__}: {exc}")
                if writer is not None:
                    writer.close()
                reader = writer = None
                continue
            ms = (time.perf_counter() - t0) * 1000
            stats.statuses[status] = stats.statuses.get(status, 0) + 1
            stats.latencies_ms.setdefault(kind, []).append(ms)
            ok = status == 201 if submit else status == 200
            if not ok:
                stats.error(f"{kind}: HTTP {status}: {data[:160]!r}")
            elif submit:
                stats.accepted[_receipt(data)] = headers["Idempotency-Key"]
    finally:
        if writer is not None:
            writer.close()


async def run_clients(port: int, clients: int, duration: float, stats: Stats) -> float:
    bodies = make_bodies(sample_points(5000))
    run_id = uuid.uuid4().hex[:12]
    start = time.monotonic()
    tasks = [client(i, port, start + duration, bodies, run_id, stats) for i in range(clients)]
    await asyncio.wait_for(asyncio.gather(*tasks), timeout=duration + 120)
    return time.monotonic() - start


def _summary(values: list[float]) -> dict[str, float | None]:
    if not values:
        return {"p50_ms": None, "p95_ms": None, "p99_ms": None}
    return {
        "p50_ms": round(statistics.median(values), 1),
        "p95_ms": round(percentile(values, 95), 1),
        "p99_ms": round(percentile(values, 99), 1),
    }


def _citizen_rows(db_url: str) -> int:
    from sqlalchemy import create_engine, func, select

    from geo.store.tables import citizen_report

    engine = create_engine(db_url)
    with engine.connect() as conn:
        n = int(conn.execute(select(func.count()).select_from(citizen_report)).scalar_one())
    engine.dispose()
    return n


def main() -> dict[str, Any]:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--duration", type=float, default=30.0)
    ap.add_argument("--clients", type=int, default=100)
    ap.add_argument("--processes", type=int, default=2)
    ap.add_argument("--threads", type=int, default=4)
    ap.add_argument("--limit", default="100000/minute", help="per-client limits of the run")
    ap.add_argument("--keep", action="store_true")
    args = ap.parse_args()
    if not 1 <= args.duration <= 600:
        ap.error("--duration must be 1-600 s")

    tmp = Path(tempfile.mkdtemp(prefix="lagesbild-public-load-"))
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    settings = {
        "DATABASE_URL": f"sqlite:///{tmp / 'public.db'}",
        "INSTANCE_DIR": str(tmp / "instance"),
        "TILES": "",
        "CITIZEN_RATE_LIMIT": args.limit,
        "API_READ_RATE_LIMIT": args.limit,
        "RECEIPT_RATE_LIMIT": args.limit,
    }
    env.update({f"LAGESBILD_{k}": v for k, v in settings.items()})
    env["LAGESBILD_SESSION_COOKIE_SECURE"] = "true"
    cli = [sys.executable, "-c", "from webmap.cli import main; main()"]
    t0 = time.perf_counter()
    for step in (["db", "upgrade"], ["demo", "load"], ["analyse", "--kommun", KOMMUN]):
        subprocess.run(cli + step, env=env, cwd=tmp, check=True, capture_output=True)
    prepare_s = time.perf_counter() - t0

    before = _citizen_rows(settings["DATABASE_URL"])
    port = free_port()
    command = cli + ["serve", "--host", HOST, "--port", str(port)]
    command += ["--threads", str(args.threads), "--processes", str(args.processes)]
    command += ["--trusted-proxy", HOST, "--connection-limit", str(args.clients + 100)]
    log = (tmp / "server.log").open("wb")
    proc = subprocess.Popen(command, cwd=tmp, env=env, stdout=subprocess.DEVNULL, stderr=log)
    stats = Stats()
    load0 = os.getloadavg()[0]
    try:
        workers = wait_ready(port, proc, args.processes)
        cpu0 = sum(process_cpu_s(pid) for pid in workers)
        elapsed = asyncio.run(run_clients(port, args.clients, args.duration, stats))
        server_cpu = sum(process_cpu_s(pid) for pid in workers) - cpu0
    finally:
        stop_server(proc)
        log.close()
    stats.accepted.pop("", None)
    check = check_database(settings["DATABASE_URL"], stats.accepted)
    every = [v for values in stats.latencies_ms.values() for v in values]
    total = sum(stats.statuses.values())
    result = {
        "benchmark": "public_load",
        "duration_s": round(elapsed, 2),
        "clients": args.clients,
        "server": f"lagesbild serve: waitress {args.threads} threads x {args.processes} processes",
        "requests": total,
        "requests_per_s": round(total / elapsed, 1),
        **_summary(every),
        "by_kind": {k: {"n": len(v), **_summary(v)} for k, v in sorted(stats.latencies_ms.items())},
        "errors": stats.errors,
        "error_samples": stats.error_samples,
        "statuses": {str(k): v for k, v in sorted(stats.statuses.items())},
        "submissions_sent": stats.submissions_sent,
        "submissions_accepted": len(stats.accepted),
        "submissions_stored": check["stored_rows"] - before,
        "lost": check["lost"],
        "duplicates_stored": check["duplicates_stored"] + check["wrong_key"],
        "server_cpu_ms_per_request": round(server_cpu * 1000 / max(total, 1), 2),
        "prepare_s": round(prepare_s, 1),
        "load_average_1m": [round(load0, 2), round(os.getloadavg()[0], 2)],
        "cpu_count": os.cpu_count(),
        "python": platform.python_version(),
    }
    if args.keep:
        result["workdir"] = str(tmp)
    else:
        shutil.rmtree(tmp, ignore_errors=True)
    print(json.dumps(result, ensure_ascii=False))
    return result


if __name__ == "__main__":
    main()
