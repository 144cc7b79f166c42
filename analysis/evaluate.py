"""Forecast accuracy: hit rate, PAI and PEI* in a rolling-origin backtest.

Definitions (docs/domain.md, "Forecast accuracy metrics")
---------------------------------------------------------
A forecast flags an area ``a`` of a study region of area ``A``; ``n`` of the ``N`` events of
the next step fall in the flagged cells.

* hit rate ``= n / N``;
* **PAI** ``= (n / N) / (a / A)`` (Chainey, Tompson & Uhlig 2008);
* **PEI*** ``= n / n*``, where ``n*`` is the most events the same number of cells could
  have caught: the sum of the ``m`` largest next-step cell counts, ``m`` the number of
  flagged cells (H3 cells of one resolution have nearly equal areas).

The study region ``A`` at each origin is fixed from what was known then: the boundary's
area when a boundary is given (the universe is every cell whose centre lies inside it);
otherwise the cells with an event in that origin's training window and their area
(``area_basis`` says which). Events after an origin never change its cells or ``A``.

Which cells are flagged (coverage rule and tie rule)
----------------------------------------------------
Cells are ranked by risk, highest first. The number of flagged cells ``m`` is the shortest
prefix of that ranking whose cumulative cell area reaches ``coverage * A`` (at least one
cell). **Cells tied at the cut-off value share the remaining places**: each counts with
the probability of being flagged, so the score is its expected value over every order of
the tied cells (fractional credit), never an arbitrary order such as the H3 index.

Backtest and comparison
-----------------------
Steps are anchored at the end: the last step ends at midnight after the last event, and
only complete steps are used. With ``train_steps`` = L and ``origins`` = O the last
``L + O`` steps are used; origin ``o`` fits every method on steps ``o .. o + L - 1`` of
that window and scores step ``o + L``, so the test step is never seen in fitting (see
:mod:`analysis.backtest`). The summary is the median over origins (origins with no event,
``N = 0``, are left out); the product is compared with every other method by paired
per-origin differences (median, IQR, bootstrap 95 % interval, Wilcoxon signed-rank p).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
from pyproj import Geod, Transformer
from shapely.geometry.base import BaseGeometry

from analysis._forecast_data import EventSeries, events_to_series, parse_step
from analysis._ranking import capture_scores, expected_capture, flag_count, n_star
from analysis.backtest import (
    DEFAULT_METHODS,
    backtest,
    check_protocol,
    fitted_summary,
    paired_differences,
    summarize_backtest,
)
from geo._validate import Problems
from geo.cells import SUPPORTED_RES, cells_area_m2, points_to_cells, polygon_to_cells
from geo.errors import ValidationError

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

DEFAULT_COVERAGES: tuple[float, ...] = (0.005, 0.01, 0.05)

TIE_RULE = (
    "cells ranked by risk (highest first); flagged = shortest prefix whose cell area reaches "
    "coverage * A (at least one cell); cells tied at the cut-off share the remaining places "
    "and are scored by their expected value (fractional credit)"
)

TIME_PART_NAMES = ("year", "month", "day", "hour", "minute", "second")


# ---------------------------------------------------------------------- scoring
def rank_cells(risk: npt.ArrayLike, cells: npt.ArrayLike) -> IntArray:
    """Indices of cells from highest to lowest risk (display order; ties by cell index).

    NaN risk ranks last. Scores never depend on this order among ties (see
    :func:`score_forecast`).
    """
    r = np.asarray(risk, dtype=np.float64)
    r = np.where(np.isnan(r), -np.inf, r)
    c = np.asarray(cells, dtype=np.uint64)
    return np.lexsort((c, -r)).astype(np.int64)


def flag_cells(
    risk: npt.ArrayLike,
    area_m2: npt.ArrayLike,
    cells: npt.ArrayLike,
    coverage: float,
    total_area_m2: float,
) -> IntArray:
    """Indices of the flagged cells (in rank order) for one coverage, for display.

    The shortest prefix of :func:`rank_cells` whose cumulative area reaches
    ``coverage * total_area_m2``, at least one cell and at most all cells.
    """
    if not 0 < coverage <= 1:
        raise ValidationError(f"coverage must be in (0, 1], got {coverage}")
    order = rank_cells(risk, cells)
    area = np.asarray(area_m2, dtype=np.float64)[order]
    return order[: flag_count(area, coverage * float(total_area_m2))]


def score_flags(
    flagged: npt.ArrayLike,
    actual: npt.ArrayLike,
    area_m2: npt.ArrayLike,
    total_area_m2: float,
) -> dict[str, float]:
    """Hit rate, PAI and PEI* of one set of flagged cells against next-step counts.

    Returns ``n``, ``N``, ``n_star``, ``cells``, ``area_m2``, ``hit_rate``, ``pai`` and
    ``pei_star`` (NaN when undefined: no events, or ``n* = 0``).
    """
    idx = np.asarray(flagged, dtype=np.int64)
    y = np.asarray(actual, dtype=np.float64)
    area = np.asarray(area_m2, dtype=np.float64)
    m = idx.size
    return capture_scores(
        float(y[idx].sum()), float(y.sum()), n_star(y, m), m, float(area[idx].sum()), total_area_m2
    )


def score_forecast(
    risk: npt.ArrayLike,
    actual: npt.ArrayLike,
    area_m2: npt.ArrayLike,
    cells: npt.ArrayLike,
    coverage: float,
    total_area_m2: float,
) -> dict[str, float]:
    """Scores of flagging ``coverage`` of the area, ties at the cut-off by expected value.

    ``cells`` is accepted for symmetry with :func:`flag_cells`; the score does not depend
    on it (tied cells share the remaining places, see :mod:`analysis._ranking`).
    """
    if not 0 < coverage <= 1:
        raise ValidationError(f"coverage must be in (0, 1], got {coverage}")
    y = np.asarray(actual, dtype=np.float64)
    n, a, m = expected_capture(risk, y, area_m2, coverage * float(total_area_m2))
    return capture_scores(n, float(y.sum()), n_star(y, m), m, a, float(total_area_m2))


# ---------------------------------------------------------------------- input
def _parse_times(values: pd.Series) -> pd.Series:
    try:
        return pd.to_datetime(values, errors="coerce", format="mixed")
    except (ValueError, TypeError):  # mixed UTC offsets
        return pd.to_datetime(values, errors="coerce", format="mixed", utc=True)


def read_events(
    frame: pd.DataFrame,
    *,
    time_col: str | None = None,
    time_parts: Sequence[str] | None = None,
    lat_col: str | None = None,
    lon_col: str | None = None,
    x_col: str | None = None,
    y_col: str | None = None,
    crs: str | int | None = None,
    context: str = "events",
) -> tuple[pd.DataFrame, dict[str, int]]:
    """Events with a time and a WGS84 position from a raw table.

    Parameters
    ----------
    frame
        The raw rows (e.g. a CSV).
    time_col
        Column with a timestamp; or
    time_parts
        Columns holding year, month, day[, hour, minute, second], in that order.
    lat_col, lon_col
        WGS84 degrees; or
    x_col, y_col, crs
        Projected coordinates and their CRS (e.g. ``"EPSG:32610"``).

    Rows without a position (empty, or x = y = 0 / lat = lon = 0) are dropped and
    counted as ``unlocated`` (their time is not checked); they are never mapped to
    (0, 0). Among located rows, unparseable or missing times,
    non-numeric coordinates, out-of-range positions and missing columns are errors,
    all listed in one :class:`ValidationError`.

    Returns
    -------
    (events, summary)
        ``events`` has columns ``time``, ``lat``, ``lon``; ``summary`` counts ``rows``,
        ``unlocated`` and ``located``.
    """
    problems = Problems(context)
    if (time_col is None) == (time_parts is None or len(time_parts) == 0):
        problems.add("give either a time column (--time-col) or time parts (--time-parts)")
    if time_parts is not None and not 3 <= len(time_parts) <= 6:
        problems.add(
            "time parts must name 3 to 6 columns: year, month, day[, hour, minute, second]"
        )
    geo_pairs = (lat_col is not None or lon_col is not None, x_col is not None or y_col is not None)
    if geo_pairs[0] and geo_pairs[1]:
        problems.add("give either --lat-col/--lon-col or --x-col/--y-col, not both")
    elif not any(geo_pairs):
        problems.add("no position columns: give --lat-col/--lon-col or --x-col/--y-col")
    elif geo_pairs[0] and (lat_col is None or lon_col is None):
        problems.add("give both --lat-col and --lon-col")
    elif geo_pairs[1] and (x_col is None or y_col is None):
        problems.add("give both --x-col and --y-col")
    if geo_pairs[1] and not geo_pairs[0] and crs is None:
        problems.add("--x-col/--y-col need --crs (e.g. EPSG:3006 or EPSG:32610)")
    wanted = [c for c in (time_col, lat_col, lon_col, x_col, y_col) if c is not None]
    wanted += list(time_parts or [])
    for col in wanted:
        if col not in frame.columns:
            problems.add(f"column {col!r} is missing; columns are {list(frame.columns)}")
    transformer = None
    if crs is not None and geo_pairs[1]:
        try:
            transformer = Transformer.from_crs(crs, "EPSG:4326", always_xy=True)
        except Exception as exc:  # pyproj.exceptions.CRSError
            problems.add(f"unknown CRS {crs!r}: {exc}")
    problems.raise_if_any()
    rows = len(frame)

    # ---- position
    a_col, b_col = (x_col, y_col) if transformer is not None else (lon_col, lat_col)
    assert a_col is not None and b_col is not None
    raw_a, raw_b = frame[a_col], frame[b_col]
    a = pd.to_numeric(raw_a, errors="coerce").to_numpy(np.float64)
    b = pd.to_numeric(raw_b, errors="coerce").to_numpy(np.float64)

    def _given(s: pd.Series) -> npt.NDArray[np.bool_]:
        return (s.notna() & (s.astype(str).str.strip() != "")).to_numpy()

    not_numeric = (_given(raw_a) & np.isnan(a)) | (_given(raw_b) & np.isnan(b))
    if not_numeric.any():
        problems.add(
            f"{int(not_numeric.sum())} rows have coordinates that are not numbers "
            f"(columns {a_col!r}, {b_col!r})"
        )
    unlocated = ~np.isfinite(a) | ~np.isfinite(b) | ((a == 0) & (b == 0))
    located = pd.Series(~unlocated, index=frame.index)
    lon = np.full(rows, np.nan)
    lat = np.full(rows, np.nan)
    ok = ~unlocated
    if transformer is not None:
        lon[ok], lat[ok] = transformer.transform(a[ok], b[ok])
    else:
        lon[ok], lat[ok] = a[ok], b[ok]
    out_of_range = ok & (
        ~np.isfinite(lat) | ~np.isfinite(lon) | (np.abs(lat) > 90) | (np.abs(lon) > 180)
    )
    if out_of_range.any():
        hint = " (wrong --crs?)" if transformer is not None else " (lat/lon swapped?)"
        problems.add(f"{int(out_of_range.sum())} rows have positions outside WGS84 range{hint}")
    # ---- time
    if time_col is not None:
        raw_time = frame[time_col]
        times = _parse_times(raw_time)
        given = raw_time.notna() & (raw_time.astype(str).str.strip() != "")
        bad_time = given & times.isna() & located
        missing_time = ~given & located
        examples = raw_time[bad_time].astype(str).head(3).tolist()
    else:
        assert time_parts is not None
        parts = {
            name: pd.to_numeric(frame[col], errors="coerce")
            for name, col in zip(TIME_PART_NAMES, time_parts, strict=False)
        }
        times = pd.to_datetime(pd.DataFrame(parts), errors="coerce")
        no_part = pd.concat([frame[c].isna() for c in time_parts], axis=1).any(axis=1)
        missing_time = no_part & located
        bad_time = times.isna() & ~no_part & located
        examples = [
            "-".join(str(v) for v in row)
            for row in frame.loc[bad_time, list(time_parts)].head(3).itertuples(index=False)
        ]
    if bad_time.any():
        problems.add(
            f"{int(bad_time.sum())} rows have a time that cannot be parsed "
            f"(e.g. {', '.join(repr(e) for e in examples)})"
        )
    if missing_time.any():
        problems.add(f"{int(missing_time.sum())} rows have no time")

    problems.raise_if_any()

    keep = ok
    events = pd.DataFrame(
        {
            "time": pd.Series(times).reset_index(drop=True)[keep].reset_index(drop=True),
            "lat": lat[keep],
            "lon": lon[keep],
        }
    )
    summary = {"rows": rows, "unlocated": int(unlocated.sum()), "located": int(keep.sum())}
    return events, summary


def geometry_area_m2(geometry: BaseGeometry) -> float:
    """Geodesic area of a WGS84 (multi)polygon in square metres."""
    area, _ = Geod(ellps="WGS84").geometry_area_perimeter(geometry)
    return float(abs(area))


def prepare_series(
    events: pd.DataFrame,
    *,
    res: int = 10,
    step: str | pd.Timedelta = "1w",
    n_steps: int | None = None,
    boundary: BaseGeometry | None = None,
) -> tuple[EventSeries, dict[str, Any]]:
    """Bin located events (``time``, ``lat``, ``lon``) into an end-anchored series.

    The last step ends at midnight after the last event; with ``n_steps`` only that many
    complete steps are kept (all complete steps otherwise). The universe is the cells
    inside ``boundary`` (centre containment) or the cells with an event in the steps.

    Returns
    -------
    (series, info)
        ``info`` holds ``area_m2`` (A), ``area_basis``, ``outside_boundary``,
        ``outside_window`` and ``used``.
    """
    problems = Problems("events")
    if res not in SUPPORTED_RES:
        problems.add(f"res must be one of {SUPPORTED_RES}, got {res}")
    step_td = parse_step(step)
    problems.raise_if_any()
    if events.empty:
        raise ValidationError("no located events to evaluate", context="events")
    times = pd.DatetimeIndex(events["time"])
    first = times.min().floor("D")
    end = (times.max() + pd.Timedelta(microseconds=1)).ceil("D")
    available = int((end - first) // step_td)
    T = available if n_steps is None else min(int(n_steps), available)
    start = end - T * step_td
    cells = points_to_cells(events["lat"].to_numpy(), events["lon"].to_numpy(), res)
    in_window = np.asarray((times >= start) & (times < end))
    info: dict[str, Any] = {"available_steps": available, "outside_window": int((~in_window).sum())}
    if boundary is not None:
        universe = polygon_to_cells(boundary, res)
        if universe.size == 0:
            raise ValidationError(
                f"the boundary holds no H3 cell centre at res {res}", context="boundary"
            )
        area = geometry_area_m2(boundary)
        basis = "boundary"
    else:
        universe = np.unique(cells[in_window & (cells != 0)])
        area = float(cells_area_m2(universe).sum()) if universe.size else 0.0
        basis = "cells with an event in each training window"
    inside = np.isin(cells, universe)
    info["outside_boundary"] = int((~inside & in_window).sum()) if boundary is not None else 0
    series = events_to_series(
        cells,
        times,
        step_td,
        universe=universe,
        start=start,
        n_steps=T,
        lat=events["lat"].to_numpy(),
        lon=events["lon"].to_numpy(),
    )
    info.update(area_m2=area, area_basis=basis, used=int(series.event_index.size))
    return series, info


# ---------------------------------------------------------------------- backtest
def select_methods(names: Sequence[str] | None) -> dict[str, dict[str, Any]]:
    """The default parameters of the named methods (all of :data:`DEFAULT_METHODS`)."""
    if names is None:
        return {k: dict(v) for k, v in DEFAULT_METHODS.items()}
    unknown = [n for n in names if n not in DEFAULT_METHODS]
    if unknown:
        raise ValidationError(
            f"unknown methods {unknown}; choose from {sorted(DEFAULT_METHODS)}", context="methods"
        )
    return {n: dict(DEFAULT_METHODS[n]) for n in names}


def evaluate_events(
    events: pd.DataFrame,
    *,
    res: int = 10,
    step: str = "1w",
    train_steps: int = 26,
    origins: int = 26,
    coverages: Iterable[float] = DEFAULT_COVERAGES,
    boundary: BaseGeometry | None = None,
    methods: Mapping[str, Mapping[str, Any]] | None = None,
    read_summary: Mapping[str, int] | None = None,
    product: str = "lagesbild",
) -> dict[str, Any]:
    """Backtest every method on located events and summarise as a JSON-ready dict.

    ``events`` has columns ``time``, ``lat``, ``lon`` (see :func:`read_events`).
    """
    covs = [float(c) for c in coverages]
    check_protocol(Problems("evaluate"), train_steps, origins, covs).raise_if_any()
    series, info = prepare_series(
        events, res=res, step=step, n_steps=train_steps + origins, boundary=boundary
    )
    used_methods = dict(DEFAULT_METHODS if methods is None else methods)
    scores = backtest(
        series,
        train_steps=train_steps,
        origins=origins,
        coverages=covs,
        methods=used_methods,
        total_area_m2=info["area_m2"],
        universe="boundary" if boundary is not None else "training",
    )
    counts = dict(read_summary or {})
    counts.update(
        outside_window=info["outside_window"],
        outside_boundary=info["outside_boundary"],
        used=info["used"],
    )
    return {
        "res": int(res),
        "origins": int(origins),
        "train_steps": int(train_steps),
        "step": str(step),
        "area_km2": round(info["area_m2"] / 1e6, 4),
        "area_basis": info["area_basis"],
        "cells": series.n_cells,
        "window": {
            "start": series.edges[0].isoformat(),
            "end": series.edges[-1].isoformat(),
            "first_test": series.edges[train_steps].isoformat(),
        },
        "events": counts,
        "methods": {name: dict(params) for name, params in used_methods.items()},
        "tie_rule": TIE_RULE,
        "results": summarize_backtest(scores),
        "paired": paired_differences(scores, product=product),
        "fitted": fitted_summary(scores),
    }


__all__ = [
    "DEFAULT_COVERAGES",
    "DEFAULT_METHODS",
    "TIE_RULE",
    "backtest",
    "evaluate_events",
    "flag_cells",
    "geometry_area_m2",
    "prepare_series",
    "rank_cells",
    "read_events",
    "score_flags",
    "score_forecast",
    "summarize_backtest",
]
