"""Geocoding: the offline gazetteer first, an online geocoder (when configured) second.

:class:`OnlineGeocoder` asks a Nominatim or Photon server through :mod:`geopy`, at most one
request per ``min_delay_seconds`` (default 1 s, Nominatim's usage policy) via geopy's
:class:`~geopy.extra.rate_limiter.RateLimiter`, and keeps every answer (also "not found")
in the ``geocode_cache`` table, so a query is sent once per installation. The type of the
answer sets the precision:

==========================================================  ===========
answer (Nominatim ``addresstype``/``type``, Photon ``type``)  precision
==========================================================  ===========
house, building, address, amenity, shop, bus stop, square   ``point``
road, street, pedestrian, footway, path                      ``street``
city, town, village, hamlet, suburb, neighbourhood, district ``locality``
municipality (Photon: county)                                ``kommun``
county, state, country and anything coarser                  not found
==========================================================  ===========

:class:`Geocoder` combines both: the gazetteer answers first; the online geocoder is asked
only when the gazetteer found nothing finer than a locality, and its answer is used only
when it is finer and lies near what the gazetteer found (``max_distance_km``).

Configuration keys (see :func:`online_geocoder_from_config`): ``GEOCODER`` (``""`` = off,
``"nominatim"`` or ``"photon"``), ``GEOCODER_DOMAIN``, ``GEOCODER_SCHEME``,
``GEOCODER_USER_AGENT``, ``GEOCODER_MIN_DELAY``, ``GEOCODER_TIMEOUT``,
``GEOCODER_COUNTRY_CODES``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd
from sqlalchemy import Engine

from geo.errors import ConfigError, GeocodingError
from geo.gazetteer import PRECISION_RANK, Gazetteer, Match, Place, fold
from geo.geodesy import haversine_m
from geo.store.geocoding import cached_answer, store_answer

log = logging.getLogger(__name__)

PROVIDERS = ("nominatim", "photon")
DEFAULT_DOMAINS = {"nominatim": "nominatim.openstreetmap.org", "photon": "photon.komoot.io"}
DEFAULT_USER_AGENT = "lagesbild/0.1 (municipal safety work; https://github.com/lagesbild)"
#: Longest query sent online; longer texts are descriptions, not places.
MAX_QUERY_CHARS = 300

_POINT = {
    "house",
    "building",
    "house_number",
    "address",
    "square",
    "bus_stop",
    "station",
    "platform",
    "amenity",
    "shop",
    "tourism",
    "leisure",
    "office",
    "railway",
    "public_transport",
    "historic",
    "man_made",
    "aeroway",
    "park",
    "school",
}
_STREET = {
    "road",
    "street",
    "highway",
    "pedestrian",
    "footway",
    "cycleway",
    "path",
    "residential",
    "primary",
    "secondary",
    "tertiary",
    "unclassified",
    "service",
    "living_street",
    "trunk",
}
_LOCALITY = {
    "city",
    "town",
    "village",
    "hamlet",
    "suburb",
    "neighbourhood",
    "quarter",
    "city_district",
    "district",
    "borough",
    "isolated_dwelling",
    "locality",
    "croft",
    "farm",
    "allotments",
}
_KOMMUN = {"municipality"}
_TOO_COARSE = {"county", "state", "region", "country", "continent", "province"}


def nominatim_precision(raw: Mapping[str, Any]) -> str | None:
    """Precision of one Nominatim ``/search`` answer (``None`` = too coarse to use)."""
    if raw.get("class") in ("highway", "public_transport") and raw.get("type") in _POINT:
        return "point"  # bus stops and platforms are points on a road
    for key in ("addresstype", "type"):
        value = str(raw.get(key) or "")
        if value in _TOO_COARSE:
            return None
        if value in _KOMMUN:
            return "kommun"
        if value in _LOCALITY:
            return "locality"
        if (value in _STREET and raw.get("class") == "highway") or value in ("road", "street"):
            return "street"
        if value in _POINT:
            return "point"
    cls = str(raw.get("class") or "")
    if cls == "highway":
        return "point" if raw.get("type") == "bus_stop" else "street"
    if cls in _POINT:
        return "point"
    try:
        rank = int(raw.get("place_rank", -1))
    except (TypeError, ValueError):
        return None
    if rank >= 28:
        return "point"
    if rank >= 26:
        return "street"
    if rank >= 16:
        return "locality"
    if rank >= 13:
        return "kommun"
    return None


def photon_precision(raw: Mapping[str, Any]) -> str | None:
    """Precision of one Photon answer (a GeoJSON feature)."""
    props = raw.get("properties", raw)
    kind = str(props.get("type") or "")
    key, value = str(props.get("osm_key") or ""), str(props.get("osm_value") or "")
    if kind == "house":
        return "point"
    if kind == "street":
        return "street"
    if kind in ("city", "district", "locality"):
        return "locality"
    if kind == "county":
        return "kommun"
    if kind in ("state", "country"):
        return None
    if key == "highway":
        return "point" if value == "bus_stop" else "street"
    if key == "place":
        return "locality" if value in _LOCALITY else ("kommun" if value in _KOMMUN else None)
    if key in _POINT or value in _POINT:
        return "point"
    return None


@dataclass(frozen=True)
class _Answer:
    lat: float | None
    lon: float | None
    precision: str | None
    label: str | None


class OnlineGeocoder:
    """A rate-limited, cached Nominatim/Photon client.

    Parameters
    ----------
    provider
        ``"nominatim"`` or ``"photon"``.
    domain, scheme
        Server (default the public instance over https). A self-hosted server is
        e.g. ``domain="geo.kommun.se", scheme="https"``.
    user_agent
        Sent with every request (Nominatim's policy requires an identifying one).
    min_delay_seconds
        Least time between two requests (default 1 s).
    timeout
        Seconds to wait for an answer.
    country_codes
        Restrict answers to these countries (Nominatim only; ``None`` = anywhere).
    cache
        Engine whose ``geocode_cache`` table keeps answers; ``None`` keeps them in memory.
    """

    def __init__(
        self,
        provider: str = "nominatim",
        *,
        domain: str | None = None,
        scheme: str = "https",
        user_agent: str = DEFAULT_USER_AGENT,
        min_delay_seconds: float = 1.0,
        timeout: float = 10.0,
        country_codes: str | None = "se",
        cache: Engine | None = None,
    ) -> None:
        from geopy.extra.rate_limiter import RateLimiter
        from geopy.geocoders import Nominatim, Photon

        if provider not in PROVIDERS:
            raise ConfigError(f"okänd geokodare {provider!r}; välj en av {list(PROVIDERS)}")
        if min_delay_seconds < 0:
            raise ConfigError("min_delay_seconds must be >= 0")
        self.provider = provider
        self.domain = domain or DEFAULT_DOMAINS[provider]
        self.country_codes = country_codes
        self.cache = cache
        self._memory: dict[str, _Answer] = {}
        self.requests = 0
        cls = Nominatim if provider == "nominatim" else Photon
        self._client = cls(
            domain=self.domain, scheme=scheme, user_agent=user_agent, timeout=timeout
        )
        self._limited: Callable[..., Any] = RateLimiter(
            self._client.geocode,
            min_delay_seconds=min_delay_seconds,
            max_retries=0,
            swallow_exceptions=False,
        )

    @staticmethod
    def normalize(query: str) -> str:
        """The cache key of a query: trimmed, single spaces, lower case, at most 300 chars."""
        return " ".join(query.split()).lower()[:MAX_QUERY_CHARS]

    def geocode(self, query: str, kommun: str | None = None) -> Match | None:
        """Geocode ``query``; cached answers are returned without a request.

        Raises
        ------
        GeocodingError
            When the server cannot be reached, times out or answers with an error.
        """
        key = self.normalize(query)
        if not key:
            return None
        answer = self._cached(key)
        if answer is None:
            answer = self._ask(key)
            self._store(key, answer)
        if answer.precision is None or answer.lat is None or answer.lon is None:
            return None
        return Match(
            name=answer.label or query,
            kommun=kommun or "",
            lat=answer.lat,
            lon=answer.lon,
            precision=answer.precision,
            locality=None,
            source=self.provider,
            approximate=False,
            matched=key,
        )

    def _ask(self, key: str) -> _Answer:
        from geopy.exc import GeopyError

        kwargs: dict[str, Any] = {"exactly_one": True}
        if self.provider == "nominatim":
            kwargs["addressdetails"] = False
            if self.country_codes:
                kwargs["country_codes"] = self.country_codes
        self.requests += 1
        try:
            loc = self._limited(key, **kwargs)
        except GeopyError as exc:
            raise GeocodingError(
                f"geokodaren {self.provider} ({self.domain}) svarade med fel: {exc}"
            ) from exc
        except (OSError, ValueError) as exc:
            raise GeocodingError(f"geokodaren {self.provider} ({self.domain}): {exc}") from exc
        if loc is None:
            return _Answer(None, None, None, None)
        raw = loc.raw if isinstance(loc.raw, Mapping) else {}
        precision = (
            nominatim_precision(raw) if self.provider == "nominatim" else photon_precision(raw)
        )
        return _Answer(float(loc.latitude), float(loc.longitude), precision, loc.address)

    def _cached(self, key: str) -> _Answer | None:
        if self.cache is None:
            return self._memory.get(key)
        row = cached_answer(self.cache, self.provider, key)
        return None if row is None else _Answer(row.lat, row.lon, row.precision, row.label)

    def _store(self, key: str, answer: _Answer) -> None:
        if self.cache is None:
            self._memory[key] = answer
            return
        store_answer(
            self.cache, self.provider, key, answer.lat, answer.lon, answer.precision, answer.label
        )


def online_geocoder_from_config(
    config: Mapping[str, Any], cache: Engine | None = None
) -> OnlineGeocoder | None:
    """The online geocoder a configuration asks for (``None`` when ``GEOCODER`` is empty)."""
    provider = str(config.get("GEOCODER") or "").strip().lower()
    if not provider:
        return None
    return OnlineGeocoder(
        provider,
        domain=config.get("GEOCODER_DOMAIN") or None,
        scheme=str(config.get("GEOCODER_SCHEME") or "https"),
        user_agent=str(config.get("GEOCODER_USER_AGENT") or DEFAULT_USER_AGENT),
        min_delay_seconds=float(config.get("GEOCODER_MIN_DELAY", 1.0)),
        timeout=float(config.get("GEOCODER_TIMEOUT", 10.0)),
        country_codes=config.get("GEOCODER_COUNTRY_CODES", "se") or None,
        cache=cache,
    )


class Geocoder:
    """Gazetteer first, then (optionally) an online geocoder.

    Parameters
    ----------
    gazetteer
        The offline gazetteer.
    online
        An :class:`OnlineGeocoder`, or ``None`` for offline use only.
    max_distance_km
        An online answer farther than this from the gazetteer's locality (or 3× this
        from the kommun centre when only the kommun is known) is rejected as a namesake
        elsewhere.
    """

    def __init__(
        self,
        gazetteer: Gazetteer,
        online: OnlineGeocoder | None = None,
        *,
        max_distance_km: float = 15.0,
    ) -> None:
        self.gazetteer = gazetteer
        self.online = online
        self.max_distance_km = max_distance_km

    def geocode(self, text: str | None, kommun: str | None = None) -> Match | None:
        """Best position for ``text`` (see the module docstring for the order)."""
        if not text or not text.strip():
            return None
        found = self.gazetteer.lookup(text, kommun)
        return self._refine(text, kommun, found)

    def _refine(self, text: str, kommun: str | None, found: Match | None) -> Match | None:
        if self.online is None or (found is not None and found.precision in ("point", "street")):
            return found
        if len(text) > MAX_QUERY_CHARS:
            return found
        query = text
        context = self._context(kommun, found)
        if context is not None and fold(context) not in fold(text):
            query = f"{text}, {context}"
        answer = self.online.geocode(query, kommun=self.gazetteer.kommun_key(kommun))
        if answer is None:
            return found
        centre = self._kommun_place(kommun)
        if found is None and centre is not None:
            far = haversine_m(centre.lat, centre.lon, answer.lat, answer.lon) / 1000
            if far > 3 * self.max_distance_km:
                log.info("online answer for %r outside %s; ignored", text, centre.name)
                return None
        if found is not None:
            if PRECISION_RANK[answer.precision] >= PRECISION_RANK[found.precision]:
                return found
            limit = self.max_distance_km * (3 if found.precision == "kommun" else 1)
            if haversine_m(found.lat, found.lon, answer.lat, answer.lon) / 1000 > limit:
                log.info("online answer for %r too far from %s; ignored", text, found.name)
                return found
            locality = found.locality if found.precision == "locality" else None
            return Match(**{**answer.__dict__, "locality": locality})
        return answer

    def _kommun_place(self, kommun: str | None) -> Place | None:
        key = self.gazetteer.kommun_key(kommun)
        if key is None:
            return None
        for p in self.gazetteer.places:
            if p.kommun == key and p.source == "kommun":
                return p
        return None

    def _context(self, kommun: str | None, found: Match | None) -> str | None:
        if found is not None:
            return found.name.removesuffix(" kommun")
        place = self._kommun_place(kommun)
        return None if place is None else place.name.removesuffix(" kommun")

    def geocode_many(
        self,
        texts: Sequence[str | None],
        kommun: str | None = None,
        max_online: int | None = None,
    ) -> pd.DataFrame:
        """:meth:`geocode` for many texts: the gazetteer for all, online for the rest.

        Each distinct text coarser than a street is sent online once (cached); at most
        ``max_online`` distinct texts per call. Returns the columns of
        :meth:`Gazetteer.lookup_many`.
        """
        frame = self.gazetteer.lookup_many(texts, kommun)
        if self.online is None:
            return frame
        todo: dict[str, list[int]] = {}
        for i, text in enumerate(texts):
            if not text or not str(text).strip():
                continue
            if frame.at[i, "precision"] in ("point", "street"):
                continue
            todo.setdefault(str(text), []).append(i)
        for n, (text, rows) in enumerate(todo.items()):
            if max_online is not None and n >= max_online:
                log.info("max_online=%d reached; %d texts left", max_online, len(todo) - n)
                break
            first = rows[0]
            found = None
            if frame.at[first, "precision"] is not None:
                found = self.gazetteer.lookup(text, kommun)
            better = self._refine(text, kommun, found)
            if better is None or better is found:
                continue
            for i in rows:
                frame.loc[i, ["lat", "lon"]] = [better.lat, better.lon]
                frame.at[i, "precision"] = better.precision
                frame.at[i, "locality"] = better.locality
                frame.at[i, "matched"] = better.name
                frame.at[i, "source"] = better.source
                frame.at[i, "approximate"] = better.approximate
        return frame

    def lookup_many(self, texts: Sequence[str | None], kommun: str | None = None) -> pd.DataFrame:
        """:meth:`geocode_many` under the gazetteer's name, so a :class:`Geocoder` can be
        passed wherever a gazetteer is expected (e.g. ``geo.ingest``'s ``geocoder``)."""
        return self.geocode_many(texts, kommun)


__all__ = [
    "PROVIDERS",
    "Geocoder",
    "OnlineGeocoder",
    "nominatim_precision",
    "online_geocoder_from_config",
    "photon_precision",
]
