"""Offline gazetteer: place names in free Swedish text → positions.

A :class:`Gazetteer` holds named places per kommun (tenant key) from four sources, in order
of trust:

1. ``project``: the project's own named places (``geo/data/gazetteer/places.csv``):
   squares, stations, parks and a few streets of Norrtälje, Rimbo, Hallstavik, Kungsör and
   Sölvesborg. **Their positions are approximate** (set by hand, ±200-600 m, see the
   ``note`` column and ``data/gazetteer/README.md``).
2. ``scb``: SCB's tätort register 2020 (code, name, representative point) for all of
   Sweden.
3. ``geonames``: GeoNames ``cities500`` places (secondary; places of 2,000 inhabitants or
   more that SCB does not know in that kommun are dropped as known GeoNames errors).
4. ``postal``: postal codes (``761 50``) → postort → the tätort of that name (locality
   precision), else the kommun (for the kommuner the postal source covers).

Sources 2-4 and the kommun entries come from one compact file shipped in the package
(``geo/data/gazetteer/sweden.csv.gz``, see :mod:`geo._gazetteer_sources`), so the
gazetteer works for every Swedish kommun without any data outside the installed package.

Plus one ``kommun`` entry per kommun (``"Norrtälje kommun"``) at the kommun centroid.

Matching is case- and diacritic-insensitive and whole-word: names are folded to
``[0-9a-z ]`` (``"Sölvesborgs station"`` → ``"solvesborgs station"``), texts lose their
accents in one vectorized Aho-Corasick pass, any run of punctuation or spaces counts as one
space (``"Hallstavik."``, ``"Södra-Bergen"``) and a name may carry a Swedish genitive ``-s``
(``"Rimbos"``, ``"Kungsörs torg"``). All names of a kommun form one case-insensitive regular
expression (longest alternatives first) that the Rust regex engine of :mod:`polars` runs
over all texts at once; only the choice among the few hits of a text is Python.

When a text names several places the most specific one wins: precision (point > street >
locality > kommun), then source (project > scb > geonames > postal > kommun), then
the longest name, then the first in the text. A point or street whose locality contradicts
a locality named in the same text (``"Storgatan i Rimbo"`` when the gazetteer only knows
Storgatan in Norrtälje) is ignored in favour of the named locality.

Examples
--------
>>> gaz = Gazetteer.default()  # doctest: +SKIP
>>> gaz.lookup("Stökigt vid busstationen i går kväll", kommun="norrtalje")  # doctest: +SKIP
Match(name='Busstorget', precision='point', locality='0188TC109', ...)
"""

from __future__ import annotations

import logging
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import polars as pl

from geo import _gazetteer_sources as src
from geo._gazetteer_sources import EXTRA_FOLD, PLACES_FILE, SWEDEN_FILE, Place, fold
from geo.boundaries import slugify
from geo.errors import ValidationError
from geo.schema import Precision

log = logging.getLogger(__name__)

#: Sources from most to least trusted (lower rank wins).
SOURCE_RANK: dict[str, int] = {"project": 0, "scb": 1, "geonames": 2, "postal": 3, "kommun": 4}
#: Precision from most to least specific (lower rank wins).
PRECISION_RANK: dict[str, int] = {p.value: i for i, p in enumerate(Precision)}

_POSTAL = re.compile(r"^\d{5}$")
#: ASCII word boundary (the text is accent-stripped first, so names are ASCII).
_B = r"(?-u:\b)"

#: Columns of :meth:`Gazetteer.lookup_many` (``source`` added after the documented five).
RESULT_COLUMNS = ("lat", "lon", "precision", "locality", "matched", "source", "approximate")


def _fold_table() -> tuple[list[str], list[str]]:
    """Accented Latin letters (both cases) -> their ASCII base letters."""
    src, dst = [], []
    for cp in range(0xC0, 0x250):
        ch = chr(cp)
        base = "".join(c for c in unicodedata.normalize("NFKD", ch) if not unicodedata.combining(c))
        if base != ch and base.isascii() and base.isalpha():
            src.append(ch)
            dst.append(base)
    for ch, base in EXTRA_FOLD.items():
        src.append(ch)
        dst.append(base)
    return src, dst


_FOLD_SRC, _FOLD_DST = _fold_table()


def strip_accents_series(texts: pl.Series) -> pl.Series:
    """Replace accented Latin letters by their base letters (vectorized, Aho-Corasick).

    Case and punctuation are kept; the search pattern of :class:`Gazetteer` is
    case-insensitive and treats any run of non-alphanumerics as one space.
    """
    return texts.cast(pl.Utf8).str.replace_many(_FOLD_SRC, _FOLD_DST)


def _key_to_regex(key: str) -> str:
    # keys are folded ([0-9a-z ] only); a space matches any run of non-alphanumerics
    return key.replace(" ", "[^0-9a-z]+")


