"""Polisen events (polisen.se "händelser"): the archive CSV and the API's JSON.

Both arrive as the archive's columns (:data:`geo.readers.POLISEN_COLUMNS`; the API's
``datetime`` is the publication time and becomes ``published``). This module turns them
into a :class:`~geo._staging.Staged` frame:

* **kommun** from the last comma-separated part of the title ``name`` (since 2025 the API's
  ``location_name`` often gives only the county). Events of kommuner without a tenant are
  quarantined ``no_tenant`` by the pipeline (and can be retried once the tenant exists).
* **occurred_at** from the day and time at the start of the title (``"26 september 14:21,
  …"``), Europe/Stockholm, with the year of ``published``; an occurrence that would lie
  after the publication belongs to the previous year (events published in early January
  about late December). **reported_at** = ``published``.
* **category** from :data:`TYPE_CATEGORIES`; types not in the table become ``annat``.
  Types in :data:`NON_INCIDENT_TYPES` are no incidents at a place (night summaries that
  bundle several events, traffic controls, information, missing persons, rescue work,
  found property, …): they are quarantined as ``unknown_category`` with an explanation,
  so they stay visible and can be reviewed, but never count as local incidents.
* **position**: the API's coordinates are only kommun or county centre points, so an event
  is never placed at point or street precision. If its summary or text names one of the
  tenant's localities (Rimbo, Hallstavik, Älmsta …; parts of combined SCB names such as
  "Nabbo, Gräddö och Rävsnäs" count) it is placed in that locality (precision
  ``locality``, position = a point inside the locality, no H3 cell). Otherwise the
  gazetteer (:mod:`geo.gazetteer`, when installed) is asked about the summary; a hit
  inside a locality also places it there. Everything else stays at ``kommun`` precision
  (a point inside the kommun, no cell).

Place-name matching rules (deliberately conservative): the summary (the revised one when
present) is searched first; the body text only when the summary names no locality at all;
the first accepted match wins; the gazetteer is asked only about texts that name none of
the tenant's localities; names are matched case-sensitively as whole words (a genitive
``-s`` is allowed); mentions after ``utanför``, ``norr/söder/öster/väster om``, ``nära``,
``från``, ``till`` or inside ``mellan X och Y`` do not count, nor ``<kommun> kommun``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any, Protocol

import numpy as np
import pandas as pd

from geo._staging import STR, Staged, column, strings
from geo._tenant_index import TenantGeo, TenantIndex
from geo.boundaries import assign_points
from geo.labels import MONTHS_SV
from geo.readers import POLISEN_COLUMNS
from geo.schema import DEFAULT_TZ, Precision, Source

#: Police event type -> category code (types missing here become "annat").
TYPE_CATEGORIES: dict[str, str] = {
    # vandalism, fire
    "Skadegörelse": "skadegorelse",
    "Sabotage mot blåljusverksamhet": "skadegorelse",
    "Brand": "brand",
    "Mordbrand": "brand",
    # violence, threats, weapons, robbery, sexual offences
    "Misshandel": "vald_hot",
    "Misshandel, grov": "vald_hot",
    "Mord/dråp": "vald_hot",
    "Mord/dråp, försök": "vald_hot",
    "Olaga hot": "vald_hot",
    "Våld/hot mot tjänsteman": "vald_hot",
    "Rån": "vald_hot",
    "Rån, försök": "vald_hot",
    "Rån väpnat": "vald_hot",
    "Rån övrigt": "vald_hot",
    "Larm Överfall": "vald_hot",
    "Skottlossning": "vald_hot",
    "Skottlossning, misstänkt": "vald_hot",
    "Explosion": "vald_hot",
    "Detonation": "vald_hot",
    "Bombhot": "vald_hot",
    "Knivlagen": "vald_hot",
    "Vapenlagen": "vald_hot",
    "Våldtäkt": "vald_hot",
    "Våldtäkt, försök": "vald_hot",
    "Sexualbrott": "vald_hot",
    "Sedlighetsbrott": "vald_hot",
    "Olaga frihetsberövande/människorov": "vald_hot",
    # burglary, theft
    "Stöld": "inbrott_stold",
    "Stöld, försök": "inbrott_stold",
    "Stöld/inbrott": "inbrott_stold",
    "Inbrott": "inbrott_stold",
    "Inbrott, försök": "inbrott_stold",
    "Larm Inbrott": "inbrott_stold",
    "Motorfordon, stöld": "inbrott_stold",
    "Motorfordon, anträffat stulet": "inbrott_stold",
    "Häleri": "inbrott_stold",
    "Åldringsbrott": "inbrott_stold",
    "Hemfridsbrott": "inbrott_stold",
    # drugs
    "Narkotikabrott": "narkotika",
    # public order
    "Ordningslagen": "ordningsstorning",
    "Fylleri/LOB": "ordningsstorning",
    "Fylleri": "ordningsstorning",
    "Bråk": "ordningsstorning",
    "Ofredande/förargelse": "ordningsstorning",
    "Olaga intrång": "ordningsstorning",
    "Alkohollagen": "ordningsstorning",
    "Smällar": "ordningsstorning",
    # traffic
    "Trafikolycka": "trafik",
    "Trafikolycka, personskada": "trafik",
    "Trafikolycka, singel": "trafik",
    "Trafikolycka, smitning från": "trafik",
    "Trafikbrott": "trafik",
    "Rattfylleri": "trafik",
    "Olovlig körning": "trafik",
    # other offences without a closer category
    "Övrigt": "annat",
    "Bedrägeri": "annat",
    "Farligt föremål, misstänkt": "annat",
    "Vållande till kroppsskada": "annat",
    "Miljöbrott": "annat",
    "Hets mot folkgrupp": "annat",
    "Skyddslagen": "annat",
    "Sjölagen": "annat",
    "Luftfartslagen": "annat",
    "Utlänningslagen": "annat",
    "Missbruk av urkund": "annat",
    "Förfalskningsbrott": "annat",
    "Ekobrott": "annat",
    "Lagen om hundar och katter": "annat",
    "Spridning smitta/kemikalier": "annat",
}

#: Types that are not an incident at a place; quarantined as ``unknown_category``.
NON_INCIDENT_TYPES: frozenset[str] = frozenset(
    {
        "Sammanfattning natt",
        "Sammanfattning kväll och natt",
        "Sammanfattning dag",
        "Sammanfattning kväll",
        "Sammanfattning eftermiddag",
        "Sammanfattning helg",
        "Sammanfattning vecka",
        "Sammanfattning dygn",
        "Trafikkontroll",
        "Kontroll",
        "Kontroll person/fordon",
        "Information",
        "Uppdatering",
        "Polisinsats/kommendering",
        "Försvunnen person",
        "Efterlyst person",
        "Anträffad död",
        "Fjällräddning",
        "Räddningsinsats",
        "Sjukdom/olycksfall",
        "Arbetsplatsolycka",
        "Djur",
        "Anträffat gods",
        "Upphittat föremål",
        "Brand automatlarm",
        "Varningslarm/haveri",
        "Trafikolycka, vilt",
        "Trafikhinder",
    }
)

MONTHS = {name: i + 1 for i, name in enumerate(MONTHS_SV)}

TITLE_TIME = re.compile(
    r"^\s*(?P<day>\d{1,2})\s+(?P<month>[a-zåäö]+)\s+(?P<hour>\d{1,2})[.:](?P<minute>\d{2})"
)

#: Words before a place name that mean "not in that place".
_NEGATIVE_BEFORE = (
    r"(?:utanför|norr om|söder om|öster om|väster om|nordost om|nordväst om|sydost om"
    r"|sydväst om|nära|från|till)"
)
_BETWEEN = re.compile(r"mellan\s+[\wåäöÅÄÖ\-]+(?:\s+[\wåäöÅÄÖ\-]+)?\s+och\s+[\wåäöÅÄÖ\-]+")

POLICE_ORG = "Polisen"


class Geocoder(Protocol):
    """What the pipeline needs of :class:`geo.gazetteer.Gazetteer`."""

    def lookup_many(self, texts: Sequence[str], kommun: str | None) -> pd.DataFrame: ...


def title_kommun(names: pd.Series) -> pd.Series:
    """Kommun (or county) named by the last comma-separated part of each title."""
    return strings(names.astype(STR).str.rsplit(",", n=1).str[-1])


def title_type(names: pd.Series) -> pd.Series:
    """Event type between the time and the place of each title."""
    parts = names.astype(STR).str.split(",")
    return strings(parts.str[1:-1].str.join(","))


def parse_published(values: pd.Series) -> pd.Series:
    """Publication times (``"2024-04-04 7:56:30 +02:00"``) as UTC; NaT when unparseable."""
    return pd.to_datetime(strings(values), format="mixed", utc=True, errors="coerce")


def parse_occurred(names: pd.Series, published: pd.Series, tz: str = DEFAULT_TZ) -> pd.Series:
    """Occurrence time from the start of each title, in UTC (NaT when unparseable).

    The year is the local year of ``published``; when that would put the occurrence more
    than half a year after the publication, the previous year is used (``"31 december"``
    published on 1 January). A title whose day lies 1-24 hours after the publication is
    moved back one day (the police's date slips around midnight: ``"12 april 23:08"``
    published 12 April 07:10). Announcements of planned events a few days ahead keep
    their date.
    """
    parts = names.astype(STR).str.extract(TITLE_TIME)
    month = parts["month"].str.lower().map(MONTHS)
    local_pub = published.dt.tz_convert(tz)
    year = local_pub.dt.year
    frame = pd.DataFrame(
        {
            "year": year.astype(float),
            "month": month.astype(float),
            "day": pd.to_numeric(parts["day"], errors="coerce").astype(float),
            "hour": pd.to_numeric(parts["hour"], errors="coerce").astype(float),
            "minute": pd.to_numeric(parts["minute"], errors="coerce").astype(float),
        }
    )
    naive = pd.to_datetime(frame, errors="coerce")
    pub_naive = local_pub.dt.tz_localize(None)
    # "31 december 23:50" published on 1 January: the previous year
    late = naive.notna() & (naive - pub_naive > pd.Timedelta(days=180))
    frame.loc[late, "year"] = frame.loc[late, "year"] - 1
    naive = pd.to_datetime(frame, errors="coerce")
    # the title's date slips around midnight ("12 april 23:08" published 12 April 07:10)
    ahead = naive - pub_naive
    slip = (ahead > pd.Timedelta(hours=1)) & (ahead <= pd.Timedelta(days=1))
    naive = naive.where(~slip, naive - pd.Timedelta(days=1))
    local = naive.dt.tz_localize(
        tz, ambiguous=np.ones(len(naive), dtype=bool), nonexistent="shift_forward"
    )
    return local.dt.tz_convert("UTC")


def type_to_category(types: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Category code per police type and, for non-incident types, why there is none."""
    clean = strings(types)
    codes = clean.map(TYPE_CATEGORIES).astype(object)
    skipped = clean.isin(NON_INCIDENT_TYPES)
    codes = codes.where(codes.notna() | skipped | clean.isna(), "annat")
    codes = codes.where(~skipped, None)
    problem = (
        "Polisens händelsetyp "
        + clean.astype(STR)
        + " är ingen händelse på en plats (sammanfattning, kontroll, information m.m.) "
        "och lagras inte som rapport"
    ).astype(object)
    return codes.where(codes.notna(), None), problem.where(skipped, None)


