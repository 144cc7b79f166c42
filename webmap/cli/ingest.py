"""``lagesbild ingest``: import a report file (CSV, Excel, GeoJSON, Polisen events).

Examples::

    lagesbild ingest rapporter.csv --kommun norrtalje --source actor
    lagesbild ingest crimedata.csv.gz --kommun vancouver --mapping vancouver
    lagesbild ingest polisen_events.csv.gz --source police --format polisen --json

Re-running the same command continues an interrupted import and stores nothing twice.
Addresses are placed with the offline gazetteer; with ``LAGESBILD_GEOCODER=nominatim``
(or ``photon``) unknown addresses are also asked online (cached, rate-limited).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click
from sqlalchemy import Engine

from geo.ingest import BATCH_SIZE, IngestResult, ingest_file
from geo.readers import FORMATS
from geo.schema import REASON_TEXT_SV, Source, Status
from geo.tenants import list_tenants
from webmap.config import load_config
from webmap.db import open_database

PRECISION_SV = {"point": "punkt", "street": "gata", "locality": "tätort", "kommun": "kommun"}


def _n(value: int) -> str:
    """Swedish thousands separator: 33 761."""
    return f"{value:,}".replace(",", "\u00a0")


def summary_sv(result: IngestResult, file_name: str) -> str:
    """Human-readable Swedish summary of an import."""
    what = result.format or "?"
    extra = []
    if result.encoding:
        extra.append(result.encoding)
    if result.delimiter:
        extra.append(f"avgränsare {result.delimiter!r}")
    lines = [
        f"Läste {_n(result.read)} rader från {file_name} ({', '.join([what, *extra])})",
    ]
    if result.resumed_from:
        lines.append(f"  fortsatte en avbruten import efter rad {_n(result.resumed_from)}")
    prec = ", ".join(
        f"{PRECISION_SV[p]} {_n(n)}" for p, n in result.precision.items() if p in PRECISION_SV
    )
    lines += [
        f"  sparade:      {_n(result.stored)}  ({prec})",
        f"  dubbletter:   {_n(result.duplicates)}",
        f"  i karantän:   {_n(result.quarantined)}",
    ]
    for reason, n in sorted(result.reasons.items(), key=lambda kv: -kv[1]):
        lines.append(f"    {reason}: {_n(n)}  ({REASON_TEXT_SV.get(reason, '')})")
    if result.placed_from_text is not None:
        lines.append(
            f"  placerade i en tätort utifrån texten: {_n(result.placed_from_text)}; "
            f"kvar på kommunnivå: {_n(result.precision.get('kommun', 0))}"
        )
    if result.quarantined:
        lines.append("  se raderna med: lagesbild quarantine list")
    lines.append(f"Tid: {result.seconds:.1f} s".replace(".", ","))
    return "\n".join(lines)


def _geocoder(config: dict[str, Any], engine: Engine) -> Any:
    """Gazetteer plus the configured online geocoder (``LAGESBILD_GEOCODER``), else ``None``.

    ``None`` lets the pipeline use the offline gazetteer alone (the default).
    """
    from geo.gazetteer import Gazetteer
    from geo.geocode import Geocoder, online_geocoder_from_config

    online = online_geocoder_from_config(config, cache=engine)
    if online is None:
        return None
    return Geocoder(Gazetteer.default(), online)


@click.command("ingest")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--kommun", default=None, help="Kommun för alla rader (nyckel, SCB-kod eller namn).")
@click.option(
    "--source",
    type=click.Choice([s.value for s in Source]),
    default=None,
    help="Källa för alla rader.",
)
@click.option(
    "--mapping",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="TOML-mappning av filens kolumner: en fil eller namnet på en medföljande (vancouver).",
)
@click.option("--crs", default=None, help="Koordinatsystem för kolumnerna x/y, t.ex. EPSG:3006.")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["auto", *FORMATS]),
    default="auto",
    show_default=True,
    help="Filformat (auto känner igen det på innehållet).",
)
@click.option(
    "--status",
    type=click.Choice([s.value for s in Status]),
    default=Status.APPROVED.value,
    show_default=True,
    help="Status för sparade rapporter.",
)
@click.option(
    "--batch-size",
    default=BATCH_SIZE,
    show_default=True,
    type=int,
    help="Rader per transaktion.",
)
@click.option("--json", "as_json", is_flag=True, help="Skriv ett JSON-objekt på stdout.")
def cli(
    file: Path,
    kommun: str | None,
    source: str | None,
    mapping: Path | None,
    crs: str | None,
    fmt: str,
    status: str,
    batch_size: int,
    as_json: bool,
) -> None:
    """Importera rapporter från FILE (CSV, .xlsx, GeoJSON, Polisens händelser; även .gz).

    Varje rad blir sparad, en dubblett eller hamnar i karantän med en orsak. Samma kommando
    igen fortsätter en avbruten import och sparar inget två gånger.
    """
    config = load_config()
    engine = open_database(config)
    geocoder = _geocoder(config, engine)
    with engine.connect() as conn:
        if not list_tenants(conn):
            click.echo(
                "obs: databasen har inga kommuner (hyresgäster) än; raderna hamnar i karantän "
                "som no_tenant tills en kommun läggs till (lagesbild boundaries import) och "
                "lagesbild quarantine retry körs",
                err=True,
            )
    result = ingest_file(
        engine,
        file,
        kommun=kommun,
        source=source,
        mapping=mapping,
        crs=crs,
        format=fmt,
        status=status,
        batch_size=batch_size,
        progress=True,
        geocoder=geocoder,
    )
    if as_json:
        click.echo(json.dumps(result.to_dict(), ensure_ascii=False))
    else:
        click.echo(summary_sv(result, file.name))
