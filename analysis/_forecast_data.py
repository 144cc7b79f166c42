"""Event series: the counts (and event positions) forecasts are fitted on.

An :class:`EventSeries` is a zero-filled cells x steps count matrix over a fixed cell
universe, plus the events themselves (cell, step, position) for methods that need
points (KDE). Windows of a series share one cache of neighbour matrices, distances and
projected coordinates, so a rolling-origin backtest builds them once.

:func:`as_series` accepts an :class:`EventSeries`, a space-time cube (anything with
``cells``, ``counts``/``values`` and ``edges``, such as :class:`analysis.cube.SpaceTimeCube`)
or an event frame (columns ``cell`` and ``time``/``occurred_at``, optionally ``lat``/``lon``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
import scipy.sparse as sp
from pyproj import Transformer

from analysis._grouping import sorted_unique
from analysis._timegrid import WEEK
from analysis.cube import ring_weights
from geo.cells import cells_to_neighbour_pairs, cells_to_points
from geo.errors import ValidationError
from geo.schema import Status

CellArray = npt.NDArray[np.uint64]
FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


def parse_step(step: str | pd.Timedelta) -> pd.Timedelta:
    """Step length from ``"1w"``, ``"2w"``, ``"7d"``, ``"1d"`` or a Timedelta."""
    try:
        value = pd.Timedelta(step)
    except (ValueError, TypeError) as exc:
        raise ValidationError(
            f"step {step!r} is not a duration (use e.g. '1w', '2w', '1d')"
        ) from exc
    if value <= pd.Timedelta(0):
        raise ValidationError(f"step must be positive, got {step!r}")
    return value


def _empty_int() -> IntArray:
    return np.zeros(0, np.int64)


def _empty_float() -> FloatArray:
    return np.zeros(0, np.float64)


def _empty_time() -> npt.NDArray[np.datetime64]:
    return np.zeros(0, "datetime64[ns]")


@dataclass(eq=False)
class EventSeries:
    """Counts per cell and step with the events behind them.

    Attributes
    ----------
    cells : uint64 (n,)
        Sorted unique cells of the universe.
    counts : float64 (n, T)
        Events per cell and step (zero-filled).
    edges : DatetimeIndex (T + 1,)
        Step boundaries; step ``t`` holds ``edges[t] <= time < edges[t + 1]``.
    event_index, event_step : int64 (m,)
        Row in ``cells`` and step of each event inside the universe and the steps.
    event_lat, event_lon : float64 (m,)
        Event positions (NaN when unknown; then cell centres stand in).
    event_time : datetime64[ns] (m,)
        Exact event times as recorded (NaT when unknown; then the step start stands in).
    """

    cells: CellArray
    counts: FloatArray
    edges: pd.DatetimeIndex
    event_index: IntArray = field(default_factory=_empty_int)
    event_step: IntArray = field(default_factory=_empty_int)
    event_lat: FloatArray = field(default_factory=_empty_float)
    event_lon: FloatArray = field(default_factory=_empty_float)
    event_time: npt.NDArray[np.datetime64] = field(default_factory=_empty_time)
    cache: dict[Any, Any] = field(default_factory=dict, repr=False)
    offset: int = field(default=0, repr=False)

    def __post_init__(self) -> None:
        self.cells = np.asarray(self.cells, dtype=np.uint64)
        self.counts = np.asarray(self.counts, dtype=np.float64)
        if self.counts.ndim != 2 or self.counts.shape[0] != self.cells.shape[0]:
            raise ValidationError(
                f"counts must have shape (n_cells={self.cells.shape[0]}, n_steps), "
                f"got {self.counts.shape}"
            )
        if len(self.edges) != self.counts.shape[1] + 1:
            raise ValidationError("edges must have n_steps + 1 entries")
        if self.event_time.shape[0] != self.event_index.shape[0]:
            # no exact times recorded: the start of each event's step stands in
            starts = np.asarray(self.edges[:-1], dtype="datetime64[ns]")
            self.event_time = (
                starts[self.event_step] if starts.size else np.zeros(0, "datetime64[ns]")
            )

        self.cache.setdefault("counts", self.counts)  # the first series: its windows' root

    # ------------------------------------------------------------------ shape
    @property
    def n_cells(self) -> int:
        return int(self.cells.shape[0])

    @property
    def n_steps(self) -> int:
        return int(self.counts.shape[1])

    @property
    def step(self) -> pd.Timedelta:
        """Length of one step (one week when the series has no step)."""
        if len(self.edges) < 2:
            return WEEK
        return pd.Timedelta(self.edges[1] - self.edges[0])

    @property
    def step_weeks(self) -> float:
        return float(self.step / WEEK)

    @property
    def values(self) -> FloatArray:
        """Alias of ``counts`` (the cube interface Gi* expects)."""
        return self.counts

    def window(self, start: int, stop: int) -> EventSeries:
        """Steps ``start <= t < stop`` as a series sharing this one's cache."""
        if not 0 <= start < stop <= self.n_steps:
            raise ValidationError(f"window {start}:{stop} outside 0:{self.n_steps}")
        keep = (self.event_step >= start) & (self.event_step < stop)
        return EventSeries(
            cells=self.cells,
            counts=self.counts[:, start:stop],
            edges=self.edges[start : stop + 1],
            event_index=self.event_index[keep],
            event_step=self.event_step[keep] - start,
            event_lat=self.event_lat[keep],
            event_lon=self.event_lon[keep],
            event_time=self.event_time[keep],
            cache=self.cache,
            offset=self.offset + start,
        )

    def subset(self, rows: npt.ArrayLike) -> EventSeries:
        """The cells at ``rows`` (sorted indices) only, with their own cache."""
        idx = np.asarray(rows, dtype=np.int64)
        remap = np.full(self.n_cells, -1, dtype=np.int64)
        remap[idx] = np.arange(idx.size)
        keep = remap[self.event_index] >= 0
        return EventSeries(
            cells=self.cells[idx],
            counts=self.counts[idx],
            edges=self.edges,
            event_index=remap[self.event_index[keep]],
            event_step=self.event_step[keep],
            event_lat=self.event_lat[keep],
            event_lon=self.event_lon[keep],
            event_time=self.event_time[keep],
        )

    def event_days(self) -> FloatArray:
        """Event times in days since the first step start."""
        t0 = np.datetime64(self.edges[0].to_datetime64(), "ns")
        return (self.event_time - t0) / np.timedelta64(1, "D")

    def _counts_csc(self) -> sp.csc_matrix:
        """The root series' counts as a CSC matrix (built once, shared by all windows)."""
        csc = self.cache.get("counts-csc")
        if csc is None:
            csc = self.cache["counts-csc"] = sp.csc_matrix(self.cache["counts"])
        return csc

    def step_nonzero(self, s: int) -> tuple[IntArray, FloatArray]:
        """Rows and counts of the cells with events in step ``s`` (``counts[:, s]`` sparse)."""
        csc = self._counts_csc()
        col = self.offset + int(s)
        lo, hi = int(csc.indptr[col]), int(csc.indptr[col + 1])
        return np.asarray(csc.indices[lo:hi], dtype=np.int64), csc.data[lo:hi]

    def recency_sums(self, stop: int, weights: FloatArray) -> FloatArray:
        """``counts[:, :stop] @ weights``, from the sparse counts all windows share."""
        csc = self._counts_csc()
        # zero weights outside the window add exact zeros: no copy of the columns needed
        full = np.zeros(csc.shape[1])
        full[self.offset : self.offset + int(stop)] = weights
        return np.asarray(csc @ full, dtype=np.float64)

    # ------------------------------------------------------------------ geometry (cached)
    def weights(self, k: int = 1, include_self: bool = True) -> sp.csr_matrix:
        """Binary k-ring weights between universe cells (n x n CSR)."""
        key = ("ring", int(k), bool(include_self))
        if key not in self.cache:
            self.cache[key] = ring_weights(self.cells, int(k), include_self)
        return self.cache[key]

    def transformer(self) -> Transformer:
        """WGS84 -> local azimuthal equidistant metres centred on the universe."""
        if "proj" not in self.cache:
            lat, lon = cells_to_points(self.cells) if self.n_cells else (np.zeros(1), np.zeros(1))
            lat0 = float(np.nanmean(lat)) if self.n_cells else 0.0
            lon0 = float(np.nanmean(lon)) if self.n_cells else 0.0
            self.cache["proj"] = Transformer.from_crs(
                "EPSG:4326",
                f"+proj=aeqd +lat_0={lat0:.6f} +lon_0={lon0:.6f} +datum=WGS84 +units=m",
                always_xy=True,
            )
        return self.cache["proj"]

    def centres_xy(self) -> FloatArray:
        """Cell centres in local metres, shape (n, 2)."""
        if "xy" not in self.cache:
            lat, lon = cells_to_points(self.cells)
            x, y = self.transformer().transform(lon, lat)
            self.cache["xy"] = np.column_stack([x, y]).astype(np.float64)
        return self.cache["xy"]

    def events_xy(self) -> FloatArray:
        """Event positions in local metres (cell centre where the position is unknown)."""
        x, y = self.transformer().transform(self.event_lon, self.event_lat)
        xy = np.column_stack([x, y]).astype(np.float64)
        bad = ~np.isfinite(xy).all(axis=1)
        if bad.any():
            xy[bad] = self.centres_xy()[self.event_index[bad]]
        return xy

    def pairs_within(self, radius_m: float, k: int) -> tuple[IntArray, IntArray, FloatArray]:
        """Cell index pairs (self included) within ``radius_m`` metres, with distances.

        ``k`` is the ring size searched; it must reach ``radius_m``.
        """
        key = ("within", float(radius_m), int(k))
        if key not in self.cache:
            i, j = cells_to_neighbour_pairs(self.cells, k=int(k), include_self=True)
            xy = self.centres_xy()
            d = np.hypot(*(xy[i] - xy[j]).T)
            keep = d <= radius_m
            self.cache[key] = (i[keep], j[keep], d[keep])
        return self.cache[key]


