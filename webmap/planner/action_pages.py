"""Actions pages ``/atgarder`` (planners edit; readers read).

Saving an action or a follow-up that changes its status mails the citizens followed in
its area (:mod:`webmap.mail.actions`).
"""

from __future__ import annotations

import base64
import datetime as dt
from typing import Any

import numpy as np
import shapely
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from analysis.effect import EFFECT_CAVEAT_SV, action_effect
from geo.cells import cells_to_parent, polygon_to_cells
from geo.errors import NotFoundError, ValidationError
from geo.schema import STORAGE_RES
from geo.store.reports import read_reports
from webmap.auth.views import role_required
from webmap.mail.actions import notify_action
from webmap.mail.citizen import mail_enabled
from webmap.planner.actions import (
    FORM_FIELDS,
    KIND_LABELS_SV,
    STATUS_LABELS_SV,
    action_cells,
    add_followup,
    create_action,
    get_action,
    list_actions,
    update_action,
)
from webmap.references import check_action_references
from webmap.render.reports import effect_png
from webmap.state import current_state
from webmap.web import localities_of, resolve_kommun, result_store

bp = Blueprint("action_pages", __name__)

NAV = [("action_pages.index", "Åtgärder", ("planner", "reader"))]


def _form_values() -> dict[str, Any]:
    values: dict[str, Any] = {k: request.form.get(k, "").strip() for k in FORM_FIELDS}
    values["public"] = request.form.get("public") == "1"
    return values


def _zone_choices(kommun: str) -> list[tuple[str, str]]:
    try:
        res = result_store().get(kommun)
    except Exception:  # noqa: BLE001 - the form works without zones
        return []
    return [(z["id"], f"{z['id']} {z.get('name') or ''}") for z in (res.zones if res else [])]


def _form_context(kommun: str, values: dict[str, Any], errors: list[str]) -> dict[str, Any]:
    localities = localities_of(kommun)
    choices = sorted(
        ((str(r.code), str(r.name)) for r in localities.itertuples()), key=lambda x: x[1]
    )
    zones = _zone_choices(kommun)
    # the action's own place stays selectable even when this week's analysis has no such
    # zone (zones change from week to week): otherwise saving the form would drop it
    if values.get("zone_id") and values["zone_id"] not in {z for z, _ in zones}:
        zones.insert(0, (str(values["zone_id"]), str(values["zone_id"])))
    if values.get("locality") and values["locality"] not in {c for c, _ in choices}:
        choices.insert(0, (str(values["locality"]), str(values["locality"])))
    return {
        "values": values,
        "errors": errors,
        "kinds": KIND_LABELS_SV,
        "statuses": STATUS_LABELS_SV,
        "localities": choices,
        "zones": zones,
    }


@bp.get("/atgarder")
@role_required("planner", "reader")
def index() -> Any:
    tenant = resolve_kommun()
    with current_state().engine.connect() as conn:
        rows = list_actions(conn, tenant.key)
    names = _locality_names(tenant.key)
    return render_template(
        "actions/index.html",
        actions=rows,
        tenant=tenant,
        names=names,
        can_edit=current_user.role == "planner",
        today=dt.date.today(),
    )


@bp.route("/atgarder/ny", methods=["GET", "POST"])
@role_required("planner")
def new() -> Any:
    tenant = resolve_kommun(request.values.get("kommun"))
    values: dict[str, Any] = {
        "status": "planerad",
        "kind": "annat",
        "zone_id": request.args.get("zon", ""),
        "locality": request.args.get("ort", ""),
    }
    errors: list[str] = []
    if request.method == "POST":
        values = _form_values()
        try:
            check_action_references(tenant.key, values)
            with current_state().engine.begin() as conn:
                action_id = create_action(
                    conn, tenant.key, values, created_by=current_user.username
                )
                _notify(conn, action_id, tenant.key)
            flash("Åtgärden är sparad.", "info")
            return redirect(url_for("action_pages.detail", action_id=action_id))
        except ValidationError as exc:
            errors = exc.problems
    return render_template(
        "actions/form.html", tenant=tenant, mode="new", **_form_context(tenant.key, values, errors)
    ), (400 if errors else 200)


def _load(action_id: int) -> dict[str, Any]:
    try:
        with current_state().engine.connect() as conn:
            action = get_action(conn, action_id)
    except NotFoundError:
        abort(404)
    resolve_kommun(action["kommun"])  # access check
    return action


