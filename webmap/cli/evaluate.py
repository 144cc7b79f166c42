"""``lagesbild evaluate``: backtest the risk forecast against standard baselines.

Example (Vancouver open data, projected UTM coordinates, time split into columns)::

    lagesbild evaluate crimedata.csv.gz --time-parts YEAR,MONTH,DAY,HOUR,MINUTE \\
        --x-col X --y-col Y --crs EPSG:32610 --json
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any

import click

from analysis.evaluate import (
    DEFAULT_COVERAGES,
    DEFAULT_METHODS,
    evaluate_events,
    read_events,
    select_methods,
)
from geo.errors import ValidationError
from geo.readers import read_table


def _split(value: str | None) -> list[str] | None:
    if value is None:
        return None
    return [v.strip() for v in value.split(",") if v.strip()]


def _coverages(value: str) -> list[float]:
    out = []
    bad = []
    for part in _split(value) or []:
        try:
            out.append(float(part))
        except ValueError:
            bad.append(part)
    if bad or not out:
        raise ValidationError(f"--coverage must be comma-separated numbers, got {value!r}")
    return out


def read_region(path: Path) -> Any:
    """Union of every polygon in a boundary file (any CRS), in EPSG:4326."""
    import geopandas as gpd

    try:
        frame = gpd.read_file(path)
    except Exception as exc:  # pyogrio DataSourceError and friends
        raise ValidationError(f"cannot read {path.name}: {exc}", context="boundary") from exc
    problems = []
    if frame.empty:
        problems.append("the file has no features")
    if frame.crs is None:
        problems.append("the file has no CRS")
    if problems:
        raise ValidationError(problems, context=f"boundary {path.name}")
    frame = frame.to_crs("EPSG:4326")
    polys = frame[frame.geometry.geom_type.isin(["Polygon", "MultiPolygon"])]
    if polys.empty:
        raise ValidationError("no polygons in the file", context=f"boundary {path.name}")
    return polys.geometry.make_valid().union_all()


@click.command("evaluate")
@click.argument("events", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--time-col", help="Kolumn med tidpunkt.")
@click.option(
    "--time-parts",
    help="Kolumner för år,månad,dag[,timme,minut,sekund], t.ex. YEAR,MONTH,DAY,HOUR,MINUTE.",
)
@click.option("--lat-col", help="Kolumn med latitud (WGS84).")
@click.option("--lon-col", help="Kolumn med longitud (WGS84).")
@click.option("--x-col", help="Kolumn med x (projicerat, kräver --crs).")
@click.option("--y-col", help="Kolumn med y (projicerat, kräver --crs).")
@click.option("--crs", help="Koordinatsystem för --x-col/--y-col, t.ex. EPSG:3006.")
@click.option(
    "--boundary",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Områdesgräns (GeoJSON, GeoPackage, Shapefile); annars celler med någon händelse.",
)
@click.option("--res", default=10, show_default=True, type=int, help="H3-upplösning.")
@click.option("--step", default="1w", show_default=True, help="Steglängd (1w, 2w, 1d ...).")
@click.option("--train-steps", default=26, show_default=True, type=int)
@click.option("--origins", default=26, show_default=True, type=int)
@click.option(
    "--coverage",
    default=",".join(str(c) for c in DEFAULT_COVERAGES),
    show_default=True,
    help="Andelar av ytan som flaggas, kommaseparerade.",
)
@click.option(
    "--methods",
    default=",".join(DEFAULT_METHODS),
    show_default=True,
    help="Metoder att jämföra, kommaseparerade (produkten 'lagesbild' jämförs parvis).",
)
@click.option("--json", "as_json", is_flag=True, help="Skriv ett JSON-objekt på stdout.")
def cli(
    events: Path,
    time_col: str | None,
    time_parts: str | None,
    lat_col: str | None,
    lon_col: str | None,
    x_col: str | None,
    y_col: str | None,
    crs: str | None,
    boundary: Path | None,
    res: int,
    step: str,
    train_steps: int,
    origins: int,
    coverage: str,
    methods: str,
    as_json: bool,
) -> None:
    """Utvärdera riskprognosen bakåt i tiden (PAI, PEI*, träffandel) mot baslinjer."""
    started = time.perf_counter()
    covs = _coverages(coverage)
    chosen = select_methods(_split(methods))
    frame = read_table(events).frame
    located, summary = read_events(
        frame,
        time_col=time_col,
        time_parts=_split(time_parts),
        lat_col=lat_col,
        lon_col=lon_col,
        x_col=x_col,
        y_col=y_col,
        crs=crs,
        context=events.name,
    )
    click.echo(
        f"{summary['rows']} rader, {summary['located']} med position, "
        f"{summary['unlocated']} utan position (utelämnade)",
        err=True,
    )
    region = read_region(boundary) if boundary is not None else None
    result = evaluate_events(
        located,
        res=res,
        step=step,
        train_steps=train_steps,
        origins=origins,
        coverages=covs,
        boundary=region,
        methods=chosen,
        read_summary=summary,
    )
    result["seconds"] = round(time.perf_counter() - started, 2)
    if as_json:
        click.echo(json.dumps(result, ensure_ascii=False))
        return
    click.echo(
        f"{result['origins']} startpunkter, res {result['res']}, A = {result['area_km2']} km² "
        f"({result['area_basis']}), {result['cells']} celler"
    )
    click.echo(f"{'metod':<12} {'täckning':>8} {'träff':>7} {'PAI':>7} {'PEI*':>7}")
    for row in result["results"]:
        click.echo(
            f"{row['method']:<12} {row['coverage']:>8.3%} {_fmt(row['hit_rate'])} "
            f"{_fmt(row['pai'], 2)} {_fmt(row['pei_star'])}"
        )
    if result["paired"]:
        click.echo("\nparvis per startpunkt, PEI* lagesbild minus metod:")
        click.echo(
            f"{'metod':<12} {'täckning':>8} {'median':>7} {'IQR':>15} {'95 % KI':>17} {'p':>6}"
        )
        for row in result["paired"]:
            iqr = f"[{row['q25']:+.3f}, {row['q75']:+.3f}]"
            ci = f"[{row['ci95'][0]:+.3f}, {row['ci95'][1]:+.3f}]"
            click.echo(
                f"{row['other']:<12} {row['coverage']:>8.3%} {row['median']:>+7.3f} "
                f"{iqr:>15} {ci:>17} {row['wilcoxon_p']:>6.3f} {row['verdict']}"
            )
    for method, figs in result["fitted"].items():
        click.echo(f"{method}: " + ", ".join(f"{k} {v:g}" for k, v in figs.items()))
    sys.stdout.flush()


def _fmt(value: float | None, digits: int = 3) -> str:
    return f"{'–':>7}" if value is None else f"{value:>7.{digits}f}"
