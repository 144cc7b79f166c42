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
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import numpy.typing as npt
import pandas as pd
import shapely

from geo.boundaries import load_boundaries
from geo.cells import cells_to_points, cells_to_strings, points_to_cells
from geo.errors import ValidationError
from geo.gazetteer import PLACES_FILE
from geo.schema import CATEGORY_CODES, DEFAULT_TZ

DEMO_KOMMUN = "norrtalje"
DEFAULT_SEED = 2026
DEFAULT_WEEKS = 52
DEFAULT_END = dt.date(2026, 11, 17)
#: Reporting deadline of the actors (weekday 1 = Tuesday, 13:00 local time).
DEADLINE_WEEKDAY = 1
DEADLINE_TIME = dt.time(13, 0)
TZ = ZoneInfo(DEFAULT_TZ)
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

NORRTALJE, RIMBO, HALLSTAVIK = "0188TC109", "0188TB111", "0188TB106"
LOCALITY_NAMES = {NORRTALJE: "Norrtälje", RIMBO: "Rimbo", HALLSTAVIK: "Hallstavik"}

#: Background reports per week and locality (Poisson means) by source.
BACKGROUND_RATES: dict[str, dict[str, float]] = {
    NORRTALJE: {"actor": 11.0, "citizen": 5.0, "patrol": 5.0},
    RIMBO: {"actor": 4.5, "citizen": 2.0, "patrol": 2.0},
    HALLSTAVIK: {"actor": 4.0, "citizen": 1.8, "patrol": 1.8},
}
#: Police events per week in the kommun (locality or kommun precision only).
POLICE_RATE = 2.5
#: Share of background reports near the locality centre (the rest is spread uniformly).
CENTRE_SHARE = 0.2
CENTRE_SIGMA_M = 600.0
#: Spread of planted reports around a hotspot's centre (metres, Gaussian). The centre is
#: the centre of the res-9 cell holding the named place; about 40 % of the planted reports
#: fall in that cell and nearly all in its k = 1 ring. A spread-out cluster is what Gi*
#: detects best: piling everything into one cell inflates the cube's variance, which caps
#: every z-score (and then the weakest weeks fail a Benjamini-Hochberg correction).
HOTSPOT_SIGMA_M = 170.0
PLANT_RES = 9
#: ``truth.json`` lists the centre cell and every cell holding at least this share of a
#: hotspot's planted reports.
CELL_SHARE = {9: 0.05, 10: 0.02}
#: Share of actor reports that name a place instead of giving coordinates.
TEXT_ONLY_SHARE = 0.08
#: Text-only reports never name places this close to a new or sporadic hotspot.
QUIET_RADIUS_M = 500.0

_CENTRES = {
    NORRTALJE: "Norrtälje centrum",
    RIMBO: "Rimbo centrum",
    HALLSTAVIK: "Hallstaviks centrum",
}

# kind -> category weights (codes of DEFAULT_CATEGORIES)
_ACTOR_PROFILES: dict[str, dict[str, float]] = {
    "fastighet": {
        "skadegorelse": 4,
        "klotter": 3,
        "nedskrapning": 2,
        "inbrott_stold": 2,
        "brand": 0.6,
        "belysning": 1.5,
        "storande_grupp": 1,
    },
    "skola": {
        "skadegorelse": 3,
        "klotter": 2,
        "narkotika": 1,
        "storande_grupp": 2,
        "vald_hot": 1,
        "annat": 1,
    },
    "social": {
        "narkotika": 2,
        "storande_grupp": 2,
        "vald_hot": 1,
        "ordningsstorning": 1,
        "annat": 1,
    },
    "handel": {
        "inbrott_stold": 3,
        "ordningsstorning": 2,
        "storande_grupp": 2,
        "vald_hot": 0.6,
        "nedskrapning": 1,
    },
    "fritid": {"storande_grupp": 3, "ordningsstorning": 2, "trafik": 2, "skadegorelse": 1},
    "trafik": {
        "ordningsstorning": 2,
        "storande_grupp": 2,
        "skadegorelse": 2,
        "nedskrapning": 1,
        "vald_hot": 0.5,
    },
    "bevakning": {
        "ordningsstorning": 2,
        "inbrott_stold": 2,
        "storande_grupp": 2,
        "narkotika": 1,
        "brand": 0.4,
    },
    "kommun": {
        "skadegorelse": 2,
        "klotter": 2,
        "belysning": 2,
        "nedskrapning": 2,
        "trafik": 1,
        "brand": 0.5,
    },
    "ovrig": {"ordningsstorning": 2, "skadegorelse": 1, "annat": 2, "nedskrapning": 1},
}

