"""Sources of the offline gazetteer (:mod:`geo.gazetteer`): the files shipped in the package.

``geo/data/gazetteer/places.csv``
    the project's own named places (squares, stations, parks; approximate positions).
``geo/data/gazetteer/sweden.csv.gz``
    one compact file with the place names of all Swedish kommuner, built by
    ``data/gazetteer/make_places.py`` (sources and licences in ``data/gazetteer/README.md``):
    a point and name of every kommun (``kind = kommun``), every SCB tätort 2020
    (``tatort``), GeoNames ``cities500`` places (``geonames``) and postal codes of the
    kommuner the postal source covers (``postal``).

Each loader turns rows of one kind into :class:`Place` entries of the requested kommuner.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import pandas as pd

from geo.boundaries import DEFAULT_TENANTS, assign_points, load_boundaries, slugify

#: Folder of the gazetteer files shipped in the package.
DATA_DIR = Path(__file__).resolve().parent / "data" / "gazetteer"
#: The project's own named places (approximate positions).
PLACES_FILE = DATA_DIR / "places.csv"
#: Place names of all Swedish kommuner (see the module docstring).
SWEDEN_FILE = DATA_DIR / "sweden.csv.gz"

#: GeoNames places at least this populous must be SCB tätorter; if SCB has no tätort of
#: that name in the kommun the GeoNames row is a known error (e.g. "Nykvarn" placed in
#: Norrtälje kommun with the population of Nykvarn in Södermanland).
GEONAMES_SUSPECT_POPULATION = 2000

#: Letters NFKD does not decompose into a base letter.
EXTRA_FOLD = {"ø": "o", "Ø": "o", "æ": "ae", "Æ": "ae", "ß": "ss", "đ": "d", "ł": "l"}
_SPLIT_NAME = re.compile(r",\s*|\s+och\s+|\s+med\s+")

Kommuner = dict[str, tuple[str, str]]


def fold(text: str) -> str:
    """Fold ``text`` for matching: lower case ASCII letters, digits and single spaces.

    >>> fold("  Sölvesborgs  Station. ")
    'solvesborgs station'
    """
    for src, dst in EXTRA_FOLD.items():
        text = text.replace(src, dst)
    text = unicodedata.normalize("NFKD", text)
    text = "".join(ch for ch in text if not unicodedata.combining(ch)).lower()
    return re.sub(r"[^0-9a-z]+", " ", text).strip()


@dataclass(frozen=True)
class Place:
    """One gazetteer entry: a named place of a kommun with its position."""

    name: str
    kommun: str
    lat: float
    lon: float
    precision: str
    source: str
    locality: str | None = None
    approximate: bool = False
    aliases: tuple[str, ...] = ()

    def search_keys(self) -> list[str]:
        """Folded name and aliases (the strings searched for)."""
        out: list[str] = []
        names = self.aliases if self.source == "postal" else (self.name, *self.aliases)
        for text in names:
            key = fold(text)
            if key and key not in out:
                out.append(key)
        return out


def _rows(frame: pd.DataFrame) -> Iterator[Any]:
    """Rows as named tuples (typed ``Any``: the columns are those of the source files)."""
    yield from frame.itertuples(index=False)


@lru_cache(maxsize=2)
def read_sweden(path: Path = SWEDEN_FILE) -> pd.DataFrame:
    """The shipped place-name table (cached; treat as read-only)."""
    frame = pd.read_csv(
        path, dtype={"code": str, "kommun_kod": str, "aliases": str}, keep_default_na=False
    )
    for col in ("lat", "lon", "population"):
        frame[col] = pd.to_numeric(frame[col], errors="coerce")
    return frame


def resolve_kommuner(kommun_keys: Iterable[str] | None, table: pd.DataFrame) -> Kommuner:
    """Tenant key -> (SCB code, name) for the requested kommuner (default: shipped tenants)."""
    known: Kommuner = {k: (c, n) for k, (c, n, _p) in DEFAULT_TENANTS.items()}
    rows = table[table["kind"] == "kommun"]
    for code, name in zip(rows["code"], rows["name"], strict=True):
        known.setdefault(slugify(name), (code, name))
    if kommun_keys is None:
        return {k: known[k] for k in DEFAULT_TENANTS}
    out: Kommuner = {}
    by_code = {c: k for k, (c, _n) in known.items()}
    for raw in kommun_keys:
        key = by_code.get(str(raw), slugify(str(raw)))
        # a tenant without an SCB kommun (e.g. "vancouver") has only project places
        out[key] = known.get(key, ("", str(raw)))
    return out


def _of_kind(table: pd.DataFrame, kind: str, kommuner: Kommuner) -> tuple[pd.DataFrame, dict]:
    key_of = {code: key for key, (code, _n) in kommuner.items() if code}
    rows = table[(table["kind"] == kind) & table["kommun_kod"].isin(key_of)]
    return rows, key_of


def project_places(path: Path, keys: set[str]) -> list[Place]:
    """The project's named places of the kommuner ``keys``."""
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    return [
        Place(
            name=r.name,
            kommun=r.kommun,
            lat=float(r.lat),
            lon=float(r.lon),
            precision=r.precision,
            source="project",
            locality=r.locality or None,
            approximate=r.approximate.strip().lower() in ("true", "1", "ja", "yes"),
            aliases=tuple(a.strip() for a in r.aliases.split("|") if a.strip()),
        )
        for r in _rows(frame)
        if r.kommun in keys
    ]


