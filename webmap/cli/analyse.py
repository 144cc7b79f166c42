"""``lagesbild analyse``: compute and cache analysis results ahead of requests."""

from __future__ import annotations

import functools
import json
import time
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

import click
from threadpoolctl import threadpool_limits

from analysis.forecast_choice import ForecastChoice
from geo.tenants import list_tenants
from webmap.batch import result_summary
from webmap.config import load_config
from webmap.db import open_database
from webmap.planner.forecast_choice import choose_for_week, save_forecast_choice_of
from webmap.results import ReportsRead, ResultStore
from webmap.weeks import shift_week


def _choose(
    engine: Any, kommun: str, week: str, read: Future[ReportsRead | None]
) -> ForecastChoice | None:
    """The forecast choice of ``week`` once the analysis has read its reports."""
    return choose_for_week(engine, kommun, week, read.result())


def warm_payloads(kommun: str, week: str) -> dict[str, int]:
    """Store the ready answers of the kommun's pages and map APIs (see webmap.payloads)."""
    from webmap.payloads import warm

    return warm(_app(), kommun, week)


@functools.cache
def _app() -> Any:
    from webmap.app import create_app

    return create_app(load_config())


@click.command("analyse")
@click.option("--kommun", "kommuner", multiple=True, help="Kommun (kan upprepas; standard: alla).")
@click.option("--week", default=None, help="Vecka ÅÅÅÅ-Wvv (standard: senaste).")
@click.option(
    "--weeks",
    default=1,
    show_default=True,
    type=int,
    help="Antal veckor bakåt från --week att räkna fram.",
)
@click.option(
    "--warm/--no-warm",
    default=True,
    show_default=True,
    help="Bygg även kartornas och sidornas färdiga svar (instance/cache/payloads).",
)
@click.option("--json", "as_json", is_flag=True, help="Skriv resultatet som JSON.")
@click.option(
    "--all",
    "run_all",
    is_flag=True,
    help="Veckokörningen för alla kommuner: analys, färdiga kartsvar och PDF, som uppgifter "
    "i ett Dask-kluster.",
)
@click.option(
    "--scheduler",
    default=None,
    help="Med --all: Dask-schemaläggarens adress (tcp://värd:8786) eller 'serial' "
    "(utan Dask, i denna process); standard: ett lokalt kluster med --workers processer.",
)
@click.option(
    "--workers", default=2, show_default=True, type=int, help="Med --all: lokala arbetare."
)
@click.option(
    "--retries",
    default=2,
    show_default=True,
    type=int,
    help="Med --all: nya försök för en kommun vars körning misslyckas.",
)
def cli(
    kommuner: tuple[str, ...],
    week: str | None,
    weeks: int,
    warm: bool,
    as_json: bool,
    run_all: bool = False,
    scheduler: str | None = None,
    workers: int = 2,
    retries: int = 2,
) -> None:
    """Räkna fram hotspotanalysen och spara den i cachen (instance/cache/analysis)."""
    if run_all or scheduler:
        from webmap.cli.analyse_batch import batch_command

        batch_command(kommuner, week, weeks, warm, as_json, scheduler, workers, retries)
        return
    # the products are small and many: a second BLAS thread only waits for a busy core
    with threadpool_limits(limits=1, user_api="blas"):
        _analyse(kommuner, week, weeks, warm, as_json)


def _analyse(
    kommuner: tuple[str, ...], week: str | None, weeks: int, warm: bool, as_json: bool
) -> None:
    """Analyse ``kommuner`` (all when empty) in this process (see :func:`cli`)."""
    cfg = load_config()
    engine = open_database(cfg)
    store = ResultStore(engine, Path(cfg["INSTANCE_DIR"]) / "cache" / "analysis")
    with engine.connect() as conn:
        keys = list(kommuner) or [t.key for t in list_tenants(conn)]
    out = []
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="prognosval") as pool:
        for key in keys:
            last = week or store.latest_week(key)
            for i in range(max(1, weeks)):
                w = shift_week(last, -i)
                # the forecast choice of the latest week runs beside the analysis, on
                # the reports the analysis reads (itself when the result is stored)
                read: Future[ReportsRead | None] = Future()
                choice = pool.submit(_choose, engine, key, w, read) if i == 0 else None
                store.on_read = read.set_result
                t0 = time.perf_counter()
                try:
                    res = store.get(key, w)
                finally:
                    store.on_read = None
                    if not read.done():
                        read.set_result(None)
                assert res is not None
                item = result_summary(key, w, res) | {"seconds": round(time.perf_counter() - t0, 3)}
                if choice is not None:
                    # recorded before the ready answers, which show it
                    item["forecast"] = save_forecast_choice_of(engine, key, w, choice.result())
                if warm and i == 0:
                    res = None
                    store.clear_memory()  # the warm-up reads the stored result again
                    t1 = time.perf_counter()
                    item["warmed"] = warm_payloads(key, w)
                    item["warm_seconds"] = round(time.perf_counter() - t1, 3)
                out.append(item)
                click.echo(
                    f"{key} {w}: {item['zones']} zoner, {item['cells']} celler "
                    f"({item['seconds']} s)",
                    err=True,
                )
    if as_json:
        click.echo(json.dumps({"results": out}, ensure_ascii=False))
