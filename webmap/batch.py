"""The weekly batch: every kommun's analysis, ready map payloads and PDF, as tasks.

``lagesbild analyse --all`` runs :func:`run_kommun` once per kommun (tenant). Each run

1. computes the analysis of the kommun's latest week (and ``weeks - 1`` weeks before it)
   through :class:`webmap.results.ResultStore` (a result is written to a temporary folder
   and renamed into place; the week's zones are replaced in one transaction),
2. stores the ready answers of the kommun's pages and map APIs
   (:func:`webmap.payloads.warm`; each payload is written to a temporary file and renamed),
3. renders the weekly lägesbild PDF (the renderer of ``lagesbild report``) to
   ``<instance>/reports/<kommun>/lagesbild-<kommun>-<week>.pdf`` (temporary file, rename),
4. and last records the run: ``<instance>/batch/<kommun>/<week>.json`` (what was written,
   renamed into place) and one line in ``<instance>/batch/journal.log``.

A task killed at any point leaves either the old or the new version of each output,
never half a file, and its retry finds what was already written (the analysis is not
computed twice for the same data). The journal line is the commit mark: a kommun whose
run completed has exactly one line per batch.

:func:`run_batch` runs the kommuner as tasks on a ``dask.distributed`` cluster: the one at
``scheduler`` (``tcp://host:8786``; the workers need the same ``LAGESBILD_DATABASE_URL``
and a shared instance folder) or a local cluster of ``workers`` processes with one thread
each. A failing task is retried ``retries`` times; a kommun that still fails is reported
with its error, never dropped. ``scheduler="serial"`` runs the same function in this
process, one kommun after the other.
"""

from __future__ import annotations

import functools
import json
import os
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from webmap.config import load_config
from webmap.planner.forecast_choice import record_forecast_choice
from webmap.weeks import shift_week

#: ``--scheduler`` value that runs the batch in this process without Dask.
SERIAL = "serial"
#: The settings a worker needs to reach the same database and instance folder.
SHARED_SETTINGS = ("DATABASE_URL", "INSTANCE_DIR")


@dataclass
class Outcome:
    """What happened to one kommun in a batch."""

    kommun: str
    ok: bool
    result: dict[str, Any] = field(default_factory=dict)
    error: str = ""

    def line_sv(self) -> str:
        """One Swedish line for the terminal."""
        if not self.ok:
            return f"{self.kommun}: misslyckades: {self.error}"
        r = self.result
        return (
            f"{self.kommun} {r['week']}: {r['zones']} zoner, {r['cells']} celler, "
            f"PDF {r.get('pdf_bytes', 0)} byte ({r['seconds']} s)"
        )


def batch_settings(cfg: dict[str, Any] | None = None) -> dict[str, Any]:
    """The settings passed to every task (absolute paths, so workers elsewhere agree)."""
    cfg = cfg or load_config()
    out = {k: cfg[k] for k in SHARED_SETTINGS if k in cfg}
    out["INSTANCE_DIR"] = str(Path(out.get("INSTANCE_DIR") or "instance").resolve())
    return out


@functools.cache
def _context(settings: tuple[tuple[str, Any], ...]) -> tuple[dict[str, Any], Any, Any]:
    """Config, engine and result store of a worker process (one per settings)."""
    from webmap.db import open_database
    from webmap.results import ResultStore

    cfg = load_config(**dict(settings))
    engine = open_database(cfg, migrate=False)
    store = ResultStore(engine, Path(cfg["INSTANCE_DIR"]) / "cache" / "analysis")
    return cfg, engine, store


@functools.cache
def _app(settings: tuple[tuple[str, Any], ...]) -> Any:
    from webmap.app import create_app

    return create_app(load_config(**dict(settings)))


def write_atomic(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file in the same folder and a rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def pdf_path(instance_dir: Path | str, kommun: str, week: str) -> Path:
    """Where the batch stores the weekly PDF of ``kommun``."""
    return Path(instance_dir) / "reports" / kommun / f"lagesbild-{kommun}-{week}.pdf"


def journal_path(instance_dir: Path | str) -> Path:
    """The batch journal: one JSON line per completed kommun run."""
    return Path(instance_dir) / "batch" / "journal.log"


def read_journal(instance_dir: Path | str) -> list[dict[str, Any]]:
    """The lines of the batch journal (empty when there is none)."""
    path = journal_path(instance_dir)
    if not path.exists():
        return []
    lines = path.read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]


def _weekly_pdf(engine: Any, store: Any, kommun: str, week: str) -> bytes:
    from webmap.planner.weekly import build_weekly
    from webmap.render.reports import render_weekly_pdf, weekly_images

    pic = build_weekly(engine, store, kommun, week)
    return render_weekly_pdf(pic, weekly_images(pic))


def result_summary(kommun: str, week: str, res: Any) -> dict[str, Any]:
    """What ``analyse`` reports of one stored result (kommun, week, version, cells, zones)."""
    return {
        "kommun": kommun,
        "week": week,
        "version": res.version,
        "cells": int(len(res.cells)),
        "zones": len(res.zones),
    }


