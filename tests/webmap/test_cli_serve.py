"""``lagesbild serve``: the production server, one process and several sharing a port."""

from __future__ import annotations

import time
import urllib.request
from pathlib import Path

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
