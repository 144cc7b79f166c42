"""k-suppressed public aggregation (analysis.public): no filter combination reveals < k."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest

from analysis.public import (
    ALL,
    GROUP_CODES,
    GROUPS,
    PERIODS,
    allowed_levels,
    category_to_group,
    public_table,
    snapshot_time,
)
from geo.cells import cells_to_parent, points_to_cells
from geo.errors import ValidationError

AS_OF = pd.Timestamp("2026-03-02T00:00:00", tz="UTC")
# three well-separated points in Norrtälje (different res-9 cells)
POINTS = [(59.7577, 18.6990), (59.7515, 18.7040), (59.7650, 18.7130)]
GROUP_CAT = {"ordning": "klotter", "brott": "inbrott_stold", "trygghet": "otrygg_plats"}


def _frame(rows: list[tuple[int, str, int]]) -> pd.DataFrame:
    """rows: (point index, group, days before AS_OF)."""
    lat = np.array([POINTS[p][0] for p, _g, _d in rows])
    lon = np.array([POINTS[p][1] for p, _g, _d in rows])
    return pd.DataFrame(
        {
            "cell": points_to_cells(lat, lon, 10),
            "category": [GROUP_CAT[g] for _p, g, _d in rows],
            "occurred_at": [AS_OF - pd.Timedelta(days=d) for _p, _g, d in rows],
            "status": "approved",
        }
    )


def _cell(p: int, res: int = 9) -> int:
    c = points_to_cells(np.array([POINTS[p][0]]), np.array([POINTS[p][1]]), 10)
    return int(cells_to_parent(c, res)[0])


def _all_views(table) -> dict[tuple[str, str], dict[int, int]]:
    out = {}
    for g, p in itertools.product(GROUP_CODES, PERIODS):
        v = table.view(g, p)
        out[(g, p)] = dict(
            zip(v["cell"].astype(np.uint64).tolist(), v["count"].tolist(), strict=True)
        )
    return out


def test_cell_below_k_is_never_shown() -> None:
    table = public_table(_frame([(0, "ordning", 1), (0, "ordning", 2)]), k=3, as_of=AS_OF)
    for counts in _all_views(table).values():
        assert counts == {}


def test_cell_reaching_k_is_shown_in_every_matching_view() -> None:
    frame = _frame([(0, "ordning", 1), (0, "ordning", 2), (0, "ordning", 3)])
    views = _all_views(public_table(frame, k=3, as_of=AS_OF))
    c = _cell(0)
    assert views[(ALL, "12m")] == {c: 3}
    assert views[("ordning", "12m")] == {c: 3}
    assert views[("ordning", "3m")] == {c: 3}
    assert views[(ALL, "3m")] == {c: 3}
    assert views[("brott", "12m")] == {}  # zero is not shown either


def test_complementary_group_filters_cannot_be_subtracted() -> None:
    # 3 ordning + 1 brott: total 4 may be shown, but "ordning = 3" would give
    # "alla − ordning = 1 brott" – so no group view shows the cell at all
    frame = _frame([(0, "ordning", 1), (0, "ordning", 2), (0, "ordning", 3), (0, "brott", 4)])
    table = public_table(frame, k=3, as_of=AS_OF)
    views = _all_views(table)
    c = _cell(0)
    assert views[(ALL, "12m")] == {c: 4}
    for g in GROUPS:
        assert views[(g, "12m")] == {} and views[(g, "3m")] == {}
    assert views[(ALL, "3m")] == {c: 4}  # all four are recent: 12m − 3m = 0, harmless
    assert table.level_of(np.array([c], np.uint64)).tolist() == ["periods"]


def test_nested_periods_cannot_be_subtracted() -> None:
    # 3 recent + 1 older: "12m − 3m" would reveal the single older report
    frame = _frame(
        [(1, "trygghet", 5), (1, "trygghet", 6), (1, "trygghet", 7), (1, "trygghet", 200)]
    )
    views = _all_views(public_table(frame, k=3, as_of=AS_OF))
    c = _cell(1)
    assert views[(ALL, "12m")] == {c: 4}
    assert views[("trygghet", "12m")] == {c: 4}  # group level: every group block ≥ k
    assert views[(ALL, "3m")] == {} and views[("trygghet", "3m")] == {}


def test_reports_outside_window_or_not_yet_published_do_not_count() -> None:
    frame = _frame([(2, "brott", 1), (2, "brott", 2), (2, "brott", 3), (2, "brott", 400)])
    frame["published_at"] = [AS_OF - pd.Timedelta(hours=1)] * 2 + [
        AS_OF + pd.Timedelta(hours=1)
    ] * 2
    table = public_table(frame, k=3, as_of=AS_OF)
    # one approved after the snapshot, one older than 52 weeks: only 2 count
    assert table.view(ALL, "12m").empty
    frame["published_at"] = AS_OF - pd.Timedelta(days=1)
    assert public_table(frame, k=3, as_of=AS_OF).view(ALL, "12m")["count"].tolist() == [3]


def test_pending_and_cell_less_reports_are_ignored() -> None:
    frame = _frame([(0, "ordning", 1)] * 4)
    frame.loc[0, "status"] = "pending"
    frame.loc[1, "cell"] = np.uint64(0)
    assert public_table(frame, k=3, as_of=AS_OF).view().empty
    assert public_table(frame, k=2, as_of=AS_OF).view()["count"].tolist() == [2]


def _derivable_subsets_ok(atoms: np.ndarray, published: list[np.ndarray], k: int) -> bool:
    """Every atom subset in the span of the published queries sums to 0 or ≥ k."""
    if not published:
        return True
    base = np.array(published, dtype=float)
    rank = np.linalg.matrix_rank(base)
    for bits in itertools.product([0, 1], repeat=atoms.size):
        vec = np.array(bits, dtype=float)
        if not vec.any():
            continue
        if np.linalg.matrix_rank(np.vstack([base, vec])) == rank:
            total = int(atoms @ vec)
            if 0 < total < k:
                return False
    return True


@pytest.mark.parametrize("seed", range(6))
def test_no_linear_combination_of_published_views_reveals_below_k(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = 60
    rows = [
        (int(rng.integers(0, 3)), str(rng.choice(list(GROUPS))), int(rng.choice([3, 30, 120, 300])))
        for _ in range(n)
    ]
    k = int(rng.integers(2, 5))
    table = public_table(_frame(rows), k=k, as_of=AS_OF)
    views = _all_views(table)
    groups = list(GROUPS)
    shown = 0
    for row in table.atoms.to_dict("records"):
        cell = int(row["cell"])
        atoms = np.array([row[f"{g}:{s}"] for g in groups for s in ("recent", "earlier")])
        published = []
        for (g, p), counts in views.items():
            if cell not in counts:
                continue
            assert counts[cell] >= k
            sel = groups if g == ALL else [g]
            sl = ["recent"] if p == "3m" else ["recent", "earlier"]
            published.append(
                np.array(
                    [float(gg in sel and s in sl) for gg in groups for s in ("recent", "earlier")]
                )
            )
        shown += len(published)
        assert _derivable_subsets_ok(atoms, published, k), (cell, atoms.tolist())
    assert shown > 0  # the data set publishes something, so the check is not vacuous


def test_levels_and_allowed_views_are_consistent() -> None:
    assert set(allowed_levels(ALL, "12m")) >= {"full", "groups", "periods", "total"}
    assert allowed_levels("ordning", "3m") == ("full",)
    assert "periods" not in allowed_levels("ordning", "12m")
    assert "groups" not in allowed_levels(ALL, "3m")


def test_unknown_filters_and_bad_parameters_are_rejected() -> None:
    table = public_table(_frame([(0, "ordning", 1)]), k=3, as_of=AS_OF)
    with pytest.raises(ValidationError):
        table.view("skadegorelse", "12m")  # a category is not a public filter
    with pytest.raises(ValidationError):
        table.view(ALL, "1v")
    with pytest.raises(ValidationError):
        public_table(_frame([(0, "ordning", 1)]), k=0)
    with pytest.raises(ValidationError):
        public_table(_frame([(0, "ordning", 1)]), res=10)  # finer than res 9 never public


def test_category_groups_partition_the_categories() -> None:
    from geo.schema import CATEGORY_CODES

    groups = category_to_group(list(CATEGORY_CODES) + ["egen_kategori"])
    assert set(groups) == set(GROUPS)
    assert groups[-1] == list(GROUPS)[-1]
    listed = [c for _l, cats in GROUPS.values() for c in cats]
    assert len(listed) == len(set(listed)) and set(CATEGORY_CODES) <= set(listed)


def test_snapshot_week_day_live() -> None:
    # Wednesday 2026-03-04 10:00 UTC -> Monday 2026-03-02 00:00 Stockholm (23:00 UTC Sunday)
    now = pd.Timestamp("2026-03-04T10:00:00", tz="UTC")
    assert snapshot_time(now, "week") == pd.Timestamp("2026-03-01T23:00:00", tz="UTC")
    assert snapshot_time(now, "day") == pd.Timestamp("2026-03-03T23:00:00", tz="UTC")
    assert snapshot_time(now, "live") == now
    # across the DST change (29 March 2026): Monday 30 March 00:00 CEST = 22:00 UTC
    after = pd.Timestamp("2026-04-01T10:00:00", tz="UTC")
    assert snapshot_time(after, "week") == pd.Timestamp("2026-03-29T22:00:00", tz="UTC")
    with pytest.raises(ValidationError):
        snapshot_time(now, "month")
