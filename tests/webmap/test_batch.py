"""The weekly batch on Dask (``lagesbild analyse --all``): same results as the serial run,
every kommun exactly once even when a worker process is killed, failures reported.

A real two-process ``LocalCluster`` (one thread per worker) is shared by the tests of this
module; the database is an SQLite file with the three shipped tenants and generated
reports.
"""

from __future__ import annotations

import gzip
import io
import json
import os
import pickle
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import _batch_kill
import cloudpickle
import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from pypdf import PdfReader

from geo.boundaries import load_boundaries, read_boundaries, store_boundaries
from geo.ingest import ingest_frame
from geo.store.db import connect, upgrade
from geo.store.forecast import latest_forecast_choice
from geo.tenants import ensure_tenant, list_tenants, seed_default_tenants
from webmap.batch import SERIAL, batch_settings, read_journal, run_batch
from webmap.cli import main
from webmap.config import load_config

WEEK = "2026-W46"


def _reports(localities: Any, seed: int, n: int = 260) -> pd.DataFrame:
    """``n`` reports around two hot points of the kommun's largest locality, 20 weeks."""
    rng = np.random.default_rng(seed)
    big = localities.to_crs(3006).area.to_numpy().argmax()
    pt = localities.geometry.iloc[big].representative_point()
    hot = np.array([[pt.y, pt.x], [pt.y + 0.004, pt.x - 0.006]])
    which = rng.integers(0, 2, n)
    spread = np.where(rng.random(n) < 0.6, 0.0006, 0.01)
    lat = hot[which, 0] + rng.normal(0, 1, n) * spread
    lon = hot[which, 1] + rng.normal(0, 1, n) * spread * 2
    end = pd.Timestamp("2026-11-15 12:00")
    when = end - pd.to_timedelta(rng.integers(0, 20 * 7 * 24 * 60, n), unit="min")
    # the last weeks get more reports: a new hotspot for the patterns
    late = rng.random(n) < 0.3
    when = when.where(~late, end - pd.to_timedelta(rng.integers(0, 14 * 24 * 60, n), unit="min"))
    return pd.DataFrame(
        {
            "occurred_at": when.strftime("%Y-%m-%d %H:%M"),
            "category": rng.choice(["klotter", "skadegorelse", "nedskrapning"], n),
            "lat": np.round(lat, 6),
            "lon": np.round(lon, 6),
        }
    )


@pytest.fixture(scope="module")
def batch_db(tmp_path_factory: pytest.TempPathFactory) -> str:
    """An SQLite database with the shipped tenants and generated reports."""
    url = f"sqlite:///{tmp_path_factory.mktemp('batch') / 'lagesbild.db'}"
    engine = connect(url)
    upgrade(engine)
    with engine.begin() as conn:
        seed_default_tenants(conn)
        for i, tenant in enumerate(list_tenants(conn)):
            frame = _reports(read_boundaries(conn, tenant.key, "locality"), seed=i)
            res = ingest_frame(conn, frame, kommun=tenant.key, source="actor")
            assert res.stored > 200
    engine.dispose()
    return url


@pytest.fixture(scope="module")
def client() -> Iterator[Any]:
    """A real local cluster: two worker processes, one thread each."""
    from distributed import Client, LocalCluster

    cluster = LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
    )
    with Client(cluster) as c:
        yield c
    cluster.close()


def _settings(url: str, instance: Path) -> dict[str, Any]:
    return batch_settings(load_config(env={}, DATABASE_URL=url, INSTANCE_DIR=str(instance)))


