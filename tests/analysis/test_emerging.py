"""Emerging hot spots: Mann-Kendall against pymannkendall, the 17 patterns, too few reports."""

from __future__ import annotations

import numpy as np
import pymannkendall as pmk
import pytest

from analysis._mannkendall import mann_kendall
from analysis.cube import SpaceTimeCube
from analysis.emerging import (
    PATTERN_LABELS_SV,
    PATTERNS,
    EmergingHotspots,
    classify_patterns,
    pattern_text_sv,
)
from geo.cells import cells_to_disks, points_to_cells
from geo.errors import ValidationError

TREND = {"increasing": 1, "decreasing": -1, "no trend": 0}


def test_mann_kendall_matches_pymannkendall_with_ties() -> None:
    rng = np.random.default_rng(0)
    series = [
        rng.normal(size=(40, 12)),
        rng.poisson(1.0, size=(40, 20)).astype(float),  # many ties
        np.round(rng.normal(size=(20, 52)) + np.linspace(0, 2, 52), 1),  # trend + ties
        np.zeros((2, 8)),  # all tied
        np.r_[np.arange(10.0), np.arange(10.0)[::-1]].reshape(2, 10),
    ]
    for X in series:
        res = mann_kendall(X, alpha=0.05)
        for i, x in enumerate(X):
            ref = pmk.original_test(x, alpha=0.05)
            assert res.s[i] == ref.s
            assert res.var_s[i] == pytest.approx(ref.var_s, abs=1e-9)
            assert res.z[i] == pytest.approx(ref.z, abs=1e-12)
            assert res.p[i] == pytest.approx(ref.p, abs=1e-12)
            assert res.tau[i] == pytest.approx(ref.Tau, abs=1e-12)
            assert res.trend[i] == TREND[ref.trend]


def _series(text: str) -> tuple[np.ndarray, np.ndarray]:
    hot = np.array([c == "H" for c in text])
    cold = np.array([c == "C" for c in text])
    return hot, cold


# (hot/cold series, trend of z, expected); n = 10 steps, hot share 0.9 = 9 steps
CASES = [
    (".........H", 0, "new_hot"),
    ("......HHHH", 0, "consecutive_hot"),
    ("HHHHHHHHHH", 1, "intensifying_hot"),
    ("HHHHHHHHHH", 0, "persistent_hot"),
    (".HHHHHHHHH", 0, "persistent_hot"),
    ("HHHHHHHHHH", -1, "diminishing_hot"),
    ("CC..HH.H.H", 0, "oscillating_hot"),
    # persistent is tried before historical, so historical needs a significant trend
    ("HHHHHHHHH.", -1, "historical_hot"),
    ("..H..H....", 0, "sporadic_hot"),
    (".........C", 0, "new_cold"),
    ("......CCCC", 0, "consecutive_cold"),
    ("CCCCCCCCCC", -1, "intensifying_cold"),
    ("CCCCCCCCCC", 0, "persistent_cold"),
    ("CCCCCCCCCC", 1, "diminishing_cold"),
    ("HH..CC.C.C", 0, "oscillating_cold"),
    ("CCCCCCCCC.", 1, "historical_cold"),
    ("..C..C....", 0, "sporadic_cold"),
    ("..........", 0, "no_pattern"),
    ("H...C.....", 0, "no_pattern"),
    ("HHHH...HHH", 0, "sporadic_hot"),  # hot again after a gap: not consecutive
]


@pytest.mark.parametrize(("text", "trend", "expected"), CASES)
def test_each_pattern_from_a_constructed_series(text: str, trend: int, expected: str) -> None:
    hot, cold = _series(text)
    code = classify_patterns(hot[None], cold[None], [trend], hot_share=0.9)
    assert PATTERNS[code[0]] == expected


def test_all_seventeen_patterns_and_too_few_in_one_vectorized_call() -> None:
    hot = np.stack([_series(t)[0] for t, _, _ in CASES])
    cold = np.stack([_series(t)[1] for t, _, _ in CASES])
    trend = [tr for _, tr, _ in CASES]
    too_few = np.zeros(len(CASES), bool)
    too_few[0] = True
    codes = classify_patterns(hot, cold, trend, 0.9, too_few=too_few)
    got = [PATTERNS[c] for c in codes]
    assert got[0] == "too_few_reports"
    assert got[1:] == [e for _, _, e in CASES[1:]]
    assert set(got) | {"new_hot"} == set(PATTERNS)
    assert len(PATTERNS) == 18 and set(PATTERN_LABELS_SV) == set(PATTERNS)


def test_rule_order_is_per_rule_hot_then_cold() -> None:
    # 9 hot steps and a cold final step: "new cold" (rule 1) wins over "persistent hot" (4)
    hot, cold = _series("HHHHHHHHHC")
    assert PATTERNS[classify_patterns(hot[None], cold[None], [0])[0]] == "new_cold"