def _name_parts(name: str) -> tuple[str, ...]:
    """Parts of a combined SCB name: ``"Nabbo, Gräddö och Rävsnäs"`` -> 3 names."""
    parts = [p.strip() for p in _SPLIT_NAME.split(name) if p.strip()]
    return tuple(parts) if len(parts) > 1 else ()


def scb_places(table: pd.DataFrame, kommuner: Kommuner) -> list[Place]:
    """SCB tätorter (locality precision, the tätort code as locality)."""
    rows, key_of = _of_kind(table, "tatort", kommuner)
    return [
        Place(
            name=r.name,
            kommun=key_of[r.kommun_kod],
            lat=float(r.lat),
            lon=float(r.lon),
            precision="locality",
            source="scb",
            locality=r.code,
            aliases=_name_parts(r.name),
        )
        for r in _rows(rows)
    ]


def kommun_places(table: pd.DataFrame, kommuner: Kommuner, localities: list[Place]) -> list[Place]:
    """One ``"<name> kommun"`` entry per kommun at a point inside it."""
    rows, key_of = _of_kind(table, "kommun", kommuner)
    taken = {(p.kommun, k) for p in localities for k in p.search_keys()}
    out = []
    for r in _rows(rows):
        key, name = key_of[r.kommun_kod], str(r.name)
        aliases = [f"{name} kommun", f"{name}s kommun" if not name.endswith("s") else ""]
        aliases += [f"{name} kommuns"]
        if (key, fold(name)) not in taken:
            aliases.append(name)
        out.append(
            Place(
                name=f"{name} kommun",
                kommun=key,
                lat=float(r.lat),
                lon=float(r.lon),
                precision="kommun",
                source="kommun",
                aliases=tuple(a for a in aliases if a),
            )
        )
    return out


def geonames_places(
    table: pd.DataFrame, kommuner: Kommuner, localities: list[Place], notes: list[str]
) -> list[Place]:
    """GeoNames places SCB does not know (suspect populous ones dropped, see notes)."""
    rows, key_of = _of_kind(table, "geonames", kommuner)
    if rows.empty:
        return []
    scb_names = {(p.kommun, k) for p in localities for k in p.search_keys()}
    codes = assign_points(rows["lat"], rows["lon"], load_boundaries("locality"))
    out, dropped = [], []
    for r, code in zip(_rows(rows), codes, strict=True):
        key = key_of[r.kommun_kod]
        if (key, fold(r.name)) in scb_names:
            continue  # SCB has it
        if int(r.population) >= GEONAMES_SUSPECT_POPULATION:
            dropped.append(f"{r.name} ({int(r.population)} inv.)")
            continue
        out.append(
            Place(
                name=r.name,
                kommun=key,
                lat=float(r.lat),
                lon=float(r.lon),
                precision="locality",
                source="geonames",
                locality=code,
                aliases=tuple(a for a in str(r.aliases).split("|") if a),
            )
        )
    if dropped:
        notes.append(
            "GeoNames-orter utan motsvarande SCB-tätort trots minst "
            f"{GEONAMES_SUSPECT_POPULATION} invånare har utelämnats: {', '.join(dropped)}"
        )
    return out


def postal_places(table: pd.DataFrame, kommuner: Kommuner, places: list[Place]) -> list[Place]:
    """Postal codes placed at the tätort named like their postort, else at the kommun."""
    rows, key_of = _of_kind(table, "postal", kommuner)
    rank = {"scb": 0, "geonames": 1}
    named: dict[tuple[str, str], Place] = {}
    kommun_entry: dict[str, Place] = {}
    for p in sorted(places, key=lambda p: rank.get(p.source, 9)):
        if p.source == "kommun":
            kommun_entry[p.kommun] = p
        elif p.source in rank:
            for k in p.search_keys():
                named.setdefault((p.kommun, k), p)
    out = []
    for r in _rows(rows):
        code, key = str(r.code), key_of[r.kommun_kod]
        target = named.get((key, fold(r.name))) or kommun_entry.get(key)
        if target is None:
            continue
        out.append(
            Place(
                name=f"{code[:3]} {code[3:]} {r.name}",
                kommun=key,
                lat=target.lat,
                lon=target.lon,
                precision=target.precision,
                source="postal",
                locality=target.locality,
                aliases=(code,),
            )
        )
    return out
