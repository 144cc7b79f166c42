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

from analysis._demo_helpers import (
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
)
from analysis._demo_profiles import (
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
    CENTRE_SHARE,
    CENTRE_SIGMA_M,
    DEMO_KOMMUN,
    HALLSTAVIK,
    HOTSPOT_SIGMA_M,
    HOTSPOTS,
    LOCALITY_NAMES,
    NORRTALJE,
    PATROL_ORG,
    POLICE_RATE,
    QUIET_RADIUS_M,
    RIMBO,
    TEXT_ONLY_SHARE,
)
from analysis._demo_truth import _truth, _truth_spot
from geo.boundaries import load_boundaries
from geo.cells import points_to_cells
from geo.errors import ValidationError
from geo.schema import CATEGORY_CODES, STORAGE_RES, conform_reports

DEFAULT_SEED = 2026
DEFAULT_WEEKS = 52
DEFAULT_END = dt.date(2026, 11, 17)

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
                    where: tuple[str, str, float | None, float | None, str | None]
                    text_only = source == "actor" and rng.uniform() < TEXT_ONLY_SHARE
                    if text_only and local_places[code]:
                        place = local_places[code][int(rng.integers(len(local_places[code])))]
                        where = (place, place, None, None, orgs[i])
                    elif source == "citizen" and rng.uniform() < 0.05:
                        # a citizen who names only the town: locality precision, no cell
                        where = (name, name, None, None, None)
                    else:
                        where = (f"{spot} i {name}", f"{name}, {spot}", lat[i], lon[i], orgs[i])
                    when = times[i]
                    add(source, cats[i], when, reported_at(source, when, orgs[i], k), *where)
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


# -- small conformed frames -----------------------------------------------------------------


@dataclass(frozen=True)
class Plant:
    """One planted hotspot of :func:`synthetic_reports`: the centre its reports scatter around."""

    name: str
    locality: str
    lat: float
    lon: float
    pattern: str


def plants() -> tuple[Plant, ...]:
    """The planted hotspots (those of :data:`HOTSPOTS`) at their planted centres."""
    places = _places()
    out = []
    for spec in HOTSPOTS:
        centre = _cell_centre(places[spec.place])
        out.append(Plant(spec.place, spec.locality, centre["lat"], centre["lon"], spec.pattern))
    return tuple(out)


#: Background reports per week and locality of :func:`synthetic_reports` (Poisson means).
SMALL_BACKGROUND = {NORRTALJE: 5.0, RIMBO: 1.5, HALLSTAVIK: 1.5}
#: Sources of the small frames' reports and their shares.
SMALL_SOURCES = {"actor": 0.6, "citizen": 0.3, "patrol": 0.1}
#: Default spread of the small frames' planted reports (metres).
SMALL_SPREAD_M = 80.0


def _category_and_org(rng: np.random.Generator, source: str, code: str) -> tuple[str, str | None]:
    """A category and reporting organisation for one report, drawn from the demo profiles."""
    if source == "actor":
        name, kind = ACTORS[code][int(rng.integers(len(ACTORS[code])))]
        return _choice(rng, _ACTOR_PROFILES[kind], 1)[0], f"{name} (demo)"
    if source == "patrol":
        return _choice(rng, _PATROL_CATEGORIES, 1)[0], f"{PATROL_ORG} (demo)"
    return _choice(rng, _CITIZEN_CATEGORIES, 1)[0], None


