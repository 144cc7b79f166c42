"""Profiles of the synthetic demo (:mod:`analysis.demo`): rates, actors, texts, planted hotspots.

Pure data: every number and text the generator draws from. Changing a value here changes
the generated files (same seed → same bytes only for the same profiles).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

import numpy as np

from geo.schema import DEFAULT_TZ

DEMO_KOMMUN = "norrtalje"
#: Reporting deadline of the actors (weekday 1 = Tuesday, 13:00 local time).
DEADLINE_WEEKDAY = 1
DEADLINE_TIME = dt.time(13, 0)
TZ = ZoneInfo(DEFAULT_TZ)

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
