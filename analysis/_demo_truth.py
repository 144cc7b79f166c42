"""The planted truth of the demo generator (:mod:`analysis.demo`): ``truth.json``."""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
import pandas as pd

from analysis._demo_helpers import _iso
from analysis._demo_profiles import (
    BACKGROUND_RATES,
    CELL_SHARE,
    CENTRE_SHARE,
    DEMO_KOMMUN,
    HOTSPOT_SIGMA_M,
    LOCALITY_NAMES,
    POLICE_RATE,
    HotspotSpec,
)
from geo.cells import cells_to_strings, points_to_cells

GENERATOR = "lagesbild analysis.demo 2"


def _share_cells(lat: list[float], lon: list[float], res: int, share: float) -> list[str]:
    cells = points_to_cells(np.asarray(lat), np.asarray(lon), res)
    values, counts = np.unique(cells, return_counts=True)
    order = np.argsort(-counts, kind="stable")
    keep = values[order][counts[order] >= share * len(cells)]
    return [str(s) for s in cells_to_strings(keep)]


def _truth_spot(
    spec: HotspotSpec,
    place: dict[str, Any],
    counts: list[int],
    lat: list[float],
    lon: list[float],
    periods: list[tuple[dt.datetime, dt.datetime]],
) -> dict[str, Any]:
    centre9 = points_to_cells([place["lat"]], [place["lon"]], 9)
    centre10 = points_to_cells([place["lat"]], [place["lon"]], 10)
    cells9 = [str(cells_to_strings(centre9)[0])]
    cells9 += [c for c in _share_cells(lat, lon, 9, CELL_SHARE[9]) if c not in cells9]
    cells10 = [str(cells_to_strings(centre10)[0])]
    cells10 += [c for c in _share_cells(lat, lon, 10, CELL_SHARE[10]) if c not in cells10]
    active = [k for k, c in enumerate(counts) if c > 0]
    return {
        "key": spec.key,
        "name": spec.name,
        "place": spec.place,
        "locality": spec.locality,
        "locality_name": LOCALITY_NAMES[spec.locality],
        "lat": place["lat"],
        "lon": place["lon"],
        "place_lat": place["place_lat"],
        "place_lon": place["place_lon"],
        "pattern": spec.pattern,
        "description_sv": spec.description_sv,
        "cells": {"9": cells9, "10": cells10},
        "cells_rule": "centre cell first, then cells holding at least "
        f"{CELL_SHARE[9]:.0%} (res 9) or {CELL_SHARE[10]:.0%} (res 10) of the planted reports",
        "centre_cell": {"9": cells9[0], "10": cells10[0]},
        "weeks_active": active,
        "weeks_active_end": [periods[k][1].date().isoformat() for k in active],
        "counts": counts,
        "total": int(sum(counts)),
        "spread_m": HOTSPOT_SIGMA_M,
    }


def _truth(
    seed: int,
    weeks: int,
    end: dt.date,
    periods: list[tuple[dt.datetime, dt.datetime]],
    spots: list[dict[str, Any]],
    frame: pd.DataFrame,
) -> dict[str, Any]:
    return {
        "synthetic": True,
        "note_sv": "SYNTETISKA DEMODATA. Inga rader beskriver verkliga händelser.",
        "generator": GENERATOR,
        "seed": seed,
        "kommun": DEMO_KOMMUN,
        "weeks": weeks,
        "end": periods[-1][1].date().isoformat(),
        "requested_end": end.isoformat(),
        "period_rule": "week k: Tuesday 13:00 to the next Tuesday 13:00, Europe/Stockholm",
        "periods": [
            {"index": k, "start": _iso(a), "end": _iso(b)} for k, (a, b) in enumerate(periods)
        ],
        "analysis": {
            "res": 9,
            "k": 1,
            "alpha": 0.05,
            "window": "global",
            "step": "1 week",
            "note": "Designed for Gi* with mean and standard deviation over the whole cube "
            "(global window). Standardized per week instead, the rising Södra Bergen "
            "counts inflate the weekly variance and Busstorget looks diminishing.",
        },
        "hotspots": spots,
        "background": {
            "distribution": "Poisson per week, locality and source",
            "per_week": {LOCALITY_NAMES[c]: r for c, r in BACKGROUND_RATES.items()},
            "police_per_week": POLICE_RATE,
            "near_centre_share": CENTRE_SHARE,
        },
        "counts": {
            "reports": int(len(frame)),
            "by_source": {
                k: int(v) for k, v in frame["source"].value_counts().sort_index().items()
            },
            "by_category": {
                k: int(v) for k, v in frame["category"].value_counts().sort_index().items()
            },
            "without_coordinates": int(frame["lat"].isna().sum()),
        },
    }
