"""``lagesbild analyse --all``: the weekly batch of every kommun (see :mod:`webmap.batch`)."""

from __future__ import annotations

import json
import sys
import time

import click

from geo.errors import ValidationError
from geo.store.reports import count_reports
from geo.tenants import list_tenants
from webmap.batch import SERIAL, Outcome, batch_settings, dask_available, run_batch
from webmap.config import load_config
from webmap.db import open_database


def batch_command(
    kommuner: tuple[str, ...],
    week: str | None,
    weeks: int,
    warm: bool,
    as_json: bool,
    scheduler: str | None,
    workers: int,
    retries: int,
) -> None:
    """Run the batch, print one line per kommun (and JSON); exit 1 when any kommun failed."""
    problems = []
    if kommuner:
        problems.append("--all gäller alla kommuner; ange inte --kommun samtidigt")
    if workers < 1:
        problems.append("--workers måste vara minst 1")
    if retries < 0:
        problems.append("--retries får inte vara negativt")
    if problems:
        raise ValidationError(problems, context="analyse --all")
    if scheduler is None and not dask_available():
        click.echo("dask.distributed saknas: kör kommunerna en i taget i denna process", err=True)
        scheduler = SERIAL
    cfg = load_config()
    engine = open_database(cfg)  # creates or migrates the database once, before the tasks
    with engine.connect() as conn:
        sizes = {t.key: count_reports(conn, t.key) for t in list_tenants(conn)}
    engine.dispose()
    keys = sorted(sizes, key=lambda k: -sizes[k])  # the largest first: long tasks start early

    def report(outcome: Outcome) -> None:
        click.echo(outcome.line_sv(), err=True)

    t0 = time.perf_counter()
    outcomes = run_batch(
        keys,
        batch_settings(cfg),
        scheduler=scheduler,
        workers=workers,
        retries=retries,
        on_done=report,
        week=week,
        weeks=weeks,
        warm=warm,
    )
    failed = [o for o in outcomes if not o.ok]
    seconds = round(time.perf_counter() - t0, 3)
    click.echo(
        f"{len(outcomes) - len(failed)} av {len(outcomes)} kommuner klara på {seconds} s"
        + (f"; misslyckades: {', '.join(o.kommun for o in failed)}" if failed else ""),
        err=True,
    )
    if as_json:
        click.echo(
            json.dumps(
                {
                    "results": [o.result for o in outcomes if o.ok],
                    "failed": [{"kommun": o.kommun, "error": o.error} for o in failed],
                    "seconds": seconds,
                    "scheduler": scheduler or f"lokalt kluster, {workers} arbetare",
                },
                ensure_ascii=False,
            )
        )
    if failed:
        sys.exit(1)
