"""Synthetic demo data for Norrtälje kommun with planted, documented hotspots.

**Everything produced here is invented.** The reports imitate the weekly EST rhythm of
Norrtälje kommun (three localities: Norrtälje, Rimbo, Hallstavik; about 15 reporting actors
per locality filing by Tuesday 13:00; trygghetsvärdar on evenings and nights; citizen pins;
a few police events known only to locality or kommun), but no row describes a real event.
Each data set says so: ``"synthetic": true`` in ``truth.json``, a ``README.txt``, the prefix
``[demo]`` in every description, ``(demo)`` in every organisation name and ``demo-`` in
every ``external_id``.

Four hotspots are planted on Poisson background noise, designed so that a weekly Gi*
(k = 1 at H3 res 9, α = 0.05, mean and variance over the whole cube) followed by the
emerging-hotspot rules of docs/domain.md finds the patterns below, with plain or
severity-weighted counts, with or without a Benjamini-Hochberg correction per week:

==================  ===========  ====================  ==========================================
place               locality     pattern               design
==================  ===========  ====================  ==========================================
Busstorget          Norrtälje    ``persistent_hot``    elevated every week, no trend
Södra Bergen        Norrtälje    ``intensifying_hot``  elevated every week, rate 10 → 22
Hallstaviks torg    Hallstavik   ``new_hot``           nothing until a burst in the final week
Rimbo torg          Rimbo        ``sporadic_hot``      bursts in a few scattered weeks (< 25 %)
==================  ===========  ====================  ==========================================

Time steps are the reporting weeks: week *k* runs from Tuesday 13:00 to the next Tuesday
13:00 (Europe/Stockholm), the last one ending on ``end``. ``truth.json`` lists the periods,
each hotspot's centre, its cells at res 9 and 10, the weeks it is active and the planted
counts per week.

Same seed, weeks and end → byte-identical files. Positions of the named places come from
the project gazetteer (``geo/data/gazetteer/places.csv``; approximate, see its README).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from geo._demo_helpers import (
    _around,
    _cell_centre,
    _choice,
    _distance_m,
    _filing_times,
    _iso,
    _periods,
    _places,
    _planted_counts,
    _severity,
    _text,
    _times,
    _uniform,
    mann_kendall_z,
)
from geo._demo_profiles import (
    _ACTOR_PROFILES,
    _CENTRES,
    _CITIZEN_CATEGORIES,
    _DAY,
    _EVENING,
    _GENERIC_SPOTS,
    _NIGHT,
    _PATROL_CATEGORIES,
    _PATROL_DAYS,
    _POLICE_CATEGORIES,
    _POLICE_PLACES,
    ACTORS,
    BACKGROUND_RATES,
    CELL_SHARE,
    CENTRE_SHARE,
    CENTRE_SIGMA_M,
    DEMO_KOMMUN,
    HOTSPOT_SIGMA_M,
    HOTSPOTS,
    LOCALITY_NAMES,
    PATROL_ORG,
    POLICE_RATE,
    QUIET_RADIUS_M,
    TEXT_ONLY_SHARE,
    HotspotSpec,
)
from geo.boundaries import load_boundaries
from geo.cells import cells_to_strings, points_to_cells
from geo.errors import ValidationError
from geo.schema import CATEGORY_CODES

DEFAULT_SEED = 2026
DEFAULT_WEEKS = 52
DEFAULT_END = dt.date(2026, 11, 17)
GENERATOR = "lagesbild geo.demo 1"

#: Columns of ``reports.csv`` (the native import schema).
CSV_COLUMNS = (
    "external_id",
    "occurred_at",
    "reported_at",
    "category",
    "severity",
    "description",
    "source",
    "reporter_org",
    "location_text",
    "lat",
    "lon",
    "kommun",
)


@dataclass
class DemoData:
    """A generated demo data set.

    Attributes
    ----------
    reports
        One row per report with :data:`CSV_COLUMNS` (timestamps as ISO strings with
        offset, ``lat``/``lon`` NaN where only a place name is given).
    truth
        The planted truth (written as ``truth.json``).
    """

    reports: pd.DataFrame
    truth: dict[str, Any]


# -- generation ------------------------------------------------------------------------------


def generate(
    seed: int = DEFAULT_SEED, weeks: int = DEFAULT_WEEKS, end: dt.date | str = DEFAULT_END
) -> DemoData:
    """Generate the synthetic Norrtälje data set.

    Parameters
    ----------
    seed
        Random seed; the same seed, weeks and end give identical data.
    weeks
        Number of weekly reporting periods (at least 8).
    end
        Date of the last reporting deadline (a Tuesday; another date is moved back to the
        Tuesday before it).
    """
    if isinstance(end, str):
        end = dt.date.fromisoformat(end)
    if weeks < 8:
        raise ValidationError(f"weeks must be at least 8, got {weeks}")
    rng = np.random.default_rng(seed)
    periods = _periods(end, weeks)
    places = _places()
    loc = load_boundaries("locality", DEMO_KOMMUN).set_index("code")
    geoms = {code: loc.geometry[code] for code in LOCALITY_NAMES}
    all_actors = [name for names in ACTORS.values() for name, _k in names]
    actor_kind = {name: kind for names in ACTORS.values() for name, kind in names}
    filing = _filing_times(rng, periods, all_actors)
    # named places that text-only reports may name: not the centre areas, and not near a
    # hotspot that must stay quiet in most weeks (new, sporadic)
    quiet = [places[h.place] for h in HOTSPOTS if h.pattern in ("new_hot", "sporadic_hot")]
    local_places = {
        code: [
            n
            for n, p in places.items()
            if p["locality"] == code
            and n != _CENTRES[code]
            and all(_distance_m(p, q) > QUIET_RADIUS_M for q in quiet)
        ]
        for code in LOCALITY_NAMES
    }
    rows: list[dict[str, Any]] = []

    def add(
        source: str,
        category: str,
        when: dt.datetime,
        reported: dt.datetime,
        plats: str,
        location_text: str,
        lat: float | None,
        lon: float | None,
        org: str | None,
    ) -> None:
        rows.append(
            {
                "occurred": when,
                "reported": max(reported, when),
                "category": category,
                "severity": _severity(rng, category),
                "description": _text(rng, category, plats),
                "source": source,
                "reporter_org": None if org is None else f"{org} (demo)",
                "location_text": location_text,
                "lat": np.nan if lat is None else round(float(lat), 6),
                "lon": np.nan if lon is None else round(float(lon), 6),
            }
        )

    last_end = periods[-1][1]

    def source_times(
        source: str, n: int, start: dt.datetime, stop: dt.datetime
    ) -> list[dt.datetime]:
        if source == "patrol":
            return _times(rng, n, start, stop, _NIGHT, _PATROL_DAYS)
        if source == "citizen":
            return _times(rng, n, start, stop, _EVENING)
        return _times(rng, n, start, stop, _DAY + _EVENING / 2)

    def reported_at(source: str, when: dt.datetime, org: str | None, week: int) -> dt.datetime:
        if source == "actor" and org is not None:
            return filing[(org, week)]
        if source == "patrol":
            delay = dt.timedelta(minutes=int(rng.integers(2, 45)))
        elif source == "citizen":
            delay = dt.timedelta(minutes=int(rng.exponential(8 * 60)) + 3)
        else:
            delay = dt.timedelta(minutes=int(rng.integers(20, 6 * 60)))
        return min(when + delay, last_end)

    # background, per week, locality and source
    for k, (start, stop) in enumerate(periods):
        for code, rates in BACKGROUND_RATES.items():
            centre = places[_CENTRES[code]]
            for source, rate in rates.items():
                n = int(rng.poisson(rate))
                if n == 0:
                    continue
                near = rng.uniform(size=n) < CENTRE_SHARE
                lat = np.empty(n)
                lon = np.empty(n)
                if near.any():
                    lat[near], lon[near] = _around(
                        rng,
                        int(near.sum()),
                        centre["lat"],
                        centre["lon"],
                        CENTRE_SIGMA_M,
                        geoms[code],
                    )
                if (~near).any():
                    lat[~near], lon[~near] = _uniform(rng, int((~near).sum()), geoms[code])
                orgs: list[str | None]
                if source == "actor":
                    orgs = [
                        ACTORS[code][int(i)][0] for i in rng.integers(len(ACTORS[code]), size=n)
                    ]
                    cats = [_choice(rng, _ACTOR_PROFILES[actor_kind[str(o)]], 1)[0] for o in orgs]
                    times = [source_times("actor", 1, start, filing[(str(o), k)])[0] for o in orgs]
                else:
                    orgs = [PATROL_ORG if source == "patrol" else None] * n
                    table = _PATROL_CATEGORIES if source == "patrol" else _CITIZEN_CATEGORIES
                    cats = _choice(rng, table, n)
                    times = source_times(source, n, start, stop)
                for i in range(n):
                    spot = _GENERIC_SPOTS[int(rng.integers(len(_GENERIC_SPOTS)))]
                    name = LOCALITY_NAMES[code]
                    plats = f"{spot} i {name}"
                    text_only = source == "actor" and rng.uniform() < TEXT_ONLY_SHARE
                    if text_only and local_places[code]:
                        place = local_places[code][int(rng.integers(len(local_places[code])))]
                        add(
                            source,
                            cats[i],
                            times[i],
                            reported_at(source, times[i], orgs[i], k),
                            place,
                            place,
                            None,
                            None,
                            orgs[i],
                        )
                        continue
                    if source == "citizen" and rng.uniform() < 0.05:
                        # a citizen who names only the town: locality precision, no cell
                        add(
                            source,
                            cats[i],
                            times[i],
                            reported_at(source, times[i], orgs[i], k),
                            name,
                            name,
                            None,
                            None,
                            None,
                        )
                        continue
                    add(
                        source,
                        cats[i],
                        times[i],
                        reported_at(source, times[i], orgs[i], k),
                        plats,
                        f"{name}, {spot}",
                        lat[i],
                        lon[i],
                        orgs[i],
                    )
        # police events: locality or kommun precision only
        n_police = int(rng.poisson(POLICE_RATE))
        texts = _choice(rng, dict(_POLICE_PLACES), n_police)
        cats = _choice(rng, _POLICE_CATEGORIES, n_police)
        for when, text, cat in zip(
            _times(rng, n_police, start, stop, _EVENING), texts, cats, strict=True
        ):
            add(
                "police",
                cat,
                when,
                reported_at("police", when, None, k),
                text,
                text,
                None,
                None,
                None,
            )

    # planted hotspots
    truth_spots = []
    for spec in HOTSPOTS:
        counts = _planted_counts(spec.pattern, weeks, rng)
        centre = _cell_centre(places[spec.place])
        geom = geoms[spec.locality]
        planted_lat: list[float] = []
        planted_lon: list[float] = []
        for k, (start, stop) in enumerate(periods):
            n = counts[k]
            if n == 0:
                continue
            lat, lon = _around(rng, n, centre["lat"], centre["lon"], HOTSPOT_SIGMA_M, geom)
            planted_lat += lat.tolist()
            planted_lon += lon.tolist()
            sources = _choice(rng, spec.sources, n)
            cats = _choice(rng, spec.categories, n)
            for i in range(n):
                source = sources[i]
                org: str | None = None
                if source == "actor":
                    org = spec.actors[int(rng.integers(len(spec.actors)))]
                    when = source_times("actor", 1, start, filing[(org, k)])[0]
                else:
                    org = PATROL_ORG if source == "patrol" else None
                    when = source_times(source, 1, start, stop)[0]
                add(
                    source,
                    cats[i],
                    when,
                    reported_at(source, when, org, k),
                    spec.place,
                    f"{spec.place}, {LOCALITY_NAMES[spec.locality]}",
                    lat[i],
                    lon[i],
                    org,
                )
        truth_spots.append(_truth_spot(spec, centre, counts, planted_lat, planted_lon, periods))

    frame = _finish(rows)
    truth = _truth(seed, weeks, end, periods, truth_spots, frame)
    return DemoData(frame, truth)


def _finish(rows: list[dict[str, Any]]) -> pd.DataFrame:
    rows.sort(key=lambda r: (r["occurred"], r["source"], r["category"], r["description"]))
    frame = pd.DataFrame(rows)
    frame.insert(0, "external_id", [f"demo-{i + 1:06d}" for i in range(len(frame))])
    frame["occurred_at"] = [_iso(t) for t in frame.pop("occurred")]
    frame["reported_at"] = [_iso(t) for t in frame.pop("reported")]
    frame["kommun"] = DEMO_KOMMUN
    return frame[list(CSV_COLUMNS)]


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


# -- output --------------------------------------------------------------------------------

README_TEXT = """\
SYNTETISKA DEMODATA - INTE VERKLIGA HÄNDELSER
=============================================

