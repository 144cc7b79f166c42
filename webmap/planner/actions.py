"""Actions (åtgärder): storage, demo loading, map features and the effect estimate.

An action is tied to a place in one of four ways (the first present wins on the map):
an area (``geometry_geojson``), H3 cells (``cells``), a point (``lat``/``lon``) or a
whole locality (``locality``). A zone id can be added to any of them. Follow-up notes are
dated per meeting. ``public`` actions may be shown on public pages; the others are
internal.The effect estimate is :func:`analysis.effect.action_effect`; the rows are stored by
:mod:`geo.store.actions`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np
import shapely
from shapely.geometry import mapping, shape
from sqlalchemy.engine import Connection

from geo.cells import cells_to_parent, cells_to_polygons, points_to_cells, strings_to_cells
from geo.errors import NotFoundError, ValidationError
from geo.labels import ACTION_KIND_LABELS_SV, ACTION_STATUS_LABELS_SV
from geo.schema import STORAGE_RES
from geo.store import actions as store
from geo.store.tables import ACTION_KINDS, ACTION_STATUSES
from webmap.references import FOLLOWUP_AHEAD_DAYS, PLAN_AHEAD_DAYS, date_problem

#: Swedish labels of the action kinds and statuses (from :mod:`geo.labels`).
KIND_LABELS_SV = ACTION_KIND_LABELS_SV
STATUS_LABELS_SV = ACTION_STATUS_LABELS_SV
#: Map symbol of each status (text glyphs, no icon font needed).
STATUS_ICONS: dict[str, str] = {"planerad": "○", "pågår": "◐", "genomförd": "●", "avbruten": "✕"}


#: Largest id the database can hold (signed 64-bit); larger ids from URLs are unknown.
MAX_ID = 2**63 - 1
#: Longest text of the short fields (the columns' lengths).
MAX_LENGTHS: dict[str, int] = {"responsible": 200, "locality": 64, "zone_id": 64}

#: Fields of the action form (text inputs; the area and ``public`` are set separately).
FORM_FIELDS = (
    "title",
    "kind",
    "responsible",
    "status",
    "planned_start",
    "planned_end",
    "description",
    "locality",
    "zone_id",
    "cells",
    "lat",
    "lon",
)
_EDITABLE = (*FORM_FIELDS, "geometry_geojson", "public")


def _as_date(value: Any) -> dt.date | None:
    if value in (None, ""):
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value)[:10])


def _as_float(value: Any) -> float | None:
    if value in (None, ""):
        return None
    f = float(value)
    return f if np.isfinite(f) else None


def normalise_action(values: Mapping[str, Any]) -> dict[str, Any]:
    """Validated column values of an action (raises one :class:`ValidationError`)."""
    problems: list[str] = []
    out: dict[str, Any] = {}
    title = str(values.get("title") or "").strip()
    if not title:
        problems.append("titel saknas")
    elif len(title) > 300:
        problems.append("titeln får vara högst 300 tecken")
    out["title"] = title
    kind = str(values.get("kind") or "annat").strip().lower()
    if kind == "stadning":
        kind = "städning"
    if kind not in ACTION_KINDS:
        problems.append(f"okänd typ {kind!r}; giltiga: {', '.join(ACTION_KINDS)}")
    out["kind"] = kind
    status = str(values.get("status") or "planerad").strip().lower()
    status = {"pagar": "pågår", "genomford": "genomförd"}.get(status, status)
    if status not in ACTION_STATUSES:
        problems.append(f"okänd status {status!r}; giltiga: {', '.join(ACTION_STATUSES)}")
    out["status"] = status
    try:
        out["planned_start"] = _as_date(values.get("planned_start", values.get("start")))
        out["planned_end"] = _as_date(values.get("planned_end", values.get("end")))
    except ValueError:
        problems.append("datum måste skrivas ÅÅÅÅ-MM-DD")
        out["planned_start"] = out["planned_end"] = None
    if out["planned_start"] and out["planned_end"] and out["planned_end"] < out["planned_start"]:
        problems.append("slutdatum är före startdatum")
    for key, label in (("planned_start", "startdatum"), ("planned_end", "slutdatum")):
        bad = date_problem(label, out[key], PLAN_AHEAD_DAYS)
        if bad:
            problems.append(bad)
    for key in ("responsible", "description", "locality", "zone_id"):
        v = values.get(key)
        out[key] = str(v).strip() if v not in (None, "") else None
    labels = {"responsible": "ansvarig", "locality": "tätortskoden", "zone_id": "zonens id"}
    for key, limit in MAX_LENGTHS.items():
        if out[key] is not None and len(out[key]) > limit:
            problems.append(f"{labels[key]} får vara högst {limit} tecken")
    try:
        out["lat"] = _as_float(values.get("lat"))
        out["lon"] = _as_float(values.get("lon"))
    except (TypeError, ValueError):
        problems.append("koordinaterna kan inte tolkas")
        out["lat"] = out["lon"] = None
    if out["lat"] is not None and not (-90 <= out["lat"] <= 90):
        problems.append("latitud utanför -90..90")
    if out["lon"] is not None and not (-180 <= out["lon"] <= 180):
        problems.append("longitud utanför -180..180")
    if (out["lat"] is None) != (out["lon"] is None):
        problems.append("ange både latitud och longitud")
    cells = values.get("cells") or []
    if isinstance(cells, str):
        cells = [c for c in cells.replace(",", " ").split() if c]
    try:
        parsed: Any = strings_to_cells([str(c) for c in cells]) if len(cells) else []
        out["cells"] = [format(int(c), "x") for c in parsed if int(c) != 0]
    except (ValidationError, ValueError):
        problems.append("ogiltiga H3-celler")
        out["cells"] = []
    geom = values.get("geometry_geojson", values.get("geometry"))
    if geom:
        try:
            g = shape(geom) if isinstance(geom, Mapping) else shapely.from_geojson(str(geom))
            if g.is_empty or not g.is_valid:
                raise ValueError("empty or invalid")
            out["geometry_geojson"] = mapping(g)
        except Exception:  # noqa: BLE001 - any parse failure is a user error
            problems.append("området (GeoJSON) kan inte tolkas")
            out["geometry_geojson"] = None
    else:
        out["geometry_geojson"] = None
    out["public"] = bool(values.get("public", False)) and values.get("public") not in (
        "0",
        "false",
        "nej",
    )
    if not any((out["geometry_geojson"], out["cells"], out["lat"] is not None, out["locality"])):
        problems.append("åtgärden behöver en plats: område, celler, punkt eller tätort")
    if problems:
        raise ValidationError(problems, context="åtgärd")
    return out


def create_action(
    conn: Connection,
    kommun: str,
    values: Mapping[str, Any],
    created_by: str | None = None,
    external_key: str | None = None,
) -> int:
    """Store a new action; return its id."""
    return store.insert_action(conn, kommun, normalise_action(values), created_by, external_key)


def update_action(conn: Connection, action_id: int, values: Mapping[str, Any]) -> None:
    """Replace the editable fields of an action."""
    current = get_action(conn, action_id)
    merged = {k: current.get(k) for k in _EDITABLE} | dict(values)
    store.update_action_row(conn, action_id, normalise_action(merged))


def _row(row: Mapping[str, Any]) -> dict[str, Any]:
    d = dict(row)
    d["cells"] = list(d.get("cells") or [])
    d["kind_sv"] = KIND_LABELS_SV.get(d["kind"], d["kind"])
    d["status_sv"] = STATUS_LABELS_SV.get(d["status"], d["status"])
    d["icon"] = STATUS_ICONS.get(d["status"], "•")
    return d


def get_action(conn: Connection, action_id: int) -> dict[str, Any]:
    """One action with its follow-ups (``followups``, newest first)."""
    if not 0 < int(action_id) <= MAX_ID:  # larger ids cannot be stored (64-bit integers)
        raise NotFoundError(f"åtgärden {action_id} finns inte")
    row = store.action_row(conn, action_id)
    if row is None:
        raise NotFoundError(f"åtgärden {action_id} finns inte")
    out = _row(row)
    out["followups"] = store.followups(conn, action_id)
    return out


def list_actions(
    conn: Connection,
    kommun: str,
    public_only: bool = False,
    statuses: Iterable[str] | None = None,
) -> list[dict[str, Any]]:
    """Actions of a kommun, newest start first."""
    rows = [_row(r) for r in store.select_actions(conn, kommun, public_only, statuses)]
    last = store.last_followups(conn, [r["id"] for r in rows])
    for r in rows:
        r["last_followup"] = last.get(r["id"])
    return rows


def add_followup(
    conn: Connection,
    action_id: int,
    meeting_date: dt.date | str,
    note: str,
    status: str | None = None,
    author: str | None = None,
) -> int:
    """Add a dated follow-up note (optionally setting the action's status)."""
    problems = []
    note = (note or "").strip()
    if not note:
        problems.append("anteckningen är tom")
    try:
        day = _as_date(meeting_date)
    except ValueError:
        day = None
    if day is None:
        problems.append("mötesdatum saknas eller är ogiltigt")
    elif bad := date_problem("mötesdatum", day, FOLLOWUP_AHEAD_DAYS):
        problems.append(bad)
    if status and status not in ACTION_STATUSES:
        problems.append(f"okänd status {status!r}")
    if problems:
        raise ValidationError(problems, context="uppföljning")
    get_action(conn, action_id)  # raises NotFoundError
    return store.insert_followup(conn, action_id, day, note, status, author)


def load_demo_actions(
    conn: Connection, actions_list: list[dict[str, Any]], kommun: str | None = None
) -> int:
    """Store actions from a demo/import list (``actions.json``); idempotent.

    Each item has ``kommun`` and the fields of :func:`normalise_action` (``title``,
    ``kind``, ``status``, ``responsible``, ``planned_start``/``start``,
    ``planned_end``/``end``, ``locality``, ``zone_id``, ``cells``, ``lat``/``lon``,
    ``geometry``, ``public``, ``description``) and optionally ``id`` (external key; the
    title otherwise) and ``followups`` (``[{"date"|"meeting_date", "note", "status"}]``).
    Items already loaded (same kommun and key) are updated, not duplicated; their
    follow-ups (also those written at meetings since) are kept and only follow-ups not
    yet stored are added. ``kommun`` is used for items without their own ``kommun``.

    Returns
    -------
    int
        Number of actions created or updated.
    """
    n = 0
    for item in actions_list:
        item_kommun = str(item.get("kommun") or kommun or "").strip()
        if not item_kommun:
            raise ValidationError("varje åtgärd behöver 'kommun'", context="actions.json")
        key = str(item.get("id") or item.get("external_key") or item["title"])
        existing = store.action_id_by_key(conn, item_kommun, key)
        if existing is None:
            action_id = create_action(
                conn,
                item_kommun,
                item,
                created_by=item.get("created_by") or "demo",
                external_key=key,
            )
        else:
            action_id = existing
            update_action(conn, action_id, {k: v for k, v in item.items() if k in _EDITABLE})
        # follow-ups already stored (from an earlier load or written at a meeting) are kept
        have = store.followup_keys(conn, action_id)
        for f in item.get("followups") or ():
            day = _as_date(f.get("meeting_date") or f.get("date"))
            note = str(f.get("note") or "")
            if (day, note) in have:
                continue
            # a loaded note records the status of its meeting; the action's own status
            # comes from the item itself
            store.insert_followup(
                conn,
                action_id,
                day,
                note,
                f.get("status"),
                f.get("author") or "demo",
                apply_status=False,
            )
        n += 1
    return n


# --------------------------------------------------------------------------- geometry


def action_geometry(
    action: Mapping[str, Any], localities: Any | None = None
) -> shapely.Geometry | None:
    """Area of an action (EPSG:4326): its polygon, its cells, its point or its locality."""
    if action.get("geometry_geojson"):
        return shape(action["geometry_geojson"])
    if action.get("cells"):
        polys = cells_to_polygons(strings_to_cells(list(action["cells"])))
        return shapely.union_all(list(polys))
    if action.get("lat") is not None and action.get("lon") is not None:
        return shapely.Point(float(action["lon"]), float(action["lat"]))
    if action.get("locality") and localities is not None and len(localities):
        match = localities[localities["code"] == action["locality"]]
        if len(match):
            return match.geometry.iloc[0]
    return None


def action_cells(action: Mapping[str, Any], res: int = STORAGE_RES) -> np.ndarray:
    """Cells (at ``res``) covered by an action; a point covers its res-9 block."""
    from geo.cells import cells_resolution, polygon_to_cells

    if action.get("cells"):
        cells = strings_to_cells(list(action["cells"]))
        have = cells_resolution(cells)
        if have == res:
            return np.unique(cells)
        if have > res:
            return np.unique(cells_to_parent(cells, res))
        # coarser cells: fill with children by polygon
        polys = cells_to_polygons(cells)
        parts = [polygon_to_cells(p, res) for p in polys]
        return np.unique(np.concatenate(parts)) if parts else np.zeros(0, np.uint64)
    if action.get("geometry_geojson"):
        return np.unique(polygon_to_cells(shape(action["geometry_geojson"]), res))
    if action.get("lat") is not None and action.get("lon") is not None:
        centre = points_to_cells([float(action["lat"])], [float(action["lon"])], min(res, 9))
        if res <= 9:
            return np.unique(centre)
        # a point stands for its block: the res-9 cell around it
        return np.unique(polygon_to_cells(cells_to_polygons(centre)[0], res))
    return np.zeros(0, np.uint64)