@pytest.fixture(scope="module")
def serial_run(batch_db: str, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The serial batch (in this process, no Dask) into its own instance folder."""
    instance = tmp_path_factory.mktemp("serial")
    outcomes = run_batch(
        ["kungsor", "norrtalje", "solvesborg"],
        _settings(batch_db, instance),
        scheduler=SERIAL,
        week=WEEK,
    )
    assert [o.ok for o in outcomes] == [True, True, True], [o.error for o in outcomes]
    return instance


def _pdf_text(path: Path) -> list[str]:
    return [page.extract_text() for page in PdfReader(io.BytesIO(path.read_bytes())).pages]


def _outputs(instance: Path) -> dict[str, Any]:
    """Every stored result of an instance folder, in a comparable form."""
    out: dict[str, Any] = {}
    for path in sorted(instance.rglob("*")):
        rel = str(path.relative_to(instance))
        if path.is_dir() or rel.startswith(("batch", "secret_key")):
            continue
        assert ".tmp-" not in rel, f"half-written file left: {rel}"
        if path.suffix == ".parquet":
            out[rel] = pd.read_parquet(path)
        elif path.suffix == ".npz":
            with np.load(path) as arrays:
                out[rel] = {k: arrays[k] for k in arrays.files}
        elif path.suffix == ".pdf":
            out[rel] = _pdf_text(path)
        elif path.suffix == ".gz":
            out[rel] = gzip.decompress(path.read_bytes())
        elif path.suffix == ".pickle":  # a stored object: compare what it holds
            out[rel] = repr(pickle.loads(gzip.decompress(path.read_bytes())))
        else:
            out[rel] = path.read_bytes()
    return out


def _assert_same(a: dict[str, Any], b: dict[str, Any]) -> None:
    assert sorted(a) == sorted(b)
    for rel, value in a.items():
        if isinstance(value, pd.DataFrame):
            pd.testing.assert_frame_equal(value, b[rel])
        elif isinstance(value, dict):
            assert value.keys() == b[rel].keys()
            for k in value:
                np.testing.assert_array_equal(value[k], b[rel][k])
        else:
            assert value == b[rel], rel


def _journal_counts(instance: Path) -> dict[str, int]:
    counts: dict[str, int] = {}
    for line in read_journal(instance):
        counts[line["kommun"]] = counts.get(line["kommun"], 0) + 1
    return counts


def test_serial_batch_writes_every_output(serial_run: Path) -> None:
    outputs = _outputs(serial_run)
    for kommun in ("kungsor", "norrtalje", "solvesborg"):
        assert any(r.startswith(f"cache/analysis/{kommun}/") for r in outputs)
        assert any(r.startswith(f"cache/payloads/{kommun}/") for r in outputs)
        pdf = outputs[f"reports/{kommun}/lagesbild-{kommun}-{WEEK}.pdf"]
        assert "Lägesbild" in pdf[0]
    assert _journal_counts(serial_run) == {"kungsor": 1, "norrtalje": 1, "solvesborg": 1}
    norrtalje = json.loads((serial_run / "batch" / "norrtalje" / f"{WEEK}.json").read_text())
    assert norrtalje["zones"] > 0 and norrtalje["week"] == WEEK
    assert norrtalje["forecast"]["method"], "the batch records each kommun's forecaster"


def test_batch_records_the_forecast_choice_of_every_kommun(batch_db: str, serial_run: Path) -> None:
    engine = connect(batch_db)
    with engine.connect() as conn:
        rows = {k: latest_forecast_choice(conn, k, WEEK) for k in ("kungsor", "norrtalje")}
    engine.dispose()
    for kommun, row in rows.items():
        assert row is not None and row["week"] == WEEK, kommun
        assert row["method"]


def test_dask_batch_equals_serial_run(
    batch_db: str, serial_run: Path, client: Any, tmp_path: Path
) -> None:
    instance = tmp_path / "dask"
    outcomes = run_batch(
        ["kungsor", "norrtalje", "solvesborg"],
        _settings(batch_db, instance),
        client=client,
        week=WEEK,
    )
    assert all(o.ok for o in outcomes), [o.error for o in outcomes]
    pids = {o.result["pid"] for o in outcomes}
    assert os.getpid() not in pids  # the work ran in the worker processes
    _assert_same(_outputs(serial_run), _outputs(instance))
    assert _journal_counts(instance) == {"kungsor": 1, "norrtalje": 1, "solvesborg": 1}


def test_killed_worker_still_completes_every_kommun_once(
    batch_db: str, serial_run: Path, client: Any, tmp_path: Path
) -> None:
    marker = tmp_path / "killed"
    cloudpickle.register_pickle_by_value(_batch_kill)
    try:
        client.register_plugin(_batch_kill.KillOnce(str(marker)), name="kill-once")
    finally:
        cloudpickle.unregister_pickle_by_value(_batch_kill)
    before = set(client.run(os.getpid).values())
    instance = tmp_path / "dask"
    try:
        outcomes = run_batch(
            ["kungsor", "norrtalje", "solvesborg"],
            _settings(batch_db, instance),
            client=client,
            week=WEEK,
        )
    finally:
        client.unregister_worker_plugin("kill-once")
    killed_pid, killed_key = marker.read_text().split()
    assert int(killed_pid) in before
    assert all(o.ok for o in outcomes), [o.error for o in outcomes]
    # the killed worker never finished its task; another worker did, exactly once
    finished_by = {o.result["kommun"]: o.result["pid"] for o in outcomes}
    assert int(killed_pid) not in finished_by.values()
    assert _journal_counts(instance) == {"kungsor": 1, "norrtalje": 1, "solvesborg": 1}
    assert any(k in killed_key for k in finished_by)
    versions = [p for p in (instance / "cache" / "analysis").glob("*/v*/*") if p.is_dir()]
    assert len(versions) == 3  # one stored result per kommun
    _assert_same(_outputs(serial_run), _outputs(instance))
    # the nanny replaced the killed worker
    deadline = time.monotonic() + 30
    while len(client.scheduler_info()["workers"]) < 2 and time.monotonic() < deadline:
        time.sleep(0.2)


def test_cli_reports_a_failing_kommun_and_exits_non_zero(client: Any, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'fail.db'}"
    engine = connect(url)
    upgrade(engine)
    with engine.begin() as conn:
        ensure_tenant(conn, "kungsor", name="Kungsör", code="1961")
        kommun = load_boundaries("locality", kommun="kungsor")
        store_boundaries(conn, kommun, source="test")
        ensure_tenant(conn, "tomkommun", name="Tomkommun")  # no localities: cannot run
    engine.dispose()
    env = {"LAGESBILD_DATABASE_URL": url, "LAGESBILD_INSTANCE_DIR": str(tmp_path / "instance")}
    args = ["analyse", "--all", "--scheduler", client.scheduler.address, "--retries", "1",
            "--no-warm", "--json"]  # fmt: skip
    proc = CliRunner().invoke(main, args, env=env)
    assert proc.exit_code == 1, proc.stderr
    assert "tomkommun: misslyckades: kommunen 'tomkommun' har inga tätorter" in proc.stderr
    assert "1 av 2 kommuner klara" in proc.stderr
    data = json.loads(proc.stdout)
    assert [r["kommun"] for r in data["results"]] == ["kungsor"]
    assert data["failed"][0]["kommun"] == "tomkommun"
    assert _journal_counts(tmp_path / "instance") == {"kungsor": 1}


def test_all_with_kommun_is_refused(tmp_path: Path) -> None:
    env = {"LAGESBILD_DATABASE_URL": f"sqlite:///{tmp_path / 'x.db'}"}
    proc = CliRunner().invoke(main, ["analyse", "--all", "--kommun", "kungsor"], env=env)
    assert proc.exit_code == 2
    assert "ange inte --kommun samtidigt" in proc.stderr


def test_serial_scheduler_keeps_working_without_a_cluster(
    batch_db: str, serial_run: Path, tmp_path: Path
) -> None:
    env = {"LAGESBILD_DATABASE_URL": batch_db, "LAGESBILD_INSTANCE_DIR": str(tmp_path / "inst")}
    args = ["analyse", "--all", "--scheduler", "serial", "--week", WEEK, "--json"]
    proc = CliRunner().invoke(main, args, env=env)
    assert proc.exit_code == 0, proc.stderr
    assert len(json.loads(proc.stdout)["results"]) == 3
    _assert_same(_outputs(serial_run), _outputs(tmp_path / "inst"))
