"""Shared helpers of the analysis tests."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd
import pytest

from analysis._forecast_data import EventSeries
from geo.cells import cells_to_disks, points_to_cells

LAT, LON = 59.7580, 18.7050  # Norrtälje centre
START = pd.Timestamp("2024-01-01")


def _weekly_series(counts: np.ndarray) -> EventSeries:
    """Weekly counts (cells x steps) on real res-10 cells around Norrtälje centre."""
    _, disk = cells_to_disks(points_to_cells([LAT], [LON], 10), 5)
    cells = np.unique(disk)[: counts.shape[0]]
    T = counts.shape[1]
    edges = pd.DatetimeIndex([START + pd.Timedelta(weeks=i) for i in range(T + 1)])
    return EventSeries(cells=cells, counts=np.asarray(counts, dtype=float), edges=edges)


@pytest.fixture
def weekly_series() -> Callable[[np.ndarray], EventSeries]:
    """Build a weekly :class:`EventSeries` from a cells x steps count matrix."""
    return _weekly_series