def _place_pattern(names: Sequence[str]) -> re.Pattern[str]:
    alternatives = "|".join(re.escape(n) for n in sorted(set(names), key=len, reverse=True))
    return re.compile(
        rf"(?:(?P<neg>(?i:{_NEGATIVE_BEFORE}))\s+)?(?<![\w\-])(?P<place>{alternatives})s?(?![\w\-])(?P<kommun>\s+kommun)?"
    )


def locality_aliases(geo: TenantGeo) -> dict[str, str]:
    """Place name as written (case kept) -> locality code, incl. parts of combined names."""
    out: dict[str, str] = {}
    for code, name in zip(
        geo.localities["code"].astype(str), geo.localities["name"].astype(str), strict=True
    ):
        out.setdefault(name, code)
        for part in re.split(r",\s*|\s+och\s+", name):
            part = part.strip()
            if len(part) >= 3:
                out.setdefault(part, code)
    return out


def find_localities(texts: pd.Series, aliases: dict[str, str]) -> pd.Series:
    """First locality code named in each text by the matching rules above (None if none)."""
    return _find_localities(texts, aliases)[0]


def _find_localities(texts: pd.Series, aliases: dict[str, str]) -> tuple[pd.Series, pd.Series]:
    """``(codes, mentioned)``: the placing locality and whether any alias occurs at all."""
    out = pd.Series(None, index=texts.index, dtype=object)
    mentioned = pd.Series(False, index=texts.index)
    if not aliases:
        return out, mentioned
    clean = texts.astype(object).where(texts.notna(), None)
    between = clean.str.contains(_BETWEEN, na=False)
    clean = clean.str.replace(_BETWEEN, " ", regex=True)
    found = clean.str.extractall(_place_pattern(list(aliases)))
    mentioned = mentioned | between.to_numpy(dtype=bool)
    if found.empty:
        return out, mentioned
    hit_rows = found.index.get_level_values(0).unique()
    mentioned[hit_rows] = True
    ok = found["neg"].isna() & found["kommun"].isna()
    first = found[ok].groupby(level=0)["place"].first()
    out.loc[first.index] = first.map(aliases).to_numpy()
    return out.astype(object).where(out.notna(), None), mentioned


