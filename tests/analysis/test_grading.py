"""Suggested grades: the documented rules and the Swedish explanations."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analysis.config import AnalysisConfig
from analysis.cube import reports_to_cube
from analysis.grading import (
    GRADE_COLOURS,
    GRADE_LABELS,
    GradingRules,
    grade_localities,
    grade_zones,
    plural,
    weeks_text,
)
from geo.cells import cells_to_disks, points_to_cells
from geo.errors import ValidationError
from geo.schema import conform_reports

TZ = "Europe/Stockholm"
END = pd.Timestamp("2024-06-04 13:00", tz=TZ)


def _zone(**kw) -> dict:
    base = {
        "id": "Z0001",
        "name": "Busstorget",
        "locality": "L1",
        "pattern": "persistent_hot",
        "pattern_sv": "ihållande hotspot",
        "hot_now": True,
        "count_window": 12,
        "window_weeks": 3,
        "reporters_window": 4,
        "trend": "increasing",
        "serious_window": 0,
        "serious_hot": False,
        "top_categories": [{"code": "skadegorelse", "count": 8}],
    }
    return {**base, **kw}


def test_scale_labels_and_colours() -> None:
    assert GRADE_LABELS == {
        1: "Lugnt",
        2: "Mestadels lugnt",
        3: "Förhöjt",
        4: "Oroligt",
        5: "Allvarligt",
    }
    assert set(GRADE_COLOURS) == {1, 2, 3, 4, 5}
    assert all(c.startswith("#") and len(c) == 7 for c in GRADE_COLOURS.values())
    assert plural(1, "rapport", "rapporter") == "1 rapport"
    assert plural(2.5, "rapport", "rapporter") == "2,5 rapporter"
    assert weeks_text(1) == "1 vecka" and weeks_text(4) == "4 veckor"


def test_zone_grades_and_explanations() -> None:
    zones = pd.DataFrame(
        [
            _zone(),
            _zone(
                id="Z0002",
                name="Södra Bergen",
                pattern="new_hot",
                pattern_sv="ny hotspot",
                serious_window=4,
                serious_hot=True,
                trend="none",
                top_categories=[{"code": "vald_hot", "count": 3}, {"code": "brand", "count": 1}],
            ),
            _zone(id="Z0003", pattern="new_hot", pattern_sv="ny hotspot", serious_window=4),
            _zone(
                id="Z0004",
                pattern="sporadic_hot",
                pattern_sv="sporadisk hotspot",
                hot_now=False,
                count_window=1,
                reporters_window=1,
                window_weeks=1,
                trend="decreasing",
            ),
        ]
    )
    out = grade_zones(zones, GradingRules(), fdr=True).set_index("id")
    assert out["grade"].to_dict() == {"Z0001": 4, "Z0002": 5, "Z0003": 3, "Z0004": 2}
    assert out.loc["Z0001", "label"] == "Oroligt"
    assert out.loc["Z0001", "colour"] == GRADE_COLOURS[4]
    assert out.loc["Z0001", "explanation"] == (
        "12 rapporter på 3 veckor från 4 aktörer, signifikant hotspot efter "
        "FDR-korrigering, ihållande hotspot, ökande trend."
    )
    assert out.loc["Z0002", "explanation"].endswith(
        "4 allvarliga händelser (våld eller hot, brand)."
    )
    # serious reports that do not cluster by themselves do not make a zone grade 5
    assert "serious_cluster" not in out.loc["Z0003", "reasons"]
    assert out.loc["Z0004", "explanation"] == (
        "1 rapport på 1 vecka från 1 aktör, inte signifikant denna period, "
        "sporadisk hotspot, minskande trend."
    )
    plain = grade_zones(zones.iloc[:1], fdr=False, step_weeks=4)
    assert "efter FDR-korrigering" not in plain["explanation"].iloc[0]
    assert (
        "perioder om 4 veckor används eftersom rapporterna är glesa" in plain["explanation"].iloc[0]
    )


def _locality_cube(weekly: dict[str, list[int]], serious: dict[str, list[int]] | None = None):
    """A cube whose localities L1, L2 get the given weekly report counts."""
    cells = np.unique(cells_to_disks(points_to_cells([59.7577], [18.699], 10), 3)[1])
    universe = pd.DataFrame({"cell": cells, "locality": ["L1"] * 20 + ["L2"] * (cells.size - 20)})
    T = len(next(iter(weekly.values())))
    starts = [END - pd.Timedelta(weeks=T - t) for t in range(T)]
    rows = []
    for loc, counts in weekly.items():
        cell = universe.loc[universe["locality"] == loc, "cell"].iloc[0]
        for t, n in enumerate(counts):
            n_serious = (serious or {}).get(loc, [0] * T)[t]
            for k in range(n):
                rows.append(
                    {
                        "kommun": "norrtalje",
                        "source": "actor",
                        "occurred_at": starts[t] + pd.Timedelta(hours=1 + k),
                        "category": "vald_hot" if k < n_serious else "klotter",
                        "reporter_org": f"Org{k % 3}",
                        "precision": "point",
                        "cell": cell,
                        "locality": loc,
                        "status": "approved",
                    }
                )
    reports = conform_reports(pd.DataFrame(rows))
    return reports_to_cube(reports, universe, AnalysisConfig(end=END, start=starts[0]))


def test_locality_grades_from_counts_and_baseline() -> None:
    cube = _locality_cube({"L1": [2, 3, 2, 3, 2, 3, 2, 1], "L2": [1, 0, 1, 1, 0, 1, 1, 9]})
    out = grade_localities(cube, None, locality_names={"L1": "Rimbo", "L2": "Hallstavik"})
    out = out.set_index("locality")
    assert out.loc["L1", "grade"] == 1 and out.loc["L1", "label"] == "Lugnt"
    assert out.loc["L1", "explanation"] == (
        "1 rapport på 1 vecka från 1 aktör (vanligt 2,4 per vecka), ingen signifikant hotspot."
    )
    assert out.loc["L2", "grade"] == 3
    assert out.loc["L2", "reasons"] == ["above_baseline"]
    assert (
        "9 rapporter på 1 vecka från 3 aktörer (vanligt 0,7 per vecka, signifikant fler)"
        in (out.loc["L2", "explanation"])
    )
    assert out.loc["L2", "above_baseline_p"] < 0.05
    assert out.loc["L1", "period_end"] == END


def test_locality_grade_two_for_isolated_incidents() -> None:
    cube = _locality_cube({"L1": [1, 2, 1, 2, 1, 2, 1, 3], "L2": [0] * 8})
    out = grade_localities(cube, None).set_index("locality")
    assert out.loc["L1", "grade"] == 2  # above the usual level, not significantly
    assert out.loc["L2", "grade"] == 1


def test_locality_grade_five_when_serious_incidents_rise_sharply() -> None:
    cube = _locality_cube(
        {"L1": [2, 2, 2, 2, 2, 2, 2, 6], "L2": [1] * 8},
        serious={"L1": [0, 0, 0, 0, 0, 0, 0, 5]},
    )
    out = grade_localities(cube, None).set_index("locality")
    assert out.loc["L1", "grade"] == 5
    assert "serious_rise" in out.loc["L1", "reasons"]
    assert (
        "5 allvarliga händelser (våld eller hot), kraftigt ökande" in out.loc["L1", "explanation"]
    )


def test_locality_grades_from_zones() -> None:
    cube = _locality_cube({"L1": [2] * 8, "L2": [2] * 8})
    zones = pd.DataFrame(
        [
            _zone(locality="L1"),
            _zone(id="Z2", locality="L2", pattern="new_hot", pattern_sv="ny hotspot"),
            _zone(
                id="Z3",
                locality="L2",
                pattern="sporadic_hot",
                hot_now=False,
                pattern_sv="sporadisk hotspot",
                name="Torget",
            ),
        ]
    )
    out = grade_localities(cube, zones).set_index("locality")
    assert out.loc["L1", "grade"] == 4
    assert out.loc["L1", "reasons"] == ["pattern:persistent_hot"]
    assert out.loc["L2", "grade"] == 3
    assert (
        "1 signifikant hotspot efter FDR-korrigering nu: Busstorget (ny hotspot), "
        "utan signifikans denna period: Torget (sporadisk hotspot)" in out.loc["L2", "explanation"]
    )
    many = pd.DataFrame(
        [
            _zone(id=f"Z{i}", locality="L2", pattern="new_hot", pattern_sv="ny hotspot")
            for i in range(3)
        ]
    )
    assert grade_localities(cube, many).set_index("locality").loc["L2", "grade"] == 4
    sporadic_only = zones.iloc[2:]
    graded = grade_localities(cube, sporadic_only).set_index("locality")
    assert graded.loc["L2", "grade"] == 2
    assert (
        "inget signifikant nu; tidigare Torget (sporadisk hotspot)"
        in graded.loc["L2", "explanation"]
    )


def test_too_few_reports_explained() -> None:
    cube = _locality_cube({"L1": [0, 0, 0, 0, 1, 0, 0, 1], "L2": [0] * 8})
    out = grade_localities(cube, None, too_few_share={"L1": 1.0}).set_index("locality")
    assert (
        "för få rapporter för att se mönster (prova perioder om 2 eller 4 veckor)"
        in out.loc["L1", "explanation"]
    )


def test_rules_are_validated_and_configurable() -> None:
    with pytest.raises(ValidationError) as err:
        GradingRules(recent_steps=0, baseline_alpha=2, serious_rise_factor=0.5)
    assert len(err.value.problems) == 3
    cube = _locality_cube({"L1": [2] * 8, "L2": [2] * 8})
    zones = pd.DataFrame([_zone(locality="L1")])
    strict = GradingRules(escalate_patterns=("intensifying_hot",))
    assert grade_localities(cube, zones, strict).set_index("locality").loc["L1", "grade"] == 3
    cfg = AnalysisConfig(grading={"several_zones": 2})
    assert cfg.grading.several_zones == 2
