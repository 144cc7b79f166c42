"""``lagesbild serve``: the production server, one process and several sharing a port."""

from __future__ import annotations

import json
import sqlite3
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import psutil
import pytest
from _servers import listening_pids, serve

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("processes", [1, 2])
def test_serve_answers_from_every_worker(tmp_path: Path, processes: int) -> None:
    proc, port = serve(tmp_path, processes)
    try:
        deadline = time.monotonic() + 60
        listeners: set[int] = set()
        while time.monotonic() < deadline and len(listeners) < processes:
            assert proc.poll() is None, proc.stderr.read().decode() if proc.stderr else ""
            listeners = listening_pids(proc, port)
            time.sleep(0.2)
        assert len(listeners) == processes
        if processes > 1:
            assert proc.pid not in listeners  # the parent only supervises
        for _ in range(20):  # new connections each time: the kernel spreads them
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=10) as r:
                assert r.status == 200
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=30) as r:
            assert "Norrtälje" in r.read().decode()
        # one secret key for all workers (sessions made by one are valid in the other)
        assert (tmp_path / "instance" / "secret_key").read_text().strip()
        assert not list((tmp_path / "instance").glob(".secret_key.*"))
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    assert proc.returncode in (0, -15)
    assert not _alive_children(listeners - {proc.pid})


def _alive_children(pids: set[int]) -> list[int]:
    time.sleep(0.5)
    return [p for p in pids if psutil.pid_exists(p) and psutil.Process(p).status() != "zombie"]


def _request(url: str, body: dict[str, object] | None = None, **headers: str) -> tuple[int, Any]:
    data = json.dumps(body).encode() if body is not None else None
    if data is not None:
        headers["Content-Type"] = "application/json"
    req = urllib.request.Request(url, data=data, headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:
            return resp.status, resp
    except urllib.error.HTTPError as exc:
        return exc.code, exc


@pytest.mark.parametrize("server", ["waitress", "granian"])
def test_each_server_replays_public_answers_and_limits_each_forwarded_client(
    tmp_path: Path, server: str
) -> None:
    args = ["--server", server, "--trusted-proxy", "127.0.0.1"]
    proc, port = serve(tmp_path, 1, args, LAGESBILD_CITIZEN_RATE_LIMIT="2/minute")
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while not listening_pids(proc, port) or _request(base + "/healthz")[0] != 200:
            assert proc.poll() is None and time.monotonic() < deadline
            time.sleep(0.2)
        answers = [_request(base + "/api/public/summary?kommun=norrtalje")[1] for _ in range(3)]
        assert {a.status for a in answers} == {200}
        assert len({a.headers["ETag"] for a in answers}) == 1
        assert len({a.headers["Content-Security-Policy"] for a in answers}) == 3
        assert answers[2].headers["X-Frame-Options"] == "DENY"
        report = {"category": "klotter", "lat": 59.7577, "lon": 18.6990}
        one = {"X-Forwarded-For": "198.51.100.1"}
        codes = [_request(base + "/api/reports", report, **one)[0] for _ in range(3)]
        assert codes == [201, 201, 429]  # counted per forwarded client address
        assert (
            _request(base + "/api/reports", report, **{"X-Forwarded-For": "198.51.100.2"})[0] == 201
        )
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    with sqlite3.connect(tmp_path / "db.sqlite") as conn:
        assert conn.execute("select count(*) from citizen_report").fetchone()[0] == 3


def test_only_the_trusted_proxy_may_forward_a_client_address() -> None:
    from webmap.cli.serve import TrustedProxy

    seen: list[dict[str, Any]] = []

    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        seen.append(dict(environ))
        start_response("200 OK", [])
        return [b""]

    layer = TrustedProxy(app, "127.0.0.1")
    forwarded = {"HTTP_X_FORWARDED_FOR": "10.0.0.9, 203.0.113.5", "HTTP_X_FORWARDED_PROTO": "https"}
    layer({"REMOTE_ADDR": "127.0.0.1", "wsgi.url_scheme": "http", **forwarded}, lambda *a: None)
    layer({"REMOTE_ADDR": "192.0.2.1", "wsgi.url_scheme": "http", **forwarded}, lambda *a: None)
    assert (seen[0]["REMOTE_ADDR"], seen[0]["wsgi.url_scheme"]) == ("203.0.113.5", "https")
    assert (seen[1]["REMOTE_ADDR"], seen[1]["wsgi.url_scheme"]) == ("192.0.2.1", "http")
    assert not [k for k in seen[1] if k.startswith("HTTP_X_FORWARDED")]
