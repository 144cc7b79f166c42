"""``lagesbild serve``: the production server, one process and several sharing a port."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import psutil
import pytest

ROOT = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _listeners(proc: subprocess.Popen[bytes], port: int) -> set[int]:
    tree = [psutil.Process(proc.pid), *psutil.Process(proc.pid).children(recursive=True)]
    out = set()
    for p in tree:
        try:
            conns = p.net_connections(kind="tcp")
        except psutil.NoSuchProcess:
            continue
        if any(c.status == psutil.CONN_LISTEN and c.laddr.port == port for c in conns):
            out.add(p.pid)
    return out


@pytest.mark.parametrize("processes", [1, 2])
def test_serve_answers_from_every_worker(tmp_path: Path, processes: int) -> None:
    port = _free_port()
    env = dict(
        os.environ,
        PYTHONPATH=str(ROOT),
        LAGESBILD_DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite'}",
        LAGESBILD_INSTANCE_DIR=str(tmp_path / "instance"),
        LAGESBILD_TILES="",
    )
    cmd = [sys.executable, "-c", "from webmap.cli import main; main()", "serve"]
    cmd += ["--port", str(port), "--processes", str(processes), "--threads", "2"]
    proc = subprocess.Popen(cmd, env=env, cwd=tmp_path, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 60
        listeners: set[int] = set()
        while time.monotonic() < deadline and len(listeners) < processes:
            assert proc.poll() is None, proc.stderr.read().decode() if proc.stderr else ""
            listeners = _listeners(proc, port)
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