#: About 15 reporting actors per locality: (name, kind). All invented for the demo.
ACTORS: dict[str, list[tuple[str, str]]] = {
    NORRTALJE: [
        ("Norrtäljehem", "fastighet"),
        ("Campus Roslagen", "skola"),
        ("Rodengymnasiet", "skola"),
        ("Socialtjänsten Norrtälje", "social"),
        ("Fältassistenterna Norrtälje", "social"),
        ("Fritidsgården Norrtälje", "fritid"),
        ("ICA Kvantum Norrtälje", "handel"),
        ("Coop Norrtälje", "handel"),
        ("Systembolaget Norrtälje", "handel"),
        ("Busstationens entrévärdar", "trafik"),
        ("Bevakningsbolaget Roslagen", "bevakning"),
        ("Norrtälje kommun, fastighetsavdelningen", "kommun"),
        ("Norrtälje kommun, gatuavdelningen", "kommun"),
        ("Norrtälje bibliotek", "ovrig"),
        ("Räddningstjänsten Norrtälje", "ovrig"),
    ],
    RIMBO: [
        ("Norrtäljehem Rimbo", "fastighet"),
        ("Rimbo skola F–9", "skola"),
        ("Rimbo gymnasieenhet", "skola"),
        ("Socialtjänsten Rimbo", "social"),
        ("Fältassistenterna Rimbo", "social"),
        ("Fritidsgården Rimbo", "fritid"),
        ("ICA Supermarket Rimbo", "handel"),
        ("Coop Rimbo", "handel"),
        ("Pizzerian vid torget, Rimbo", "handel"),
        ("Rimbo busstation, entrévärd", "trafik"),
        ("Bevakningsbolaget Roslagen, Rimbo", "bevakning"),
        ("Norrtälje kommun, fastighetsavdelningen Rimbo", "kommun"),
        ("Rimbo bibliotek", "ovrig"),
        ("Vårdcentralen Rimbo", "ovrig"),
        ("Rimbo idrottsförening", "fritid"),
    ],
    HALLSTAVIK: [
        ("Norrtäljehem Hallstavik", "fastighet"),
        ("Hallstaviks skola", "skola"),
        ("Socialtjänsten Hallstavik", "social"),
        ("Fältassistenterna Hallstavik", "social"),
        ("Fritidsgården Hallstavik", "fritid"),
        ("ICA Nära Hallstavik", "handel"),
        ("Coop Hallstavik", "handel"),
        ("Hallstaviks busstation, entrévärd", "trafik"),
        ("Bevakningsbolaget Roslagen, Hallstavik", "bevakning"),
        ("Norrtälje kommun, fastighetsavdelningen Hallstavik", "kommun"),
        ("Holmen Paper Hallstavik", "ovrig"),
        ("Folkets hus Hallstavik", "ovrig"),
        ("Hallstaviks bibliotek", "ovrig"),
        ("Vårdcentralen Hallstavik", "ovrig"),
        ("Hallstaviks IF", "fritid"),
    ],
}
PATROL_ORG = "Trygghetsvärdarna, Norrtälje kommun"

