"""Walking order of patrol areas and the time slots of their windows within a shift."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from analysis._patrol_solve import path_length, walking_order
from analysis.shift_risk import FloatArray

if TYPE_CHECKING:
    from analysis.patrol_areas import PatrolArea, PatrolPlan


def _centres_xy(areas: Sequence[PatrolArea]) -> FloatArray:
    lat = np.array([a.centre[0] for a in areas])
    lon = np.array([a.centre[1] for a in areas])
    lat0 = float(lat.mean()) if lat.size else 0.0
    x = np.radians(lon) * 6_371_008.8 * math.cos(math.radians(lat0))
    y = np.radians(lat) * 6_371_008.8
    return np.column_stack([x, y])


#: Areas whose centres are at most this far apart may share a time slot (walked together).
ADJACENT_M = 400.0


def _set_order(
    plan: PatrolPlan, shift_start_hour: int | None = None, shift_length: int | None = None
) -> None:
    """Walking order: by time window (the shortest walk breaks ties).

    With ``shift_length`` two areas share a slot only when adjacent (centres within
    :data:`ADJACENT_M`); otherwise the later one moves to the nearest free slot of the
    shift (see :func:`_separate_windows`). Without windows: the shortest walk.
    """
    xy = _centres_xy(plan.areas)
    order = walking_order(xy)
    if len(order) > 1 and shift_start_hour is not None:
        if shift_length:
            _separate_windows(plan.areas, order, xy, shift_start_hour, shift_length)
        rank = {a: i for i, a in enumerate(order)}
        first = [(a.window[0] - shift_start_hour) % 24 if a.window else 0 for a in plan.areas]
        order = sorted(order, key=lambda i: (first[i], rank[i]))
    plan.order = order
    plan.walk_m = path_length(xy, order)


def _separate_windows(
    areas: Sequence[PatrolArea], order: list[int], xy: FloatArray, start: int, length: int
) -> None:
    """Move windows so that no two non-adjacent areas share a slot (where the shift has
    room), each to the free slot nearest its busiest one, later slots first."""
    placed: list[tuple[int, int, int]] = []  # (offset, width, area index)
    for i in sorted(order, key=lambda j: ((areas[j].window or (start, start))[0] - start) % 24):
        window = areas[i].window
        if window is None:
            continue
        width = window[1] - window[0]
        own = (window[0] - start) % 24

        def free(offset: int, i: int = i, width: int = width) -> bool:
            return all(
                offset + width <= o or o + w <= offset
                for o, w, j in placed
                if float(np.hypot(*(xy[i] - xy[j]))) > ADJACENT_M
            )

        options = [c for c in range(0, max(1, length - width + 1)) if free(c)]
        best = min(options, key=lambda c: (abs(c - own), c < own)) if options else own
        if best != own:
            hour = (start + best) % 24
            areas[i].window = (hour, hour + width)
        placed.append((best, width, i))
