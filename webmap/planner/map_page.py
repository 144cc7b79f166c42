"""The planner map ``/karta`` (planners and readers).

The page is a small shell: a folium map (:func:`webmap.render.maps.build_planner_map`) whose
layers ``karta.js`` fills from :mod:`webmap.planner.mapdata`, and a sidebar with the week
selector, a week slider and filters. The URL keeps the state, e.g.
``/karta?kommun=norrtalje&ort=0188TB111&vecka=2026-W47&tid=kvall`` ("Rimbo, vecka 47,
kvällar").
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, render_template, request, url_for

from geo.labels import SOURCE_LABELS_SV
from webmap.auth.views import role_required
from webmap.render.maps import build_planner_map, map_parts
from webmap.results import filters_from_args
from webmap.state import current_state
from webmap.web import (
    allowed_tenants,
    bounds_of,
    localities_of,
    place_labels,
    requested_week,
    resolve_kommun,
    week_choices,
)
from webmap.weeks import TIME_OF_DAY, week_text_sv

bp = Blueprint("planner", __name__)

NAV = [("planner.karta", "Karta", ("planner", "reader"))]


@bp.get("/karta")
@role_required("planner", "reader")
def karta() -> Any:
    """The planner map."""
    from flask import g

    tenant = resolve_kommun()
    week = requested_week(tenant.key)
    try:
        filters = filters_from_args(request.args)
    except Exception:  # noqa: BLE001 - bad filter values fall back to none
        from webmap.results import Filters

        filters = Filters()
    localities = localities_of(tenant.key)
    kommun_area = localities_of(tenant.key, "kommun")
    bounds = bounds_of(kommun_area if len(kommun_area) else localities)
    primary = localities[localities["primary"].astype(bool)] if len(localities) else localities
    if len(primary):
        bounds = bounds_of(primary) or bounds
    weeks = week_choices(tenant.key, week)
    locality_bounds = {
        str(r.code): [
            [r.geometry.bounds[1], r.geometry.bounds[0]],
            [r.geometry.bounds[3], r.geometry.bounds[2]],
        ]
        for r in localities.itertuples(index=False)
    }
    options = {
        "kommun": tenant.key,
        "week": week,
        "weeks": weeks,
        "locality_bounds": locality_bounds,
    }
    m = build_planner_map(
        url_for("mapdata.localities", kommun=tenant.key).rsplit("/", 1)[0],
        bounds=bounds,
        tiles=str(current_app.config.get("TILES") or ""),
        tiles_attribution=str(current_app.config.get("TILES_ATTRIBUTION") or ""),
        options=options,
        labels=place_labels(tenant.key),
    )
    parts = map_parts(m, nonce=getattr(g, "csp_nonce", ""))
    ort = request.args.get("ort") or ""
    ort_name = next((str(r.name) for r in localities.itertuples() if str(r.code) == ort), "")
    title_bits = [
        b
        for b in (
            ort_name,
            week_text_sv(week),
            TIME_OF_DAY[filters.time_of_day][0].lower() if filters.time_of_day != "alla" else "",
        )
        if b
    ]
    return render_template(
        "planner/karta.html",
        parts=parts,
        tenant=tenant,
        tenants=allowed_tenants(),
        week=week,
        weeks=weeks,
        filters=filters,
        categories=tenant.categories,
        sources=SOURCE_LABELS_SV,
        time_of_day=TIME_OF_DAY,
        localities=[
            (str(r.code), str(r.name), bool(r.primary))
            for r in localities.sort_values("name").itertuples()
        ],
        ort=ort,
        title=", ".join(title_bits),
        week_index=weeks.index(week) if week in weeks else len(weeks) - 1,
        state_query=request.query_string.decode("utf-8", "replace"),
        version=current_state().config.get("ASSET_VERSION", "1"),
    )