def test_hot_share_threshold_rounds_up() -> None:
    hot, cold = _series(".HHHHHHHHH")  # 9 of 10
    assert PATTERNS[classify_patterns(hot[None], cold[None], [0], 0.9)[0]] == "persistent_hot"
    assert PATTERNS[classify_patterns(hot[None], cold[None], [0], 0.95)[0]] == "consecutive_hot"
    with pytest.raises(ValidationError):
        classify_patterns(hot, cold, [0])


# ---------------------------------------------------------------- end to end on a cube
CENTRE = (59.7577, 18.6990)
M = 1 / 111_320


def _cell(dy_m: float, dx_m: float) -> int:
    lat = CENTRE[0] + dy_m * M
    lon = CENTRE[1] + dx_m * M / np.cos(np.radians(CENTRE[0]))
    return int(points_to_cells([lat], [lon], 10)[0])


@pytest.fixture(scope="module")
def fitted() -> tuple[SpaceTimeCube, EmergingHotspots, dict[str, int]]:
    _, disk = cells_to_disks(points_to_cells([CENTRE[0]], [CENTRE[1]], 10), 12)
    cells = np.unique(disk)
    T = 12
    values = np.zeros((cells.size, T))
    cube0 = SpaceTimeCube.from_arrays(cells, values)
    spots = {
        "persistent": _cell(0, 0),
        "new": _cell(500, 0),
        "intensifying": _cell(-500, 0),
        "sporadic": _cell(0, 500),
        "too_few": _cell(0, -500),
    }
    idx = {k: int(cube0.cell_index([c])[0]) for k, c in spots.items()}
    assert min(idx.values()) >= 0
    values[idx["persistent"]] = 10
    values[idx["new"], -1] = 8
    values[idx["intensifying"]] = np.linspace(8, 16, T).round()
    values[idx["sporadic"], [2, 6]] = 8
    values[idx["too_few"], 4] = 2
    cube = SpaceTimeCube.from_arrays(cells, values)
    eh = EmergingHotspots(alpha=0.05, fdr=True, min_total=5, min_steps_with_reports=2).fit(cube)
    return cube, eh, idx


def test_patterns_of_planted_cells(fitted: tuple) -> None:
    cube, eh, idx = fitted
    got = {k: eh.pattern_[i] for k, i in idx.items()}
    assert got == {
        "persistent": "persistent_hot",
        "new": "new_hot",
        "intensifying": "intensifying_hot",
        "sporadic": "sporadic_hot",
        "too_few": "too_few_reports",
    }
    # far from every plant nothing is reported: too few reports, never "no pattern"
    lonely = np.asarray(cube.weights(2) @ cube.values.sum(axis=1)).ravel() == 0
    assert (eh.pattern_[lonely] == "too_few_reports").all()
    assert eh.tau_[idx["intensifying"]] > 0.5 and eh.trend_[idx["intensifying"]] == 1
    assert eh.trend_[idx["persistent"]] == 0


def test_recurring_and_step_support(fitted: tuple) -> None:
    cube, eh, idx = fitted
    assert eh.recurring_[idx["persistent"]] and not eh.recurring_[idx["new"]]
    assert eh.hot_[idx["sporadic"]].sum() == 2
    # a single report never makes a hot step, even when Gi* calls it significant
    cells = cube.cells
    values = np.zeros((cells.size, 3))
    values[idx["new"], 2] = 1
    single = EmergingHotspots(min_total=0, min_steps_with_reports=0).fit(
        SpaceTimeCube.from_arrays(cells, values)
    )
    assert single.gistar_.significant_[idx["new"], 2]
    assert not single.hot_.any()
    frame = eh.to_frame(cube)
    assert len(frame) == cube.n_cells
    assert {"cell", "pattern", "z", "p", "tau", "recurring", "ring_total"} <= set(frame.columns)


def test_too_few_rule_keeps_a_burst_happening_now(fitted: tuple) -> None:
    cube, eh, idx = fitted
    i = idx["new"]
    assert eh.steps_with_reports_[i] == 1  # one step with reports, but hot now
    assert eh.pattern_[i] == "new_hot"
    values = cube.values.copy()
    values[:, :] = 0
    values[i, 5] = 8  # the same burst in the past
    past = EmergingHotspots().fit(SpaceTimeCube.from_arrays(cube.cells, values))
    assert past.pattern_[i] == "too_few_reports"


def test_swedish_texts_suggest_longer_steps() -> None:
    assert PATTERN_LABELS_SV["persistent_hot"] == "ihållande hotspot"
    assert "4 veckor" in pattern_text_sv("too_few_reports", 1)
    assert "även med perioder om 4 veckor" in pattern_text_sv("too_few_reports", 4)
