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
from typing import TYPE_CHECKING, Any

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user

from geo import pii
from geo.errors import NotFoundError, ValidationError
from geo.schema import Status
from geo.store.citizen import (
    pending_count,
)
from webmap.auth.views import require_kommun_access, role_required
from webmap.citizen.photo_web import photo_folder, photo_response
from webmap.citizen.photos import (
    close_report_photos,
    decide_photo,
    moderation_photos,
    photo_for_moderator,
)
from webmap.citizen.submissions import (
    MAX_DESCRIPTION_OPEN311,
    TIME_OF_DAY,
    runtime,
    tenant_choices,
)
from webmap.mail.citizen import report_closed
from webmap.planner.moderation_service import (
    ACTIONS,
    audit_log,
    decide,
    highlight,
    moderation_row,
    queue,
)
from webmap.state import default_kommun, get_engine

if TYPE_CHECKING:
    pass

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

ACTION_LABELS_SV = {"approve": "Godkänd", "reject": "Avvisad", "redact": "Text maskerad/ändrad"}


def _kommun() -> str:
    return str(request.values.get("kommun") or default_kommun())


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
        photos = moderation_photos(conn, [int(item["id"]) for item in items])
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
        item["photos"] = photos.get(int(item["id"]), [])
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
            row = moderation_row(conn, report_id)
        except NotFoundError:
            abort(404)
    require_kommun_access(row["kommun"])
    text = request.form.get("text")
    try:
        with runtime().write_lock, get_engine().begin() as conn:
            # the queue only offers pending reports: a stale page (another planner decided
            # meanwhile) must not overturn that decision, e.g. approve a rejected text
            if str(moderation_row(conn, report_id)["status"]) != Status.PENDING.value:
                flash(f"Rapport {row['receipt']} är redan granskad; inget ändrades.", "error")
                return redirect(url_for("moderation.queue", kommun=row["kommun"]))
            decision = decide(
                conn,
                report_id,
                action,
                actor=current_user.username,
                actor_id=int(current_user.id),
                new_text=text if action in ("approve", "redact") else None,
            )
            if action in ("approve", "reject"):  # the report is closed
                report_closed(
                    conn,
                    report_id,
                    str(row["receipt"]),
                    decision.status_after,
                    (request.form.get("reason") or "")[:500],
                    current_app.config["BASE_URL"],
                )
                close_report_photos(conn, photo_folder(), report_id, decision.status_after)
    except ValidationError as exc:
        flash(str(exc), "error")
        return redirect(url_for("moderation.queue", kommun=row["kommun"]))
    messages = {
        "approve": "Rapport {r} godkänd.",
        "reject": "Rapport {r} avvisad.",
        "redact": "Texten i rapport {r} sparad.",
        "redact_auto": "Personuppgifter i rapport {r} maskerade.",
    }
    if decision.logged or action in ("approve", "reject"):
        flash(messages[action].format(r=row["receipt"]), "info")
    return redirect(url_for("moderation.queue", kommun=row["kommun"]))


def _photo_row(photo_id: int) -> Any:
    """The photo's moderation row (404 when unknown; 403 outside the user's kommuner)."""
    with get_engine().connect() as conn:
        row = photo_for_moderator(conn, photo_id)
    if row is None:
        abort(404)
    require_kommun_access(str(row["kommun"]))
    return row


@bp.get("/bild/<int:photo_id>", endpoint="photo")
@role_required("planner")
def photo_view(photo_id: int) -> Any:
    """A citizen's photo for moderators only (pending or approved; never cached)."""
    row = _photo_row(photo_id)
    return photo_response(str(row["name"]), "private, no-store")


@bp.post("/bild/<int:photo_id>", endpoint="photo_decide")
@role_required("planner")
def photo_decide_view(photo_id: int) -> Any:
    """Approve a photo for the public, or reject it (its file is deleted at once)."""
    action = request.form.get("action", "")
    if action not in ("approve", "reject"):
        abort(400)
    row = _photo_row(photo_id)
    with runtime().write_lock, get_engine().begin() as conn:
        done = decide_photo(conn, photo_folder(), photo_id, action, current_user.username)
    if done is None:
        flash("Bilden är redan granskad; inget ändrades.", "error")
    elif action == "approve":
        flash(f"Bilden i rapport {row['receipt']} får visas.", "info")
    else:
        flash(f"Bilden i rapport {row['receipt']} avvisades och raderades.", "info")
    return redirect(url_for("moderation.queue", kommun=row["kommun"]) + f"#r-{row['report_id']}")


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