def synthetic_reports(
    seed: int = 0,
    weeks: int = 26,
    end: dt.date | str = "2024-06-04",
    background: Mapping[str, float] | None = None,
    locality_share: float = 0.08,
    spread_m: float = SMALL_SPREAD_M,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A small report frame (schema of :mod:`geo.schema`) with the demo's planted hotspots.

    The same periods, planted counts and planting as :func:`generate`, on a thinner
    background spread uniformly over the three localities, returned conformed (for tests,
    the notebook and benchmarks) instead of as import files.

    Parameters
    ----------
    seed
        Random seed; the same arguments give identical frames.
    weeks
        Number of weekly reporting periods (at least 2).
    end
        Last reporting deadline (date, or ISO text whose date part is used).
    background
        Reports per week by locality code (default :data:`SMALL_BACKGROUND`).
    locality_share
        Share of the background given at locality precision (no coordinates, cell 0).
    spread_m
        Spread of the planted reports around each centre (metres, Gaussian); tighter
        than the demo's :data:`HOTSPOT_SIGMA_M`, for analyses at res 10.

    Returns
    -------
    reports
        Conformed report frame, kommun ``norrtalje``, all approved.
    truth
        DataFrame ``[name, locality, lat, lon, pattern]`` of :func:`plants`.
    """
    if isinstance(end, str):
        end = dt.date.fromisoformat(end[:10])
    if weeks < 2:
        raise ValidationError(f"weeks must be at least 2, got {weeks}")
    rng = np.random.default_rng(seed)
    periods = _periods(end, weeks)
    loc = load_boundaries("locality", DEMO_KOMMUN).set_index("code")
    parts: list[pd.DataFrame] = []

    def emit(lat: np.ndarray, lon: np.ndarray, k: int, precise: np.ndarray, code: str) -> None:
        parts.append(
            pd.DataFrame({"lat": lat, "lon": lon, "week": k, "precise": precise, "locality": code})
        )

    for code, rate in (SMALL_BACKGROUND if background is None else background).items():
        for k in range(weeks):
            n = int(rng.poisson(rate))
            lat, lon = _uniform(rng, n, loc.geometry[code])
            emit(lat, lon, k, rng.random(n) >= locality_share, code)
    for plant in plants():
        geom = loc.geometry[plant.locality]
        for k, n in enumerate(_planted_counts(plant.pattern, weeks, rng)):
            lat, lon = _around(rng, n, plant.lat, plant.lon, spread_m, geom)
            emit(lat, lon, k, np.ones(n, bool), plant.locality)
    frame = pd.concat(parts, ignore_index=True)
    precise = frame["precise"].to_numpy(bool)
    starts = pd.DatetimeIndex([a for a, _b in periods]).tz_convert("UTC")
    span = pd.TimedeltaIndex([b - a for a, b in periods])
    week = frame["week"].to_numpy()
    occurred = starts[week] + span[week] * (rng.random(len(frame)) * 0.999)
    sources = _choice(rng, SMALL_SOURCES, len(frame))
    drawn = [_category_and_org(rng, s, c) for s, c in zip(sources, frame["locality"], strict=True)]
    cells = points_to_cells(frame["lat"].to_numpy(), frame["lon"].to_numpy(), STORAGE_RES)
    cells[~precise] = 0
    out = pd.DataFrame(
        {
            "kommun": DEMO_KOMMUN,
            "source": sources,
            "occurred_at": occurred.floor("s"),
            "category": [c for c, _o in drawn],
            "reporter_org": [o for _c, o in drawn],
            "lat": frame["lat"].where(precise),
            "lon": frame["lon"].where(precise),
            "precision": np.where(precise, "point", "locality"),
            "locality": frame["locality"],
            "cell": cells,
            "status": "approved",
        }
    )
    out = out.sort_values("occurred_at", ignore_index=True, kind="stable")
    truth = pd.DataFrame([p.__dict__ for p in plants()])
    return conform_reports(out), truth


# -- output --------------------------------------------------------------------------------

README_TEXT = """\
SYNTETISKA DEMODATA - INTE VERKLIGA HÄNDELSER
=============================================

Filerna i den här mappen är påhittade av lagesbild (analysis.demo) för att visa och testa
tjänsten. Inga rader beskriver verkliga händelser, personer eller rapporter, även om
platsnamn och organisationsnamn liknar verkliga. Varje beskrivning börjar med [demo],
varje organisationsnamn slutar med (demo) och varje external_id börjar med demo-.

SYNTHETIC DEMO DATA - NOT REAL EVENTS. Generated by lagesbild (analysis.demo).

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
    "SMALL_BACKGROUND",
    "DemoData",
    "Plant",
    "demo_places",
    "generate",
    "plants",
    "synthetic_reports",
    "write",
]