@dataclass(frozen=True)
class Match:
    """A place found in a text.

    ``precision`` is ``point`` | ``street`` | ``locality`` | ``kommun``; ``locality`` is the
    tätort code when known; ``matched`` is the folded text that matched (``"rimbos"``).
    """

    name: str
    kommun: str
    lat: float
    lon: float
    precision: str
    locality: str | None
    source: str
    approximate: bool
    matched: str


@dataclass
class _Index:
    pattern: str | None
    places: dict[str, list[Place]]


@dataclass
class Gazetteer:
    """Named places per kommun with a fast free-text lookup.

    Parameters
    ----------
    places
        The entries. Use :meth:`default` for the project's standard sources.
    notes
        Human-readable notes about what was (not) loaded.
    """

    places: Sequence[Place]
    notes: list[str] = field(default_factory=list)
    _indexes: dict[str | None, _Index] = field(default_factory=dict, init=False, repr=False)
    _aliases: dict[str, str] = field(default_factory=dict, init=False, repr=False)

    def __post_init__(self) -> None:
        self.places = list(self.places)
        problems = []
        for p in self.places:
            if p.precision not in PRECISION_RANK:
                problems.append(f"{p.name!r}: unknown precision {p.precision!r}")
            if p.source not in SOURCE_RANK:
                problems.append(f"{p.name!r}: unknown source {p.source!r}")
            if not (np.isfinite(p.lat) and np.isfinite(p.lon)):
                problems.append(f"{p.name!r}: no position")
        if problems:
            raise ValidationError(problems, context="gazetteer")
        for p in self.places:
            self._aliases.setdefault(p.kommun, p.kommun)
            if p.source == "kommun":
                self._aliases[fold(p.name).removesuffix(" kommun")] = p.kommun

    # -- construction -------------------------------------------------------------------

    @classmethod
    def default(
        cls, kommun_keys: Iterable[str] | None = None, places_file: str | Path | None = None
    ) -> Gazetteer:
        """The project gazetteer for ``kommun_keys`` (default: the shipped tenants).

        Parameters
        ----------
        kommun_keys
            Tenant keys (``"norrtalje"``), SCB codes or names of Swedish kommuner; every
            Swedish kommun is known.
        places_file
            Another place-name table with the layout of ``sweden.csv.gz`` (default: the
            file shipped in the package).
        """
        notes: list[str] = []
        table = src.read_sweden(Path(places_file) if places_file else SWEDEN_FILE)
        kommuner = src.resolve_kommuner(kommun_keys, table)
        places = src.project_places(PLACES_FILE, set(kommuner))
        tat = src.scb_places(table, kommuner)
        places += tat
        places += src.kommun_places(table, kommuner, tat)
        places += src.geonames_places(table, kommuner, tat, notes)
        places += src.postal_places(table, kommuner, places)
        gaz = cls(places, notes=notes)
        for key, (code, name) in kommuner.items():
            gaz._aliases[code] = key
            gaz._aliases[fold(name)] = key
        for note in notes:
            log.info("gazetteer: %s", note)
        return gaz

    # -- lookup ---------------------------------------------------------------------------

    def kommun_key(self, kommun: str | None) -> str | None:
        """Tenant key for a key, SCB code or name (``None`` stays ``None``)."""
        if kommun is None:
            return None
        for cand in (kommun, fold(kommun), slugify(kommun)):
            if cand in self._aliases:
                return self._aliases[cand]
        return slugify(kommun)

    def _index(self, kommun: str | None) -> _Index:
        key = self.kommun_key(kommun)
        if key not in self._indexes:
            chosen = [p for p in self.places if key is None or p.kommun == key]
            by_key: dict[str, list[Place]] = {}
            for p in chosen:
                for k in p.search_keys():
                    by_key.setdefault(k, []).append(p)
                    if _POSTAL.match(k):
                        by_key.setdefault(f"{k[:3]} {k[3:]}", []).append(p)
            # longest first: the regex engine takes the first alternative that matches
            alts = [_key_to_regex(k) for k in sorted(by_key, key=lambda k: (-len(k), k))]
            pattern = rf"(?i){_B}(?:{'|'.join(alts)})s?{_B}" if alts else None
            self._indexes[key] = _Index(pattern, by_key)
        return self._indexes[key]

    def lookup(self, text: str | None, kommun: str | None = None) -> Match | None:
        """The best place named in ``text`` (``None`` when nothing matches).

        Parameters
        ----------
        text
            Free text (a location field or a whole description).
        kommun
            Tenant key, SCB code or name; ``None`` searches every loaded kommun.
        """
        return self._match_many([text], kommun)[0]

    def lookup_many(self, texts: Sequence[str | None], kommun: str | None = None) -> pd.DataFrame:
        """:meth:`lookup` for many texts at once.

        Returns
        -------
        pandas.DataFrame
            One row per text (same order, RangeIndex) with columns ``lat``, ``lon``
            (float, NaN when not found), ``precision`` (``point`` | ``street`` |
            ``locality`` | ``kommun`` or None), ``locality`` (tätort code or None),
            ``matched`` (canonical name of the place found or None), ``source`` and
            ``approximate`` (bool).
        """
        matches = self._match_many(texts, kommun)
        n = len(matches)
        lat = np.full(n, np.nan)
        lon = np.full(n, np.nan)
        cols: dict[str, list[object]] = {c: [None] * n for c in RESULT_COLUMNS[2:]}
        cols["approximate"] = [False] * n
        for i, m in enumerate(matches):
            if m is None:
                continue
            lat[i], lon[i] = m.lat, m.lon
            cols["precision"][i] = m.precision
            cols["locality"][i] = m.locality
            cols["matched"][i] = m.name
            cols["source"][i] = m.source
            cols["approximate"][i] = m.approximate
        frame = pd.DataFrame({"lat": lat, "lon": lon})
        for c in RESULT_COLUMNS[2:]:
            frame[c] = pd.Series(cols[c], dtype=bool if c == "approximate" else object)
        return frame

    def _match_many(self, texts: Sequence[str | None], kommun: str | None) -> list[Match | None]:
        index = self._index(kommun)
        series = pl.Series("t", list(texts), dtype=pl.Utf8)
        out: list[Match | None] = [None] * len(series)
        if index.pattern is None or len(series) == 0:
            return out
        found = strip_accents_series(series).str.extract_all(index.pattern)
        hit = found.list.len().fill_null(0).to_numpy() > 0
        rows = np.flatnonzero(hit)
        for i, hits in zip(rows, found.gather(rows).to_list(), strict=True):
            out[int(i)] = _choose(hits, index.places)
        return out

    def __len__(self) -> int:
        return len(self.places)


