"""``lagesbild patrol``: patrol areas for trygghetsvärdar for one shift.

Example::

    lagesbild patrol --kommun norrtalje --date 2026-11-27 --shift 18-02 --areas 3 --json
"""

from __future__ import annotations

import datetime as dt
import json
import time

import click
import pandas as pd

from analysis.patrol import Shift, plan_shift
from geo.boundaries import localities_to_cells, read_boundaries
from geo.errors import ValidationError
from geo.schema import STORAGE_RES
from geo.store.reports import read_reports
from geo.tenants import get_tenant
from webmap.config import load_config
from webmap.db import open_database


def _date(value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError as exc:
        raise ValidationError(f"datumet {value!r} ska skrivas ÅÅÅÅ-MM-DD") from exc


@click.command("patrol")
@click.option("--kommun", required=True, help="Kommun (nyckel, SCB-kod eller namn).")
@click.option("--date", "date_text", required=True, help="Passets datum, ÅÅÅÅ-MM-DD.")
@click.option("--shift", "shift_text", default="18-02", show_default=True, help="Passets timmar.")
@click.option("--areas", default=3, show_default=True, type=int, help="Antal områden.")
@click.option(
    "--exclude",
    multiple=True,
    help="Undantag (t.ex. där polisen är): H3-cell eller lat,lon[,radie_m]. Kan upprepas.",
)
@click.option(
    "--exclude-radius",
    default=200.0,
    show_default=True,
    type=float,
    help="Radie i meter runt en undantagen punkt utan egen radie.",
)
@click.option(
    "--must-visit",
    multiple=True,
    help="Plats som måste besökas: H3-cell eller lat,lon[,radie_m]. Kan upprepas.",
)
@click.option("--spread", is_flag=True, help="Sprid områdena över tätorterna.")
@click.option("--diameter", default=800.0, show_default=True, type=float, help="Största bredd (m).")
@click.option("--window-hours", default=2, show_default=True, type=int, help="Tidsfönstrets längd.")
@click.option(
    "--method",
    type=click.Choice(["auto", "mip", "greedy"]),
    default="auto",
    show_default=True,
    help="Exakt (mip) eller girig lösning; auto väljer exakt när det går.",
)
@click.option("--lookback-weeks", default=52, show_default=True, type=int)
@click.option("--json", "as_json", is_flag=True, help="Skriv ett JSON-objekt på stdout.")
def cli(
    kommun: str,
    date_text: str,
    shift_text: str,
    areas: int,
    exclude: tuple[str, ...],
    exclude_radius: float,
    must_visit: tuple[str, ...],
    spread: bool,
    diameter: float,
    window_hours: int,
    method: str,
    lookback_weeks: int,
    as_json: bool,
) -> None:
    """Föreslå områden, gångordning och tider för trygghetsvärdarnas pass."""
    started = time.perf_counter()
    date = _date(date_text)
    shift = Shift.parse(shift_text)
    engine = open_database(load_config())
    with engine.connect() as conn:
        tenant = get_tenant(conn, kommun)
        tz = tenant.timezone
        start_local, _ = shift.bounds(date)
        shift_start = start_local.tz_localize(tz, nonexistent="shift_forward", ambiguous=True)
        since = shift_start - pd.Timedelta(weeks=lookback_weeks)
        reports = read_reports(conn, tenant.key, start=since, end=shift_start)
        boundaries = read_boundaries(conn, tenant.key, "locality")
    localities = localities_to_cells(boundaries, STORAGE_RES) if len(boundaries) else None
    names = (
        dict(zip(boundaries["code"], boundaries["name"], strict=True)) if len(boundaries) else {}
    )
    labels = {code: str(v.get("label", code)) for code, v in tenant.categories.items()}
    plan, risk = plan_shift(
        reports,
        date,
        shift,
        areas,
        timezone=tz,
        diameter_m=diameter,
        exclude=exclude,
        must_visit=must_visit,
        exclude_radius_m=exclude_radius,
        localities=localities,
        spread=spread,
        method=method,
        window_hours=window_hours,
        labels=labels,
        lookback_weeks=lookback_weeks,
    )
    out = plan.to_dict()
    for area in out["areas"]:
        code = area["locality"]
        area["locality_name"] = names.get(code) if code else None
    out = {
        "kommun": tenant.key,
        "date": date.isoformat(),
        "shift": shift.label,
        **out,
        "reports_used": len(risk.events_),
        "seconds": round(time.perf_counter() - started, 2),
    }
    if as_json:
        click.echo(json.dumps(out, ensure_ascii=False))
        return
    click.echo(
        f"{tenant.name} {date.isoformat()} kl. {shift.label}: {len(plan.areas)} områden "
        f"({out['method']}), förväntat {out['expected_covered']:.2f} av "
        f"{out['expected_total']:.2f} händelser, promenad {out['walk_m']} m"
    )
    for step, i in enumerate(out["order"], start=1):
        a = out["areas"][i]
        place = a["locality_name"] or f"{a['centre']['lat']:.5f}, {a['centre']['lon']:.5f}"
        click.echo(
            f"{step}. {place} kl. {a['window']} (förväntat {a['expected']:.2f}): {a['reason']}"
        )
    for note in out["notes"]:
        click.echo(f"obs: {note}")