# ---------------------------------------------------------------------- construction
def events_to_series(
    cells: npt.ArrayLike,
    times: pd.Series | pd.DatetimeIndex,
    step: str | pd.Timedelta = "1w",
    *,
    universe: npt.ArrayLike | None = None,
    start: pd.Timestamp | None = None,
    n_steps: int | None = None,
    lat: npt.ArrayLike | None = None,
    lon: npt.ArrayLike | None = None,
    complete_only: bool = True,
) -> EventSeries:
    """Bin events into a zero-filled :class:`EventSeries`.

    Parameters
    ----------
    cells
        Cell of each event (``0`` = no cell; such events are left out).
    times
        Time of each event (naive or tz-aware; steps follow the given clock).
    step
        Step length.
    universe
        Cells of the study region; default: every cell with an event.
    start
        First step start; default: midnight before the first event.
    n_steps
        Number of steps; default: every step up to the last event, only complete steps
        when ``complete_only`` (the day of the last event counts as complete).
    lat, lon
        Event positions (for KDE).
    """
    step_td = parse_step(step)
    cell_arr = np.asarray(cells, dtype=np.uint64)
    t = pd.DatetimeIndex(pd.to_datetime(times))
    if cell_arr.shape[0] != len(t):
        raise ValidationError("cells and times must have the same length")
    ok_time = ~np.asarray(t.isna(), dtype=bool)
    if not ok_time.any() and start is None:
        raise ValidationError("no event has a valid time")
    t0 = pd.Timestamp(start) if start is not None else t[ok_time].min().floor("D")
    if n_steps is None:
        last = t[ok_time].max()
        if complete_only:
            end = (last + pd.Timedelta(microseconds=1)).ceil("D")
            n_steps = int((end - t0) // step_td)
        else:
            n_steps = int((last - t0) // step_td) + 1
    n_steps = max(int(n_steps), 0)
    edges = pd.DatetimeIndex([t0 + i * step_td for i in range(n_steps + 1)])
    step_idx = np.full(len(t), -1, dtype=np.int64)
    if ok_time.any():
        delta = (t[ok_time] - t0) // step_td
        step_idx[ok_time] = np.asarray(delta, dtype=np.int64)
    uni = (
        sorted_unique(cell_arr[cell_arr != 0])
        if universe is None
        else sorted_unique(np.asarray(universe, dtype=np.uint64))
    )
    uni = uni[uni != 0]
    pos = np.searchsorted(uni, cell_arr)
    pos = np.minimum(pos, max(uni.shape[0] - 1, 0))
    inside = (uni[pos] == cell_arr) & (cell_arr != 0) if uni.size else np.zeros(len(t), bool)
    keep = inside & (step_idx >= 0) & (step_idx < n_steps)
    n = uni.shape[0]
    flat = pos[keep] * n_steps + step_idx[keep]
    # float counts straight from the binning (unit weights): no integer copy of the grid
    binned = np.bincount(flat, weights=np.ones(flat.shape[0]), minlength=n * n_steps)
    counts: FloatArray = np.asarray(binned, dtype=np.float64).reshape(n, n_steps)
    lat_arr = np.full(len(t), np.nan) if lat is None else np.asarray(lat, dtype=np.float64)
    lon_arr = np.full(len(t), np.nan) if lon is None else np.asarray(lon, dtype=np.float64)
    t_naive = t.tz_convert(None) if t.tz is not None else t  # UTC, like the edges
    return EventSeries(
        cells=uni,
        counts=counts,
        edges=edges,
        event_index=pos[keep].astype(np.int64),
        event_step=step_idx[keep],
        event_lat=lat_arr[keep],
        event_lon=lon_arr[keep],
        event_time=np.asarray(t_naive, dtype="datetime64[ns]")[keep],
    )


def approved_events(
    frame: pd.DataFrame, missing: tuple[str, str]
) -> tuple[pd.DataFrame, str, npt.NDArray[np.uint64]]:
    """The usable rows of an event frame: ``(rows, time column, cells)``.

    The frame needs a ``time`` (or ``occurred_at``) column and a ``cell`` column; the
    messages for a missing one are ``missing`` (time, cell). Report frames (with
    ``status``) keep only approved reports. A missing cell is cell 0.
    """
    problems = []
    time_col = "time" if "time" in frame.columns else "occurred_at"
    if time_col not in frame.columns:
        problems.append(missing[0])
    if "cell" not in frame.columns:
        problems.append(missing[1])
    if problems:
        raise ValidationError(problems)
    data = frame
    if "status" in data.columns:
        data = data[(data["status"].astype("string") == Status.APPROVED.value).fillna(False)]
    cells = np.asarray(data["cell"].fillna(0).to_numpy(), dtype=np.uint64)
    return data, time_col, cells


def frame_to_series(frame: pd.DataFrame, step: str | pd.Timedelta = "1w") -> EventSeries:
    """An event frame (``cell`` + ``time`` or a report frame) as an end-anchored series.

    Report frames (with ``occurred_at`` and ``status``) keep only approved reports with a
    cell, so locality-precision reports never enter a forecast.
    """
    data, time_col, cells = approved_events(
        frame,
        (
            "event frame: column 'time' (or 'occurred_at') is missing",
            "event frame: column 'cell' is missing",
        ),
    )
    lat = data["lat"].to_numpy(float) if "lat" in data.columns else None
    lon = data["lon"].to_numpy(float) if "lon" in data.columns else None
    times = pd.DatetimeIndex(pd.to_datetime(data[time_col]))
    with_cell = times[(cells != 0) & ~np.asarray(times.isna(), dtype=bool)]
    if len(with_cell) == 0:
        raise ValidationError("event frame: no event with a cell and a time")
    # anchored at the end: the last step ends at midnight after the latest event
    step_td = parse_step(step)
    end = (with_cell.max() + pd.Timedelta(microseconds=1)).ceil("D")
    n_steps = max(1, int(np.ceil((end - with_cell.min().floor("D")) / step_td)))
    return events_to_series(
        cells, times, step_td, start=end - n_steps * step_td, n_steps=n_steps, lat=lat, lon=lon
    )


def as_series(data: Any) -> EventSeries:
    """Coerce an :class:`EventSeries`, a cube or an event frame to an :class:`EventSeries`."""
    if isinstance(data, EventSeries):
        return data
    if isinstance(data, pd.DataFrame):
        return frame_to_series(data)
    if hasattr(data, "cells") and hasattr(data, "edges"):
        counts = getattr(data, "counts", None)
        if counts is None:
            counts = data.values
        return EventSeries(
            cells=np.asarray(data.cells, dtype=np.uint64),
            counts=np.asarray(counts, dtype=np.float64),
            edges=pd.DatetimeIndex(data.edges),
        )
    raise ValidationError(
        f"cannot fit a forecast on {type(data).__name__}: give an event frame, "
        "a space-time cube or an EventSeries"
    )


__all__ = ["EventSeries", "as_series", "events_to_series", "frame_to_series", "parse_step"]
