"""The public map over time: a year of weekly snapshots cannot be differenced below k.

A synthetic kommun with a steady trickle of reports in a few cells (two years of data,
approved a few days after they occur) is published every Monday for a year. Every filter
combination of every snapshot is recorded, as an observer would, and every number the
observer can derive (the views and their differences) is followed from week to week.
"""

from __future__ import annotations

import itertools
from collections import defaultdict

import numpy as np
import pandas as pd
import pytest

from analysis.public import (
    ALL,
    ATOM_COLUMNS,
    GROUP_CODES,
    GROUPS,
    PERIODS,
    public_table,
    snapshot_time,
)
from geo.cells import cells_to_parent, points_to_cells

#: Six places in Norrtälje, far enough apart to lie in different res-9 cells.
PLACES = [
    (59.7577, 18.6990),
    (59.7515, 18.7040),
    (59.7650, 18.7130),
    (59.7470, 18.6850),
    (59.7700, 18.6900),
    (59.7600, 18.7300),
]
CATEGORY = {"ordning": "klotter", "brott": "inbrott_stold", "trygghet": "otrygg_plats"}
FIRST_DAY = pd.Timestamp("2025-01-06", tz="UTC")
MONDAYS = [
    snapshot_time(pd.Timestamp("2026-01-07", tz="UTC") + pd.Timedelta(weeks=w), "week")
    for w in range(53)
]


def _reports(seed: int) -> pd.DataFrame:
    """Two years of reports: per place and group, about one report every 1-3 weeks."""
    rng = np.random.default_rng(seed)
    rows = []
    days = (MONDAYS[-1] - FIRST_DAY).days
    for (lat, lon), group in itertools.product(PLACES, GROUPS):
        rate = rng.uniform(0.3, 1.2)  # reports per week
        n = rng.poisson(rate * days / 7)
        for offset in rng.uniform(0, days, n):
            occurred = FIRST_DAY + pd.Timedelta(days=float(offset))
            delay = pd.Timedelta(hours=float(rng.uniform(1, 240)))
            rows.append((lat, lon, CATEGORY[group], occurred, occurred + delay))
    frame = pd.DataFrame(rows, columns=["lat", "lon", "category", "occurred_at", "published_at"])
    frame["cell"] = points_to_cells(frame["lat"].to_numpy(), frame["lon"].to_numpy(), 10)
    frame["status"] = "approved"
    return frame


def _views(table) -> dict[int, dict[tuple[str, str], int]]:
    """cell -> {(group, period): published count} for every filter combination."""
    out: dict[int, dict[tuple[str, str], int]] = defaultdict(dict)
    for g, p in itertools.product(GROUP_CODES, PERIODS):
        view = table.view(g, p)
        for cell, count in zip(view["cell"].tolist(), view["count"].tolist(), strict=True):
            out[int(cell)][(g, p)] = int(count)
    return out


def _derived(views: dict[tuple[str, str], int]) -> dict[str, int]:
    """Every number an observer can compute from one cell's views at one snapshot: the
    views themselves and the differences of nested views (12m - 3m, all - the groups)."""
    out = {f"{g}/{p}": v for (g, p), v in views.items()}
    for g in GROUP_CODES:
        if (g, "12m") in views and (g, "3m") in views:
            out[f"{g}/earlier"] = views[(g, "12m")] - views[(g, "3m")]
    for p in PERIODS:
        parts = [views.get((g, p)) for g in GROUPS]
        if (ALL, p) in views and all(v is not None for v in parts[:-1]):
            out[f"{list(GROUPS)[-1]}/{p}/by-difference"] = views[(ALL, p)] - sum(parts[:-1])
    return out


def _cells(frame: pd.DataFrame, res: int = 9) -> np.ndarray:
    """Public cell (parent at ``res``) of each report."""
    return cells_to_parent(frame["cell"].to_numpy(np.uint64), res)


def _plain_atoms(frame: pd.DataFrame, at: pd.Timestamp) -> dict[int, list[int]]:
    """cell -> the six atoms of the single snapshot ``at``, counted directly (no history)."""
    occurred = pd.to_datetime(frame["occurred_at"], utc=True)
    counted = (occurred < at) & (occurred >= at - pd.Timedelta(weeks=52))
    counted &= pd.to_datetime(frame["published_at"], utc=True) < at
    sel = frame.loc[counted]
    recent = pd.to_datetime(sel["occurred_at"], utc=True) >= at - pd.Timedelta(weeks=13)
    group = sel["category"].map({c: g for g, c in CATEGORY.items()})
    column = group + np.where(recent, ":recent", ":earlier")
    out: dict[int, list[int]] = {}
    for cell, cols in pd.Series(column.to_numpy(), index=_cells(sel)).groupby(level=0):
        counts = cols.value_counts()
        out[int(cell)] = [int(counts.get(c, 0)) for c in ATOM_COLUMNS]
    return out


@pytest.mark.parametrize(("seed", "k"), [(1, 3), (2, 3), (3, 2), (4, 5)])
def test_a_year_of_weekly_snapshots_reveals_no_change_below_k(seed: int, k: int) -> None:
    frame = _reports(seed)
    history: dict[tuple[int, str], list[int]] = defaultdict(list)
    raw_small_changes = 0
    raw_before: dict[int, int] = {}
    changes = 0
    for monday in MONDAYS:
        table = public_table(frame, k=k, res=9, as_of=monday)
        views = _views(table)
        for cell, cell_views in views.items():
            for name, value in _derived(cell_views).items():
                assert value == 0 or value >= k, (cell, name, value)  # within one snapshot
                series = history[(cell, name)]
                if series and series[-1] != value:
                    # across time: compared with the last published value, also over gaps
                    assert abs(value - series[-1]) >= k, (monday, cell, name, series, value)
                    changes += 1
                series.append(value)
        # without the sticky rule: the plain totals of the same snapshot
        for cell, atoms in _plain_atoms(frame, monday).items():
            total, before = sum(atoms), raw_before.get(cell)
            if before is not None and min(before, total) >= k and 0 < abs(total - before) < k:
                raw_small_changes += 1
            raw_before[cell] = total
    # the data would leak without the rule, and the published map does move
    assert raw_small_changes > 20
    assert changes > 20


@pytest.mark.parametrize("seed", [1, 2])
def test_shown_numbers_are_the_real_counts_of_one_snapshot(seed: int) -> None:
    frame = _reports(seed)
    for monday in MONDAYS[::13]:
        table = public_table(frame, k=3, res=9, as_of=monday)
        shown = table.atoms[table.atoms["level"] != "none"]
        assert len(shown) > 0
        for row in shown.to_dict("records"):
            at = row["as_of"]
            assert at <= monday and at == snapshot_time(at, "week")  # a Monday snapshot
            assert [row[c] for c in ATOM_COLUMNS] == _plain_atoms(frame, at)[int(row["cell"])]