def stage_polisen(
    frame: pd.DataFrame, index: TenantIndex, geocoder: Geocoder | None = None
) -> Staged:
    """Stage Polisen events (archive columns) for the pipeline; see the module docs."""
    for col in POLISEN_COLUMNS:
        if col not in frame.columns:
            frame = frame.assign(**{col: None})
    names = strings(frame["name"])
    published = parse_published(frame["published"])
    kommun_name = title_kommun(names.fillna(""))
    kommun_name = kommun_name.where(kommun_name.notna(), strings(frame["location_name"]))
    kommun_key = index.resolve(kommun_name)
    types = strings(frame["type"]).where(
        strings(frame["type"]).notna(), title_type(names.fillna(""))
    )
    codes, problem = type_to_category(types)
    summary = strings(frame["summary_updated"]).where(
        strings(frame["summary_updated"]).notna(), strings(frame["summary"])
    )
    out = pd.DataFrame(index=frame.index)
    out["kommun"] = kommun_key.where(kommun_key.notna(), kommun_name)
    out["source"] = Source.POLICE.value
    out["external_id"] = strings(frame["id"])
    out["occurred_at"] = parse_occurred(names.fillna(""), published)
    out["reported_at"] = published
    out["category"] = codes
    out["_category_problem"] = problem
    out["description"] = summary
    out["reporter_org"] = POLICE_ORG
    out["location_text"] = None
    out["precision"] = None
    out["locality"] = None
    out["x"] = np.nan
    out["y"] = np.nan
    out["_placed_from_text"] = False
    body = strings(column(frame, "body_text"))
    # the API's point is the kommun centre only when location_name names the kommun itself
    gps = strings(frame["location_gps"]).str.split(",", n=1, expand=True, regex=False)
    own = (
        strings(frame["location_name"]).astype(STR).str.casefold()
        == kommun_name.astype(STR).str.casefold()
    )
    if gps.shape[1] == 2:
        out["_gps_lat"] = pd.to_numeric(gps[0], errors="coerce").where(own.fillna(False))
        out["_gps_lon"] = pd.to_numeric(gps[1], errors="coerce").where(own.fillna(False))
    for key in kommun_key.dropna().unique():
        rows = kommun_key == key
        _place_events(out, rows, index.geo(str(key)), summary[rows], body[rows], geocoder)
    return Staged(out, crs="EPSG:4326", geocode=False, kind="polisen")


