"""Moderation of citizen reports ``/moderering`` (planners).

The queue lists pending citizen reports, oldest first, with text that seems to contain
personal data highlighted (:mod:`geo.pii`). A planner approves, rejects, or redacts the
text before approving (by hand, or with "Maskera" which replaces every flagged span).

Every decision is written to ``moderation_log`` in the same transaction as the change:
who (user name and id), when, what (``approve`` | ``reject`` | ``redact``), the status
before and after, and salted SHA-256 hashes of the text before and after (the salt is the
report's own and is deleted by retention). Approved reports are ``status = "approved"``
and enter the analysis like any other source (the kommun's data version is bumped);
rejected reports stay stored for the audit and are excluded everywhere.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import and_, func, select, update
from sqlalchemy.engine import Connection

from geo import pii
from geo.errors import NotFoundError, ValidationError
from geo.schema import Source, Status
from geo.store.db import bump_version, utcnow
from geo.store.tables import report as report_table
from webmap.auth import require_kommun_access, role_required
from webmap.citizen_tables import citizen_report, moderation_log
from webmap.state import get_engine
from webmap.submissions import (
    MAX_DESCRIPTION_OPEN311,
    TIME_OF_DAY,
    clean_text,
    runtime,
    tenant_choices,
    text_hash,
)

bp = Blueprint("moderation", __name__, url_prefix="/moderering")


@bp.app_template_filter("lokal_tid")
def local_time(value: Any, tz: str = "Europe/Stockholm", fmt: str = "%Y-%m-%d %H:%M") -> str:
    """A stored UTC time (naive = UTC) as local time text for a page."""
    if value is None:
        return ""
    from zoneinfo import ZoneInfo

    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return str(value.astimezone(ZoneInfo(tz)).strftime(fmt))


NAV = (("moderation.queue", "Moderering", ("planner",)),)

ACTIONS = ("approve", "reject", "redact")
ACTION_LABELS_SV = {"approve": "Godkänd", "reject": "Avvisad", "redact": "Text maskerad/ändrad"}


@dataclass(frozen=True)
class Decision:
    """Result of :func:`decide`."""

    report_id: int
    status_before: str
    status_after: str
    logged: tuple[str, ...]


def _load(conn: Connection, report_id: int) -> Any:
    r, c = report_table, citizen_report
    row = conn.execute(
        select(
            r.c.id,
            r.c.kommun,
            r.c.status,
            r.c.description,
            r.c.source,
            c.c.text_salt,
            c.c.receipt,
        )
        .join(c, c.c.report_id == r.c.id)
        .where(r.c.id == report_id)
    ).first()
    if row is None or row.source != Source.CITIZEN.value:
        raise NotFoundError(f"medborgarrapport {report_id} finns inte")
    return row


def decide(
    conn: Connection,
    report_id: int,
    action: str,
    actor: str,
    actor_id: int | None = None,
    new_text: str | None = None,
    now: dt.datetime | None = None,
) -> Decision:
    """Apply one moderation decision and log it (inside the caller's transaction).

    Parameters
    ----------
    action
        ``approve`` (optionally with ``new_text``: the text is redacted first and both
        steps are logged), ``reject``, ``redact`` (change the text, keep the status) or
        ``redact_auto`` (replace every personal-data finding; logged as ``redact``).
    new_text
        The moderated text for ``approve``/``redact`` (None keeps the text; ``""``
        removes it).
    """
    if action not in (*ACTIONS, "redact_auto"):
        raise ValidationError(f"okänt beslut {action!r}")
    row = _load(conn, report_id)
    when = (now or utcnow()).replace(microsecond=0)
    status_before = str(row.status)
    current = row.description
    logged: list[str] = []

    def log(kind: str, before: str, after: str, text_before: Any, text_after: Any) -> None:
        conn.execute(
            moderation_log.insert().values(
                report_id=report_id,
                kommun=row.kommun,
                action=kind,
                actor=actor,
                actor_id=actor_id,
                at=when,
                status_before=before,
                status_after=after,
                text_hash_before=text_hash(row.text_salt, text_before),
                text_hash_after=text_hash(row.text_salt, text_after),
                pii_flags=pii.flags(text_after),
            )
        )
        logged.append(kind)

    target = current
    if action == "redact_auto":
        target = pii.redact(current) if current else current
    elif new_text is not None and action in ("approve", "redact"):
        target, ok = clean_text(new_text, MAX_DESCRIPTION_OPEN311)
        if not ok:
            raise ValidationError(f"texten får vara högst {MAX_DESCRIPTION_OPEN311} tecken")
    if target != current:
        conn.execute(
            update(report_table).where(report_table.c.id == report_id).values(description=target)
        )
        conn.execute(
            update(citizen_report)
            .where(citizen_report.c.report_id == report_id)
            .values(pii_flags=pii.flags(target))
        )
        log("redact", status_before, status_before, current, target)
    status_after = status_before
    if action in ("approve", "reject"):
        status_after = Status.APPROVED.value if action == "approve" else Status.REJECTED.value
        conn.execute(
            update(report_table).where(report_table.c.id == report_id).values(status=status_after)
        )
        conn.execute(
            update(citizen_report)
            .where(citizen_report.c.report_id == report_id)
            .values(moderated_at=when, moderated_by=actor)
        )
        log(action, status_before, status_after, target, target)
    if Status.APPROVED.value in (status_before, status_after):
        bump_version(conn, row.kommun)  # the analysis input changed
    return Decision(report_id, status_before, status_after, tuple(logged))


def queue(conn: Connection, kommun: str, limit: int = 50) -> list[dict[str, Any]]:
    """Pending citizen reports of a kommun, oldest first."""
    r, c = report_table, citizen_report
    rows = conn.execute(
        select(
            r.c.id,
            r.c.category,
            r.c.description,
            r.c.location_text,
            r.c.lat,
            r.c.lon,
            r.c.locality,
            r.c.occurred_at,
            c.c.receipt,
            c.c.channel,
            c.c.time_of_day,
            c.c.pii_flags,
            c.c.submitted_at,
        )
        .join(c, c.c.report_id == r.c.id)
        .where(and_(r.c.kommun == kommun, r.c.status == Status.PENDING.value))
        .order_by(c.c.submitted_at, r.c.id)
        .limit(limit)
    ).all()
    return [dict(row._mapping) for row in rows]


def pending_count(conn: Connection, kommun: str) -> int:
    """Number of pending citizen reports of a kommun."""
    r, c = report_table, citizen_report
    return int(
        conn.execute(
            select(func.count())
            .select_from(r.join(c, c.c.report_id == r.c.id))
            .where(and_(r.c.kommun == kommun, r.c.status == Status.PENDING.value))
        ).scalar_one()
    )


def audit_log(conn: Connection, kommun: str, limit: int = 200) -> list[dict[str, Any]]:
    """Latest moderation decisions of a kommun (newest first)."""
    m, c = moderation_log, citizen_report
    rows = conn.execute(
        select(m, c.c.receipt)
        .select_from(m.outerjoin(c, c.c.report_id == m.c.report_id))
        .where(m.c.kommun == kommun)
        .order_by(m.c.at.desc(), m.c.id.desc())
        .limit(limit)
    ).all()
    return [dict(row._mapping) for row in rows]


def highlight(text: str | None) -> list[tuple[str, str | None]]:
    """``text`` split into ``(segment, kind or None)`` for highlighting flagged spans."""
    if not text:
        return []
    out: list[tuple[str, str | None]] = []
    pos = 0
    for f in pii.detect(text):
        if f.start > pos:
            out.append((text[pos : f.start], None))
        out.append((text[f.start : f.end], f.kind))
        pos = f.end
    if pos < len(text):
        out.append((text[pos:], None))
    return out


def _kommun() -> str:
    return str(
        request.values.get("kommun") or current_app.config.get("DEFAULT_KOMMUN") or "norrtalje"
    )


@bp.get("", endpoint="queue")
@role_required("planner")
def queue_view() -> Any:
    """The moderation queue."""
    kommun = _kommun()
    require_kommun_access(kommun)
    try:
        geo = runtime().geo.get(get_engine(), kommun)
    except NotFoundError:
        abort(404)
    with get_engine().connect() as conn:
        items = queue(conn, kommun)
        total = pending_count(conn, kommun)
    labels = {code: str(v.get("label", code)) for code, v in geo.tenant.categories.items()}
    names = {
        str(c): str(n) for c, n in zip(geo.localities["code"], geo.localities["name"], strict=True)
    }
    for item in items:
        item["segments"] = highlight(item["description"])
        item["place_segments"] = highlight(item["location_text"])
        item["category_label"] = labels.get(item["category"], item["category"])
        item["locality_name"] = names.get(str(item["locality"])) if item["locality"] else None
        item["time_label"] = TIME_OF_DAY.get(item["time_of_day"] or "", ("", 0))[0]
        item["suggested"] = pii.redact(item["description"]) if item["pii_flags"] else None
    return render_template(
        "moderation/queue.html",
        items=items,
        total=total,
        tenant=geo.tenant,
        kommuner=[k for k in tenant_choices(get_engine()) if current_user.can_access(k[0])],
        kind_labels=pii.KIND_LABEL_SV,
        max_text=MAX_DESCRIPTION_OPEN311,
    )


@bp.post("/<int:report_id>", endpoint="decide")
@role_required("planner")
def decide_view(report_id: int) -> Any:
    """Apply a decision from the queue form."""
    action = request.form.get("action", "")
    if action not in (*ACTIONS, "redact_auto"):
        abort(400)
    with get_engine().connect() as conn:
        try:
            row = _load(conn, report_id)
        except NotFoundError:
            abort(404)
    require_kommun_access(row.kommun)
    text = request.form.get("text")
    try:
        with runtime().write_lock, get_engine().begin() as conn:
            # the queue only offers pending reports: a stale page (another planner decided
            # meanwhile) must not overturn that decision, e.g. approve a rejected text
            if str(_load(conn, report_id).status) != Status.PENDING.value:
                flash(f"Rapport {row.receipt} är redan granskad; inget ändrades.", "error")
                return redirect(url_for("moderation.queue", kommun=row.kommun))
            decision = decide(
                conn,
                report_id,
                action,
                actor=current_user.username,
                actor_id=int(current_user.id),
                new_text=text if action in ("approve", "redact") else None,
            )
    except ValidationError as exc:
        flash(str(exc), "error")
        return redirect(url_for("moderation.queue", kommun=row.kommun))
    messages = {
        "approve": "Rapport {r} godkänd.",
        "reject": "Rapport {r} avvisad.",
        "redact": "Texten i rapport {r} sparad.",
        "redact_auto": "Personuppgifter i rapport {r} maskerade.",
    }
    if decision.logged or action in ("approve", "reject"):
        flash(messages[action].format(r=row.receipt), "info")
    return redirect(url_for("moderation.queue", kommun=row.kommun))


@bp.get("/logg", endpoint="log")
@role_required("planner")
def log_view() -> Any:
    """The moderation audit log."""
    kommun = _kommun()
    require_kommun_access(kommun)
    with get_engine().connect() as conn:
        entries = audit_log(conn, kommun)
    return render_template(
        "moderation/log.html", entries=entries, kommun=kommun, labels=ACTION_LABELS_SV
    )
