"""The effect estimate of an action (difference-in-differences)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from analysis.effect import action_effect
from geo.cells import points_to_cells


def test_effect_is_difference_in_differences() -> None:
    area = np.unique(points_to_cells([59.7577], [18.6990], 10))
    rest_cell = points_to_cells([59.7600], [18.7100], 10)[0]
    start = pd.Timestamp("2026-06-01", tz="Europe/Stockholm")
    rows = []
    for week in range(-4, 4):
        t = start + pd.Timedelta(weeks=week, days=2)
        n_area = 4 if week < 0 else 1  # the area improves after the start
        rows += [{"cell": area[0], "occurred_at": t, "category": "skadegorelse"}] * n_area
        rows += [{"cell": rest_cell, "occurred_at": t, "category": "skadegorelse"}] * 2
    reports = pd.DataFrame(rows)
    reports["cell"] = reports["cell"].astype(np.uint64)
    loc_cells = np.concatenate([area, [rest_cell]]).astype(np.uint64)
    eff = action_effect(reports, area, loc_cells, start.date(), {"skadegorelse": 1.0}, weeks=4)
    assert eff.area_before == 4 and eff.area_after == 1
    assert eff.rest_before == eff.rest_after == 2
    assert eff.did == -3
    assert "minskade" in eff.summary_sv()
