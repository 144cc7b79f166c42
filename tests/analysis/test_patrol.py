"""Patrol planning: shift risk, maximal covering, exclusions, order, windows and reasons."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

from analysis._patrol_solve import (
    GREEDY_RATIO,
    coverage_value,
    greedy_cover,
    max_cover,
    path_length,
    walking_order,
)
from analysis.patrol import (
    Shift,
    ShiftRisk,
    area_reason,
    area_window,
    candidate_areas,
    disk_diameter_m,
    places_to_cells,
    plan_patrol,
    plan_shift,
    ring_for_diameter,
    time_profile,
)
from geo.cells import cells_to_disks, cells_to_points, points_to_cells
from geo.errors import ValidationError

LAT, LON = 59.7580, 18.7050


def _brute(A: sp.csc_matrix, w: np.ndarray, k: int, must=(), groups=None, cap=None) -> float:
    best = 0.0
    n = A.shape[1]
    for size in range(1, k + 1):
        for combo in itertools.combinations(range(n), size):
            if any(not set(m) & set(combo) for m in must):
                continue
            if cap is not None:
                counts = np.bincount(np.asarray(groups)[list(combo)])
                if counts.max() > cap:
                    continue
            best = max(best, coverage_value(A, w, combo))
    return best


def _random_instance(seed: int, n_cells: int = 14, n_cand: int = 9) -> tuple:
    rng = np.random.default_rng(seed)
    dense = rng.random((n_cells, n_cand)) < 0.3
    A = sp.csc_matrix(dense.astype(float))
    w = rng.gamma(0.7, 1.0, n_cells)
    return A, w


# ---------------------------------------------------------------- maximal covering
@pytest.mark.parametrize("seed", range(6))
def test_mip_equals_brute_force_optimum(seed: int) -> None:
    A, w = _random_instance(seed)
    for k in (1, 2, 3):
        result = max_cover(A, w, k, method="mip")
        assert result.method == "mip" and result.optimal
        assert result.value == pytest.approx(_brute(A, w, k), rel=1e-9)
        assert len(result.chosen) <= k


def test_mip_respects_must_visit_and_caps_like_brute_force() -> None:
    A, w = _random_instance(11, n_cells=16, n_cand=10)
    must = [np.array([8, 9])]
    groups = np.array([0, 0, 0, 0, 0, 1, 1, 1, 1, 1])
    result = max_cover(A, w, 3, must=must, groups=groups, cap=2, method="mip")
    assert set(result.chosen) & {8, 9}
    assert np.bincount(groups[result.chosen]).max() <= 2
    assert result.value == pytest.approx(_brute(A, w, 3, must=[[8, 9]], groups=groups, cap=2))


def test_greedy_keeps_its_guarantee_where_it_is_not_optimal() -> None:
    # cells u1 u2 v1 v2 (weight 1) and a small extra cell e; S3 = {u1, u2, e} looks best
    # first, but S1 = {u1, v1} and S2 = {u2, v2} together cover everything.
    w = np.array([1.0, 1.0, 1.0, 1.0, 0.1])
    A = sp.csc_matrix(
        np.array(
            [
                [1, 0, 1],  # u1
                [0, 1, 1],  # u2
                [1, 0, 0],  # v1
                [0, 1, 0],  # v2
                [0, 0, 1],  # e
            ],
            dtype=float,
        )
    )
    opt = _brute(A, w, 2)
    greedy = greedy_cover(A, w, 2)
    assert greedy.chosen[0] == 2  # the tempting area first
    assert greedy.value < opt  # greedy is not optimal here ...
    assert greedy.value >= GREEDY_RATIO * opt  # ... but keeps 1 - 1/e of the optimum
    assert greedy.guarantee == pytest.approx(1 - 1 / math.e)
    assert greedy.bound >= opt  # the a-posteriori bound is valid
    assert max_cover(A, w, 2).value == pytest.approx(opt)  # the exact model finds it


def test_greedy_is_used_and_reported_when_the_model_is_too_large() -> None:
    A, w = _random_instance(3)
    result = max_cover(A, w, 3, max_terms=1)
    assert result.method == "greedy"
    assert result.guarantee == pytest.approx(GREEDY_RATIO)
    assert result.notes and "termer" in result.notes[0]


# ---------------------------------------------------------------- areas on H3 cells
def _risk_around(points: list[tuple[float, float, float]], k: int = 3) -> pd.Series:
    """Risk on the k-rings around points: value at the centre, half on the ring."""
    parts = []
    for lat, lon, value in points:
        c = points_to_cells([lat], [lon], 10)
        _, disk = cells_to_disks(c, k)
        vals = np.where(disk == c[0], value, value / 10)
        parts.append(pd.Series(vals, index=disk))
    risk = pd.concat(parts).groupby(level=0).sum()
    risk.index = risk.index.astype(np.uint64)
    return risk


def test_ring_fits_the_diameter() -> None:
    assert ring_for_diameter(10, 800) == 2
    assert disk_diameter_m(10, 2) <= 800 < disk_diameter_m(10, 3)
    with pytest.raises(ValidationError, match="bredare"):
        ring_for_diameter(8, 500)


def test_plan_on_cells_equals_brute_force_over_candidate_disks() -> None:
    risk = _risk_around([(LAT, LON, 5.0), (LAT + 0.004, LON + 0.006, 3.0), (LAT - 0.003, LON, 2.0)])
    plan = plan_patrol(risk, 2, diameter_m=500)  # k = 1: seven-cell areas
    cells = np.sort(risk.index.to_numpy(np.uint64))
    values = risk.reindex(cells).to_numpy()
    centres, idx, member = candidate_areas(cells, plan.ring)
    pos = np.searchsorted(cells, member)
    ok = (pos < cells.size) & (cells[np.minimum(pos, cells.size - 1)] == member)
    A = sp.csc_matrix((np.ones(ok.sum()), (pos[ok], idx[ok])), shape=(cells.size, centres.size))
    # every pair of areas at once: w(a) + w(b) - w(a and b)
    D = (A.toarray() > 0).astype(float)
    single = values @ D
    pair = single[:, None] + single[None, :] - (D * values[:, None]).T @ D
    best = pair[np.triu_indices(centres.size, 1)].max()
    assert plan.method == "mip" and plan.optimal
    assert plan.covered_expected == pytest.approx(best)
    assert len(plan.areas) == 2 and all(len(a.cells) == 7 for a in plan.areas)


def test_exclusions_and_must_visits_are_respected() -> None:
    risk = _risk_around([(LAT, LON, 5.0), (LAT + 0.004, LON + 0.006, 3.0), (LAT - 0.01, LON, 0.5)])
    hot = points_to_cells([LAT], [LON], 10)
    _, police = cells_to_disks(hot, 1)
    far = points_to_cells([LAT - 0.01], [LON], 10)
    plan = plan_patrol(risk, 2, exclude=[police], must_visit=[far])
    all_cells = np.concatenate([a.cells for a in plan.areas])
    assert not np.isin(police, all_cells).any()  # no area contains an excluded cell
    assert not np.isin([a.centre_cell for a in plan.areas], police).any()
    assert any(far[0] in a.cells for a in plan.areas)  # the must-visit place is covered
    assert plan.areas[0].must_visit
    with pytest.raises(ValidationError, match="undantagen"):
        plan_patrol(risk, 2, exclude=[far], must_visit=[far])


def test_spread_puts_areas_in_different_localities() -> None:
    risk = _risk_around(
        [(LAT, LON, 5.0), (LAT + 0.006, LON + 0.008, 4.0), (LAT + 0.3, LON, 1.0)], k=3
    )
    cells = risk.index.to_numpy(np.uint64)
    lat, _ = cells_to_points(cells)
    localities = pd.DataFrame(
        {"cell": cells, "locality": np.where(lat > LAT + 0.1, "0188TC106", "0188TC109")}
    )
    plain = plan_patrol(risk, 2, localities=localities)
    assert {a.locality for a in plain.areas} == {"0188TC109"}  # both in the big town
    spread = plan_patrol(risk, 2, localities=localities, spread=True)
    assert {a.locality for a in spread.areas} == {"0188TC109", "0188TC106"}


def test_places_to_cells() -> None:
    point = places_to_cells([f"{LAT},{LON},200"], 10)[0]
    assert point.size > 7  # a 200 m circle holds more than one ring of 76 m cells
    lat, lon = cells_to_points(point)
    assert (np.hypot((lat - LAT) * 111_320, (lon - LON) * 55_900) < 260).all()
    only = places_to_cells([f"{LAT},{LON}"], 10)[0]
    assert list(only) == list(points_to_cells([LAT], [LON], 10))
    coarse = format(int(points_to_cells([LAT], [LON], 9)[0]), "x")
    assert places_to_cells([coarse], 10)[0].size == 7
    with pytest.raises(ValidationError) as err:
        places_to_cells(["nånstans", "95,18"], 10)
    assert len(err.value.problems) == 2


# ---------------------------------------------------------------- order
def test_walking_order_is_the_shortest_path() -> None:
    rng = np.random.default_rng(5)
    xy = rng.random((6, 2)) * 1000
    order = walking_order(xy)
    best = min(path_length(xy, p) for p in itertools.permutations(range(6)))
    assert path_length(xy, order) == pytest.approx(best)
    assert sorted(order) == list(range(6))


def test_walking_order_heuristic_for_many_areas() -> None:
    xy = np.column_stack([np.arange(12) * 100.0, np.zeros(12)])[
        np.random.default_rng(1).permutation(12)
    ]
    order = walking_order(xy)
    assert sorted(order) == list(range(12))
    assert path_length(xy, order) == pytest.approx(1100.0)  # a straight line, end to end


# ---------------------------------------------------------------- shift, windows, reasons
def test_shift_parsing_and_bins() -> None:
    s = Shift.parse("18-02")
    assert s.wraps and s.length == 8 and s.hours[-1] == 1 and s.label == "18–02"
    bins = s.bins(pd.Timestamp("2026-11-27").date())  # a Friday
    assert bins[0] == (4, 18) and bins[-1] == (5, 1)
    assert Shift.parse("08:00-16:00") == Shift(8, 16)
    local = pd.DatetimeIndex(["2026-11-28 01:30", "2026-11-28 19:00"])
    assert list(s.shift_day(local)) == [4, 5]  # Saturday 01:30 belongs to Friday's shift
    with pytest.raises(ValidationError):
        Shift.parse("kväll")


def test_time_profile_smooths_towards_margins() -> None:
    p = time_profile([4] * 20, [21] * 20, alpha=168)
    assert p.sum() == pytest.approx(1.0)
    assert p[4, 21] == p.max()
    assert p[0, 3] > 0  # unseen bins keep some mass


def _reports(rows: list[tuple[str, float, float, str]]) -> pd.DataFrame:
    times = pd.DatetimeIndex([r[0] for r in rows]).tz_localize("Europe/Stockholm")
    return pd.DataFrame(
        {
            "cell": points_to_cells([r[1] for r in rows], [r[2] for r in rows], 10),
            "occurred_at": times.tz_convert("UTC"),
            "category": [r[3] for r in rows],
            "status": "approved",
        }
    )


def test_window_and_reason_in_swedish() -> None:
    rows = [
        ("2026-11-20 21:15", LAT, LON, "storande_grupp"),
        ("2026-11-13 22:40", LAT, LON, "storande_grupp"),
        ("2026-10-30 21:05", LAT, LON, "storande_grupp"),
        ("2026-11-18 12:00", LAT, LON, "klotter"),
        ("2026-06-05 19:00", LAT, LON, "skadegorelse"),
    ]
    plan, risk = plan_shift(_reports(rows), "2026-11-27", "18-02", 1)
    area = plan.areas[0]
    assert area.window == (21, 23)
    assert area.reason == "3 rapporter om störande grupp fredagar 21–23 senaste 6 veckorna"
    assert plan.to_dict()["areas"][0]["window"] == "21–23"


def test_reason_falls_back_when_nothing_matches_the_window() -> None:
    events = pd.DataFrame(
        {
            "time": pd.DatetimeIndex(["2026-11-18 19:30", "2026-11-17 20:00"]),
            "category": ["klotter", "klotter"],
        }
    )
    text = area_reason(events, Shift(18, 2), 4, (21, 23), pd.Timestamp("2026-11-27 18:00"))
    assert text == "2 rapporter kl. 18–02 senaste 6 veckorna, flest om klotter"
    empty = area_reason(events.iloc[:0], Shift(18, 2), 4, (21, 23), pd.Timestamp("2026-11-27"))
    assert empty.startswith("Inga egna rapporter")


def test_area_window_follows_the_area_not_the_kommun() -> None:
    shift = Shift(18, 2)
    prior = np.r_[np.full(6, 0.1), np.full(2, 0.2)]  # the kommun is busiest after midnight
    assert area_window([19, 19, 20], [19, 20], shift, prior) == (19, 21)
    assert area_window([], [], shift, prior) == (0, 2)


def test_shift_risk_gives_night_cells_a_larger_share() -> None:
    rows = []
    night = (LAT, LON)
    day = (LAT + 0.01, LON + 0.01)
    for d in range(40):
        date = pd.Timestamp("2026-10-01") + pd.Timedelta(days=d)
        rows.append(((date + pd.Timedelta(hours=22)).isoformat(), *night, "storande_grupp"))
        rows.append(((date + pd.Timedelta(hours=11)).isoformat(), *day, "klotter"))
    risk = ShiftRisk("18-02").fit(_reports(rows), "2026-11-13")
    s = risk.predict()
    n_cell = points_to_cells([night[0]], [night[1]], 10)[0]
    d_cell = points_to_cells([day[0]], [day[1]], 10)[0]
    assert s[n_cell] > 5 * s[d_cell]
    assert risk.weekly_[np.searchsorted(risk.cells_, n_cell)] == pytest.approx(
        risk.weekly_[np.searchsorted(risk.cells_, d_cell)], rel=0.05
    )
    with pytest.raises(ValidationError, match="inga godkända rapporter"):
        ShiftRisk().fit(_reports(rows), "2026-01-01")
