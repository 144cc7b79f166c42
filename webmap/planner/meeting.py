"""The weekly meeting ``/lagesbild/<year>-W<week>`` and the yearly document.

Planners set the grade of each locality with a comment (every decision is kept with who
and when) and publish the week: the HTML and PDF are rendered once and stored, then
downloaded by planners and readers; when mail is on, the PDF is mailed once to each
address of the kommun's distribution list (:mod:`webmap.mail.distribution`).
``/lagesbild/ar/<year>`` gives the yearly document (law 2023:196) as HTML or PDF.
"""

from __future__ import annotations

import json
from typing import Any

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from analysis.grading import GRADE_LABELS
from geo.errors import ValidationError
from geo.store.grades import latest_publication, set_grade, store_publication
from webmap.auth.views import role_required
from webmap.mail.citizen import mail_enabled
from webmap.mail.coverage import coverage
from webmap.mail.distribution import send_lagesbild
from webmap.payloads import memo, user_page
from webmap.planner.forecast_choice import forecast_choice_text
from webmap.planner.weekly import build_weekly, build_yearly, week_period_text
from webmap.render.reports import (
    render_weekly_html,
    render_weekly_pdf,
    render_yearly_html,
    render_yearly_pdf,
    weekly_images,
)
from webmap.state import current_state
from webmap.web import requested_week, resolve_kommun, result_store, week_choices
from webmap.weeks import canonical_week, shift_week, week_text_sv

bp = Blueprint("meeting", __name__)

NAV = [("meeting.current", "Veckomöte", ("planner", "reader"))]


def _week(week: str) -> str:
    """The canonical label of ``week`` (404 when it is no week)."""
    try:
        return canonical_week(week)
    except ValidationError:
        abort(404)


def _weekly(engine: Any, kommun: str, week: str) -> Any:
    """The weekly picture, built once per week and state of the data for every process."""
    return memo(
        "weekly", kommun, (week,), lambda: build_weekly(engine, result_store(), kommun, week)
    )


@bp.get("/lagesbild")
@role_required("planner", "reader")
def current() -> Any:
    """Redirect to the latest week of the kommun."""
    tenant = resolve_kommun()
    return redirect(url_for("meeting.week", week=requested_week(tenant.key), kommun=tenant.key))


@bp.get("/lagesbild/<week>")
@role_required("planner", "reader")
def week(week: str) -> Any:
    """The weekly picture: per locality suggestion, decision, hotspots, actions, reports."""
    label = _week(week)
    if label != week:  # one address per week (grades are stored under the label)
        query: dict[str, Any] = request.args.to_dict(flat=False)
        return redirect(url_for("meeting.week", week=label, **query))
    week = label
    tenant = resolve_kommun()
    state = current_state()
    pic = _weekly(state.engine, tenant.key, week)
    with state.engine.connect() as conn:
        publication = latest_publication(conn, tenant.key, week)
        actors = coverage(conn, tenant.key, week)
    forecast_text = forecast_choice_text(state.engine, tenant.key, week)
    # a ready page per user and state of the data (actors' coverage and the forecast's
    # record, written by analyse, are part of the key)
    key = (week, json.dumps(actors, sort_keys=True, default=str), forecast_text)
    return user_page(
        "meeting",
        tenant.key,
        key,
        lambda: _week_page(tenant, week, pic, actors, publication, forecast_text),
    )


def _week_page(
    tenant: Any, week: str, pic: Any, actors: Any, publication: Any, forecast_text: str | None
) -> str:
    return render_template(
        "meeting/week.html",
        actors=actors,
        forecast_text=forecast_text,
        pic=pic,
        tenant=tenant,
        week=week,
        week_text=week_text_sv(week),
        period_text=week_period_text(week, tenant),
        weeks=week_choices(tenant.key, week),
        prev_week=shift_week(week, -1),
        next_week=shift_week(week, 1),
        publication=publication,
        can_edit=current_user.role == "planner",
        show_all=request.args.get("alla") == "1",
        confirm_publish=request.args.get("bekrafta") == "1",
        grade_labels=GRADE_LABELS,
    )


