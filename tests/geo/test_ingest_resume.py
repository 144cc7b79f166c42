"""An import killed with SIGKILL resumes and ends with exactly the right counts.

The kill is deterministic: ``LAGESBILD_TEST_PAUSE_AFTER_BATCH=3:300`` makes the command
announce ``paus efter batch 3`` on stderr after committing its third batch and sleep, and
the test kills it right then (see :mod:`geo.ingest`).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sqlalchemy import Engine, func, select

from geo.ingest import PAUSE_ENV
from geo.store import import_run, quarantine, report

ROOT = Path(__file__).resolve().parents[2]
N = 60_000
BATCH = 5_000
TOWN = (59.7560, 18.7138)


def _big_file(path: Path) -> tuple[int, int, int]:
    """60k rows: every 1000th has an unknown category, 30 repeat an earlier external id."""
    i = np.arange(N)
    rng = np.random.default_rng(7)
    ext = np.array([f"E{k}" for k in i], dtype=object)
    dup = i % 2000 == 1001
    ext[dup] = [f"E{k - 1}" for k in i[dup]]
    cats = np.array(["klotter", "skadegorelse", "brand", "nedskrapning"], dtype=object)[i % 4]
    bad = i % 1000 == 999
    cats[bad] = "graffiti"
    frame = pd.DataFrame(
        {
            "external_id": ext,
            "occurred_at": (pd.Timestamp("2025-01-01") + pd.to_timedelta(i, unit="min")).strftime(
                "%Y-%m-%d %H:%M"
            ),
            "category": cats,
            "description": [f"rapport {k}" for k in i],
            "lat": np.round(TOWN[0] + rng.uniform(-0.004, 0.004, N), 6),
            "lon": np.round(TOWN[1] + rng.uniform(-0.008, 0.008, N), 6),
        }
    )
    frame.to_csv(path, index=False)
    return int(N - bad.sum() - dup.sum()), int(dup.sum()), int(bad.sum())


def _count(engine: Engine, table) -> int:  # type: ignore[no-untyped-def]
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(table)).scalar_one())


def _command(path: Path) -> list[str]:
    return [
        sys.executable, "-c", "from webmap.cli import main; main()",
        "ingest", str(path), "--kommun", "norrtalje", "--source", "actor",
        "--batch-size", str(BATCH), "--json",
    ]  # fmt: skip


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_sigkill_mid_import_then_rerun(engine: Engine, db_url: str, tmp_path: Path) -> None:
    path = tmp_path / "stor.csv"
    stored, dups, bad = _big_file(path)
    assert (stored, dups, bad) == (59_910, 30, 60)
    env = {**os.environ, "LAGESBILD_DATABASE_URL": db_url, PAUSE_ENV: "3:300"}
    proc = subprocess.Popen(
        _command(path), cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True,
    )  # fmt: skip
    assert proc.stderr is not None
    seen = []
    for line in proc.stderr:
        seen.append(line)
        if "paus efter batch 3" in line:
            break
    assert any("paus efter batch 3" in ln for ln in seen), "".join(seen)
    os.kill(proc.pid, signal.SIGKILL)
    assert proc.wait(timeout=30) == -signal.SIGKILL

    # exactly three committed batches: rows 0..14999
    with engine.connect() as conn:
        run = conn.execute(select(import_run)).one()
    assert (run.status, run.rows_done) == ("running", 3 * BATCH)
    first_stored = 3 * BATCH - 15 - 7  # 15 unknown categories, 7 repeated ids in 0..14999
    assert run.counts["stored"] == first_stored
    assert _count(engine, report) == first_stored
    assert _count(engine, quarantine) == 15

    env.pop(PAUSE_ENV)
    done = subprocess.run(
        _command(path), cwd=ROOT, env=env, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    assert out == {
        "read": N,
        "stored": stored,
        "duplicates": dups,
        "quarantined": bad,
        "reasons": {"unknown_category": bad},
        "precision": {"point": stored, "street": 0, "locality": 0, "kommun": 0},
    }
    assert _count(engine, report) == stored
    assert _count(engine, quarantine) == bad
    with engine.connect() as conn:
        runs = conn.execute(select(import_run.c.status, import_run.c.rows_done)).all()
        ids = conn.execute(select(report.c.external_id)).scalars().all()
    assert runs == [("done", N)]  # the same run was resumed, not a new one
    assert len(set(ids)) == len(ids) == stored