def _place_events(
    out: pd.DataFrame,
    rows: pd.Series,
    geo: TenantGeo,
    summary: pd.Series,
    body: pd.Series,
    geocoder: Geocoder | None,
) -> None:
    aliases = locality_aliases(geo)
    code, mentioned = _find_localities(summary, aliases)
    # the body counts only when the summary names no locality at all: a summary saying
    # "Häverö utanför Hallstavik" must not be placed in Hallstavik by the body text
    rest = ~mentioned
    if rest.any():
        body_code, body_mentioned = _find_localities(body[rest], aliases)
        code[rest] = body_code
        mentioned = mentioned | body_mentioned.reindex(mentioned.index, fill_value=False)
    if geocoder is not None:
        # only texts that name none of the tenant's localities (negated mentions such as
        # "utanför Svanberga" must not be placed by the gazetteer's looser matching)
        for texts in (summary, body):
            rest = code.isna() & ~mentioned & texts.notna()
            if rest.any():
                code[rest] = _gazetteer_localities(geocoder, texts[rest], geo)
    points = geo.locality_points
    placed = code.notna() & code.isin(points.index)
    idx = rows[rows].index
    loc_idx = idx[placed.to_numpy()]
    if len(loc_idx):
        pts = points.loc[code[placed].to_numpy()]
        out.loc[loc_idx, "x"] = pts["lon"].to_numpy()
        out.loc[loc_idx, "y"] = pts["lat"].to_numpy()
        out.loc[loc_idx, "precision"] = Precision.LOCALITY.value
        out.loc[loc_idx, "locality"] = code[placed].to_numpy()
        out.loc[loc_idx, "location_text"] = pts["name"].to_numpy()
        out.loc[loc_idx, "_placed_from_text"] = True
    kom_idx = idx[~placed.to_numpy()]
    if len(kom_idx):
        centre = geo.centre
        if centre is not None:
            out.loc[kom_idx, "y"], out.loc[kom_idx, "x"] = centre
        elif "_gps_lat" in out.columns:  # a tenant without boundaries: the API's kommun centre
            out.loc[kom_idx, "y"] = out.loc[kom_idx, "_gps_lat"]
            out.loc[kom_idx, "x"] = out.loc[kom_idx, "_gps_lon"]
        out.loc[kom_idx, "precision"] = Precision.KOMMUN.value
        out.loc[kom_idx, "location_text"] = geo.tenant.name


