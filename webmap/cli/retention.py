"""``lagesbild retention``: delete citizen free text after the retention period."""

from __future__ import annotations

import json

import click

from geo.retention import purge_citizen_text
from geo.store.citizen import shred_citizen_rows
from webmap.citizen.photos import photo_dir, retention_hook
from webmap.config import load_config
from webmap.db import open_database
from webmap.mail.citizen import erase_closed, erase_for_retention


@click.group("retention")
def cli() -> None:
    """Gallring av medborgarnas fritext."""


@cli.command("run")
@click.option(
    "--days",
    type=click.IntRange(min=1),
    default=None,
    help="Radera text äldre än så här många dagar (standard: kommunens inställning, 180).",
)
@click.option("--kommun", default=None, help="Bara den här kommunen (nyckel).")
@click.option("--dry-run", is_flag=True, help="Räkna bara, ändra ingenting.")
@click.option("--json", "as_json", is_flag=True, help="Skriv resultatet som ett JSON-objekt.")
def run_cmd(days: int | None, kommun: str | None, dry_run: bool, as_json: bool) -> None:
    """Radera fritext, exakt position och bilder i medborgarrapporter äldre än gallringstiden.

    Bilderna (filer och rader) raderas helt. Kvar blir kategori, tidpunkt och H3-cell
    (positionen blir cellens mittpunkt).
    """
    config = load_config()
    engine = open_database(config)
    erase_photos = retention_hook(photo_dir(config["INSTANCE_DIR"]))
    with engine.begin() as conn:
        result = purge_citizen_text(
            conn,
            days=days,
            kommun=kommun,
            dry_run=dry_run,
            on_purged=[shred_citizen_rows, erase_for_retention, erase_photos],
        )
        addresses = 0 if dry_run else erase_closed(conn)  # follow-up time over
    summary = result.to_dict() | {"addresses_erased": addresses}
    if as_json:
        click.echo(json.dumps(summary, ensure_ascii=False))
        return
    verb = "skulle raderas" if dry_run else "raderades"
    for k in result.kommuner:
        click.echo(
            f"{k.kommun}: {k.reports} rapporter äldre än {k.days} dagar – "
            f"{k.descriptions} beskrivningar, {k.location_texts} platstexter och "
            f"{k.quarantined} rader i karantän {verb}; {k.positions} positioner "
            "avrundades till cellens mittpunkt"
        )
    click.echo(
        f"totalt {summary['reports']} rapporter ({summary['descriptions_deleted']} "
        f"beskrivningar) {verb}"
    )
