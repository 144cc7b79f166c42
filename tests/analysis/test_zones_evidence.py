"""Zone evidence (reporters, top categories and sources) computed for all zones at once
equals the evidence computed zone by zone from the cube's detail rows."""

from __future__ import annotations

import numpy as np
import pandas as pd

from analysis.config import AnalysisConfig
from analysis.demo import synthetic_reports
from analysis.hotspots import analyse
from geo.boundaries import load_boundaries
from geo.cells import strings_to_cells


def _top(frame: pd.DataFrame, column: str, n: int = 3) -> list[dict[str, object]]:
    if frame.empty:
        return []
    s = frame.groupby(column, dropna=True)["count"].sum().sort_values(ascending=False)
    return [{"code": str(k), "count": int(v)} for k, v in s.head(n).items()]


def test_zone_evidence_matches_a_zone_by_zone_count() -> None:
    localities = load_boundaries("locality", kommun="norrtalje")
    localities = localities[localities["primary"]].reset_index(drop=True)
    reports, _truth = synthetic_reports(seed=4)
    res = analyse(reports, localities, AnalysisConfig(kommun="norrtalje"))
    cube, zones = res.cube, res.zones
    assert len(zones) >= 3
    w0 = max(0, cube.n_steps - res.zone_model.window_steps)
    detail = cube.detail[cube.detail["step"] >= w0]
    for zone in zones.itertuples():
        rows = cube.cell_index(strings_to_cells(list(zone.cells)))
        own = detail[np.isin(detail["cell_index"].to_numpy(), rows)]
        assert zone.reporters_window == own["reporter_org"].dropna().nunique()
        assert zone.top_categories == _top(own, "category")
        assert zone.top_sources == _top(own, "source")
