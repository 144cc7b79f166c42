"""``lagesbild db``: create or upgrade the database."""

from __future__ import annotations

import click

from webmap.db import open_database


@click.group("db")
def cli() -> None:
    """Databasen (skapa, uppgradera)."""


@cli.command("upgrade")
def upgrade_cmd() -> None:
    """Skapa databasen om den saknas och kör alla migreringar."""
    engine = open_database()
    click.echo(f"databasen är uppdaterad: {engine.url.render_as_string(hide_password=True)}")
