"""Small seeded synthetic report frames with planted hotspots (tests, notebook, benchmark).

The generator places background noise uniformly over the shipped (approximate) locality
polygons of Norrtälje kommun and plants four hotspots with known patterns:

==================  ==========  ============  ==============================================
place               locality    pattern       planting
==================  ==========  ============  ==============================================
Busstorget          Norrtälje   persistent    ~8 reports every week
Södra Bergen        Norrtälje   intensifying  rising from ~5 to ~17 reports a week
Hallstaviks torg    Hallstavik  new           ~10 (at least 8) reports in the final week
Rimbo torg          Rimbo       sporadic      bursts of ~6 reports in a third of the weeks
==================  ==========  ============  ==============================================

The coordinates are those of the project gazetteer (``geo/data/gazetteer/places.csv``),
which are approximate; here they only serve as planting points. Weeks follow
the EST period (Tuesday 13:00 Europe/Stockholm), ending at ``end``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from geo.cells import points_to_cells
from geo.schema import STORAGE_RES, conform_reports

M_PER_DEG_LAT = 111_320.0


@dataclass(frozen=True)
class Plant:
    """One planted hotspot."""

    name: str
    locality: str
    lat: float
    lon: float
    pattern: str


PLANTS: tuple[Plant, ...] = (
    Plant("Busstorget", "0188TC109", 59.7577, 18.6990, "persistent_hot"),
    Plant("Södra Bergen", "0188TC109", 59.7515, 18.7040, "intensifying_hot"),
    Plant("Hallstaviks torg", "0188TB106", 60.0518, 18.6005, "new_hot"),
    Plant("Rimbo torg", "0188TB111", 59.7446, 18.3630, "sporadic_hot"),
)

#: Background reports per week per locality.
BACKGROUND = {"0188TC109": 5.0, "0188TB111": 1.5, "0188TB106": 1.5}

CATEGORIES = (
    "skadegorelse",
    "klotter",
    "nedskrapning",
    "narkotika",
    "storande_grupp",
    "ordningsstorning",
    "inbrott_stold",
    "trafik",
    "otrygg_plats",
    "vald_hot",
    "brand",
)
CAT_P = np.array([0.18, 0.14, 0.10, 0.07, 0.14, 0.1, 0.1, 0.08, 0.05, 0.02, 0.02])
ORGS = ("Skolan", "Socialtjänsten", "Bostadsbolaget", "Butiken", "Vaktbolaget", "Trygghetsvärd")


def _plant_rates(plant: Plant, n_weeks: int, rng: np.random.Generator) -> np.ndarray:
    w = np.arange(n_weeks)
    if plant.pattern == "persistent_hot":
        return np.full(n_weeks, 8.0)
    if plant.pattern == "intensifying_hot":
        return 5.0 + 12.0 * w / max(n_weeks - 1, 1)
    if plant.pattern == "new_hot":
        r = np.zeros(n_weeks)
        r[-1] = 10.0
        return r
    if plant.pattern == "sporadic_hot":
        r = np.zeros(n_weeks)
        on = rng.random(n_weeks) < 0.33
        on[-1] = False
        on[rng.integers(0, n_weeks - 1)] = True
        r[on] = 6.0
        return r
    raise ValueError(plant.pattern)


def _disc_points(
    lat: float, lon: float, radius_m: float, n: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    r = radius_m * np.sqrt(rng.random(n))
    a = 2 * np.pi * rng.random(n)
    dlat = r * np.sin(a) / M_PER_DEG_LAT
    dlon = r * np.cos(a) / (M_PER_DEG_LAT * np.cos(np.radians(lat)))
    return lat + dlat, lon + dlon


def synthetic_reports(
    seed: int = 0,
    n_weeks: int = 26,
    end: str = "2024-06-04 13:00",
    plants: tuple[Plant, ...] = PLANTS,
    background: dict[str, float] | None = None,
    plant_radius_m: float = 120.0,
    locality_share: float = 0.08,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A report frame (schema of :mod:`geo.schema`) and the truth table of the plants.

    Returns
    -------
    reports
        Conformed report frame, kommun ``norrtalje``, all approved, ``locality_share``
        of the background at locality precision (cell 0).
    truth
        DataFrame ``[name, locality, lat, lon, pattern]``.
    """
    import shapely

    from geo.boundaries import load_boundaries

    rng = np.random.default_rng(seed)
    bg = BACKGROUND if background is None else background
    loc = load_boundaries("locality", kommun="norrtalje").set_index("code")
    end_ts = pd.Timestamp(end).tz_localize("Europe/Stockholm")
    week_starts = [end_ts - pd.Timedelta(weeks=n_weeks - w) for w in range(n_weeks)]
    parts: dict[str, list[np.ndarray]] = {k: [] for k in ("lat", "lon", "week", "precise", "loc")}

    def emit(lat: np.ndarray, lon: np.ndarray, week: int, precise: np.ndarray, code: str) -> None:
        parts["lat"].append(lat)
        parts["lon"].append(lon)
        parts["week"].append(np.full(lat.shape[0], week))
        parts["precise"].append(precise)
        parts["loc"].append(np.full(lat.shape[0], code, dtype=object))

    for code, rate in bg.items():
        geom = loc.loc[code, "geometry"]
        minx, miny, maxx, maxy = geom.bounds
        for w in range(n_weeks):
            n = int(rng.poisson(rate))
            xs = np.zeros(0)
            ys = np.zeros(0)
            while xs.size < n:
                x = rng.uniform(minx, maxx, 4 * n + 4)
                y = rng.uniform(miny, maxy, 4 * n + 4)
                inside = shapely.contains_xy(geom, x, y)
                xs, ys = np.r_[xs, x[inside]], np.r_[ys, y[inside]]
            precise = rng.random(n) >= locality_share
            emit(ys[:n], xs[:n], w, precise, code)
    for plant in plants:
        rates = _plant_rates(plant, n_weeks, rng)
        for w in range(n_weeks):
            n = int(rng.poisson(rates[w])) if rates[w] > 0 else 0
            if plant.pattern in ("new_hot", "sporadic_hot") and rates[w] > 0:
                n = max(n, int(0.8 * rates[w]))  # a burst is never a trickle
            lat, lon = _disc_points(plant.lat, plant.lon, plant_radius_m, n, rng)
            emit(lat, lon, w, np.ones(n, bool), plant.locality)
    lat = np.concatenate(parts["lat"])
    lon = np.concatenate(parts["lon"])
    week = np.concatenate(parts["week"])
    precise = np.concatenate(parts["precise"]).astype(bool)
    n = lat.shape[0]
    starts = pd.DatetimeIndex(week_starts).tz_convert("UTC")
    occurred = starts[week] + pd.to_timedelta(rng.random(n) * (7 * 86400 - 1), unit="s")
    cells = points_to_cells(lat, lon, STORAGE_RES)
    cells[~precise] = 0
    frame = pd.DataFrame(
        {
            "kommun": "norrtalje",
            "source": rng.choice(["actor", "citizen", "patrol"], n, p=[0.6, 0.3, 0.1]),
            "occurred_at": occurred,
            "category": rng.choice(CATEGORIES, n, p=CAT_P / CAT_P.sum()),
            "reporter_org": rng.choice(ORGS, n),
            "lat": np.where(precise, lat, np.nan),
            "lon": np.where(precise, lon, np.nan),
            "precision": np.where(precise, "point", "locality"),
            "locality": np.concatenate(parts["loc"]),
            "cell": cells,
            "status": "approved",
        }
    )
    frame = frame.sort_values("occurred_at", ignore_index=True)
    reports = conform_reports(frame)
    truth = pd.DataFrame([p.__dict__ for p in plants])
    return reports, truth


__all__ = ["PLANTS", "Plant", "synthetic_reports"]