def _choose(hits: list[str], places: dict[str, list[Place]]) -> Match | None:
    cands: list[tuple[int, str, Place]] = []
    for pos, raw in enumerate(hits):
        hit = fold(raw)
        key = hit if hit in places else hit[:-1]
        cands.extend((pos, hit, p) for p in places.get(key, ()))
    if not cands:
        return None
    named = {p.locality for _, _, p in cands if p.precision == "locality" and p.locality}

    def consistent(p: Place) -> bool:
        fine = p.precision in ("point", "street")
        return not (named and fine and p.locality and p.locality not in named)

    pool = [c for c in cands if consistent(c[2])] or cands
    pos, hit, p = min(
        pool,
        key=lambda c: (PRECISION_RANK[c[2].precision], SOURCE_RANK[c[2].source], -len(c[1]), c[0]),
    )
    return Match(
        name=p.name,
        kommun=p.kommun,
        lat=p.lat,
        lon=p.lon,
        precision=p.precision,
        locality=p.locality,
        source=p.source,
        approximate=p.approximate,
        matched=hit,
    )


def named_places(kommun: str) -> pd.DataFrame | None:
    """Named places (point or street precision) of ``kommun``: ``name``, ``lat``, ``lon``.

    Used to name hotspot zones after the nearest known place; ``None`` when the
    gazetteer cannot be loaded or knows no such place (naming is optional).
    """
    try:
        gaz = Gazetteer.default([kommun])
    except Exception:  # noqa: BLE001 - naming zones is optional
        return None
    rows = [
        {"name": p.name, "lat": p.lat, "lon": p.lon}
        for p in gaz.places
        if p.kommun == kommun and p.precision in ("point", "street")
    ]
    return pd.DataFrame(rows) if rows else None


def map_labels(kommun: str) -> pd.DataFrame:
    """Place names to draw on a map without background tiles, for orientation.

    Returns a frame with ``name``, ``lat``, ``lon`` and ``kind``: ``"tatort"`` for the
    kommun's SCB tätorter and ``"plats"`` for the project's named points and streets
    (Busstorget, Stora torget ...). Empty when the gazetteer cannot be loaded: labels
    are an aid, never required.
    """
    cols = ["name", "lat", "lon", "kind"]
    try:
        gaz = Gazetteer.default([kommun])
    except Exception:  # noqa: BLE001 - labels are optional
        return pd.DataFrame(columns=cols)
    rows = []
    for p in gaz.places:
        if p.kommun != kommun:
            continue
        if p.source == "scb" and p.precision == "locality":
            rows.append((p.name, p.lat, p.lon, "tatort"))
        elif p.source == "project" and p.precision in ("point", "street"):
            rows.append((p.name, p.lat, p.lon, "plats"))
    frame = pd.DataFrame(rows, columns=cols)
    return frame.drop_duplicates(["name", "kind"]).reset_index(drop=True)


__all__ = [
    "PLACES_FILE",
    "Gazetteer",
    "Match",
    "Place",
    "fold",
    "map_labels",
    "named_places",
    "strip_accents_series",
]
