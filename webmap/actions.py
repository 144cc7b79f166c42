"""Actions (åtgärder): storage, demo loading, map features and the effect estimate.

An action is tied to a place in one of four ways (the first present wins on the map):
an area (``geometry_geojson``), H3 cells (``cells``), a point (``lat``/``lon``) or a
whole locality (``locality``). A zone id can be added to any of them. Follow-up notes are
dated per meeting. ``public`` actions may be shown on public pages; the others are
internal.

Effect
------
:func:`action_effect` compares weighted report counts in the action's area for ``n``
periods before and after the start with the same periods in the rest of the locality
(difference-in-differences). It is an indication, not proof: see :data:`EFFECT_CAVEAT_SV`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import shapely
from shapely.geometry import mapping, shape
from sqlalchemy import delete, select, update
from sqlalchemy.engine import Connection

from geo.cells import cells_to_parent, cells_to_polygons, points_to_cells, strings_to_cells
from geo.errors import NotFoundError, ValidationError
from geo.schema import STORAGE_RES
from geo.store.db import utcnow
from webmap.references import FOLLOWUP_AHEAD_DAYS, PLAN_AHEAD_DAYS, date_problem
from webmap.tables import ACTION_KINDS, ACTION_STATUSES, action_followups, actions

#: Swedish labels of the action kinds and statuses.
KIND_LABELS_SV: dict[str, str] = {
    "kamerabevakning": "Kamerabevakning",
    "belysning": "Belysning",
    "ombyggnad": "Ombyggnad",
    "ordningsvakter": "Ordningsvakter",
    "trygghetsvandring": "Trygghetsvandring",
    "städning": "Städning",
    "annat": "Annat",
}
STATUS_LABELS_SV: dict[str, str] = {
    "planerad": "Planerad",
    "pågår": "Pågår",
    "genomförd": "Genomförd",
    "avbruten": "Avbruten",
}
#: Map symbol of each status (text glyphs, no icon font needed).
STATUS_ICONS: dict[str, str] = {"planerad": "○", "pågår": "◐", "genomförd": "●", "avbruten": "✕"}

EFFECT_CAVEAT_SV = (
    "Jämförelsen visar hur antalet viktade rapporter i åtgärdens område förändrades före "
    "och efter starten, jämfört med resten av tätorten under samma veckor "
    "(skillnad-i-skillnader). Den är en indikation, inte ett bevis: få rapporter ger stor "
    "slumpvariation, rapporteringen kan ha ändrats av åtgärden själv (fler ögon, fler "
    "rapporter), och problem kan ha flyttat till närliggande platser."
)

#: Largest id the database can hold (signed 64-bit); larger ids from URLs are unknown.
MAX_ID = 2**63 - 1
#: Longest text of the short fields (the columns' lengths).
MAX_LENGTHS: dict[str, int] = {"responsible": 200, "locality": 64, "zone_id": 64}

_EDITABLE = (
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
    "geometry_geojson",
    "public",
)


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
    row = normalise_action(values)
    now = utcnow()
    res = conn.execute(
        actions.insert().values(
            kommun=kommun,
            created_by=created_by,
            created_at=now,
            updated_at=now,
            external_key=external_key,
            **row,
        )
    )
    return int(res.inserted_primary_key[0])  # type: ignore[index]


def update_action(conn: Connection, action_id: int, values: Mapping[str, Any]) -> None:
    """Replace the editable fields of an action."""
    current = get_action(conn, action_id)
    merged = {k: current.get(k) for k in _EDITABLE} | dict(values)
    row = normalise_action(merged)
    conn.execute(
        update(actions).where(actions.c.id == action_id).values(updated_at=utcnow(), **row)
    )


def delete_action(conn: Connection, action_id: int) -> None:
    conn.execute(delete(action_followups).where(action_followups.c.action_id == action_id))
    conn.execute(delete(actions).where(actions.c.id == action_id))


def _row(row: Any) -> dict[str, Any]:
    d = dict(row._mapping)
    d["cells"] = list(d.get("cells") or [])
    d["kind_sv"] = KIND_LABELS_SV.get(d["kind"], d["kind"])
    d["status_sv"] = STATUS_LABELS_SV.get(d["status"], d["status"])
    d["icon"] = STATUS_ICONS.get(d["status"], "•")
    return d


def get_action(conn: Connection, action_id: int) -> dict[str, Any]:
    """One action with its follow-ups (``followups``, newest first)."""
    if not 0 < int(action_id) <= MAX_ID:  # larger ids cannot be stored (64-bit integers)
        raise NotFoundError(f"åtgärden {action_id} finns inte")
    row = conn.execute(select(actions).where(actions.c.id == action_id)).first()
    if row is None:
        raise NotFoundError(f"åtgärden {action_id} finns inte")
    out = _row(row)
    out["followups"] = [
        dict(r._mapping)
        for r in conn.execute(
            select(action_followups)
            .where(action_followups.c.action_id == action_id)
            .order_by(action_followups.c.meeting_date.desc(), action_followups.c.id.desc())
        )
    ]
    return out


def list_actions(
    conn: Connection,
    kommun: str,
    public_only: bool = False,
    statuses: Iterable[str] | None = None,
) -> list[dict[str, Any]]:
    """Actions of a kommun, newest start first."""
    q = select(actions).where(actions.c.kommun == kommun)
    if public_only:
        q = q.where(actions.c.public.is_(True))
    if statuses is not None:
        q = q.where(actions.c.status.in_(list(statuses)))
    q = q.order_by(actions.c.planned_start.desc(), actions.c.id.desc())
    rows = [_row(r) for r in conn.execute(q)]
    last = _last_followups(conn, [r["id"] for r in rows])
    for r in rows:
        r["last_followup"] = last.get(r["id"])
    return rows


def _last_followups(conn: Connection, ids: list[int]) -> dict[int, dict[str, Any]]:
    if not ids:
        return {}
    out: dict[int, dict[str, Any]] = {}
    q = (
        select(action_followups)
        .where(action_followups.c.action_id.in_(ids))
        .order_by(action_followups.c.meeting_date, action_followups.c.id)
    )
    for r in conn.execute(q):
        out[int(r.action_id)] = dict(r._mapping)
    return out


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
    res = conn.execute(
        action_followups.insert().values(
            action_id=action_id,
            meeting_date=day,
            note=note,
            status=status or None,
            author=author,
            created_at=utcnow(),
        )
    )
    if status:
        conn.execute(
            update(actions)
            .where(actions.c.id == action_id)
            .values(status=status, updated_at=utcnow())
        )
    return int(res.inserted_primary_key[0])  # type: ignore[index]


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
        existing = conn.execute(
            select(actions.c.id).where(
                (actions.c.kommun == item_kommun) & (actions.c.external_key == key)
            )
        ).scalar_one_or_none()
        if existing is None:
            action_id = create_action(
                conn,
                item_kommun,
                item,
                created_by=item.get("created_by") or "demo",
                external_key=key,
            )
        else:
            action_id = int(existing)
            update_action(conn, action_id, {k: v for k, v in item.items() if k in _EDITABLE})
        # follow-ups already stored (from an earlier load or written at a meeting) are kept
        have = {
            (r.meeting_date, r.note)
            for r in conn.execute(
                select(action_followups.c.meeting_date, action_followups.c.note).where(
                    action_followups.c.action_id == action_id
                )
            )
        }
        for f in item.get("followups") or ():
            day = _as_date(f.get("meeting_date") or f.get("date"))
            if (day, str(f.get("note") or "")) in have:
                continue
            conn.execute(
                action_followups.insert().values(
                    action_id=action_id,
                    meeting_date=day,
                    note=str(f.get("note") or ""),
                    status=f.get("status"),
                    author=f.get("author") or "demo",
                    created_at=utcnow(),
                )
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


# --------------------------------------------------------------------------- effect


@dataclass(frozen=True)
class ActionEffect:
    """Before/after comparison of an action's area with the rest of its locality."""

    weeks: int
    start: pd.Timestamp
    area_before: float
    area_after: float
    rest_before: float
    rest_after: float
    series: pd.DataFrame  # week_start, area, rest
    n_area_reports: int

    @property
    def area_change(self) -> float:
        return self.area_after - self.area_before

    @property
    def rest_change(self) -> float:
        return self.rest_after - self.rest_before

    @property
    def did(self) -> float:
        """Difference-in-differences of weekly weighted counts (negative = improvement)."""
        return self.area_change - self.rest_change

    def summary_sv(self) -> str:
        """One plain-Swedish sentence about the result."""
        direction = "minskade" if self.area_change < 0 else "ökade"
        rest_dir = "minskade" if self.rest_change < 0 else "ökade"
        verdict = (
            "en större minskning än i resten av tätorten"
            if self.did < 0
            else "ingen större minskning än i resten av tätorten"
        )
        return (
            f"I åtgärdens område {direction} de viktade rapporterna från "
            f"{self.area_before:.1f} till {self.area_after:.1f} per vecka "
            f"({self.weeks} veckor före jämfört med {self.weeks} veckor efter start). "
            f"I resten av tätorten {rest_dir} de från {self.rest_before:.1f} till "
            f"{self.rest_after:.1f}. Det är {verdict} (skillnad {self.did:+.1f} per vecka)."
        )


