"""The weekly EST report of a reporting actor: ``/rapport/ny`` (role reporter).

The place is a map click (latitude/longitude) or a place name resolved by the offline
gazetteer (:mod:`geo.gazetteer`) inside the normal ingest pipeline
(:func:`geo.ingest.ingest_frame`): the same validation, geocoding, cell assignment,
deduplication and quarantine as file imports. Source is ``actor`` and the reporting
organisation comes from the user account, never from the form.
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

import pandas as pd
from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user

from geo.errors import LagesbildError
from geo.store.coverage import mark_nothing
from webmap.auth.views import role_required
from webmap.render.maps import resolve_tiles
from webmap.state import current_state
from webmap.web import allowed_tenants, bounds_of, localities_of, resolve_kommun
from webmap.weeks import week_of, week_text_sv

bp = Blueprint("reporting", __name__)

NAV = [("reporting.new", "Ny rapport", ("reporter",))]
RATE_LIMITS = {
    "reporting.new": ("30/minute", ["POST"]),
    "reporting.nothing": ("30/minute", ["POST"]),
}

MAX_TEXT = 2000


@bp.post("/rapport/inget", endpoint="nothing")
@role_required("reporter")
def nothing_view() -> Any:
    """ "Inget att rapportera denna vecka": record the current meeting week as empty."""
    tenant = resolve_kommun(request.values.get("kommun"))
    week = week_of(dt.datetime.now(dt.UTC))
    with current_state().engine.begin() as conn:
        mark_nothing(conn, int(current_user.id), tenant.key, week)
    flash(f"Noterat: inget att rapportera för {week_text_sv(week)}.", "info")
    return redirect(url_for("reporting.new", kommun=tenant.key))


def _values() -> dict[str, str]:
    keys = ("category", "when", "place", "lat", "lon", "description")
    return {k: (request.form.get(k) or "").strip() for k in keys}


@bp.route("/rapport/ny", methods=["GET", "POST"])
@role_required("reporter")
def new() -> Any:
    """Report form and submission."""
    tenant = resolve_kommun(request.values.get("kommun"))
    tz = ZoneInfo(tenant.timezone)
    values = {"when": dt.datetime.now(tz).strftime("%Y-%m-%dT%H:%M")}
    errors: list[str] = []
    if request.method == "POST":
        values = _values()
        if values["category"] not in tenant.categories:
            errors.append("Välj en kategori.")
        if not values["place"] and not (values["lat"] and values["lon"]):
            errors.append("Ange platsen: klicka i kartan eller skriv ett platsnamn.")
        if len(values["description"]) > MAX_TEXT:
            errors.append(f"Beskrivningen får vara högst {MAX_TEXT} tecken.")
        try:
            when = dt.datetime.fromisoformat(values["when"]).replace(tzinfo=tz)
        except ValueError:
            errors.append("Ange tidpunkten som datum och klockslag.")
            when = None
        if when is not None and when > dt.datetime.now(tz) + dt.timedelta(minutes=5):
            errors.append("Tidpunkten ligger i framtiden.")
        if not errors:
            errors = _store(tenant.key, values, when)
            if not errors:
                flash("Tack! Rapporten är registrerad.", "info")
                return redirect(url_for("reporting.new", kommun=tenant.key))
    localities = localities_of(tenant.key)
    primary = localities[localities["primary"].astype(bool)] if len(localities) else localities
    return (
        render_template(
            "reporting/new.html",
            tenant=tenant,
            tenants=allowed_tenants(),
            categories=tenant.categories,
            values=values,
            errors=errors,
            bounds=bounds_of(primary if len(primary) else localities),
            org=current_user.reporter_org or "",
            tiles=resolve_tiles(str(current_app.config.get("TILES") or ""))[0],
        ),
        400 if errors else 200,
    )


def _store(kommun: str, values: dict[str, str], when: dt.datetime | None) -> list[str]:
    """Run the ingest pipeline on one row; return problems (empty when stored)."""
    from geo.ingest import ingest_frame

    row: dict[str, Any] = {
        "occurred_at": pd.Timestamp(when).isoformat() if when else "",
        "category": values["category"],
        "description": values["description"] or None,
        "reporter_org": current_user.reporter_org or None,
        "location_text": values["place"] or None,
    }
    if values["lat"] and values["lon"]:
        row["lat"], row["lon"] = values["lat"], values["lon"]
    else:
        row["lat"], row["lon"] = None, None
    frame = pd.DataFrame([row])
    try:
        with current_state().engine.begin() as conn:
            result = ingest_frame(conn, frame, kommun=kommun, source="actor", status="approved")
    except LagesbildError as exc:
        return [str(exc)]
    outcome = result.outcomes.iloc[0] if result.outcomes is not None else None
    if outcome is None:
        return ["Rapporten kunde inte sparas."]
    if outcome["outcome"] == "stored":
        return []
    if outcome["outcome"] == "duplicate":
        return ["Samma rapport finns redan."]
    detail = outcome.get("detail") or outcome.get("reason") or ""
    return [f"Rapporten kunde inte placeras: {detail}"]
