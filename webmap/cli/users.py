"""``lagesbild user``: manage web app users (add, list, disable, password, ensure-demo)."""

from __future__ import annotations

import json
import secrets
import sys

import click

from geo.store.tables import ROLES
from webmap.auth.views import create_user, list_users, set_active, set_password
from webmap.db import open_database


def _read_password(prompt: bool) -> str:
    """Password from stdin when it is not a terminal, else prompted twice (hidden)."""
    if not sys.stdin.isatty():
        return sys.stdin.readline().rstrip("\r\n")
    if not prompt:
        raise click.UsageError("inget lösenord på standard in")
    return str(click.prompt("Lösenord", hide_input=True, confirmation_prompt="Upprepa lösenord"))


@click.group("user")
def cli() -> None:
    """Användare av webbtjänsten."""


@cli.command("add")
@click.argument("name")
@click.option("--role", type=click.Choice(ROLES), required=True, help="Roll.")
@click.option("--kommun", "kommuner", multiple=True, help="Kommun (kan upprepas; ingen = alla).")
@click.option("--org", "org", default=None, help="Rapporterande organisation (rapportör).")
@click.option("--json", "as_json", is_flag=True, help="Skriv resultatet som JSON.")
def add_cmd(
    name: str, role: str, kommuner: tuple[str, ...], org: str | None, as_json: bool
) -> None:
    """Lägg till användaren NAME (lösenordet läses från standard in eller frågas efter)."""
    password = _read_password(prompt=True)
    engine = open_database()
    with engine.begin() as conn:
        user = create_user(conn, name, password, role, kommuner=kommuner, reporter_org=org)
    if as_json:
        click.echo(json.dumps({"user": user.to_dict()}, ensure_ascii=False))
    else:
        click.echo(f"användaren {user.username} ({user.role}) är skapad")


@cli.command("list")
@click.option("--json", "as_json", is_flag=True, help="Skriv listan som JSON.")
def list_cmd(as_json: bool) -> None:
    """Lista användarna."""
    with open_database().connect() as conn:
        rows = list_users(conn)
    if as_json:
        click.echo(json.dumps({"users": [u.to_dict() for u in rows]}, ensure_ascii=False))
        return
    for u in rows:
        state = "aktiv" if u.active else "avstängd"
        kommuner = ",".join(u.kommuner) or "alla"
        org = f" org={u.reporter_org}" if u.reporter_org else ""
        click.echo(f"{u.username}\t{u.role}\t{state}\tkommuner={kommuner}{org}")


@cli.command("disable")
@click.argument("name")
def disable_cmd(name: str) -> None:
    """Stäng av användaren NAME (loggas ut direkt)."""
    with open_database().begin() as conn:
        set_active(conn, name, False)
    click.echo(f"användaren {name} är avstängd")


@cli.command("enable")
@click.argument("name")
def enable_cmd(name: str) -> None:
    """Aktivera användaren NAME igen."""
    with open_database().begin() as conn:
        set_active(conn, name, True)
    click.echo(f"användaren {name} är aktiv")


@cli.command("password")
@click.argument("name")
def password_cmd(name: str) -> None:
    """Byt lösenord för NAME (från standard in eller frågas efter)."""
    password = _read_password(prompt=True)
    with open_database().begin() as conn:
        set_password(conn, name, password)
    click.echo(f"lösenordet för {name} är bytt")


@cli.command("ensure-demo")
@click.option("--json", "as_json", is_flag=True, help="Skriv resultatet som JSON.")
def ensure_demo_cmd(as_json: bool) -> None:
    """Skapa demoplaneraren "planerare" med ett slumpat lösenord om ingen planerare finns.

    Lösenordet skrivs ut en enda gång.
    """
    engine = open_database()
    with engine.begin() as conn:
        planners = [u for u in list_users(conn) if u.role == "planner" and u.active]
        if planners:
            out = {"created": False, "username": planners[0].username, "password": None}
        else:
            password = secrets.token_urlsafe(12)
            create_user(conn, "planerare", password, "planner")
            out = {"created": True, "username": "planerare", "password": password}
    if as_json:
        click.echo(json.dumps(out, ensure_ascii=False))
    elif out["created"]:
        click.echo("Demoanvändare skapad (lösenordet visas bara nu):")
        click.echo(f"  användarnamn: {out['username']}")
        click.echo(f"  lösenord:     {out['password']}")
    else:
        click.echo(f"det finns redan en planerare ({out['username']}); ingen ny skapades")