_CITIZEN_CATEGORIES = {
    "otrygg_plats": 5,
    "belysning": 2,
    "nedskrapning": 2,
    "klotter": 1.5,
    "skadegorelse": 1.5,
    "storande_grupp": 1.5,
    "trafik": 1.5,
    "annat": 0.5,
}
_PATROL_CATEGORIES = {
    "storande_grupp": 4,
    "ordningsstorning": 3,
    "narkotika": 1.5,
    "skadegorelse": 1.5,
    "trafik": 1.5,
    "otrygg_plats": 1,
    "vald_hot": 0.6,
    "brand": 0.3,
    "belysning": 0.5,
}
_POLICE_CATEGORIES = {
    "vald_hot": 3,
    "inbrott_stold": 3,
    "brand": 1.5,
    "trafik": 2,
    "narkotika": 1.5,
    "ordningsstorning": 1,
}
_POLICE_PLACES = (
    ("Norrtälje", 4),
    ("centrala Norrtälje", 2),
    ("Rimbo", 2),
    ("Hallstavik", 2),
    ("Norrtälje kommun", 2),
    ("Älmsta", 0.5),
)

_BASE_SEVERITY = {
    "otrygg_plats": 2,
    "skadegorelse": 2,
    "klotter": 1,
    "nedskrapning": 1,
    "narkotika": 3,
    "storande_grupp": 2,
    "ordningsstorning": 2,
    "brand": 4,
    "vald_hot": 4,
    "inbrott_stold": 3,
    "trafik": 2,
    "belysning": 1,
    "annat": 1,
}

_TEXTS: dict[str, tuple[str, ...]] = {
    "otrygg_plats": (
        "Känns otryggt att gå här på kvällen, {plats}.",
        "Mörkt och folktomt vid {plats}, undviker platsen efter skymningen.",
        "Upplever platsen som otrygg, grupper som hänger vid {plats}.",
    ),
    "skadegorelse": (
        "Krossad glasruta vid {plats}.",
        "Sönderslagen papperskorg och bänk vid {plats}.",
        "Uppbrutet cykelställ och skadade cyklar vid {plats}.",
    ),
    "klotter": (
        "Nytt klotter på fasad vid {plats}.",
        "Taggar sprejade på elskåp och väggar vid {plats}.",
    ),
    "nedskrapning": (
        "Mycket skräp och glas efter helgen vid {plats}.",
        "Nedskräpning, fimpar och matförpackningar vid {plats}.",
    ),
    "narkotika": (
        "Misstänkt langning vid {plats}.",
        "Hittade sprutor och folieremsor vid {plats}.",
        "Stark lukt av cannabis, ungdomar samlade vid {plats}.",
    ),
    "storande_grupp": (
        "Grupp om 8-10 ungdomar som stör förbipasserande vid {plats}.",
        "Högljudd grupp med musik sent på kvällen vid {plats}.",
        "Ungdomar som kastar smällare vid {plats}.",
    ),
    "ordningsstorning": (
        "Berusad person som skriker och stör vid {plats}.",
        "Bråk och knuffar mellan ett par personer vid {plats}.",
        "Ordningsstörning, personal fick be ett sällskap att lämna {plats}.",
    ),
    "brand": (
        "Brand i papperskorg vid {plats}, släckt av personal.",
        "Anlagd brand i container vid {plats}.",
    ),
    "vald_hot": (
        "Hot mot personal vid {plats}.",
        "Misshandel mellan två unga män vid {plats}, polis tillkallad.",
    ),
    "inbrott_stold": (
        "Inbrott i förråd vid {plats}.",
        "Snatteri och stöld av cykel vid {plats}.",
    ),
    "trafik": (
        "A-traktorer och mopeder som kör i hög fart vid {plats}.",
        "MBU-problem: mopeder på gångbanan vid {plats}.",
    ),
    "belysning": (
        "Trasig gatubelysning vid {plats}.",
        "Flera lampor ur funktion längs gångvägen vid {plats}.",
    ),
    "annat": (
        "Övrig iakttagelse vid {plats}.",
        "Ungdomar ute sent utan vuxna vid {plats}; kontakt tagen.",
    ),
}
_GENERIC_SPOTS = (
    "bostadsområdet",
    "gång- och cykelvägen",
    "parkeringen",
    "skolgården",
    "lekplatsen",
    "en busshållplats",
    "en port",
    "idrottsplatsen",
    "återvinningsstationen",
    "centrumhuset",
)


