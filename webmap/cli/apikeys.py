"""``lagesbild apikeys``: API keys of partner systems (Open311 POST requests)."""

from __future__ import annotations

import json

import click

from webmap.auth.apikeys import create_api_key, list_api_keys, revoke_api_key
from webmap.db import open_database


@click.group("apikeys")
def cli() -> None:
    """API-nycklar för partnersystem (Open311)."""


@cli.command("create")
@click.option("--name", required=True, help="Partnersystemets namn.")
@click.option("--kommun", default=None, help="Bara för den här kommunen (standard: alla).")
@click.option("--json", "as_json", is_flag=True, help="Skriv resultatet som JSON.")
def create_cmd(name: str, kommun: str | None, as_json: bool) -> None:
    """Skapa en nyckel. Den visas bara nu: spara den."""
    with open_database().begin() as conn:
        secret, key = create_api_key(conn, name, kommun=kommun, created_by="cli")
    if as_json:
        click.echo(
            json.dumps(
                {"api_key": secret, "prefix": key.prefix, "name": key.name, "kommun": key.kommun},
                ensure_ascii=False,
            )
        )
    else:
        click.echo(secret)
        click.echo(f"nyckel {key.prefix} för {key.name} skapad (visas bara en gång)", err=True)


@cli.command("list")
@click.option("--json", "as_json", is_flag=True, help="Skriv listan som JSON.")
def list_cmd(as_json: bool) -> None:
    """Lista nycklarna (utan hemligheter)."""
    with open_database().connect() as conn:
        rows = list_api_keys(conn)
    if as_json:
        click.echo(json.dumps({"api_keys": rows}, ensure_ascii=False))
        return
    for r in rows:
        state = "återkallad" if r["revoked"] else "aktiv"
        click.echo(f"{r['prefix']}  {r['name']}  {r['kommun'] or 'alla'}  {state}")


@cli.command("revoke")
@click.argument("prefix")
def revoke_cmd(prefix: str) -> None:
    """Återkalla nyckeln med prefixet PREFIX."""
    with open_database().begin() as conn:
        revoke_api_key(conn, prefix)
    click.echo(f"nyckel {prefix} återkallad")
