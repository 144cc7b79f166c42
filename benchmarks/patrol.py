"""Benchmark: patrol planning speed and how many evening/night incidents the areas catch.

1. ``plan_s``: :func:`analysis.patrol.plan_patrol` for a synthetic kommun of about 20,000
   res-10 cells (every cell with some risk, a few hotspots), K = 5 areas of at most
   800 m. Median of ``--rounds`` runs; ``method`` says whether the exact model or the
   greedy fallback answered.
2. Evaluation on real data (Vancouver 2020, ``../shared/data/real/vancouver-vpd-2020``):
   rolling weekly origins; at each origin the plan for the next week's seven 18-02 shifts
   is made from the 26 weeks before it (all hours, :class:`analysis.patrol.ShiftRisk`),
   and scored by the share of that week's 18-02 incidents inside the chosen areas,
   against (a) the K riskiest single cells grown into disks of the same size (overlaps
   allowed, as a naive map would), (a') the same but skipping cells whose disk would
   overlap one already taken (exactly the plan's area), and (b) K random disks of the
   same size centred on cells with a training incident (seeded, ``--draws`` per origin).
   The plan from the earlier fixed 13-week forecast is scored on the same weeks
   (``plan_fixed_13w``). Medians and means over origins. Prints one JSON object::

    python benchmarks/patrol.py [--rounds 3] [--origins 26] [--areas 5]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path

# benchmarks/analysis.py is named like the package: keep this folder off the import path
_HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]
sys.path.insert(0, str(_HERE.parent))

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from analysis.evaluate import read_events  # noqa: E402
from analysis.patrol import Shift, ShiftRisk, plan_patrol, ring_for_diameter  # noqa: E402
from geo.cells import cells_to_disks, cells_to_points, points_to_cells  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
#: The real data sets (``../shared/data/real`` beside the repository, or $LAGESBILD_REAL_DATA).
REAL = Path(os.environ.get("LAGESBILD_REAL_DATA") or ROOT.parent / "shared" / "data" / "real")
VANCOUVER = REAL / "vancouver-vpd-2020" / "crimedata_csv_AllNeighbourhoods_2020.csv.gz"
LAT, LON = 59.7580, 18.7050


def synthetic_kommun(n_ring: int = 81, seed: int = 0) -> pd.Series:
    """About 20,000 cells (a k-ring disk of 81 rings) with gamma noise and 12 hotspots."""
    rng = np.random.default_rng(seed)
    centre = points_to_cells([LAT], [LON], 10)
    _, cells = cells_to_disks(centre, n_ring)
    cells = np.unique(cells)
    lat, lon = cells_to_points(cells)
    risk = rng.gamma(0.3, 0.01, cells.size)
    for _ in range(12):
        i = rng.integers(cells.size)
        d2 = ((lat - lat[i]) * 111_320) ** 2 + ((lon - lon[i]) * 56_000) ** 2
        risk += rng.uniform(0.2, 1.0) * np.exp(-d2 / (2 * 150.0**2))
    return pd.Series(risk, index=cells)


def bench_plan(rounds: int, areas: int) -> dict[str, object]:
    risk = synthetic_kommun()
    times, plan = [], None
    for _ in range(rounds):
        t0 = time.perf_counter()
        plan = plan_patrol(risk, areas, diameter_m=800.0)
        times.append(time.perf_counter() - t0)
    assert plan is not None
    return {
        "cells": int(risk.size),
        "areas": areas,
        "plan_s": round(statistics.median(times), 3),
        "method": plan.method,
        "optimal": plan.optimal,
        "covered_share": round(plan.covered_expected / plan.total_expected, 4),
    }


def _disk_members(centres: np.ndarray, k: int) -> np.ndarray:
    _, disk = cells_to_disks(np.asarray(centres, dtype=np.uint64), k)
    return np.unique(disk)


def _spaced_top(expected: pd.Series, areas: int, k: int) -> np.ndarray:
    """Disks around the riskiest cells, skipping cells whose disk would overlap one taken."""
    taken: list[np.ndarray] = []
    used = np.zeros(0, np.uint64)
    for cell in expected.sort_values(ascending=False, kind="stable").index.to_numpy(np.uint64):
        disk = _disk_members(np.array([cell], dtype=np.uint64), k)
        if np.isin(disk, used).any():
            continue
        taken.append(disk)
        used = np.concatenate([used, disk])
        if len(taken) == areas:
            break
    return np.unique(used)


def evaluate_vancouver(
    origins: int, areas: int, draws: int, train_weeks: int = 26, path: Path = VANCOUVER
) -> dict:
    raw = pd.read_csv(path, low_memory=False)
    events, _ = read_events(
        raw,
        time_parts=["YEAR", "MONTH", "DAY", "HOUR", "MINUTE"],
        x_col="X",
        y_col="Y",
        crs="EPSG:32610",
    )
    events["cell"] = points_to_cells(events["lat"].to_numpy(), events["lon"].to_numpy(), 10)
    shift = Shift(18, 2)
    times = pd.DatetimeIndex(events["time"])
    hour = np.asarray(times.hour)
    in_shift = np.isin(hour, shift.hours)
    # date of the shift each evening/night incident belongs to (01:30 -> the evening before)
    shift_date = (times - pd.Timedelta(hours=shift.start)).normalize()
    k = ring_for_diameter(10, 800.0)
    rng = np.random.default_rng(20200101)
    first = pd.Timestamp("2020-01-01") + pd.Timedelta(weeks=train_weeks)
    rows = []
    t_plan = []
    for o in range(origins):
        week = [first + pd.Timedelta(days=7 * o + d) for d in range(7)]
        test = in_shift & np.isin(shift_date, pd.DatetimeIndex(week))
        target = events.loc[test, "cell"].to_numpy(np.uint64)
        if target.size == 0:
            continue
        risk = ShiftRisk(shift, timezone=None, lookback_weeks=train_weeks).fit(
            events, [d.date() for d in week]
        )
        expected = risk.predict()
        t0 = time.perf_counter()
        plan = plan_patrol(expected, areas, diameter_m=800.0)
        t_plan.append(time.perf_counter() - t0)
        chosen = np.unique(np.concatenate([a.cells for a in plan.areas]))
        # the same plan from the earlier fixed 13-week forecast (same run, same weeks)
        fixed = ShiftRisk(
            shift, timezone=None, lookback_weeks=train_weeks, half_life_weeks=13.0
        ).fit(events, [d.date() for d in week])
        fixed_plan = plan_patrol(fixed.predict(), areas, diameter_m=800.0)
        fixed_cells = np.unique(np.concatenate([a.cells for a in fixed_plan.areas]))
        top = expected.sort_values(ascending=False, kind="stable").index[:areas]
        grown = _disk_members(top.to_numpy(np.uint64), k)
        spaced = _spaced_top(expected, areas, k)
        trained = np.unique(risk.events_["cell"].to_numpy(np.uint64))
        rand = []
        for _ in range(draws):
            centres = rng.choice(trained, size=areas, replace=False)
            rand.append(float(np.isin(target, _disk_members(centres, k)).mean()))
        rows.append(
            {
                "test_week": week[0].date().isoformat(),
                "incidents": int(target.size),
                "plan": float(np.isin(target, chosen).mean()),
                "plan_fixed_13w": float(np.isin(target, fixed_cells).mean()),
                "half_life_chosen": risk.forecast_.half_life_weeks_chosen_,
                "plan_cells": int(chosen.size),
                "top_cells_grown": float(np.isin(target, grown).mean()),
                "top_cells_grown_cells": int(grown.size),
                "top_cells_spaced": float(np.isin(target, spaced).mean()),
                "random": float(np.mean(rand)),
                "method": plan.method,
            }
        )
    frame = pd.DataFrame(rows)
    summary: dict[str, object] = {
        "origins": len(frame),
        "areas": areas,
        "ring": k,
        "train_weeks": train_weeks,
        "incidents_per_week_median": float(frame["incidents"].median()),
        "methods_used": frame["method"].value_counts().to_dict(),
        "plan_s_median": round(statistics.median(t_plan), 3),
    }
    summary["half_life_chosen_median"] = float(frame["half_life_chosen"].median())
    summary["plan_minus_fixed_13w_mean"] = round(
        float((frame["plan"] - frame["plan_fixed_13w"]).mean()), 4
    )
    for col in ("plan", "plan_fixed_13w", "top_cells_grown", "top_cells_spaced", "random"):
        summary[f"{col}_share_median"] = round(float(frame[col].median()), 4)
        summary[f"{col}_share_mean"] = round(float(frame[col].mean()), 4)
    summary["cells_median"] = {
        "plan": int(frame["plan_cells"].median()),
        "top_cells_grown": int(frame["top_cells_grown_cells"].median()),
        "random": int(1 + 3 * k * (k + 1)) * areas,
    }
    summary["plan_beats_top_cells_weeks"] = int((frame["plan"] > frame["top_cells_grown"]).sum())
    summary["plan_beats_random_weeks"] = int((frame["plan"] > frame["random"]).sum())
    summary["plan_better_than_both"] = bool(
        summary["plan_share_median"] > summary["top_cells_grown_share_median"]  # type: ignore[operator]
        and summary["plan_share_median"] > summary["random_share_median"]  # type: ignore[operator]
    )
    return summary


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--origins", type=int, default=26)
    parser.add_argument("--areas", type=int, default=5)
    parser.add_argument("--draws", type=int, default=20)
    parser.add_argument(
        "--vancouver", type=Path, default=VANCOUVER, help="crimedata_csv_AllNeighbourhoods_2020"
    )
    args = parser.parse_args()
    started = time.perf_counter()
    plan = bench_plan(args.rounds, args.areas)
    out = {
        "benchmark": "patrol",
        "plan_s": plan["plan_s"],
        "plan_within_2s": plan["plan_s"] <= 2.0,  # type: ignore[operator]
        "synthetic_kommun": plan,
        "vancouver_18_02": evaluate_vancouver(
            args.origins, args.areas, args.draws, path=args.vancouver
        ),
        "python": platform.python_version(),
        "seconds": round(time.perf_counter() - started, 1),
    }
    print(json.dumps(out, ensure_ascii=False))


if __name__ == "__main__":
    main()
