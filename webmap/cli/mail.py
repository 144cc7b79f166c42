"""``lagesbild mail``: send the outbox (for cron) and list messages not yet sent."""

from __future__ import annotations

import json

import click

from geo.store.mail import unsent
from webmap.config import load_config
from webmap.db import open_database
from webmap.mail.sender import SmtpSettings, send_due


@click.group("mail")
def cli() -> None:
    """Utgående e-post (utkorgen)."""


@cli.command("send")
@click.option("--json", "as_json", is_flag=True, help="Skriv resultatet som ett JSON-objekt.")
def send_cmd(as_json: bool) -> None:
    """Skicka de meddelanden i utkorgen som står på tur (t.ex. från cron)."""
    config = load_config()
    settings = SmtpSettings.from_config(config)
    if settings is None:
        raise click.UsageError("E-post är avstängd: ange LAGESBILD_SMTP_HOST.")
    result = send_due(open_database(config), settings, limit=1000)
    if as_json:
        click.echo(json.dumps(result.to_dict()))
        return
    click.echo(
        f"{result.sent} skickade, {result.retry} försöks igen senare, {result.failed} gavs upp"
    )


@cli.command("outbox")
@click.option("--json", "as_json", is_flag=True, help="Skriv listan som ett JSON-objekt.")
def outbox_cmd(as_json: bool) -> None:
    """Lista meddelanden som väntar eller inte kunde skickas."""
    with open_database().connect() as conn:
        rows = unsent(conn)
    if as_json:
        click.echo(json.dumps({"messages": rows}, default=str, ensure_ascii=False))
        return
    if not rows:
        click.echo("utkorgen är tom")
    for row in rows:
        state = "väntar" if row["status"] == "pending" else "misslyckades"
        error = f" – {row['last_error']}" if row["last_error"] else ""
        click.echo(
            f"{row['id']}: {state} ({row['attempts']} försök) till {row['recipient']}: "
            f"{row['subject']}{error}"
        )
