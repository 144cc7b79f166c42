"""``lagesbild boundaries``: import official polygons, list stored boundaries."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click
import pandas as pd

from geo.boundaries import read_boundaries
from geo.tenants import get_tenant, import_boundary_file, list_tenants
from webmap.db import open_database


@click.group("boundaries")
def cli() -> None:
    """Gränser för kommuner och tätorter (importera, lista)."""


@cli.command("import")
@click.argument("file", type=click.Path(dir_okay=True, path_type=Path))
@click.option("--layer", default=None, help="Lager i filen (GeoPackage); SCB: To2020_SR99TM.")
@click.option("--name-field", default=None, help="Fält med namnet (standard TATORT/name).")
@click.option("--code-field", default=None, help="Fält med koden (standard TATORTSKOD/code).")
@click.option(
    "--kommun",
    default=None,
    help="Kommunkod (0188), nyckel (norrtalje) eller ny nyckel (vancouver). "
    "En okänd kommun blir en ny hyresgäst.",
)
@click.option(
    "--level",
    type=click.Choice(["locality", "kommun"]),
    default="locality",
    show_default=True,
)
@click.option("--timezone", default=None, help="Tidszon för en ny hyresgäst.")
@click.option(
    "--crs",
    default=None,
    help="Koordinatsystem för en fil som inte anger något, t.ex. EPSG:3006 (SWEREF 99 TM).",
)
@click.option("--json", "as_json", is_flag=True, help="Skriv ett JSON-objekt på stdout.")
def import_cmd(
    file: Path,
    layer: str | None,
    name_field: str | None,
    code_field: str | None,
    kommun: str | None,
    level: str,
    timezone: str | None,
    crs: str | None,
    as_json: bool,
) -> None:
    """Importera officiella gränser (GeoPackage, GeoJSON, Shapefile; valfritt CRS).

    Ersätter de lagrade (ungefärliga) gränserna för kommunen, t.ex.

        lagesbild boundaries import Tatorter_1980_2020.gpkg --layer To2020_SR99TM --kommun 0188
    """
    engine = open_database()
    with engine.begin() as conn:
        summaries = import_boundary_file(
            conn,
            file,
            layer=layer,
            name_field=name_field,
            code_field=code_field,
            kommun=kommun,
            level=level,
            timezone=timezone,
            crs=crs,
        )
    if as_json:
        click.echo(json.dumps({"imported": summaries}, ensure_ascii=False))
        return
    what = "tätorter" if level == "locality" else "kommungränser"
    for s in summaries:
        new = " (ny hyresgäst)" if s["created"] else ""
        click.echo(
            f"{s['kommun']}{new}: {s['count']} {what} importerade från {Path(s['file']).name}"
            + (f", lager {s['layer']}" if s["layer"] else "")
            + f"; ersatte {s['replaced']} (varav {s['replaced_approximate']} ungefärliga)"
        )


@cli.command("list")
@click.option("--kommun", default=None, help="Bara denna kommun (nyckel, kod eller namn).")
@click.option(
    "--level", type=click.Choice(["locality", "kommun", "all"]), default="all", show_default=True
)
@click.option("--json", "as_json", is_flag=True, help="Skriv ett JSON-objekt på stdout.")
def list_cmd(kommun: str | None, level: str, as_json: bool) -> None:
    """Lista lagrade gränser per kommun."""
    engine = open_database()
    rows: list[dict[str, Any]] = []
    with engine.connect() as conn:
        tenants = [get_tenant(conn, kommun)] if kommun else list_tenants(conn)
        for tenant in tenants:
            for lvl in ("kommun", "locality") if level == "all" else (level,):
                frame = read_boundaries(conn, tenant.key, lvl)
                for r in frame.itertuples(index=False):
                    rows.append(
                        {
                            "kommun": tenant.key,
                            "level": lvl,
                            "code": r.code,
                            "name": r.name,
                            "approximate": bool(r.approximate),
                            "primary": bool(r.primary),
                            "population": None if pd.isna(r.population) else int(r.population),
                        }
                    )
    if as_json:
        click.echo(json.dumps({"boundaries": rows}, ensure_ascii=False))
        return
    if not rows:
        click.echo("inga gränser lagrade" + (f" för {kommun}" if kommun else ""))
        return
    for r in rows:
        flags = ("ungefärlig" if r["approximate"] else "officiell") + (
            ", primär" if r["primary"] else ""
        )
        click.echo(f"{r['kommun']:<12} {r['level']:<9} {r['code']:<12} {r['name']} ({flags})")