@bp.route("/atgarder/<int:action_id>/andra", methods=["GET", "POST"])
@role_required("planner")
def edit(action_id: int) -> Any:
    action = _load(action_id)
    tenant = resolve_kommun(action["kommun"])
    values = {k: action.get(k) for k in FORM_FIELDS} | {"public": action.get("public")}
    values["cells"] = " ".join(action.get("cells") or [])
    errors: list[str] = []
    if request.method == "POST":
        values = _form_values()
        try:
            check_action_references(tenant.key, values, kept_zone=action.get("zone_id"))
            with current_state().engine.begin() as conn:
                update_action(conn, action_id, values)
                _notify(conn, action_id, tenant.key)
            flash("Åtgärden är uppdaterad.", "info")
            return redirect(url_for("action_pages.detail", action_id=action_id))
        except ValidationError as exc:
            errors = exc.problems
    return render_template(
        "actions/form.html",
        tenant=tenant,
        mode="edit",
        action=action,
        **_form_context(tenant.key, values, errors),
    ), (400 if errors else 200)


def _effect(action: dict[str, Any], weeks: int) -> dict[str, Any] | None:
    start = action.get("planned_start")
    if start is None or start > dt.date.today():
        return None
    tenant = resolve_kommun(action["kommun"])
    area = action_cells(action, STORAGE_RES)
    if len(area) == 0:
        return None
    localities = localities_of(tenant.key)
    code = action.get("locality")
    if not code:
        # the locality that contains most of the area
        lat, lon = _centre(action, area)
        pts = localities[localities.geometry.intersects(shapely.Point(lon, lat))]
        code = str(pts["code"].iloc[0]) if len(pts) else None
    if code is None or code not in set(localities["code"].astype(str)):
        return None
    geom = localities[localities["code"].astype(str) == code].geometry.iloc[0]
    loc_cells = polygon_to_cells(geom, STORAGE_RES)
    with current_state().engine.connect() as conn:
        reports = read_reports(conn, tenant.key, status="approved")
    eff = action_effect(
        reports, area, loc_cells, start, tenant.weights, weeks=weeks, tz=tenant.timezone
    )
    png = effect_png(eff.series, str(start))
    return {
        "effect": eff,
        "chart": "data:image/png;base64," + base64.b64encode(png).decode("ascii"),
        "summary": eff.summary_sv(),
        "caveat": EFFECT_CAVEAT_SV,
        "locality": code,
    }


def _centre(action: dict[str, Any], area: np.ndarray) -> tuple[float, float]:
    if action.get("lat") is not None:
        return float(action["lat"]), float(action["lon"])
    from geo.cells import cells_to_points

    lat, lon = cells_to_points(cells_to_parent(area[:1], 9))
    return float(lat[0]), float(lon[0])


@bp.get("/atgarder/<int:action_id>")
@role_required("planner", "reader")
def detail(action_id: int) -> Any:
    action = _load(action_id)
    try:
        weeks = max(2, min(26, int(request.args.get("veckor", 8))))
    except ValueError:
        weeks = 8
    effect = _effect(action, weeks)
    return render_template(
        "actions/detail.html",
        action=action,
        effect=effect,
        weeks=weeks,
        statuses=STATUS_LABELS_SV,
        today=dt.date.today().isoformat(),
        can_edit=current_user.role == "planner",
        names=_locality_names(str(action["kommun"])),
    )


def _locality_names(kommun: str) -> dict[str, str]:
    """Locality code -> name of the kommun."""
    return {str(r.code): str(r.name) for r in localities_of(kommun).itertuples()}


def _notify(conn: Any, action_id: int, kommun: str) -> None:
    """Mail citizens followed in the action's area about its new status (mail on only)."""
    config = current_state().config
    if mail_enabled(config):
        notify_action(conn, action_id, str(config["BASE_URL"]), localities_of(kommun))


@bp.post("/atgarder/<int:action_id>/uppfoljning")
@role_required("planner")
def followup(action_id: int) -> Any:
    action = _load(action_id)
    try:
        with current_state().engine.begin() as conn:
            add_followup(
                conn,
                action_id,
                request.form.get("meeting_date", ""),
                request.form.get("note", ""),
                request.form.get("status") or None,
                author=current_user.username,
            )
            _notify(conn, action_id, str(action["kommun"]))
        flash("Uppföljningen är sparad.", "info")
    except ValidationError as exc:
        flash("Uppföljningen sparades inte: " + "; ".join(exc.problems), "error")
    return redirect(url_for("action_pages.detail", action_id=action_id))
