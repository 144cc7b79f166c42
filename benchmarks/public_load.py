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

The clients are ``wrk`` (Debian package ``wrk``, a C load generator: the clients then
cost the shared cores almost nothing, see ``benchmarks/_wrk.py``) when it is installed,
else Python asyncio clients (``--client`` chooses; the JSON says which ran). With ``wrk``
the latencies are of all requests together (``by_kind`` only with the Python clients),
and the client addresses rotate over one address per connection.

The server's CPU is measured per request for GETs and submissions apart: after the mixed
run, ``--split`` seconds (default 8) of GETs only and then of submissions only, each
with the same clients.

The server is ``lagesbild serve --server granian`` (HTTP in Rust, the app in Python
threads), the configuration for a public map that may be linked from a newspaper;
``--server waitress`` measures the pure-Python default.

Prints one JSON object: ``requests_per_s``, ``p50_ms``, ``p95_ms``, ``p99_ms`` (all
requests and per kind), ``errors``, ``submissions_sent``, ``submissions_accepted``,
``submissions_stored``, ``lost`` and ``duplicates_stored``. Usage::

    python benchmarks/public_load.py [--duration 30] [--clients 100] [--processes 2]
        [--client auto|wrk|python] [--split 8]
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

from _wrk import run_wrk, wrk_path  # noqa: E402
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
    idx: int,
    port: int,
    deadline: float,
    bodies: list[bytes],
    run_id: str,
    submit_share: float,
    stats: Stats,
) -> None:
    rnd = random.Random(idx)
    addr = f"10.2.{idx // 250}.{idx % 250 + 1}"
    reader: asyncio.StreamReader | None = None
    writer: asyncio.StreamWriter | None = None
    n = 0
    try:
        while time.monotonic() < deadline:
            n += 1
            submit = rnd.random() < submit_share
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


async def run_clients(
    port: int, clients: int, duration: float, stats: Stats, submit_share: float = SUBMIT_SHARE
) -> float:
    bodies = make_bodies(sample_points(5000))
    run_id = uuid.uuid4().hex[:12]
    start = time.monotonic()
    tasks = [
        client(i, port, start + duration, bodies, run_id, submit_share, stats)
        for i in range(clients)
    ]
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


def python_mix(port: int, clients: int, duration: float, submit_share: float) -> dict[str, Any]:
    """The mix through Python asyncio clients (one connection per client)."""
    stats = Stats()
    elapsed = asyncio.run(run_clients(port, clients, duration, stats, submit_share))
    stats.accepted.pop("", None)
    every = [v for values in stats.latencies_ms.values() for v in values]
    return {
        "elapsed": elapsed,
        "requests": sum(stats.statuses.values()),
        **_summary(every),
        "by_kind": {k: {"n": len(v), **_summary(v)} for k, v in sorted(stats.latencies_ms.items())},
        "errors": stats.errors,
        "error_samples": stats.error_samples,
        "statuses": {str(k): v for k, v in sorted(stats.statuses.items())},
        "submissions_sent": stats.submissions_sent,
        "accepted": stats.accepted,
    }


def wrk_mix(
    port: int, clients: int, duration: float, submit_share: float, workdir: Path
) -> dict[str, Any]:
    """The mix through ``wrk`` (see ``benchmarks/_wrk.py``)."""
    paths = [path for _kind, path in GETS]
    bodies = make_bodies(sample_points(5000))
    out = run_wrk(
        port,
        HOST,
        paths,
        bodies,
        uuid.uuid4().hex[:12],
        workdir,
        clients=clients,
        duration=duration,
        submit_share=submit_share,
    )
    sock = sum(out["socket_errors"].values())
    return {
        "elapsed": out["duration_us"] / 1e6,
        "requests": out["requests"],
        "p50_ms": round(out["p50_us"] / 1000, 1),
        "p95_ms": round(out["p95_us"] / 1000, 1),
        "p99_ms": round(out["p99_us"] / 1000, 1),
        "mean_ms": round(out["mean_us"] / 1000, 1),
        "errors": out["bad"] + sock,
        "error_samples": out["samples"],
        "socket_errors": out["socket_errors"],
        "submissions_sent": out["sent"],
        "accepted": {r: None for r in out["receipts"]},
        "wrk_version": out["version"],
    }