@bp.post("/lagesbild/<week>/bedomning")
@role_required("planner")
def set_grade_view(week: str) -> Any:
    """Record the meeting's grade and comment for one locality."""
    week = _week(week)
    tenant = resolve_kommun(request.form.get("kommun"))
    locality = request.form.get("locality", "")
    res = result_store().get(tenant.key, week)
    assert res is not None
    suggested = next((g for g in res.localities if g["locality"] == locality), None)
    if suggested is None:
        abort(400)
    try:
        with current_state().engine.begin() as conn:
            set_grade(
                conn,
                tenant.key,
                week,
                locality,
                int(request.form.get("grade", "0") or 0),
                request.form.get("comment"),
                current_user.username,
                suggested_grade=suggested.get("grade"),
                suggested_explanation=suggested.get("explanation"),
            )
        flash(f"Bedömningen för {suggested['name']} är sparad.", "info")
    except (ValidationError, ValueError) as exc:
        flash(f"Bedömningen sparades inte: {exc}", "error")
    return redirect(url_for("meeting.week", week=week, kommun=tenant.key) + f"#ort-{locality}")


@bp.post("/lagesbild/<week>/publicera")
@role_required("planner")
def publish(week: str) -> Any:
    """Render the week's HTML and PDF and store them as the published version."""
    week = _week(week)
    tenant = resolve_kommun(request.form.get("kommun"))
    state = current_state()
    pic = _weekly(state.engine, tenant.key, week)
    undecided = [loc.name for loc in pic.localities if loc.primary and not loc.decision]
    if undecided and request.form.get("bekrafta") != "1":
        flash(
            "Mötet har inte beslutat om "
            + ", ".join(undecided)
            + ". Bekräfta nedan för att publicera ändå: de behåller sin senast "
            "publicerade bedömning.",
            "warning",
        )
        return redirect(url_for("meeting.week", week=week, kommun=tenant.key, bekrafta=1))
    images = weekly_images(pic)
    html = render_weekly_html(pic, images)
    with state.engine.connect() as conn:
        actors = coverage(conn, tenant.key, week)
    pdf = render_weekly_pdf(pic, images, actors)
    with state.engine.begin() as conn:
        store_publication(
            conn, tenant.key, week, current_user.username, pic.data_version, html, pdf
        )
        mailed = (
            send_lagesbild(conn, tenant, week, pdf, str(state.config["BASE_URL"]))
            if mail_enabled(state.config)
            else []
        )
    flash(f"Lägesbilden för {week_text_sv(week)} är publicerad.", "info")
    if mailed:
        many = "adress" if len(mailed) == 1 else "adresser"
        flash(f"Den skickas till {len(mailed)} {many} på sändlistan.", "info")
    return redirect(url_for("meeting.week", week=week, kommun=tenant.key))


def _publication(week: str) -> dict[str, Any]:
    tenant = resolve_kommun()
    with current_state().engine.connect() as conn:
        pub = latest_publication(conn, tenant.key, _week(week))
    if pub is None:
        abort(404)
    return pub


@bp.get("/lagesbild/<week>/rapport.pdf")
@role_required("planner", "reader")
def report_pdf(week: str) -> Response:
    pub = _publication(week)
    resp = Response(pub["pdf"], mimetype="application/pdf")
    resp.headers["Content-Disposition"] = (
        f'attachment; filename="lagesbild-{pub["kommun"]}-{pub["period"]}.pdf"'
    )
    return resp


@bp.get("/lagesbild/<week>/rapport.html")
@role_required("planner", "reader")
def report_html(week: str) -> Response:
    pub = _publication(week)
    return Response(pub["html"], mimetype="text/html")


@bp.get("/lagesbild/ar/<int:year>")
@role_required("planner", "reader")
def yearly(year: int) -> Response:
    """Yearly lägesbild and åtgärdsplan (HTML)."""
    if not 2000 <= year <= 2100:
        abort(404)
    tenant = resolve_kommun()
    pic = build_yearly(current_state().engine, result_store(), tenant.key, year)
    return Response(render_yearly_html(pic), mimetype="text/html")


@bp.get("/lagesbild/ar/<int:year>.pdf")
@role_required("planner", "reader")
def yearly_pdf(year: int) -> Response:
    """Yearly lägesbild and åtgärdsplan (PDF)."""
    if not 2000 <= year <= 2100:
        abort(404)
    tenant = resolve_kommun()
    pic = build_yearly(current_state().engine, result_store(), tenant.key, year)
    resp = Response(render_yearly_pdf(pic), mimetype="application/pdf")
    resp.headers["Content-Disposition"] = (
        f'attachment; filename="lagesbild-{tenant.key}-{year}.pdf"'
    )
    return resp
