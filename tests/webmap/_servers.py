"""Helpers for tests that start real server processes (not a test module)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    """A TCP port on 127.0.0.1 that is free right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def listening_pids(proc: subprocess.Popen[bytes], port: int) -> set[int]:
    """Pids of ``proc`` and its children that listen on ``port``."""
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


def serve(
    tmp_path: Path, processes: int, args: Sequence[str] = (), **env: str
) -> tuple[subprocess.Popen[bytes], int]:
    """Start ``lagesbild serve`` on a fresh database in ``tmp_path``; returns (process, port).

    ``args`` are more options of ``serve``; ``env`` adds ``LAGESBILD_*`` settings. The
    caller terminates the process.
    """
    port = free_port()
    full = dict(
        os.environ,
        PYTHONPATH=str(ROOT),
        LAGESBILD_DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite'}",
        LAGESBILD_INSTANCE_DIR=str(tmp_path / "instance"),
        LAGESBILD_TILES="",
        **env,
    )
    cmd = [sys.executable, "-c", "from webmap.cli import main; main()", "serve"]
    cmd += ["--port", str(port), "--processes", str(processes), "--threads", "2", *args]
    return subprocess.Popen(cmd, env=full, cwd=tmp_path, stderr=subprocess.PIPE), port
