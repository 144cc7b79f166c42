"""``lagesbild report``: the weekly lägesbild or the yearly document as PDF or HTML."""

from __future__ import annotations

import json
from pathlib import Path

import click

from geo.errors import ValidationError
from webmap.config import load_config
from webmap.db import open_database
from webmap.planner.weekly import build_weekly, build_yearly
from webmap.render.reports import (
    render_weekly_html,
    render_weekly_pdf,
    render_yearly_html,
    render_yearly_pdf,
    weekly_images,
)
from webmap.results import ResultStore
from webmap.weeks import parse_week


@click.command("report")
@click.option("--kommun", required=True, help="Kommun, t.ex. norrtalje.")
@click.option("--week", default=None, help="Vecka ÅÅÅÅ-Wvv (veckans lägesbild).")
@click.option("--year", default=None, type=int, help="År (årsdokument enligt lag 2023:196).")
@click.option(
    "--format", "fmt", type=click.Choice(["pdf", "html"]), default="pdf", show_default=True
)
@click.option(
    "-o",
    "--output",
    "output",
    required=True,
    type=click.Path(dir_okay=False),
    help="Fil att skriva.",
)
@click.option("--json", "as_json", is_flag=True, help="Skriv resultatet som JSON.")
def cli(
    kommun: str, week: str | None, year: int | None, fmt: str, output: str, as_json: bool
) -> None:
    """Skapa veckans lägesbild (--week) eller årsdokumentet (--year)."""
    if bool(week) == bool(year):
        raise ValidationError("ange antingen --week eller --year")
    cfg = load_config()
    engine = open_database(cfg)
    store = ResultStore(engine, Path(cfg["INSTANCE_DIR"]) / "cache" / "analysis")
    if week:
        parse_week(week)
        pic = build_weekly(engine, store, kommun, week)
        images = weekly_images(pic)
        data: bytes = (
            render_weekly_pdf(pic, images)
            if fmt == "pdf"
            else render_weekly_html(pic, images).encode("utf-8")
        )
        title = pic.title
    else:
        assert year is not None
        ypic = build_yearly(engine, store, kommun, year)
        data = render_yearly_pdf(ypic) if fmt == "pdf" else render_yearly_html(ypic).encode()
        title = f"Lägesbild och åtgärdsplan {year}"
    path = Path(output)
    path.write_bytes(data)
    if as_json:
        click.echo(
            json.dumps(
                {"output": str(path), "bytes": len(data), "title": title}, ensure_ascii=False
            )
        )
    else:
        click.echo(f"{title}: {path} ({len(data)} byte)")