Filerna i den här mappen är påhittade av lagesbild (geo.demo) för att visa och testa
tjänsten. Inga rader beskriver verkliga händelser, personer eller rapporter, även om
platsnamn och organisationsnamn liknar verkliga. Varje beskrivning börjar med [demo],
varje organisationsnamn slutar med (demo) och varje external_id börjar med demo-.

SYNTHETIC DEMO DATA - NOT REAL EVENTS. Generated by lagesbild (geo.demo).

Filer
- reports.csv   rapporter i lagesbilds importformat
                (lagesbild ingest reports.csv --kommun norrtalje)
- truth.json    de planterade hotspotarna ("synthetic": true): plats, celler (H3 res 9 och 10),
                mönster, aktiva veckor och antal per vecka
- actions.json  planerade och pågående åtgärder kopplade till platserna
- README.txt    den här filen

Parametrar: seed {seed}, {weeks} veckor, sista rapporteringsdag {end} (tisdag 13:00).
Platsernas positioner är ungefärliga (se data/gazetteer/README.md).
"""


def _format_float(v: float) -> str:
    return "" if pd.isna(v) else f"{v:.6f}"


def demo_places() -> dict[str, dict[str, Any]]:
    """Named places of the demo kommun: name -> ``lat``, ``lon``, ``locality``."""
    return _places()


def write(
    demo: DemoData, out_dir: str | Path, actions: Sequence[Mapping[str, Any]] = ()
) -> dict[str, Path]:
    """Write ``reports.csv``, ``truth.json``, ``actions.json`` and ``README.txt``.

    ``actions`` are the demo's planned actions (made by the web app, which owns actions).
    Returns the written paths by name. The bytes depend only on ``demo`` and ``actions``.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    frame = demo.reports.copy()
    frame["lat"] = frame["lat"].map(_format_float)
    frame["lon"] = frame["lon"].map(_format_float)
    frame["severity"] = frame["severity"].map(lambda v: "" if pd.isna(v) else str(int(v)))
    paths = {
        "reports": out / "reports.csv",
        "truth": out / "truth.json",
        "actions": out / "actions.json",
        "readme": out / "README.txt",
    }
    frame.to_csv(paths["reports"], index=False, lineterminator="\n", encoding="utf-8")
    for key, obj in (("truth", demo.truth), ("actions", list(actions))):
        text = json.dumps(obj, ensure_ascii=False, indent=2) + "\n"
        paths[key].write_text(text, encoding="utf-8")
    readme = README_TEXT.format(
        seed=demo.truth["seed"], weeks=demo.truth["weeks"], end=demo.truth["end"]
    )
    paths["readme"].write_text(readme, encoding="utf-8")
    return paths


__all__ = [
    "CATEGORY_CODES",
    "CSV_COLUMNS",
    "DEFAULT_END",
    "DEFAULT_SEED",
    "DEFAULT_WEEKS",
    "HOTSPOTS",
    "DemoData",
    "demo_places",
    "generate",
    "mann_kendall_z",
    "write",
]
