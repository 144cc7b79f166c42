"""``lagesbild mail``: send the outbox (for cron), list messages not yet sent,
set actors' localities, remind actors who have not reported and edit the kommun's
distribution list of the published lägesbild."""

from __future__ import annotations

import json

import click

from analysis.config import WEEKDAYS_SV
from geo.store.coverage import set_actor
from geo.store.mail import unsent
from geo.store.tenants import update_settings
from geo.store.users import user_by_name
from geo.tenants import get_tenant
from webmap.config import load_config
from webmap.db import open_database
from webmap.mail.citizen import clean_email
from webmap.mail.coverage import remind
from webmap.mail.distribution import SETTING, distribution_list, set_distribution_list
from webmap.mail.sender import SmtpSettings, send_due
from webmap.weeks import canonical_week


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


@cli.command("actor")
@click.argument("username")
@click.option("--kommun", required=True, help="Kommunens nyckel.")
@click.option("--locality", default=None, help="Ortens kod.")
@click.option("--email", default=None, help="Aktörens e-postadress för påminnelser.")
def actor_cmd(username: str, kommun: str, locality: str | None, email: str | None) -> None:
    """Koppla en rapporterande aktör till en ort och en e-postadress."""
    with open_database().begin() as conn:
        user = user_by_name(conn, username)
        if user is None or user["role"] != "reporter":
            raise click.UsageError(f"{username} är ingen rapporterande aktör.")
        set_actor(conn, int(user["id"]), kommun, locality, clean_email(email))
    click.echo(f"{username}: {kommun} {locality or ''} {email or ''}".rstrip())


@cli.command("remind")
@click.option("--kommun", required=True, help="Kommunens nyckel.")
@click.option("--week", required=True, help="Mötesvecka, t.ex. 2026-W47.")
@click.option("--json", "as_json", is_flag=True, help="Skriv resultatet som ett JSON-objekt.")
def remind_cmd(kommun: str, week: str, as_json: bool) -> None:
    """Påminn aktörer som inte har rapporterat veckan (köas i utkorgen)."""
    config = load_config()
    label = canonical_week(week)
    with open_database(config).begin() as conn:
        reminded = remind(conn, kommun, label, str(config["BASE_URL"]))
    if as_json:
        click.echo(json.dumps({"week": label, "reminded": reminded}, ensure_ascii=False))
        return
    click.echo(f"{len(reminded)} påminnelser köade för {label}: {', '.join(reminded)}")


@cli.command("distribution")
@click.option("--kommun", required=True, help="Kommunens nyckel.")
@click.option("--set", "replace", default=None, help="Ersätt listan (adresser med komma emellan).")
@click.option("--add", multiple=True, help="Lägg till en adress (kan upprepas).")
@click.option("--remove", multiple=True, help="Ta bort en adress (kan upprepas).")
@click.option("--json", "as_json", is_flag=True, help="Skriv listan som ett JSON-objekt.")
def distribution_cmd(
    kommun: str, replace: str | None, add: tuple[str, ...], remove: tuple[str, ...], as_json: bool
) -> None:
    """Visa eller ändra sändlistan som får lägesbilden när en vecka publiceras."""
    with open_database().begin() as conn:
        tenant = get_tenant(conn, kommun)
        current = distribution_list(tenant)
        if replace is not None or add or remove:
            base = [a for a in replace.split(",")] if replace is not None else current
            gone = {a.strip().lower() for a in remove}
            wanted = [a for a in [*base, *add] if a.strip().lower() not in gone]
            current = set_distribution_list(conn, tenant.key, wanted)
    if as_json:
        click.echo(json.dumps({"kommun": tenant.key, SETTING: current}, ensure_ascii=False))
        return
    if not current:
        click.echo(f"{tenant.key}: sändlistan är tom")
    for address in current:
        click.echo(address)


@cli.command("reminder-time")
@click.option("--kommun", required=True, help="Kommunens nyckel.")
@click.option(
    "--weekday", type=click.IntRange(0, 6), default=None, help="Veckodag, 0 = måndag … 6 = söndag."
)
@click.option("--hour", type=click.IntRange(0, 23), default=None, help="Timme (lokal tid).")
@click.option("--off", is_flag=True, help="Stäng av de automatiska påminnelserna.")
@click.option("--json", "as_json", is_flag=True, help="Skriv inställningen som ett JSON-objekt.")
def reminder_time_cmd(
    kommun: str, weekday: int | None, hour: int | None, off: bool, as_json: bool
) -> None:
    """Visa eller ändra när aktörer som inte har rapporterat påminns automatiskt."""
    if off and (weekday is not None or hour is not None):
        raise click.UsageError("Ange antingen --off eller --weekday/--hour.")
    with open_database().begin() as conn:
        tenant = get_tenant(conn, kommun)
        settings = dict(tenant.settings)
        if off:
            settings["reminder_weekday"] = None
        elif weekday is not None or hour is not None:
            if weekday is None and settings.get("reminder_weekday") is None:
                raise click.UsageError("Ange --weekday: påminnelserna är avstängda.")
            if weekday is not None:
                settings["reminder_weekday"] = weekday
            if hour is not None:
                settings["reminder_hour"] = hour
        keys = ("reminder_weekday", "reminder_hour")
        chosen = {k: settings.get(k) for k in keys}
        if chosen != {k: tenant.settings.get(k) for k in keys}:
            update_settings(conn, tenant.key, chosen)
    day = chosen["reminder_weekday"]
    hour_set = int(chosen["reminder_hour"] if chosen["reminder_hour"] is not None else 9)
    if as_json:
        click.echo(json.dumps({"kommun": tenant.key, "weekday": day, "hour": hour_set}))
    elif day is None:
        click.echo(f"{tenant.key}: inga automatiska påminnelser")
    else:
        click.echo(f"{tenant.key}: påminnelse {WEEKDAYS_SV[int(day)]} kl. {hour_set:02d}:00")
