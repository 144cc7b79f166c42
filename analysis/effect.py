"""Effect of an action: difference-in-differences of weighted report counts.

:func:`action_effect` compares weighted report counts in the action's area for ``n``
periods before and after the start with the same periods in the rest of the locality
(difference-in-differences). It is an indication, not proof: see :data:`EFFECT_CAVEAT_SV`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from geo.errors import ValidationError

EFFECT_CAVEAT_SV = (
    "Jämförelsen visar hur antalet viktade rapporter i åtgärdens område förändrades före "
    "och efter starten, jämfört med resten av tätorten under samma veckor "
    "(skillnad-i-skillnader). Den är en indikation, inte ett bevis: få rapporter ger stor "
    "slumpvariation, rapporteringen kan ha ändrats av åtgärden själv (fler ögon, fler "
    "rapporter), och problem kan ha flyttat till närliggande platser."
)


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


__all__ = ["EFFECT_CAVEAT_SV", "ActionEffect", "action_effect"]