def action_effect(
    reports: pd.DataFrame,
    area_cells: np.ndarray,
    locality_cells: np.ndarray,
    start: dt.date | pd.Timestamp,
    weights: Mapping[str, float],
    weeks: int = 8,
    tz: str = "Europe/Stockholm",
) -> ActionEffect:
    """Weekly weighted counts in the area vs the rest of the locality around ``start``.

    Parameters
    ----------
    reports
        Approved reports (report frame) of the kommun.
    area_cells, locality_cells
        Cells at :data:`geo.schema.STORAGE_RES` of the action's area and of its locality.
    start
        Start of the action (local date).
    weights
        Category -> severity weight (unknown categories weigh 1).
    weeks
        Periods before and after.
    """
    if weeks < 1:
        raise ValidationError("weeks must be at least 1")
    t0 = pd.Timestamp(start)
    t0 = t0.tz_localize(tz) if t0.tzinfo is None else t0.tz_convert(tz)
    t0 = t0.tz_convert("UTC")
    edges = pd.DatetimeIndex([t0 + pd.Timedelta(weeks=i) for i in range(-weeks, weeks + 1)])
    cells = reports["cell"].to_numpy(np.uint64)
    area_set = np.unique(np.asarray(area_cells, np.uint64))
    loc_set = np.unique(np.asarray(locality_cells, np.uint64))
    in_area = np.isin(cells, area_set) & (cells != 0)
    in_rest = np.isin(cells, loc_set) & ~in_area & (cells != 0)
    w = (
        reports["category"]
        .astype(object)
        .map(lambda c: float(weights.get(c, 1.0)))
        .to_numpy(np.float64)
    )
    occurred = pd.to_datetime(reports["occurred_at"], utc=True)
    idx = (
        np.searchsorted(edges.asi8, occurred.to_numpy("datetime64[ns]").astype(np.int64), "right")
        - 1
    )
    ok = (idx >= 0) & (idx < 2 * weeks)
    area = np.bincount(idx[ok & in_area], weights=w[ok & in_area], minlength=2 * weeks)
    rest = np.bincount(idx[ok & in_rest], weights=w[ok & in_rest], minlength=2 * weeks)
    n_rest_cells = max(1, len(np.setdiff1d(loc_set, area_set)))
    n_area_cells = max(1, len(area_set))
    # the rest of the locality is scaled to the area's size, so both are comparable
    rest_scaled = rest * (n_area_cells / n_rest_cells)
    series = pd.DataFrame(
        {"week_start": edges[:-1].tz_convert(tz), "area": area, "rest": rest_scaled}
    )
    return ActionEffect(
        weeks=weeks,
        start=t0,
        area_before=float(area[:weeks].mean()),
        area_after=float(area[weeks:].mean()),
        rest_before=float(rest_scaled[:weeks].mean()),
        rest_after=float(rest_scaled[weeks:].mean()),
        series=series,
        n_area_reports=int((ok & in_area).sum()),
    )