def run_kommun(
    kommun: str,
    settings: dict[str, Any],
    week: str | None = None,
    weeks: int = 1,
    warm: bool = True,
    pdf: bool = True,
    batch_id: str = "",
) -> dict[str, Any]:
    """The weekly batch of one kommun (see the module docstring); returns a summary.

    Safe to run again after any interruption: every output is replaced atomically and
    an existing analysis result is read, not computed again.
    """
    t0 = time.perf_counter()
    key = tuple(sorted(settings.items()))
    cfg, engine, store = _context(key)
    instance = Path(cfg["INSTANCE_DIR"])
    last = week or store.latest_week(kommun)
    res = None
    for i in reversed(range(max(1, weeks))):  # the latest week last
        res = store.get(kommun, shift_week(last, -i))
    assert res is not None
    out = result_summary(kommun, last, res)
    res = None
    store.clear_memory()
    out["forecast"] = record_forecast_choice(engine, kommun, last)  # chosen, checked, told
    t1 = time.perf_counter()
    if warm:
        from webmap.payloads import warm as warm_payloads

        out["warmed"] = warm_payloads(_app(key), kommun, last)
    t2 = time.perf_counter()
    if pdf:
        path = pdf_path(instance, kommun, last)
        data = _weekly_pdf(engine, store, kommun, last)
        write_atomic(path, data)
        out["pdf"] = str(path)
        out["pdf_bytes"] = len(data)
    t3 = time.perf_counter()
    out["phase_seconds"] = {
        "analysis": round(t1 - t0, 3),
        "warm": round(t2 - t1, 3),
        "pdf": round(t3 - t2, 3),
    }
    out["seconds"] = round(t3 - t0, 3)
    out["pid"] = os.getpid()
    out["batch"] = batch_id
    record = json.dumps(out, ensure_ascii=False, sort_keys=True)
    write_atomic(instance / "batch" / kommun / f"{last}.json", record.encode("utf-8"))
    journal = journal_path(instance)
    journal.parent.mkdir(parents=True, exist_ok=True)
    with open(journal, "a", encoding="utf-8") as fh:  # one short line: one write
        fh.write(record + "\n")
    return out


def open_client(scheduler: str | None, workers: int) -> tuple[Any, Any]:
    """A ``distributed.Client`` and the local cluster it owns (``None`` for a remote one)."""
    from distributed import Client, LocalCluster

    if scheduler:
        return Client(scheduler), None
    cluster = LocalCluster(
        n_workers=max(1, workers),
        threads_per_worker=1,
        processes=True,
        dashboard_address=None,
    )
    return Client(cluster), cluster


def dask_available() -> bool:
    """Whether ``dask.distributed`` is installed."""
    try:
        import distributed  # noqa: F401
    except ImportError:
        return False
    return True


def _error_text(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0][:300]


def run_batch(
    kommuner: Sequence[str],
    settings: dict[str, Any],
    *,
    scheduler: str | None = None,
    workers: int = 2,
    retries: int = 2,
    client: Any = None,
    on_done: Callable[[Outcome], None] | None = None,
    **options: Any,
) -> list[Outcome]:
    """Run :func:`run_kommun` for every kommun and return one :class:`Outcome` each.

    Parameters
    ----------
    kommuner
        Tenant keys.
    settings
        :func:`batch_settings` of this installation.
    scheduler
        ``None``: a local cluster of ``workers`` processes; ``"serial"``: this process,
        without Dask; else the address of a running scheduler (``tcp://host:8786``).
    retries
        How many times a failed task is tried again (also after its worker died).
    client
        An existing ``distributed.Client`` to use instead of ``scheduler``.
    on_done
        Called with each outcome as it arrives.
    options
        ``week``, ``weeks``, ``warm`` and ``pdf`` of :func:`run_kommun`.
    """
    job = _Job(
        settings,
        retries,
        f"{time.strftime('%Y%m%dT%H%M%S')}-{os.getpid()}",
        on_done or (lambda _o: None),
        options,
    )
    if client is None and scheduler == SERIAL:
        return [job.serial(kommun) for kommun in kommuner]
    if client is not None:
        return job.distributed(client, kommuner)
    client, cluster = open_client(scheduler, workers)
    try:
        return job.distributed(client, kommuner)
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


@dataclass
class _Job:
    """What every kommun of one batch run gets."""

    settings: dict[str, Any]
    retries: int
    batch_id: str
    done: Callable[[Outcome], None]
    options: dict[str, Any]

    def serial(self, kommun: str) -> Outcome:
        """Run one kommun here, with retries."""
        outcome = Outcome(kommun, ok=False)
        for _attempt in range(self.retries + 1):
            try:
                result = run_kommun(kommun, self.settings, batch_id=self.batch_id, **self.options)
            except Exception as exc:  # reported below, after the last try
                outcome.error = _error_text(exc)
                continue
            outcome = Outcome(kommun, ok=True, result=result)
            break
        self.done(outcome)
        return outcome

    def distributed(self, client: Any, kommuner: Sequence[str]) -> list[Outcome]:
        """Run every kommun as a task on ``client``'s cluster; outcomes in order."""
        from distributed import as_completed

        futures = {
            client.submit(
                run_kommun,
                kommun,
                self.settings,
                batch_id=self.batch_id,
                retries=self.retries,
                pure=False,
                key=f"lagesbild-{kommun}-{self.batch_id}",
                **self.options,
            ): kommun
            for kommun in kommuner
        }
        outcomes: dict[str, Outcome] = {}
        for future in as_completed(futures):
            kommun = futures[future]
            try:
                outcome = Outcome(kommun, ok=True, result=future.result())
            except Exception as exc:  # failed after its retries (or its workers died)
                outcome = Outcome(kommun, ok=False, error=_error_text(exc))
            outcomes[kommun] = outcome
            self.done(outcome)
        return [outcomes[k] for k in kommuner]


__all__ = [
    "SERIAL",
    "Outcome",
    "batch_settings",
    "dask_available",
    "journal_path",
    "open_client",
    "pdf_path",
    "read_journal",
    "run_batch",
    "run_kommun",
    "write_atomic",
]
