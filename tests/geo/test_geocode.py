"""Online geocoding against a local stand-in for Nominatim/Photon (never the internet)."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest
from sqlalchemy import func, select

from geo.errors import ConfigError, GeocodingError
from geo.gazetteer import Gazetteer
from geo.geocode import (
    Geocoder,
    OnlineGeocoder,
    nominatim_precision,
    online_geocoder_from_config,
    photon_precision,
)
from geo.store import connect, geocode_cache, upgrade

ROOT = Path(__file__).resolve().parents[2]

#: Canned Nominatim /search answers by (lower-case) query.
ANSWERS: dict[str, list[dict[str, Any]]] = {
    "storgatan 5, rimbo": [
        {
            "lat": "59.74470",
            "lon": "18.36310",
            "display_name": "5, Storgatan, Rimbo, Norrtälje kommun, Sverige",
            "class": "place",
            "type": "house",
            "addresstype": "place",
            "place_rank": 30,
        }
    ],
    "ringvägen, rimbo": [
        {
            "lat": "59.7460",
            "lon": "18.3580",
            "display_name": "Ringvägen, Rimbo, Norrtälje kommun, Sverige",
            "class": "highway",
            "type": "residential",
            "addresstype": "road",
            "place_rank": 26,
        }
    ],
    "ringvägen, norrtälje": [
        {
            "lat": "59.7630",
            "lon": "18.6950",
            "display_name": "Ringvägen, Norrtälje, Sverige",
            "class": "highway",
            "type": "residential",
            "addresstype": "road",
            "place_rank": 26,
        }
    ],
    "storgatan 5, kungsör": [  # a namesake far away from where the text says
        {
            "lat": "55.6050",
            "lon": "13.0038",
            "display_name": "Storgatan 5, Malmö",
            "class": "place",
            "type": "house",
            "addresstype": "place",
            "place_rank": 30,
        }
    ],
    "norrtälje kommun": [
        {
            "lat": "59.84",
            "lon": "18.62",
            "display_name": "Norrtälje kommun",
            "class": "boundary",
            "type": "administrative",
            "addresstype": "municipality",
            "place_rank": 14,
        }
    ],
}


@dataclass
class StandIn:
    url_domain: str
    requests: list[tuple[float, str, dict[str, list[str]]]] = field(default_factory=list)
    fail: bool = False


@pytest.fixture()
def server() -> Iterator[StandIn]:
    state = StandIn("")

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            parsed = urlparse(self.path)
            params = parse_qs(parsed.query)
            state.requests.append((time.monotonic(), parsed.path, params))
            if state.fail:
                self.send_response(500)
                self.end_headers()
                self.wfile.write(b"internal error")
                return
            if parsed.path == "/search":
                body: Any = ANSWERS.get(params.get("q", [""])[0].lower(), [])
            elif parsed.path == "/api":
                q = params.get("q", [""])[0].lower()
                body = {"type": "FeatureCollection", "features": []}
                if q.startswith("storgatan 5"):
                    body["features"].append(
                        {
                            "type": "Feature",
                            "geometry": {"type": "Point", "coordinates": [18.3631, 59.7447]},
                            "properties": {
                                "osm_key": "place",
                                "osm_value": "house",
                                "type": "house",
                                "name": "Storgatan 5",
                            },
                        }
                    )
            else:
                self.send_response(404)
                self.end_headers()
                return
            data = json.dumps(body).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args: object) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.url_domain = f"127.0.0.1:{httpd.server_address[1]}"
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        httpd.shutdown()
        httpd.server_close()


def _online(server: StandIn, **kw: Any) -> OnlineGeocoder:
    kw.setdefault("min_delay_seconds", 0.0)
    return OnlineGeocoder("nominatim", domain=server.url_domain, scheme="http", timeout=5, **kw)


@pytest.fixture(scope="module")
def gaz() -> Gazetteer:
    return Gazetteer.default()


def test_answer_type_sets_precision(server: StandIn) -> None:
    online = _online(server)
    house = online.geocode("Storgatan 5, Rimbo")
    assert house is not None
    assert (house.precision, house.lat, house.lon) == ("point", 59.7447, 18.3631)
    road = online.geocode("Ringvägen, Rimbo")
    assert road is not None and road.precision == "street"
    kommun = online.geocode("Norrtälje kommun")
    assert kommun is not None and kommun.precision == "kommun"
    assert online.geocode("Finns inte 123") is None
    # Nominatim got the country restriction
    assert server.requests[0][2]["countrycodes"] == ["se"]


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ({"class": "place", "type": "house", "addresstype": "place", "place_rank": 30}, "point"),
        ({"class": "amenity", "type": "bus_station", "addresstype": "amenity"}, "point"),
        ({"class": "highway", "type": "bus_stop", "addresstype": "highway"}, "point"),
        ({"class": "highway", "type": "residential", "addresstype": "road"}, "street"),
        ({"class": "place", "type": "town", "addresstype": "town"}, "locality"),
        ({"class": "place", "type": "village", "addresstype": "village"}, "locality"),
        ({"class": "place", "type": "suburb", "addresstype": "suburb"}, "locality"),
        ({"class": "boundary", "type": "administrative", "addresstype": "municipality"}, "kommun"),
        ({"class": "boundary", "type": "administrative", "addresstype": "county"}, None),
        ({"class": "boundary", "type": "administrative", "addresstype": "country"}, None),
        ({"class": "x", "type": "y", "place_rank": 27}, "street"),
        ({"class": "x", "type": "y", "place_rank": 18}, "locality"),
        ({"class": "x", "type": "y", "place_rank": 8}, None),
    ],
)
def test_nominatim_precision(raw: dict[str, Any], expected: str | None) -> None:
    assert nominatim_precision(raw) == expected


@pytest.mark.parametrize(
    ("props", "expected"),
    [
        ({"type": "house"}, "point"),
        ({"type": "street"}, "street"),
        ({"type": "city"}, "locality"),
        ({"type": "district"}, "locality"),
        ({"type": "county"}, "kommun"),
        ({"type": "state"}, None),
        ({"type": "other", "osm_key": "amenity", "osm_value": "bus_station"}, "point"),
        ({"type": "other", "osm_key": "highway", "osm_value": "primary"}, "street"),
    ],
)
def test_photon_precision(props: dict[str, Any], expected: str | None) -> None:
    assert photon_precision({"properties": props}) == expected


def test_photon_provider(server: StandIn) -> None:
    online = OnlineGeocoder("photon", domain=server.url_domain, scheme="http", min_delay_seconds=0)
    m = online.geocode("Storgatan 5, Rimbo")
    assert m is not None and m.precision == "point" and m.source == "photon"
    assert server.requests[-1][1] == "/api"


def test_cache_hit_makes_no_request(server: StandIn, database_url: str) -> None:
    engine = connect(database_url)
    upgrade(engine)
    online = _online(server, cache=engine)
    first = online.geocode("Storgatan 5, Rimbo")
    missing = online.geocode("Finns inte 123")
    assert len(server.requests) == 2
    # a new client on the same database: answers (also "not found") come from the cache
    again = _online(server, cache=engine)
    second = again.geocode("  storgatan 5,   RIMBO ")
    assert again.geocode("Finns inte 123") is None and missing is None
    assert len(server.requests) == 2
    assert again.requests == 0
    assert first == second
    with engine.connect() as conn:
        rows = conn.execute(select(func.count()).select_from(geocode_cache)).scalar_one()
        stored = conn.execute(select(geocode_cache.c.precision, geocode_cache.c.query)).all()
    assert rows == 2
    assert ("point", "storgatan 5, rimbo") in [tuple(r) for r in stored]


def test_rate_limit_spaces_requests(server: StandIn) -> None:
    delay = 0.3
    online = _online(server, min_delay_seconds=delay)
    for q in ("Storgatan 5, Rimbo", "Ringvägen, Rimbo", "Norrtälje kommun", "Finns inte"):
        online.geocode(q)
    times = [t for t, _p, _q in server.requests]
    assert len(times) == 4
    gaps = [b - a for a, b in zip(times, times[1:], strict=False)]
    assert min(gaps) >= delay * 0.9, gaps


def test_default_delay_is_one_second(server: StandIn) -> None:
    online = OnlineGeocoder("nominatim", domain=server.url_domain, scheme="http")
    online.geocode("Storgatan 5, Rimbo")
    online.geocode("Ringvägen, Rimbo")
    t = [r[0] for r in server.requests]
    assert t[1] - t[0] >= 0.95


def test_server_error_raises_geocoding_error(server: StandIn) -> None:
    server.fail = True
    online = _online(server)
    with pytest.raises(GeocodingError, match="nominatim"):
        online.geocode("Storgatan 5, Rimbo")
    assert len(server.requests) == 1  # no retries hammering a failing server


def test_unreachable_server_raises_geocoding_error() -> None:
    online = OnlineGeocoder(
        "nominatim", domain="127.0.0.1:9", scheme="http", timeout=2, min_delay_seconds=0
    )
    with pytest.raises(GeocodingError):
        online.geocode("Storgatan 5, Rimbo")


def test_config() -> None:
    assert online_geocoder_from_config({"GEOCODER": ""}) is None
    online = online_geocoder_from_config(
        {"GEOCODER": "photon", "GEOCODER_DOMAIN": "geo.example.se", "GEOCODER_MIN_DELAY": "2"}
    )
    assert online is not None and online.provider == "photon" and online.domain == "geo.example.se"
    with pytest.raises(ConfigError):
        online_geocoder_from_config({"GEOCODER": "google"})


def test_combined_tries_gazetteer_first(server: StandIn, gaz: Gazetteer) -> None:
    geo = Geocoder(gaz, _online(server))
    m = geo.geocode("Bråk vid busstationen", kommun="norrtalje")
    assert m is not None and m.name == "Busstorget" and m.source == "project"
    assert server.requests == []  # a point from the gazetteer needs no online lookup
    # the gazetteer knows only the locality; online finds the house, in that locality
    m = geo.geocode("Storgatan 5, Rimbo", kommun="norrtalje")
    assert m is not None and m.precision == "point" and m.source == "nominatim"
    assert m.locality == "0188TB111"
    assert server.requests[-1][2]["q"] == ["storgatan 5, rimbo"]


def test_combined_rejects_far_namesake_and_keeps_gazetteer(server: StandIn, gaz: Gazetteer) -> None:
    geo = Geocoder(gaz, _online(server))
    m = geo.geocode("Storgatan 5, Kungsör", kommun="kungsor")
    assert m is not None and m.precision == "locality" and m.name == "Kungsör"


def test_combined_offline_and_many(server: StandIn, gaz: Gazetteer) -> None:
    offline = Geocoder(gaz)
    m = offline.geocode("Storgatan 5, Rimbo", kommun="norrtalje")
    assert m is not None and m.precision == "locality"
    geo = Geocoder(gaz, _online(server))
    texts = ["Storgatan 5, Rimbo", "busstationen", "Storgatan 5, Rimbo", None, "Ringvägen"]
    frame = geo.geocode_many(texts, kommun="norrtalje")
    assert frame["precision"].tolist() == ["point", "point", "point", None, "street"]
    assert frame["source"].tolist()[:3] == ["nominatim", "project", "nominatim"]
    # "Storgatan 5, Rimbo" asked once; "Ringvägen" asked with the kommun as context
    queries = [r[2]["q"][0] for r in server.requests]
    assert queries.count("storgatan 5, rimbo") == 1
    assert "ringvägen, norrtälje" in queries
    # the same answers through the gazetteer's interface (what geo.ingest calls)
    again = geo.lookup_many(texts, kommun="norrtalje")
    assert again["precision"].tolist() == frame["precision"].tolist()


def test_ingest_command_uses_the_configured_online_geocoder(
    server: StandIn, tmp_path: Path
) -> None:
    import pandas as pd
    from click.testing import CliRunner
    from sqlalchemy import create_engine, text

    from webmap.cli import main

    path = tmp_path / "rapporter.csv"
    pd.DataFrame(
        {
            "external_id": ["a1"],
            "occurred_at": ["2024-05-01 22:10"],
            "category": ["klotter"],
            "location_text": ["Storgatan 5, Rimbo"],
        }
    ).to_csv(path, index=False)
    args = ["ingest", str(path), "--kommun", "norrtalje", "--source", "actor", "--json"]
    precisions = {}
    for mode, extra in (
        ("offline", {}),
        (
            "online",
            {
                "LAGESBILD_GEOCODER": "nominatim",
                "LAGESBILD_GEOCODER_DOMAIN": server.url_domain,
                "LAGESBILD_GEOCODER_SCHEME": "http",
                "LAGESBILD_GEOCODER_MIN_DELAY": "0",
            },
        ),
    ):
        db_url = f"sqlite:///{tmp_path / mode}.db"
        res = CliRunner().invoke(main, args, env={"LAGESBILD_DATABASE_URL": db_url, **extra})
        assert res.exit_code == 0, res.output
        assert json.loads(res.stdout)["stored"] == 1
        engine = create_engine(db_url)
        with engine.connect() as conn:
            precisions[mode] = conn.execute(text("select precision from report")).scalar_one()
        engine.dispose()
    assert precisions == {"offline": "locality", "online": "point"}
    assert [r[2]["q"][0] for r in server.requests] == ["storgatan 5, rimbo"]
