"""The app factory: database, extensions, headers, static assets, secret key."""

from __future__ import annotations

import dataclasses
import threading
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import inspect

from webmap.app import content_security_policy, create_app, tile_origin
from webmap.config import ProductionConfig, TestConfig, load_config
from webmap.state import EXTENSION_KEY


def test_engine_is_kept_in_extensions_and_migrations_ran(app: Any) -> None:
    state = app.extensions[EXTENSION_KEY]
    names = set(inspect(state.engine).get_table_names())
    assert {"users", "report", "kommun", "actions", "action_followups"} <= names


def test_app_state_is_typed_and_complete_before_the_first_request(app: Any) -> None:
    state = app.extensions[EXTENSION_KEY]
    with pytest.raises(dataclasses.FrozenInstanceError):
        state.engine = None
    # on SQLite the citizen writer and its WAL checkpoint thread exist before any request;
    # PostgreSQL has many writers and no WAL file to checkpoint: neither is made there
    sqlite = state.engine.dialect.name == "sqlite"
    assert (state.citizen.writer is not None) is sqlite
    checkpointing = any(t.name == "lagesbild-wal-checkpoint" for t in threading.enumerate())
    assert checkpointing or not sqlite
    # one gazetteer for the whole app, shared by the citizen and patrol pages
    assert state.citizen.places == state.gazetteer.get == state.patrol.gazetteer
    assert state.default_kommun == app.config["DEFAULT_KOMMUN"] == "norrtalje"
    assert not hasattr(state, "extras")


def test_security_headers_and_strict_csp(client: Any) -> None:
    resp = client.get("/")
    csp = resp.headers["Content-Security-Policy"]
    assert "default-src 'self'" in csp
    assert "script-src 'self' 'nonce-" in csp
    assert "http" not in csp  # no tile host and no third-party host when TILES=""
    assert resp.headers["X-Content-Type-Options"] == "nosniff"
    assert resp.headers["X-Frame-Options"] == "DENY"


def test_csp_allows_the_configured_tile_host_only() -> None:
    assert tile_origin("https://{s}.tile.example.org/{z}/{x}/{y}.png") == (
        "https://*.tile.example.org"
    )
    csp = content_security_policy("abc", "https://tile.openstreetmap.org/{z}/{x}/{y}.png")
    assert "img-src 'self' data: https://tile.openstreetmap.org" in csp
    assert "script-src 'self' 'nonce-abc'" in csp


def test_leaflet_is_served_by_the_app(client: Any) -> None:
    js = client.get("/static/vendor/leaflet/leaflet.js")
    assert js.status_code == 200 and b"Leaflet" in js.data[:2000]
    css = client.get("/static/vendor/leaflet/leaflet.css")
    assert css.status_code == 200 and b".leaflet-" in css.data
    assert client.get("/static/vendor/h3-js/h3-js.umd.js").status_code == 200


def test_secret_key_is_generated_once_into_instance(tmp_path: Path) -> None:
    cfg = load_config(
        TestConfig,
        env={},
        DATABASE_URL=f"sqlite:///{tmp_path / 'a.db'}",
        INSTANCE_DIR=str(tmp_path / "inst"),
        SECRET_KEY=None,
    )
    first = create_app(dict(cfg))
    key_file = tmp_path / "inst" / "secret_key"
    assert key_file.exists()
    assert oct(key_file.stat().st_mode & 0o777) == "0o600"
    second = create_app(dict(cfg))
    assert first.config["SECRET_KEY"] == second.config["SECRET_KEY"]
    assert len(first.config["SECRET_KEY"]) >= 32


def test_production_config_has_secure_cookies(tmp_path: Path) -> None:
    cfg = load_config(
        ProductionConfig,
        env={},
        DATABASE_URL=f"sqlite:///{tmp_path / 'p.db'}",
        INSTANCE_DIR=str(tmp_path / "inst"),
    )
    app = create_app(cfg)
    assert app.config["SESSION_COOKIE_SECURE"] is True
    assert app.config["SESSION_COOKIE_HTTPONLY"] is True
    assert app.config["SESSION_COOKIE_SAMESITE"] == "Lax"
    resp = app.test_client().get("/")
    assert "Strict-Transport-Security" in resp.headers


def test_english_is_available_and_swedish_is_default(client: Any) -> None:
    assert "Logga in" in client.get("/logga-in").get_data(as_text=True)
    client.get("/sprak/en")
    page = client.get("/logga-in").get_data(as_text=True)
    assert "Log in" in page and "Username" in page
    client.get("/sprak/sv")
    assert "Logga in" in client.get("/logga-in").get_data(as_text=True)


def test_oversized_bodies_are_refused_with_a_swedish_reason(app: Any, client: Any) -> None:
    big = {"username": "x" * (app.config["MAX_CONTENT_LENGTH"] + 1), "password": "y"}
    resp = client.post("/logga-in", data=big)
    assert resp.status_code == 413
    assert "för stor" in resp.get_data(as_text=True)
    # the same limit holds on the Open311 endpoint (form-encoded, its own error format)
    resp = client.post("/open311/v2/requests.json", data=big)
    assert resp.status_code == 413


def test_tiles_default_to_osm_and_presets_resolve(tmp_path: Path) -> None:
    from geo.tenants import seed_default_tenants
    from webmap.config import Config

    assert load_config(Config, env={})["TILES"] == "osm"  # a served install: OpenStreetMap
    assert load_config(Config, env={"LAGESBILD_TILES": ""})["TILES"] == ""
    for preset, host in (
        ("osm", "https://tile.openstreetmap.org"),
        ("lantmateriet", "https://minkarta.lantmateriet.se"),
    ):
        cfg = load_config(
            TestConfig,
            env={"LAGESBILD_TILES": preset},
            DATABASE_URL=f"sqlite:///{tmp_path / (preset + '.db')}",
            INSTANCE_DIR=str(tmp_path / preset),
        )
        app = create_app(cfg)
        with app.extensions[EXTENSION_KEY].engine.begin() as conn:
            seed_default_tenants(conn)
        client = app.test_client()
        resp = client.get("/karta/publik?kommun=norrtalje")
        assert resp.status_code == 200
        assert f"img-src 'self' data: {host}" in resp.headers["Content-Security-Policy"]
        html = resp.get_data(as_text=True)
        assert host in html and '"tiles": "' + preset + '"' not in html


def test_make_run_serves_without_tiles_unless_asked() -> None:
    """The local demo (`make run`) makes no request to any host but the app."""
    import os
    import subprocess

    root = Path(__file__).resolve().parents[2]
    env = {k: v for k, v in os.environ.items() if k != "LAGESBILD_TILES"}

    def serve_line(extra: list[str]) -> str:
        out = subprocess.run(
            ["make", "-n", "run", *extra],
            cwd=root,
            env=env,
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        return next(line for line in out.splitlines() if "lagesbild serve" in line)

    assert serve_line([]).startswith('LAGESBILD_TILES="" ')
    assert serve_line(["LAGESBILD_TILES=osm"]).startswith('LAGESBILD_TILES="osm" ')


def test_templates_speak_the_language_each_request_chose(app: Any) -> None:
    swedish, english = app.test_client(), app.test_client()
    english.get("/sprak/en")
    for _ in range(2):  # alternate so that no lookup outlives its request
        assert "Logga in" in swedish.get("/logga-in").get_data(as_text=True)
        page = english.get("/logga-in").get_data(as_text=True)
        assert "Log in" in page and "Logga in" not in page
