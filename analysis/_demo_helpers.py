"""Helpers of the demo generator (:mod:`analysis.demo`): periods, times, places, counts."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
import shapely

from analysis._demo_profiles import (
    _BASE_SEVERITY,
    _TEXTS,
    DEADLINE_TIME,
    DEADLINE_WEEKDAY,
    DEMO_KOMMUN,
    INTENSIFYING_FROM,
    INTENSIFYING_TO,
    NEW_FLOOR,
    NEW_MEAN,
    PERSISTENT_FLOOR,
    PERSISTENT_MEAN,
    PLANT_RES,
    SPORADIC_FLOOR,
    SPORADIC_MEAN,
    SPORADIC_SHARE,
    TZ,
)
from analysis._mannkendall import mann_kendall
from analysis._timegrid import period_edges
from geo._gazetteer_sources import PLACES_FILE, project_places
from geo.cells import cells_to_points, points_to_cells
from geo.errors import ValidationError
from geo.geodesy import METRES_PER_DEGREE, haversine_m


def _periods(end: dt.date, weeks: int) -> list[tuple[dt.datetime, dt.datetime]]:
    """``weeks`` reporting periods (aware datetimes) ending on ``end`` at 13:00 local time.

    The grid of the space-time cube (:func:`analysis._timegrid.period_edges`); a day that
    is not a Tuesday is moved back to the Tuesday before it (the first deadline at or
    after the same time six days earlier).
    """
    day_end = pd.Timestamp(dt.datetime.combine(end, DEADLINE_TIME), tz=TZ)
    edges = period_edges(
        day_end - pd.Timedelta(days=6),
        n_steps=weeks,
        weekday=DEADLINE_WEEKDAY,
        hour=DEADLINE_TIME.hour,
        minute=DEADLINE_TIME.minute,
        timezone=str(TZ),
        end_inclusive=False,
    )
    bounds = [t.to_pydatetime().astimezone(TZ) for t in edges]
    return list(zip(bounds[:-1], bounds[1:], strict=True))


def _choice(rng: np.random.Generator, weights: dict[str, float], n: int) -> list[str]:
    keys = list(weights)
    p = np.asarray([weights[k] for k in keys], dtype=float)
    return [keys[i] for i in rng.choice(len(keys), size=n, p=p / p.sum())]


def _times(
    rng: np.random.Generator,
    n: int,
    start: dt.datetime,
    end: dt.datetime,
    hours: npt.NDArray[np.float64],
    days: npt.NDArray[np.float64] | None = None,
) -> list[dt.datetime]:
    """``n`` local times in ``[start, end)`` drawn by hour (and weekday) weights."""
    if n == 0:
        return []
    span = (end - start).total_seconds()
    out: list[dt.datetime] = []
    top = float(hours.max()) * (float(days.max()) if days is not None else 1.0)
    while len(out) < n:
        offs = rng.uniform(0, span, size=4 * n + 8)
        keep = rng.uniform(0, top, size=offs.size)
        for off, u in zip(offs, keep, strict=True):
            t = (start + dt.timedelta(seconds=float(off))).astimezone(TZ)
            w = hours[t.hour] * (days[t.weekday()] if days is not None else 1.0)
            if u < w:
                out.append(t.replace(second=0, microsecond=0))
                if len(out) == n:
                    break
    return sorted(out)


def _iso(t: dt.datetime) -> str:
    return t.astimezone(TZ).isoformat(timespec="seconds")


def _distance_m(a: dict[str, Any], b: dict[str, Any]) -> float:
    return haversine_m(a["lat"], a["lon"], b["lat"], b["lon"])


def _metres_to_degrees(lat: float) -> tuple[float, float]:
    return 1 / METRES_PER_DEGREE, 1 / (METRES_PER_DEGREE * math.cos(math.radians(lat)))


def _sample_inside(
    n: int,
    geom: shapely.Geometry,
    draw: Callable[[int], tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]],
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """``n`` points ``(lat, lon)`` from ``draw(m)`` (m candidates), keeping those in ``geom``."""
    lat_out: list[float] = []
    lon_out: list[float] = []
    while len(lat_out) < n:
        la, lo = draw(2 * (n - len(lat_out)) + 4)
        ok = shapely.contains_xy(geom, lo, la)
        lat_out += la[ok].tolist()
        lon_out += lo[ok].tolist()
    return np.asarray(lat_out[:n]), np.asarray(lon_out[:n])


def _around(
    rng: np.random.Generator,
    n: int,
    lat0: float,
    lon0: float,
    sigma_m: float,
    geom: shapely.Geometry,
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """``n`` Gaussian points around ``(lat0, lon0)``, kept inside ``geom``."""
    dlat, dlon = _metres_to_degrees(lat0)
    return _sample_inside(
        n,
        geom,
        lambda m: (
            lat0 + rng.normal(0, sigma_m, m) * dlat,
            lon0 + rng.normal(0, sigma_m, m) * dlon,
        ),
    )


def _uniform(
    rng: np.random.Generator, n: int, geom: shapely.Geometry
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """``n`` points spread uniformly over ``geom``."""
    minx, miny, maxx, maxy = geom.bounds
    return _sample_inside(
        n, geom, lambda m: (rng.uniform(miny, maxy, m), rng.uniform(minx, maxx, m))
    )


def _planted_counts(pattern: str, weeks: int, rng: np.random.Generator) -> list[int]:
    if pattern == "persistent_hot":
        for _ in range(200):  # no trend: redraw until Mann-Kendall |Z| is small
            counts = np.maximum(rng.poisson(PERSISTENT_MEAN, weeks), PERSISTENT_FLOOR)
            if abs(float(mann_kendall(counts).z[0])) < 0.5:
                break
        return [int(c) for c in counts]
    if pattern == "intensifying_hot":
        lam = np.linspace(INTENSIFYING_FROM, INTENSIFYING_TO, weeks)
        counts = np.maximum(rng.poisson(lam), np.ceil(0.85 * lam).astype(int))
        return [int(c) for c in counts]
    if pattern == "new_hot":
        counts = np.zeros(weeks, dtype=int)
        counts[-1] = max(int(rng.poisson(NEW_MEAN)), NEW_FLOOR)
        return [int(c) for c in counts]
    if pattern == "sporadic_hot":
        m = max(2, round(SPORADIC_SHARE * weeks))
        pool = np.arange(1, max(weeks - 3, 2))
        active: list[int] = []
        for w in rng.permutation(pool):
            if all(abs(int(w) - a) > 2 for a in active):
                active.append(int(w))
            if len(active) == m:
                break
        counts = np.zeros(weeks, dtype=int)
        for w in active:
            counts[w] = max(int(rng.poisson(SPORADIC_MEAN)), SPORADIC_FLOOR)
        return [int(c) for c in counts]
    raise ValidationError(f"unknown pattern {pattern!r}")


def _places() -> dict[str, dict[str, Any]]:
    """The project's named places of the demo kommun: name -> ``lat``, ``lon``, ``locality``."""
    return {
        p.name: {"lat": p.lat, "lon": p.lon, "locality": p.locality or ""}
        for p in project_places(PLACES_FILE, {DEMO_KOMMUN})
    }


