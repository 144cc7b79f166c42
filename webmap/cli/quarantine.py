"""``lagesbild quarantine``: list, export and retry rows that could not be imported.

Examples::

    lagesbild quarantine list --reason no_tenant --json
    lagesbild quarantine export --format csv -o karantan.csv
    lagesbild quarantine retry --reason no_tenant        # after adding the tenant
"""

from __future__ import annotations

import json
from pathlib import Path

import click

from geo.ingest import retry_quarantine
from geo.quarantine import (
    check_reason,
    export_quarantine,
    list_quarantine,
    quarantine_counts,
    quarantine_records,
)
from geo.schema import REASON_TEXT_SV, Reason
from webmap.db import open_database

REASONS = [r.value for r in Reason]


@click.group("quarantine")
def cli() -> None:
    """Rader i karantän (lista, exportera, försök igen)."""


def _short(text: object, width: int) -> str:
    value = "" if text is None else str(text)
    return value if len(value) <= width else value[: width - 1] + "…"


@cli.command("list")
@click.option("--reason", type=click.Choice(REASONS), default=None, help="Bara denna orsak.")
@click.option("--kommun", default=None, help="Bara denna kommun (nyckel).")
@click.option("--all", "show_all", is_flag=True, help="Även lösta rader.")
@click.option("--limit", default=None, type=int, help="Högst så många rader.")
@click.option("--json", "as_json", is_flag=True, help="Skriv ett JSON-objekt på stdout.")
def list_cmd(
    reason: str | None, kommun: str | None, show_all: bool, limit: int | None, as_json: bool
) -> None:
    """Lista rader i karantän med orsak och förklaring."""
    check_reason(reason)
    engine = open_database()
    with engine.connect() as conn:
        frame = list_quarantine(
            conn, reason=reason, kommun=kommun, resolved=None if show_all else False, limit=limit
        )
        counts = quarantine_counts(conn, kommun=kommun)
    if as_json:
        click.echo(
            json.dumps(
                {"count": len(frame), "open_by_reason": counts, "rows": quarantine_records(frame)},
                ensure_ascii=False,
                default=str,
            )
        )
        return
    if frame.empty:
        click.echo("Inga rader i karantän.")
        return
    for rec in quarantine_records(frame):
        state = f" löst → rapport {rec['report_id']}" if rec["resolved_at"] else ""
        line = "-" if rec["row_number"] is None else rec["row_number"]
        click.echo(
            f"#{rec['id']:<6} {rec['reason']:<17} {rec['kommun'] or '-':<12} "
            f"{_short(rec['file_name'], 28) or '-':<28} rad {line}: "
            f"{_short(rec['detail'], 90)}{state}"
        )
    click.echo(f"{len(frame)} rader. Öppna per orsak:")
    for code, n in sorted(counts.items(), key=lambda kv: -kv[1]):
        click.echo(f"  {code}: {n}  ({REASON_TEXT_SV.get(code, '')})")


@cli.command("export")
@click.option(
    "--format", "fmt", type=click.Choice(["csv", "json"]), default="csv", show_default=True
)
@click.option(
    "-o", "--output", required=True, type=click.Path(dir_okay=False, path_type=Path), help="Fil."
)
@click.option("--reason", type=click.Choice(REASONS), default=None, help="Bara denna orsak.")
@click.option("--kommun", default=None, help="Bara denna kommun (nyckel).")
@click.option("--all", "show_all", is_flag=True, help="Även lösta rader.")
@click.option("--json", "as_json", is_flag=True, help="Skriv ett JSON-objekt på stdout.")
def export_cmd(
    fmt: str, output: Path, reason: str | None, kommun: str | None, show_all: bool, as_json: bool
) -> None:
    """Exportera rader i karantän (med råinnehåll) till CSV eller JSON."""
    engine = open_database()
    with engine.connect() as conn:
        frame = list_quarantine(
            conn, reason=reason, kommun=kommun, resolved=None if show_all else False
        )
    n = export_quarantine(frame, output, fmt)
    if as_json:
        click.echo(json.dumps({"exported": n, "file": str(output), "format": fmt}))
    else:
        click.echo(f"{n} rader exporterade till {output}")


@cli.command("retry")
@click.option("--id", "ids", multiple=True, type=int, help="Rad-id (kan upprepas).")
@click.option("--reason", type=click.Choice(REASONS), default=None, help="Bara denna orsak.")
@click.option("--kommun", default=None, help="Bara denna kommun (nyckel).")
@click.option(
    "--mapping",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="Ny TOML-mappning att använda i stället för importens.",
)
@click.option("--json", "as_json", is_flag=True, help="Skriv ett JSON-objekt på stdout.")
def retry_cmd(
    ids: tuple[int, ...],
    reason: str | None,
    kommun: str | None,
    mapping: Path | None,
    as_json: bool,
) -> None:
    """Kör importen igen för rader i karantän (t.ex. efter att en kommun eller gräns lagts till).

    Rader som nu kan sparas markeras som lösta med rapportens id.
    """
    engine = open_database()
    result = retry_quarantine(
        engine, ids=list(ids) or None, reason=reason, kommun=kommun, mapping=mapping
    )
    out = {
        "retried": result.read,
        "stored": result.stored,
        "duplicates": result.duplicates,
        "still_quarantined": result.quarantined,
        "reasons": result.reasons,
        "problems": result.problems,
    }
    if as_json:
        click.echo(json.dumps(out, ensure_ascii=False))
        return
    click.echo(
        f"Försökte igen med {result.read} rader: {result.stored} sparade, "
        f"{result.duplicates} dubbletter (lösta), {result.quarantined} kvar i karantän."
    )
    for code, n in sorted(result.reasons.items(), key=lambda kv: -kv[1]):
        click.echo(f"  {code}: {n}  ({REASON_TEXT_SV.get(code, '')})")
    for problem in result.problems:
        click.echo(f"  obs: {problem}", err=True)