@dataclass(frozen=True)
class HotspotSpec:
    """A planted hotspot: where, which pattern, what kind of reports."""

    key: str
    name: str
    place: str
    locality: str
    pattern: str
    categories: dict[str, float]
    sources: dict[str, float]
    actors: tuple[str, ...]
    description_sv: str


HOTSPOTS: tuple[HotspotSpec, ...] = (
    HotspotSpec(
        key="busstorget",
        name="Busstorget (busstationen)",
        place="Busstorget",
        locality=NORRTALJE,
        pattern="persistent_hot",
        categories={
            "storande_grupp": 4,
            "ordningsstorning": 3,
            "narkotika": 2,
            "vald_hot": 1,
            "skadegorelse": 1.5,
            "nedskrapning": 1,
            "otrygg_plats": 1.5,
        },
        sources={"patrol": 0.35, "actor": 0.4, "citizen": 0.25},
        actors=(
            "Busstationens entrévärdar",
            "Bevakningsbolaget Roslagen",
            "Norrtälje kommun, fastighetsavdelningen",
            "Fältassistenterna Norrtälje",
        ),
        description_sv="Ihållande: samlingsplats kvällar och helger, störningar varje vecka",
    ),
    HotspotSpec(
        key="sodra_bergen",
        name="Södra Bergen",
        place="Södra Bergen",
        locality=NORRTALJE,
        pattern="intensifying_hot",
        categories={
            "skadegorelse": 3,
            "klotter": 2,
            "storande_grupp": 2,
            "brand": 1,
            "otrygg_plats": 2,
            "belysning": 1,
            "narkotika": 1,
        },
        sources={"actor": 0.45, "patrol": 0.3, "citizen": 0.25},
        actors=("Norrtäljehem", "Fältassistenterna Norrtälje", "Fritidsgården Norrtälje"),
        description_sv="Ökande: skadegörelse och grupper i bostadsområdet, tydligt stigande",
    ),
    HotspotSpec(
        key="hallstaviks_torg",
        name="Hallstaviks torg",
        place="Hallstaviks torg",
        locality=HALLSTAVIK,
        pattern="new_hot",
        categories={
            "skadegorelse": 3,
            "storande_grupp": 3,
            "brand": 1.5,
            "trafik": 2,
            "vald_hot": 1,
            "ordningsstorning": 2,
        },
        sources={"actor": 0.45, "patrol": 0.35, "citizen": 0.2},
        actors=("ICA Nära Hallstavik", "Coop Hallstavik", "Fältassistenterna Hallstavik"),
        description_sv="Ny: en plötslig serie händelser vid torget den sista veckan",
    ),
    HotspotSpec(
        key="rimbo_torg",
        name="Rimbo torg",
        place="Rimbo torg",
        locality=RIMBO,
        pattern="sporadic_hot",
        categories={"trafik": 4, "storande_grupp": 3, "nedskrapning": 2, "ordningsstorning": 1},
        sources={"patrol": 0.4, "actor": 0.35, "citizen": 0.25},
        actors=("ICA Supermarket Rimbo", "Pizzerian vid torget, Rimbo", "Fritidsgården Rimbo"),
        description_sv="Sporadisk: A-traktor- och mopedträffar vid torget vissa helger",
    ),
)

#: Planted reports per week: persistent mean and floor, intensifying start/end, etc.
PERSISTENT_MEAN, PERSISTENT_FLOOR = 12.0, 10
INTENSIFYING_FROM, INTENSIFYING_TO = 10.0, 22.0
NEW_MEAN, NEW_FLOOR = 16.0, 14
SPORADIC_SHARE, SPORADIC_MEAN, SPORADIC_FLOOR = 0.2, 10.0, 8