def _cell_centre(place: dict[str, Any]) -> dict[str, Any]:
    """The centre of the res-9 cell holding a (approximate) place: the planted centre."""
    cell = points_to_cells([place["lat"]], [place["lon"]], PLANT_RES)
    lat, lon = cells_to_points(cell)
    return {
        **place,
        "lat": round(float(lat[0]), 6),
        "lon": round(float(lon[0]), 6),
        "place_lat": place["lat"],
        "place_lon": place["lon"],
    }


def _severity(rng: np.random.Generator, category: str) -> int:
    return int(np.clip(_BASE_SEVERITY[category] + rng.choice([-1, 0, 0, 0, 1]), 1, 5))


def _text(rng: np.random.Generator, category: str, plats: str) -> str:
    options = _TEXTS[category]
    return "[demo] " + options[int(rng.integers(len(options)))].format(plats=plats)


def _filing_times(
    rng: np.random.Generator, periods: list[tuple[dt.datetime, dt.datetime]], actors: list[str]
) -> dict[tuple[str, int], dt.datetime]:
    """When each actor files each week: between Monday 11:00 and Tuesday 12:59."""
    out = {}
    for name in actors:
        for k, (_start, end) in enumerate(periods):
            minutes = int(rng.integers(1, 26 * 60))
            out[(name, k)] = (end - dt.timedelta(minutes=minutes)).replace(second=0)
    return out