def _gazetteer_localities(geocoder: Geocoder, texts: pd.Series, geo: TenantGeo) -> np.ndarray:
    """Locality codes the gazetteer finds for ``texts`` (None where none)."""
    found: Any = geocoder.lookup_many(texts.astype(str).to_list(), geo.tenant.key)
    found = pd.DataFrame(found).reset_index(drop=True)
    codes = pd.Series(None, index=range(len(texts)), dtype=object)
    if "precision" not in found.columns or len(found) != len(texts):
        return codes.to_numpy(dtype=object)
    # a kommun-level answer says nothing about the locality
    fine = found["precision"].isin(
        [Precision.POINT.value, Precision.STREET.value, Precision.LOCALITY.value]
    )
    if "locality" in found.columns:
        codes = geo.locality_codes(found["locality"].astype(object)).where(fine, None)
    if {"lat", "lon"} <= set(found.columns) and len(geo.localities):
        lat = found["lat"].to_numpy(float).copy()
        lon = found["lon"].to_numpy(float).copy()
        lat[~fine.to_numpy()] = np.nan
        hit = assign_points(lat, lon, geo.localities)
        codes = codes.where(codes.notna(), pd.Series(hit, index=codes.index))
    return codes.to_numpy(dtype=object)


__all__ = [
    "MONTHS",
    "NON_INCIDENT_TYPES",
    "POLICE_ORG",
    "TYPE_CATEGORIES",
    "Geocoder",
    "find_localities",
    "locality_aliases",
    "parse_occurred",
    "parse_published",
    "stage_polisen",
    "title_kommun",
    "title_type",
    "type_to_category",
]