# hour-of-day weights (0..23)
_EVENING = np.array([6, 5, 3, 2, 1, 0.5, 0.5, 0.5, 1, 1, 1, 1, 1, 1, 1, 2, 3, 4, 6, 8, 9, 9, 8, 7])
_DAY = np.array(
    [0.5, 0.3, 0.2, 0.2, 0.2, 0.3, 1, 3, 5, 6, 6, 6, 6, 6, 6, 6, 5, 4, 3, 2, 2, 1, 1, 1]
)
_NIGHT = np.array([8, 7, 5, 3, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 3, 5, 6, 7, 8, 8])
# trygghetsvärdar work Thursday-Saturday evenings and nights (weekday 0 = Monday)
_PATROL_DAYS = np.array([0.3, 0.3, 0.6, 1.5, 3, 3, 0.6])


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
    actions
        Planned actions (written as ``actions.json``).
    """

    reports: pd.DataFrame
    truth: dict[str, Any]
    actions: list[dict[str, Any]]


# -- helpers ---------------------------------------------------------------------------------


def _periods(end: dt.date, weeks: int) -> list[tuple[dt.datetime, dt.datetime]]:
    """``weeks`` reporting periods (aware datetimes) ending on ``end`` at 13:00 local time."""
    last = end - dt.timedelta(days=(end.weekday() - DEADLINE_WEEKDAY) % 7)
    bounds = [
        dt.datetime.combine(last - dt.timedelta(weeks=weeks - i), DEADLINE_TIME, tzinfo=TZ)
        for i in range(weeks + 1)
    ]
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
    dlat, dlon = _metres_to_degrees(a["lat"])
    return math.hypot((a["lat"] - b["lat"]) / dlat, (a["lon"] - b["lon"]) / dlon)


def _metres_to_degrees(lat: float) -> tuple[float, float]:
    return 1 / 111_320.0, 1 / (111_320.0 * math.cos(math.radians(lat)))


def _inside(geom: shapely.Geometry, lat: npt.NDArray[np.float64], lon: npt.NDArray[np.float64]):
    return shapely.contains_xy(geom, lon, lat)


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
    lat_out: list[float] = []
    lon_out: list[float] = []
    while len(lat_out) < n:
        m = 2 * (n - len(lat_out)) + 4
        la = lat0 + rng.normal(0, sigma_m, m) * dlat
        lo = lon0 + rng.normal(0, sigma_m, m) * dlon
        ok = _inside(geom, la, lo)
        lat_out += la[ok].tolist()
        lon_out += lo[ok].tolist()
    return np.asarray(lat_out[:n]), np.asarray(lon_out[:n])


def _uniform(
    rng: np.random.Generator, n: int, geom: shapely.Geometry
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    minx, miny, maxx, maxy = geom.bounds
    lat_out: list[float] = []
    lon_out: list[float] = []
    while len(lat_out) < n:
        m = 2 * (n - len(lat_out)) + 4
        la = rng.uniform(miny, maxy, m)
        lo = rng.uniform(minx, maxx, m)
        ok = _inside(geom, la, lo)
        lat_out += la[ok].tolist()
        lon_out += lo[ok].tolist()
    return np.asarray(lat_out[:n]), np.asarray(lon_out[:n])


def mann_kendall_z(series: Sequence[float] | npt.NDArray[Any]) -> float:
    """Mann-Kendall trend statistic Z (normal approximation, no tie correction)."""
    x = np.asarray(series, dtype=float)
    n = x.size
    if n < 3:
        return 0.0
    s = float(np.sign(x[None, :] - x[:, None])[np.triu_indices(n, 1)].sum())
    var = n * (n - 1) * (2 * n + 5) / 18.0
    if s > 0:
        return (s - 1) / math.sqrt(var)
    if s < 0:
        return (s + 1) / math.sqrt(var)
    return 0.0


def _planted_counts(pattern: str, weeks: int, rng: np.random.Generator) -> list[int]:
    if pattern == "persistent_hot":
        for _ in range(200):  # no trend: redraw until Mann-Kendall |Z| is small
            counts = np.maximum(rng.poisson(PERSISTENT_MEAN, weeks), PERSISTENT_FLOOR)
            if abs(mann_kendall_z(counts)) < 0.5:
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
    frame = pd.read_csv(PLACES_FILE, dtype=str, keep_default_na=False)
    frame = frame[frame["kommun"] == DEMO_KOMMUN]
    return {
        r["name"]: {"lat": float(r["lat"]), "lon": float(r["lon"]), "locality": r["locality"]}
        for r in frame.to_dict("records")
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
    actions = _actions(end, places, truth_spots)
    return DemoData(frame, truth, actions)


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


def _actions(
    end: dt.date, places: dict[str, dict[str, Any]], spots: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    by_place = {s["place"]: s for s in spots}

    def at(place: str) -> dict[str, Any]:
        p = places[place]
        spot = by_place.get(place)
        cells = (
            spot["cells"]["9"]
            if spot
            else [str(cells_to_strings(points_to_cells([p["lat"]], [p["lon"]], 9))[0])]
        )
        return {
            "locality": p["locality"],
            "place": place,
            "lat": p["lat"],
            "lon": p["lon"],
            "cells": cells,
        }

    def day(weeks: int) -> str:
        return (end + dt.timedelta(weeks=weeks)).isoformat()

    items = [
        {
            "external_key": "demo:ombyggnad-busstationen",
            "title": "Ombyggnad av busstationen",
            "kind": "ombyggnad",
            "status": "pågår",
            "responsible": "Norrtälje kommun, samhällsbyggnadskontoret",
            "planned_start": day(-36),
            "planned_end": dt.date(end.year + 1, 6, 30).isoformat(),
            "description": "[demo] Busstorget byggs om för ökad trygghet: öppnare väntyta, "
            "bättre belysning och siktlinjer, flyttade cykelställ.",
            **at("Busstorget"),
        },
        {
            "external_key": "demo:ordningsvakter-busstorget",
            "title": "Ordningsvakter vid busstationen fredag-lördag kväll",
            "kind": "ordningsvakter",
            "status": "pågår",
            "responsible": "Trygg i Norrtälje kommun (TiNK)",
            "planned_start": day(-20),
            "planned_end": day(8),
            "description": "[demo] Två ordningsvakter kl. 19-02 fredag och lördag.",
            **at("Busstorget"),
        },
        {
            "external_key": "demo:belysning-sodra-bergen",
            "title": "Ny belysning Södra Bergen",
            "kind": "belysning",
            "status": "planerad",
            "responsible": "Norrtäljehem och Norrtälje kommun, gatuavdelningen",
            "planned_start": day(3),
            "planned_end": day(16),
            "description": "[demo] Ny och förstärkt belysning längs gångstråken genom "
            "Södra Bergen efter trygghetsvandring.",
            **at("Södra Bergen"),
        },
        {
            "external_key": "demo:kamera-hallstavik",
            "title": "Kameraövervakning Hallstaviks centrum",
            "kind": "kamerabevakning",
            "status": "planerad",
            "responsible": "Norrtälje kommun, trygghets- och säkerhetskontoret",
            "planned_start": day(8),
            "planned_end": day(30),
            "description": "[demo] Ansökan om kamerabevakning av torget i Hallstavik efter "
            "den senaste veckans händelser.",
            **at("Hallstaviks torg"),
        },
        {
            "external_key": "demo:foraldravandring-rimbo",
            "title": "Föräldravandringar i Rimbo",
            "kind": "trygghetsvandring",
            "status": "pågår",
            "responsible": "Trygg i Norrtälje kommun (TiNK) och föräldraföreningar",
            "planned_start": day(-30),
            "planned_end": day(22),
            "description": "[demo] Föräldrar rör sig i centrala Rimbo fredagskvällar.",
            **at("Rimbo torg"),
        },
    ]
    for item in items:
        item.update({"kommun": DEMO_KOMMUN, "public": True, "synthetic": True})
    return items


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


def write(demo: DemoData, out_dir: str | Path) -> dict[str, Path]:
    """Write ``reports.csv``, ``truth.json``, ``actions.json`` and ``README.txt``.

    Returns the written paths by name. The bytes depend only on ``demo``.
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
    for key, obj in (("truth", demo.truth), ("actions", demo.actions)):
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
    "generate",
    "mann_kendall_z",
    "write",
]