def check_stored(db_url: str, accepted: dict[str, str | None]) -> dict[str, int]:
    """:func:`load.check_database`; receipts without a known key are checked by receipt."""
    if all(key is not None for key in accepted.values()):
        return check_database(db_url, accepted)  # type: ignore[arg-type]
    out = check_database(db_url, {})
    from sqlalchemy import create_engine, select

    from geo.store.tables import citizen_report

    engine = create_engine(db_url)
    with engine.connect() as conn:
        stored = {r for (r,) in conn.execute(select(citizen_report.c.receipt))}
    engine.dispose()
    out["lost"] = sum(1 for r in accepted if r not in stored)
    return out


def server_tree(pid: int) -> list[int]:
    """The server process and all its children (their CPU is the server's)."""
    import psutil

    root = psutil.Process(pid)
    return [root.pid, *(p.pid for p in root.children(recursive=True))]


def main() -> dict[str, Any]:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--duration", type=float, default=30.0)
    ap.add_argument("--clients", type=int, default=100)
    ap.add_argument("--processes", type=int, default=2)
    ap.add_argument("--threads", type=int, default=4)
    ap.add_argument("--server", choices=("waitress", "granian"), default="granian")
    ap.add_argument("--client", choices=("auto", "wrk", "python"), default="auto")
    ap.add_argument("--split", type=float, default=8.0, help="seconds of GET-only/POST-only")
    ap.add_argument("--limit", default="100000/minute", help="per-client limits of the run")
    ap.add_argument("--keep", action="store_true")
    args = ap.parse_args()
    if not 1 <= args.duration <= 600:
        ap.error("--duration must be 1-600 s")
    kind = args.client if args.client != "auto" else ("wrk" if wrk_path() else "python")
    if kind == "wrk" and not wrk_path():
        ap.error("wrk is not installed (apt-get install wrk)")

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

    def mix(duration: float, share: float) -> dict[str, Any]:
        if kind == "wrk":
            return wrk_mix(port, args.clients, duration, share, tmp)
        return python_mix(port, args.clients, duration, share)

    before = _citizen_rows(settings["DATABASE_URL"])
    port = free_port()
    command = cli + ["serve", "--host", HOST, "--port", str(port)]
    command += ["--threads", str(args.threads), "--processes", str(args.processes)]
    command += ["--trusted-proxy", HOST, "--connection-limit", str(args.clients + 100)]
    command += ["--server", args.server]
    log = (tmp / "server.log").open("wb")
    proc = subprocess.Popen(command, cwd=tmp, env=env, stdout=subprocess.DEVNULL, stderr=log)
    load0 = os.getloadavg()[0]
    split: dict[str, Any] = {}
    try:
        wait_ready(port, proc, args.processes)
        time.sleep(1.0)  # every worker started: count the CPU of the whole process tree
        workers = server_tree(proc.pid)

        def cpu() -> float:
            return sum(process_cpu_s(pid) for pid in workers)

        cpu0 = cpu()
        out = mix(args.duration, SUBMIT_SHARE)
        server_cpu = cpu() - cpu0
        accepted = out.pop("accepted")
        check = check_stored(settings["DATABASE_URL"], accepted)
        for name, share in (("get", 0.0), ("post", 1.0)) if args.split > 0 else ():
            c0 = cpu()
            part = mix(args.split, share)
            split[name] = {
                "requests_per_s": round(part["requests"] / part["elapsed"], 1),
                "p95_ms": part["p95_ms"],
                "errors": part["errors"],
                "error_samples": part["error_samples"][:2],
                "server_cpu_ms_per_request": round(
                    (cpu() - c0) * 1000 / max(part["requests"], 1), 2
                ),
            }
    finally:
        stop_server(proc)
        log.close()
    elapsed = out.pop("elapsed")
    total = out["requests"]
    label = f"wrk {out.pop('wrk_version', '')}".strip() if kind == "wrk" else "python asyncio"
    result = {
        "benchmark": "public_load",
        "client": label,
        "duration_s": round(elapsed, 2),
        "clients": args.clients,
        "server": f"lagesbild serve: {args.server} {args.threads} threads x "
        f"{args.processes} processes",
        "requests_per_s": round(total / elapsed, 1),
        **out,
        "submissions_accepted": len(accepted),
        "submissions_stored": check["stored_rows"] - before,
        "lost": check["lost"],
        "duplicates_stored": check["duplicates_stored"] + check["wrong_key"],
        "server_cpu_ms_per_request": round(server_cpu * 1000 / max(total, 1), 2),
        "by_method": split,
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
