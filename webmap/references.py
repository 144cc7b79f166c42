"""Cross-tenant references and date bounds of planner input (actions, follow-ups).

An action belongs to one kommun; its locality, zone, cells and point must be that
kommun's, and a zone must lie in the action's locality ("Bergshamra" with a zone of
Södra Bergen is refused). Dates are bounded to a sensible range so that a typo such
as 9999-12-31 never reaches the timeline. Every problem is collected and raised as
one :class:`geo.errors.ValidationError` with Swedish messages.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import numpy as np

from geo.cells import cells_to_points, strings_to_cells
from geo.errors import ValidationError

#: Earliest date of an action or a follow-up.
EARLIEST_DATE = dt.date(2000, 1, 1)
#: How far ahead an action may be planned.
PLAN_AHEAD_DAYS = 10 * 366
#: How far ahead a follow-up may be dated (a meeting already scheduled).
FOLLOWUP_AHEAD_DAYS = 366


def date_problem(
    label: str, day: dt.date | None, ahead_days: int, today: dt.date | None = None
) -> str | None:
    """Swedish problem when ``day`` lies outside ``EARLIEST_DATE .. today + ahead_days``."""
    if day is None:
        return None
    latest = (today or dt.date.today()) + dt.timedelta(days=ahead_days)
    if not EARLIEST_DATE <= day <= latest:
        return (
            f"{label} {day.isoformat()} ligger utanför det rimliga intervallet "
            f"{EARLIEST_DATE.isoformat()}–{latest.isoformat()}"
        )
    return None


def action_reference_problems(
    values: Mapping[str, Any],
    *,
    kommun_name: str,
    localities: Mapping[str, str],
    zones: Iterable[Mapping[str, Any]] | None,
    contains: Callable[[float, float], bool],
    kept_zone: str | None = None,
) -> list[str]:
    """Problems of an action's place references within its kommun (Swedish).

    Parameters
    ----------
    values
        Form values: ``locality``, ``zone_id``, ``cells`` (text or list), ``lat``, ``lon``.
    kommun_name
        Name of the action's kommun (for the messages).
    localities
        Locality code -> name of the kommun.
    zones
        The kommun's current zones (``id``, ``locality``, ``name``); None when no analysis
        is available (then only a kept zone is accepted).
    contains
        ``contains(lat, lon)``: whether a position lies in the kommun.
    kept_zone
        The zone the action already has (zones change weekly; keeping it is allowed).
    """
    problems: list[str] = []
    locality = _text(values.get("locality"))
    if locality is not None and locality not in localities:
        problems.append(f"tätorten {locality[:64]!r} finns inte i {kommun_name} kommun")
    zone_id = _text(values.get("zone_id"))
    if zone_id is not None and zone_id != kept_zone:
        by_id = {str(z.get("id")): z for z in (zones or ())}
        zone = by_id.get(zone_id)
        if zone is None:
            problems.append(f"zonen {zone_id[:64]!r} finns inte i {kommun_name} kommuns analys")
        elif locality is not None and zone.get("locality") not in (None, locality):
            zone_loc = str(zone.get("locality"))
            problems.append(
                f"zonen {zone.get('name') or zone_id} ligger i "
                f"{localities.get(zone_loc, zone_loc)}, inte i "
                f"{localities.get(locality, locality)}"
            )
    cells = values.get("cells") or []
    if isinstance(cells, str):
        cells = [c for c in cells.replace(",", " ").split() if c]
    if len(cells):
        try:
            parsed = strings_to_cells([str(c) for c in cells])
        except (ValidationError, ValueError):
            parsed = None  # reported by the action's own validation
        if parsed is not None:
            ys, xs = cells_to_points(parsed)
            outside = [
                str(c)
                for c, y, x in zip(cells, ys, xs, strict=True)
                if np.isfinite(y) and not contains(float(y), float(x))
            ]
            if outside:
                problems.append(
                    f"{len(outside)} cell(er) ligger utanför {kommun_name} kommun "
                    f"(t.ex. {outside[0][:20]})"
                )
    lat, lon = _number(values.get("lat")), _number(values.get("lon"))
    if (
        lat is not None
        and lon is not None
        and -90 <= lat <= 90
        and -180 <= lon <= 180
        and not contains(lat, lon)
    ):
        problems.append(f"punkten ligger utanför {kommun_name} kommun")
    return problems


def _text(value: Any) -> str | None:
    text = str(value).strip() if value not in (None, "") else ""
    return text or None


def _number(value: Any) -> float | None:
    try:
        number = float(value) if value not in (None, "") else None
    except (TypeError, ValueError):
        return None
    return number if number is not None and np.isfinite(number) else None


def check_action_references(
    kommun: str, values: Mapping[str, Any], kept_zone: str | None = None
) -> None:
    """Raise :class:`ValidationError` when an action refers to another kommun's places.

    Reads the kommun's localities, outline and current zones from the app's caches.
    """
    from webmap.citizen.submissions import runtime
    from webmap.state import get_engine
    from webmap.web import localities_of, result_store

    geo = runtime().geo.get(get_engine(), kommun)
    frame = localities_of(kommun)
    names = {str(r.code): str(r.name) for r in frame.itertuples()}
    try:
        res = result_store().get(kommun)
        zones = res.zones if res is not None else None
    except Exception:  # noqa: BLE001 - no analysis yet: only kept zones are known
        zones = None
    problems = action_reference_problems(
        values,
        kommun_name=geo.tenant.name,
        localities=names,
        zones=zones,
        contains=geo.contains,
        kept_zone=kept_zone,
    )
    if problems:
        raise ValidationError(problems, context="åtgärd")


__all__ = [
    "EARLIEST_DATE",
    "FOLLOWUP_AHEAD_DAYS",
    "PLAN_AHEAD_DAYS",
    "action_reference_problems",
    "check_action_references",
    "date_problem",
]
