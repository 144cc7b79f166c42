"""Actors' weekly coverage and reminder mails to missing actors (no Flask)."""

from __future__ import annotations

import datetime as dt
import html
from typing import Any

import pandas as pd
from sqlalchemy.engine import Connection

from geo.store.coverage import actor_coverage, claim_reminder_run, record_reminded
from geo.store.mail import enqueue
from geo.tenants import Tenant, list_tenants
from webmap.weeks import deadline, monday_of, shift_week, week_of, week_text_sv

#: Swedish labels of the coverage states.
STATE_LABELS_SV = {
    "reported": "Har rapporterat",
    "nothing": "Inget att rapportera",
    "missing": "Saknas",
}


def reporting_period(week: str) -> tuple[dt.datetime, dt.datetime]:
    """Reporting period of meeting week ``week``: from the previous deadline to its own
    (naive UTC)."""
    start = deadline(shift_week(week, -1)).tz_localize(None).to_pydatetime()
    end = deadline(week).tz_localize(None).to_pydatetime()
    return start, end


def coverage(conn: Connection, kommun: str, week: str) -> list[dict[str, Any]]:
    """Actors of ``kommun`` with their state in ``week`` and a Swedish ``state_label``."""
    start, end = reporting_period(week)
    rows = actor_coverage(conn, kommun, week, start, end)
    for row in rows:
        row["state_label"] = STATE_LABELS_SV[row["state"]]
    return rows


def remind(conn: Connection, kommun: str, week: str, base_url: str) -> list[str]:
    """Queue a reminder to every missing actor with a mail address; returns their user names.

    Actors who reported or pressed "Inget att rapportera denna vecka" get nothing.
    """
    reminded = []
    link = f"{base_url.rstrip('/')}/rapport/ny?kommun={kommun}"
    when = week_text_sv(week)
    for actor in coverage(conn, kommun, week):
        if actor["state"] != "missing" or not actor["email"]:
            continue
        lines = [
            f"Hej {actor['org']}!",
            f"Vi har inte fått någon rapport från er för {when}.",
            "Rapportera det ni har sett, eller tryck på ”Inget att rapportera denna vecka”.",
        ]
        text = "\n\n".join([*lines, f"Rapportera: {link}"])
        body = "".join(f"<p>{html.escape(line)}</p>" for line in lines)
        body += f'<p><a href="{html.escape(link, quote=True)}">Rapportera</a></p>'
        enqueue(
            conn,
            kind="remind",
            recipient=str(actor["email"]),
            subject=f"Påminnelse: veckorapport {when}",
            body_text=text,
            body_html=body,
        )
        reminded.append(str(actor["username"]))
    return reminded


def reminder_time(tenant: Tenant, week: str) -> pd.Timestamp | None:
    """When the automatic reminder of ``week`` is due (UTC), or None when the tenant has
    none (settings ``reminder_weekday``, 0 = Monday, and ``reminder_hour``, local time)."""
    weekday = tenant.settings.get("reminder_weekday")
    if weekday is None:
        return None
    hour = int(tenant.settings.get("reminder_hour", 9))
    day = monday_of(week) + dt.timedelta(days=int(weekday))
    local = pd.Timestamp(dt.datetime.combine(day, dt.time(hour))).tz_localize(
        tenant.timezone, nonexistent="shift_forward", ambiguous=True
    )
    return local.tz_convert("UTC")


def send_due_reminders(
    conn: Connection, base_url: str, now: dt.datetime | None = None
) -> dict[str, list[str]]:
    """Queue each tenant's reminder round once its reminder time of the current meeting
    week has passed (once per kommun and week); returns ``{kommun: reminded users}``."""
    at = pd.Timestamp(now or dt.datetime.now(dt.UTC))
    at = at.tz_localize("UTC") if at.tzinfo is None else at.tz_convert("UTC")
    out: dict[str, list[str]] = {}
    for tenant in list_tenants(conn):
        week = week_of(at, tz=tenant.timezone)
        due = reminder_time(tenant, week)
        if due is None or at < due or not claim_reminder_run(conn, tenant.key, week):
            continue
        out[tenant.key] = remind(conn, tenant.key, week, base_url)
        record_reminded(conn, tenant.key, week, len(out[tenant.key]))
    return out
