"""Space-time cube: zero filling, filters, time grid, weights and per-locality totals."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analysis.config import AnalysisConfig
from analysis.cube import SpaceTimeCube, hours_mask, period_edges, reports_to_cube
from geo.cells import cells_to_disks, cells_to_parent, cells_to_points, points_to_cells
from geo.errors import ValidationError
from geo.schema import conform_reports, empty_reports

TZ = "Europe/Stockholm"
CENTRE = (59.7577, 18.6990)
END = pd.Timestamp("2024-06-04 13:00", tz=TZ)  # a Tuesday


def _universe(res: int = 10, k: int = 2, locality: str = "L1") -> pd.DataFrame:
    c = points_to_cells([CENTRE[0]], [CENTRE[1]], res)
    _, cells = cells_to_disks(c, k)
    cells = np.unique(cells)
    return pd.DataFrame({"cell": cells, "locality": locality})


def _reports(rows: list[dict]) -> pd.DataFrame:
    if not rows:
        return empty_reports()
    base = {
        "kommun": "norrtalje",
        "source": "actor",
        "category": "skadegorelse",
        "status": "approved",
        "precision": "point",
        "reporter_org": "Skolan",
        "locality": "L1",
    }
    frame = pd.DataFrame([{**base, **r} for r in rows])
    if "cell" not in frame:
        frame["cell"] = np.zeros(len(frame), np.uint64)
    frame["cell"] = frame["cell"].fillna(0).astype(np.uint64)
    return conform_reports(frame)


def _local(ts: str) -> pd.Timestamp:
    return pd.Timestamp(ts, tz=TZ)


@pytest.fixture()
def universe() -> pd.DataFrame:
    return _universe()


def test_zero_filled_over_every_cell(universe: pd.DataFrame) -> None:
    cells = universe["cell"].to_numpy()
    reports = _reports(
        [
            {"cell": cells[0], "occurred_at": _local("2024-06-03 10:00")},
            {"cell": cells[0], "occurred_at": _local("2024-06-03 11:00")},
            {"cell": cells[5], "occurred_at": _local("2024-05-20 11:00")},
        ]
    )
    cfg = AnalysisConfig(res=10, end=END, start=END - pd.Timedelta(weeks=4))
    cube = reports_to_cube(reports, universe, cfg)
    assert cube.values.shape == (len(universe), 4)
    assert np.isfinite(cube.values).all()
    assert cube.counts.sum() == 3
    assert cube.counts[cube.cell_index([cells[0]])[0], -1] == 2
    assert cube.counts[cube.cell_index([cells[5]])[0], 1] == 1
    empty = np.ones(len(universe), bool)
    empty[cube.cell_index(cells[[0, 5]])] = False
    assert (cube.values[empty] == 0).all() and (cube.counts[empty] == 0).all()
    assert np.array_equal(cube.cells, np.sort(cells))
    assert set(cube.locality) == {"L1"}


def test_only_approved_reports_with_cells_enter_cells(universe: pd.DataFrame) -> None:
    cells = universe["cell"].to_numpy()
    far = points_to_cells([60.5], [17.0], 10)[0]
    t = _local("2024-06-03 10:00")
    reports = _reports(
        [
            {"cell": cells[0], "occurred_at": t},
            {"cell": cells[0], "occurred_at": t, "status": "pending"},
            {"cell": cells[0], "occurred_at": t, "status": "rejected"},
            {"cell": 0, "occurred_at": t, "precision": "locality"},
            {"cell": far, "occurred_at": t},
            {"cell": cells[1], "occurred_at": t, "kommun": "kungsor"},
        ]
    )
    cube = reports_to_cube(reports, universe, AnalysisConfig(end=END, kommun="norrtalje"))
    assert cube.counts.sum() == 1
    assert cube.summary["approved"] == 3
    assert cube.summary["without_cell"] == 1
    assert cube.summary["cell_outside_universe"] == 1
    other = np.unique(cells_to_disks(points_to_cells([59.80], [18.60], 10), 1)[1])
    two = pd.concat([universe, pd.DataFrame({"cell": other, "locality": "L2"})])
    only = reports_to_cube(reports, two, AnalysisConfig(end=END, localities=["L1"]))
    assert only.n_cells == len(universe)
    assert set(only.locality) == {"L1"} and list(only.locality_codes) == ["L1"]
    both = reports_to_cube(reports, two, AnalysisConfig(end=END))
    assert both.n_cells == len(universe) + 7 and list(both.locality_codes) == ["L1", "L2"]
    # the locality total keeps the locality-precision report and the one outside the cells
    li = list(cube.locality_codes).index("L1")
    assert cube.locality_counts[li, -1] == 3
    assert cube.locality_precision[li, -1] == 1


def test_period_start_is_tuesday_1300_local_across_dst() -> None:
    edges = period_edges(_local("2024-04-03 09:00"), n_steps=6)  # DST began 2024-03-31
    local = edges.tz_convert(TZ)
    assert (local.weekday == 1).all() and (local.hour == 13).all() and (local.minute == 0).all()
    assert local[-1] == _local("2024-04-09 13:00")  # first boundary strictly after end
    assert {o.total_seconds() for o in local.map(lambda t: t.utcoffset())} == {3600, 7200}
    # a boundary instant belongs to the new period
    at = period_edges(_local("2024-04-09 13:00"), n_steps=1)
    assert at[-1].tz_convert(TZ) == _local("2024-04-16 13:00")


def test_report_at_deadline_goes_to_next_period(universe: pd.DataFrame) -> None:
    c = universe["cell"].iloc[0]
    reports = _reports(
        [
            {"cell": c, "occurred_at": _local("2024-05-28 12:59")},
            {"cell": c, "occurred_at": _local("2024-05-28 13:00")},
        ]
    )
    cube = reports_to_cube(
        reports, universe, AnalysisConfig(end=END, start=END - pd.Timedelta(weeks=3))
    )
    row = cube.counts[cube.cell_index([c])[0]]
    assert row.tolist() == [0, 1, 1]


def test_custom_period_start_and_two_week_steps_with_anchor(universe: pd.DataFrame) -> None:
    cfg = AnalysisConfig(
        step_weeks=2,
        period_weekday=2,
        period_hour=15,
        period_anchor="2024-01-03",
        end=_local("2024-06-04 10:00"),
        start=_local("2024-04-01"),
    )
    cube = reports_to_cube(_reports([]), universe, cfg)
    local = cube.edges.tz_convert(TZ)
    assert (local.weekday == 2).all() and (local.hour == 15).all()
    weeks = (local.tz_localize(None) - pd.Timestamp("2024-01-03 15:00")) / pd.Timedelta(weeks=1)
    assert (np.asarray(weeks) % 2 == 0).all()
    assert cube.step_weeks == 2
    assert local[0] <= _local("2024-04-01") < local[1]
    assert local[-1] > cfg.end


def test_hours_filter_wraps_midnight() -> None:
    times = pd.Series(
        [_local(f"2024-06-03 {h}") for h in ("17:59", "18:00", "23:30", "01:59", "02:00", "12:00")]
    ).dt.tz_convert("UTC")
    assert hours_mask(times, (18, 2), TZ).tolist() == [False, True, True, True, False, False]
    assert hours_mask(times, (8, 18), TZ).tolist() == [True, False, False, False, False, True]


def test_filters_hours_source_category(universe: pd.DataFrame) -> None:
    c = universe["cell"].iloc[3]
    reports = _reports(
        [
            {"cell": c, "occurred_at": _local("2024-06-03 19:00")},
            {"cell": c, "occurred_at": _local("2024-06-03 01:00"), "source": "citizen"},
            {"cell": c, "occurred_at": _local("2024-06-03 12:00"), "category": "klotter"},
        ]
    )
    base = {"end": END, "start": END - pd.Timedelta(weeks=1)}
    assert (
        reports_to_cube(reports, universe, AnalysisConfig(**base, hours=(18, 2))).counts.sum() == 2
    )
    assert (
        reports_to_cube(reports, universe, AnalysisConfig(**base, sources=["citizen"])).counts.sum()
        == 1
    )
    assert (
        reports_to_cube(
            reports, universe, AnalysisConfig(**base, categories=["klotter"])
        ).counts.sum()
        == 1
    )


def test_weights_and_distinct_counts(universe: pd.DataFrame) -> None:
    c = universe["cell"].iloc[2]
    t = _local("2024-06-03 10:00")
    reports = _reports(
        [
            {"cell": c, "occurred_at": t, "category": "vald_hot", "reporter_org": "A"},
            {"cell": c, "occurred_at": t, "category": "klotter", "reporter_org": "A"},
            {
                "cell": c,
                "occurred_at": t,
                "category": "klotter",
                "reporter_org": "B",
                "source": "citizen",
            },
            {"cell": c, "occurred_at": t, "category": "nytt", "reporter_org": None},
        ]
    )
    cfg = AnalysisConfig(end=END, start=END - pd.Timedelta(weeks=1), default_weight=2.0)
    cube = reports_to_cube(reports, universe, cfg)
    i = cube.cell_index([c])[0]
    assert cube.values[i, 0] == pytest.approx(3.0 + 0.5 + 0.5 + 2.0)
    assert cube.counts[i, 0] == 4
    assert cube.serious[i, 0] == 1
    assert cube.reporters[i, 0] == 2
    assert cube.sources[i, 0] == 2
    assert cube.categories[i, 0] == 3
    assert cube.detail["count"].sum() == 4
    assert cube.detail["weight"].sum() == pytest.approx(cube.values.sum())
    heavier = reports_to_cube(reports, universe, cfg.replace(weights={"klotter": 4.0}))
    assert heavier.values[i, 0] == pytest.approx(3.0 + 4.0 + 4.0 + 2.0)


def test_resolution_chosen_at_analysis_time() -> None:
    uni10 = _universe(res=10, k=6)
    cells10 = uni10["cell"].to_numpy()[:40]
    reports = _reports([{"cell": c, "occurred_at": _local("2024-06-03 10:00")} for c in cells10])
    for res in (8, 9):
        cube = reports_to_cube(reports, uni10, AnalysisConfig(res=res, end=END))
        assert cube.res == res
        assert np.array_equal(cube.cells, np.unique(cells_to_parent(uni10["cell"], res)))
        parents, n = np.unique(cells_to_parent(cells10, res), return_counts=True)
        assert cube.counts[cube.cell_index(parents), -1].tolist() == n.tolist()
    with pytest.raises(ValidationError):
        reports_to_cube(reports, _universe(res=8), AnalysisConfig(res=10, end=END))


def test_default_period_spans_the_data(universe: pd.DataFrame) -> None:
    c = universe["cell"].iloc[0]
    reports = _reports(
        [
            {"cell": c, "occurred_at": _local("2024-05-01 10:00")},
            {"cell": c, "occurred_at": _local("2024-06-03 10:00")},
        ]
    )
    cube = reports_to_cube(reports, universe, AnalysisConfig())
    assert cube.edges[0] <= _local("2024-05-01 10:00") < cube.edges[1]
    assert cube.edges[-1].tz_convert(TZ) == END
    assert cube.counts.sum() == 2
    long = reports_to_cube(reports, universe, AnalysisConfig(lookback_weeks=2))
    assert long.n_steps == 2 and long.counts.sum() == 1


def test_from_arrays_and_weights_matrix() -> None:
    uni = _universe(k=1)
    cube = SpaceTimeCube.from_arrays(uni["cell"], np.arange(7.0))
    assert cube.n_steps == 1 and cube.n_cells == 7
    W = cube.weights(1)
    assert (W.diagonal() == 1).all()
    assert W.sum() == 7 + 6 * 3 + 6  # centre: 7; each ring cell: itself, centre, 2 neighbours
    lat, _ = cells_to_points(cube.cells)
    assert np.isfinite(lat).all()
    with pytest.raises(ValidationError):
        SpaceTimeCube.from_arrays(uni["cell"], np.zeros((3, 2)))


def test_config_round_trips_through_json() -> None:
    import json

    cfg = AnalysisConfig(
        kommun="norrtalje",
        hours=(18, 2),
        start="2024-01-01",
        end="2024-06-04 13:00",
        period_anchor="2024-01-02",
        step_weeks=2,
        grading={"several_zones": 2},
    )
    again = AnalysisConfig.from_mapping(json.loads(json.dumps(cfg.to_dict())))
    assert again == cfg and hash(again) == hash(cfg)
    assert cfg.start == pd.Timestamp("2024-01-01", tz=TZ)  # naive means local time
    with pytest.raises(ValidationError):
        AnalysisConfig.from_mapping({"resolution": 9})


def test_config_validation_collects_all_problems() -> None:
    with pytest.raises(ValidationError) as err:
        AnalysisConfig(res=7, step_weeks=3, alpha=1.5, hours=(3, 3), sources=["mail"])
    assert len(err.value.problems) == 5
    assert hash(AnalysisConfig()) == hash(AnalysisConfig())
    assert AnalysisConfig(weights={"brand": 5}).weight_map["brand"] == 5.0
    assert AnalysisConfig(weights={"brand": 5}).weight_map["klotter"] == 0.5


def test_ring_weights_join_exactly_the_cells_within_k_in_any_order() -> None:
    from analysis.cube import ring_weights

    centre = points_to_cells([59.7580], [18.7050], 10)
    _, disk = cells_to_disks(centre, 2)
    cells = np.unique(disk)[::2]  # gaps: not every neighbour is in the set
    for arr in (cells, np.random.default_rng(3).permutation(cells)):
        for include_self in (True, False):
            w = ring_weights(arr, 1, include_self).toarray()
            origin, near = cells_to_disks(arr, 1)
            pairs = {(int(a), int(b)) for a, b in zip(origin, near, strict=True)}
            expected = np.array(
                [
                    [float((int(a), int(b)) in pairs and (include_self or a != b)) for b in arr]
                    for a in arr
                ]
            )
            np.testing.assert_array_equal(w, expected)
    with pytest.raises(ValidationError):
        ring_weights(np.r_[cells, cells[:1]])
