"""Walking order of a patrol plan: by time window, one area per slot unless adjacent."""

from __future__ import annotations

import numpy as np

from analysis.patrol import PatrolArea, PatrolPlan, _set_order


def _plan(centres: list[tuple[float, float]], windows: list[tuple[int, int]]) -> PatrolPlan:
    areas = [
        PatrolArea(
            centre_cell=i, cells=np.array([i], dtype=np.uint64), expected=1.0, centre=c, window=w
        )
        for i, (c, w) in enumerate(zip(centres, windows, strict=True))
    ]
    return PatrolPlan(
        areas=areas,
        order=list(range(len(areas))),
        method="test",
        optimal=True,
        bound=0.0,
        covered_expected=0.0,
        total_expected=1.0,
        ring=1,
        res=9,
        diameter_m=300.0,
    )


def _walk(plan: PatrolPlan) -> list[tuple[int, int]]:
    return [plan.areas[i].window for i in plan.order]  # type: ignore[misc]


def test_order_follows_the_windows_and_slots_are_not_shared() -> None:
    # three areas ~1–3 km apart; two want 21–23 (the 1: 21–23, 2: 19–21, 3: 21–23)
    plan = _plan(
        [(59.760, 18.70), (59.770, 18.72), (59.750, 18.66)], [(21, 23), (19, 21), (21, 23)]
    )
    _set_order(plan, 18, 8)
    windows = _walk(plan)
    starts = [(w[0] - 18) % 24 for w in windows]
    assert starts == sorted(starts)
    assert len({w[0] for w in windows}) == 3  # one area per slot
    assert windows[0] == (19, 21)
    assert all(s >= 0 and s + 2 <= 8 for s in starts)  # inside the 18–02 shift


def test_adjacent_areas_may_share_a_slot() -> None:
    # 150 m apart: walked together in the same window
    plan = _plan([(59.7600, 18.7000), (59.7600, 18.7027)], [(21, 23), (21, 23)])
    _set_order(plan, 18, 8)
    assert _walk(plan) == [(21, 23), (21, 23)]


def test_windows_after_midnight_come_last() -> None:
    plan = _plan([(59.76, 18.70), (59.78, 18.74)], [(0, 2), (22, 24)])
    _set_order(plan, 18, 8)
    assert _walk(plan) == [(22, 24), (0, 2)]
