"""Mail to citizens about actions in the area of their report (no Flask).

A confirmed address of an approved report is followed for
:data:`webmap.mail.citizen.FOLLOW_UP_DAYS` days. When a public action of the same kommun
is planned (status ``planerad`` or ``pågår``) or completed (``genomförd``) and the
report's position lies within the action's area or at most :data:`AREA_M` metres from it
(its polygon, its cells, its point, or its whole locality), the address gets one mail
about that event. Internal actions (not ``public``) are never mentioned to citizens.

Each ``(action, event, report)`` is recorded (:func:`geo.store.mail.claim_once`), so
saving the action again, adding follow-ups or retrying sends nothing twice; an address
that followed several reports in the area gets one mail listing them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

import geopandas as gpd
import numpy as np
from sqlalchemy.engine import Connection

from geo.store.contacts import followed_reports
from geo.store.db import utcnow
from geo.store.mail import CITIZEN_PREFIX, claim_once, enqueue, record_once_message
from webmap.mail.citizen import FOLLOW_UP_DAYS
from webmap.mail.compose import compose, links
from webmap.planner.actions import action_geometry, get_action

#: A report counts as "in the area" up to this distance from the action's place (metres).
AREA_M = 300.0
#: Action status -> event that is mailed.
EVENTS: dict[str, str] = {"planerad": "planned", "pågår": "planned", "genomförd": "completed"}


def reports_in_area(
    action: Mapping[str, Any], reports: list[dict[str, Any]], localities: Any | None = None
) -> list[dict[str, Any]]:
    """The reports (dicts with ``lat``/``lon``) within :data:`AREA_M` of the action's
    place, measured in a metric projection (UTM zone of the place)."""
    geom = action_geometry(action, localities)
    located = [r for r in reports if r.get("lat") is not None and r.get("lon") is not None]
    if geom is None or not located:
        return []
    place = gpd.GeoSeries([geom], crs="EPSG:4326")
    metric = place.estimate_utm_crs()
    points = gpd.GeoSeries(
        gpd.points_from_xy([r["lon"] for r in located], [r["lat"] for r in located]),
        crs="EPSG:4326",
    ).to_crs(metric)
    near = np.asarray(points.distance(place.to_crs(metric).iloc[0]) <= AREA_M)
    return [r for r, hit in zip(located, near, strict=True) if hit]


def _message(action: Mapping[str, Any], event: str, receipts: list[str]) -> tuple[str, list[str]]:
    title = " ".join(str(action["title"]).split())  # one line: it goes into the subject
    kind = str(action.get("kind_sv") or action["kind"])
    yours = "din rapport" if len(receipts) == 1 else "dina rapporter"
    if event == "planned":
        subject = f"En åtgärd är planerad där du rapporterade: {title}"
        lines = [
            f"Kommunen har planerat en åtgärd i området där du rapporterade: {title} ({kind})."
        ]
        start, end = action.get("planned_start"), action.get("planned_end")
        if start and end:
            lines.append(f"Den är planerad {start} – {end}.")
        elif start:
            lines.append(f"Den är planerad från {start}.")
    else:
        subject = f"En åtgärd är genomförd där du rapporterade: {title}"
        lines = [
            f"Kommunen har genomfört en åtgärd i området där du rapporterade: {title} ({kind})."
        ]
    lines.append(f"Det gäller {yours} {', '.join(receipts)}. Tack för att du hjälper till!")
    return subject, lines


def notify_action(
    conn: Connection, action_id: int, base_url: str, localities: Any | None = None
) -> list[str]:
    """Queue the mails about the current status of action ``action_id`` to the citizens
    followed in its area that have not had them; returns the receipts concerned.

    Parameters
    ----------
    conn
        Connection inside the transaction that saved the action.
    action_id
        The action just created or changed.
    base_url
        Public address of the installation (links).
    localities
        The kommun's localities (GeoDataFrame with ``code``), for actions placed on a
        whole locality.
    """
    action = get_action(conn, action_id)
    event = EVENTS.get(str(action["status"]))
    if event is None or not action.get("public"):
        return []
    since = utcnow() - dt.timedelta(days=FOLLOW_UP_DAYS)
    followed = followed_reports(conn, str(action["kommun"]), since)
    near = reports_in_area(action, followed, localities)
    fresh = [r for r in near if claim_once(conn, f"action:{action_id}:{event}:{r['report_id']}")]
    by_address: dict[str, list[dict[str, Any]]] = {}
    for r in fresh:
        by_address.setdefault(str(r["email"]).lower(), []).append(r)
    for group in by_address.values():
        receipts = [str(r["receipt"]) for r in group]
        subject, lines = _message(action, event, receipts)
        urls = links(
            base_url,
            **{f"Se rapport {nr}": f"/rapportera/kvitto/{nr}" for nr in receipts},
            **{"Se den publika kartan": f"/karta/publik?kommun={action['kommun']}"},
        )
        text, body_html = compose(subject, lines, urls)
        message_id = enqueue(
            conn,
            kind=f"{CITIZEN_PREFIX}action_{event}",
            recipient=str(group[0]["email"]),
            subject=subject[:300],
            body_text=text,
            body_html=body_html,
        )
        record_once_message(
            conn, [f"action:{action_id}:{event}:{r['report_id']}" for r in group], message_id
        )
    return [str(r["receipt"]) for r in fresh]
