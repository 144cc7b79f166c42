"""``lagesbild hotspots``: emerging hotspots, zones and suggested grades from stored reports.

Examples::

    lagesbild hotspots --kommun norrtalje --json
    lagesbild hotspots --kommun norrtalje --locality Rimbo --step 4w --res 9
    lagesbild hotspots --kommun kungsor --from 2024-01-01 --to 2024-06-30 --geojson > z.geojson

Reports come from the database (approved only); locality boundaries from the database,
else the shipped approximations. Analysis parameters start from the tenant's stored
``analysis`` settings and weights, then the options given here.
"""

from __future__ import annotations

import json
import sys
from typing import Any

import click
import pandas as pd

from analysis.grading import plural, weeks_text
from analysis.hotspots import HotspotResult, analyse
from geo.errors import NotFoundError, ValidationError
from geo.gazetteer import named_places

STEPS = {"1w": 1, "2w": 2, "4w": 4}


def _parse_hours(value: str | None) -> tuple[int, int] | None:
    if not value:
        return None
    try:
        lo, hi = (int(v) for v in value.replace("–", "-").split("-"))
    except ValueError as exc:
        raise ValidationError(f"--hours ska vara t.ex. 18-02, fick {value!r}") from exc
    return lo, hi


def _parse_time(value: str | None, tz: str, end: bool) -> pd.Timestamp | None:
    """A date (``--to`` includes the whole day) or a timestamp, local time."""
    if not value:
        return None
    try:
        ts = pd.Timestamp(value)
    except ValueError as exc:
        raise ValidationError(f"ogiltig tidpunkt {value!r}") from exc
    if ts.tzinfo is None:
        ts = ts.tz_localize(tz)
    if end and len(value.strip()) <= 10:  # a date: through the end of that day
        ts = ts + pd.Timedelta(days=1)
    return ts


def _select_localities(frame: pd.DataFrame, wanted: tuple[str, ...]) -> pd.DataFrame:
    if not wanted:
        if "primary" in frame.columns and frame["primary"].astype(bool).any():
            return frame[frame["primary"].astype(bool)]
        return frame
    keys = {w.casefold() for w in wanted}
    hit = frame["code"].astype(str).str.casefold().isin(keys) | frame["name"].astype(
        str
    ).str.casefold().isin(keys)
    missing = (
        keys
        - set(frame.loc[hit, "code"].str.casefold())
        - set(frame.loc[hit, "name"].str.casefold())
    )
    if missing:
        known = ", ".join(f"{n} ({c})" for c, n in zip(frame["code"], frame["name"], strict=True))
        raise NotFoundError(f"okänd tätort {sorted(missing)}; kända: {known}")
    return frame[hit]


def _text(result: HotspotResult) -> str:
    start, end = result.period
    tz = result.config.timezone
    lines = [
        f"Period {start.tz_convert(tz):%Y-%m-%d %H:%M} – {end.tz_convert(tz):%Y-%m-%d %H:%M}, "
        f"{plural(result.cube.n_steps, 'period', 'perioder')} om "
        f"{weeks_text(result.cube.step_weeks)}, "
        f"H3-upplösning {result.cube.res}",
        "",
        "Tätorter (föreslagen bedömning):",
    ]
    for r in result.locality_grades.to_dict("records"):
        lines.append(f"  {r['grade']} {r['label']:<16} {r['name']}: {r['explanation']}")
    lines += ["", f"Hotspotzoner ({len(result.zones)}):"]
    for z in result.zones.to_dict("records"):
        lines.append(
            f"  {z['id']} {z['name']} – {z['pattern_sv']}, {z['grade']} {z['label']}: "
            f"{z['explanation']}"
        )
    return "\n".join(lines)


@click.command("hotspots")
@click.option("--kommun", help="Kommun (nyckel, SCB-kod eller namn); standard DEFAULT_KOMMUN.")
@click.option(
    "--locality", "localities", multiple=True, help="Tätort (kod eller namn); kan upprepas."
)
@click.option("--from", "start", help="Startdatum, t.ex. 2024-01-01.")
@click.option(
    "--to", "end", help="Slutdatum (hela dagen) eller tidpunkt; standard: senaste rapport."
)
@click.option("--step", type=click.Choice(sorted(STEPS)), help="Periodlängd: 1w, 2w eller 4w.")
@click.option("--res", type=click.Choice(["8", "9", "10"]), help="H3-upplösning (standard 10).")
@click.option("--hours", help="Tid på dygnet, t.ex. 18-02 (kvällar och nätter).")
@click.option("--source", "sources", multiple=True, help="Källa (actor, citizen, patrol, police).")
@click.option("--category", "categories", multiple=True, help="Kategorikod; kan upprepas.")
@click.option("--alpha", type=float, help="Signifikansnivå (standard 0,05).")
@click.option("--fdr/--no-fdr", default=None, help="Benjamini-Hochberg-korrigering per period.")
@click.option("--json", "fmt", flag_value="json", help="Ett JSON-objekt på stdout.")
@click.option("--csv", "fmt", flag_value="csv", help="Cellerna som CSV på stdout.")
@click.option("--geojson", "fmt", flag_value="geojson", help="Zoner och celler som GeoJSON.")
def cli(
    kommun: str | None,
    localities: tuple[str, ...],
    start: str | None,
    end: str | None,
    step: str | None,
    res: str | None,
    hours: str | None,
    sources: tuple[str, ...],
    categories: tuple[str, ...],
    alpha: float | None,
    fdr: bool | None,
    fmt: str | None,
) -> None:
    """Hotspotanalys: mönster per cell, zoner och föreslagna bedömningar."""
    from geo.store.reports import read_reports
    from geo.tenants import find_tenant
    from webmap.config import load_config
    from webmap.db import open_database
    from webmap.results import tenant_config, tenant_localities

    config = load_config()
    engine = open_database(config)
    key = kommun or str(config["DEFAULT_KOMMUN"])
    with engine.connect() as conn:
        tenant = find_tenant(conn, key)
        if tenant is not None:
            key = tenant.key
        reports = read_reports(conn, key, status="approved")
        boundaries, source_note = tenant_localities(conn, key)
    if len(boundaries) == 0:
        raise NotFoundError(f"kommunen {key!r} har inga tätortsgränser")
    chosen = _select_localities(boundaries, localities)

    cfg = tenant_config(tenant, key)
    changes: dict[str, Any] = {"localities": tuple(chosen["code"].astype(str))}
    if step:
        changes["step_weeks"] = STEPS[step]
    if res:
        changes["res"] = int(res)
    if hours:
        changes["hours"] = _parse_hours(hours)
    if sources:
        changes["sources"] = sources
    if categories:
        changes["categories"] = categories
    if alpha is not None:
        changes["alpha"] = alpha
    if fdr is not None:
        changes["fdr"] = fdr
    changes["start"] = _parse_time(start, cfg.timezone, end=False)
    changes["end"] = _parse_time(end, cfg.timezone, end=True)
    cfg = cfg.replace(**changes)
    click.echo(
        f"{len(reports)} godkända rapporter, {len(chosen)} tätorter ({source_note})", err=True
    )
    result = analyse(reports, chosen, cfg, places=named_places(key))

    if fmt == "json":
        click.echo(result.to_json())
    elif fmt == "geojson":
        click.echo(json.dumps(result.to_geojson(), ensure_ascii=False))
    elif fmt == "csv":
        frame = result.cells.drop(columns=["pattern_sv"])
        frame.to_csv(sys.stdout, index=False, lineterminator="\n")
    else:
        click.echo(_text(result))
