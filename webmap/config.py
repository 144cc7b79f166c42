"""Configuration of the web app and the command line.

Settings come from a config class and can be overridden by environment variables with
the ``LAGESBILD_`` prefix (e.g. ``LAGESBILD_DATABASE_URL``). Nothing is read from global
mutable state: :func:`load_config` returns a plain dict handed to ``create_app``.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from geo.errors import ConfigError

PREFIX = "LAGESBILD_"


class Config:
    """Defaults for a local installation (embedded SQLite under ``instance/``)."""

    DATABASE_URL = f"sqlite:///{Path.cwd() / 'instance' / 'lagesbild.db'}"
    SECRET_KEY: str | None = None  # generated and kept in instance/ when missing
    INSTANCE_DIR = str(Path.cwd() / "instance")
    #: Background tiles: a preset ("osm", the default, or "lantmateriet"), a URL template
    #: with {z}/{x}/{y}, or "" for none (offline, intranet: no request leaves the app and
    #: place names are drawn instead; `make run` uses ""). Tiles send the viewer's
    #: address and map area to the tile host.
    TILES = "osm"
    #: Attribution of the tiles ("" = the preset's own).
    TILES_ATTRIBUTION = ""
    #: Tenant of requests and commands that name none (the one place of this default).
    DEFAULT_KOMMUN = "norrtalje"
    #: Create the shipped tenants (with approximate boundaries) in an empty database.
    SEED_DEFAULT_TENANTS = True
    BABEL_DEFAULT_LOCALE = "sv"
    BABEL_DEFAULT_TIMEZONE = "Europe/Stockholm"
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = False  # set True behind HTTPS (ProductionConfig)
    WTF_CSRF_ENABLED = True
    RATELIMIT_ENABLED = True
    #: Rate-limit counters: in this process, expired ones cleaned once a second. Several
    #: server processes count separately; use e.g. "redis://host:6379" for shared limits.
    RATELIMIT_STORAGE_URI = "lagesbild-memory://"
    TESTING = False
    #: Per-client limits (Flask-Limiter syntax) of citizen submissions, receipt look-ups and
    #: the public read APIs. Clients are keyed by a salted daily hash of their address.
    CITIZEN_RATE_LIMIT = "10/minute;60/hour"
    RECEIPT_RATE_LIMIT = "30/minute"
    API_READ_RATE_LIMIT = "120/minute"
    #: Header with the client address set by a trusted reverse proxy (e.g.
    #: "X-Forwarded-For"); empty: the socket address. Only hashed, never stored.
    TRUSTED_PROXY_HEADER = ""
    #: When public numbers change: "week" (Monday 00:00, default), "day" or "live"; a
    #: tenant's ``public_snapshot`` setting overrides it.
    PUBLIC_SNAPSHOT = "week"
    #: Seconds an anonymous public page or API answer is replayed from its recorded copy
    #: before Flask answers again (:mod:`webmap.public.replay`); 0 turns replay off.
    PUBLIC_REPLAY_SECONDS = 1.0
    #: Answer ordinary ``POST /api/reports`` without Flask's request machinery
    #: (:mod:`webmap.citizen.fast_submit`; same checks, rows and answers).
    FAST_SUBMIT = True
    #: Largest request body in bytes (Flask refuses larger ones with 413 before reading
    #: them). The citizen API has its own, smaller limit (64 kB).
    MAX_CONTENT_LENGTH = 1_048_576
    #: Seconds between SQLite WAL checkpoints of the citizen-submission writer.
    SQLITE_CHECKPOINT_SECONDS = 1.0
    #: Appended to static asset URLs (cache busting after an upgrade).
    ASSET_VERSION = "1"
    #: Online geocoder for addresses the offline gazetteer does not know: "" (off, the
    #: default), "nominatim" or "photon". Answers are cached in the database and calls are
    #: spaced by GEOCODER_MIN_DELAY seconds.
    GEOCODER = ""
    GEOCODER_DOMAIN = ""
    GEOCODER_SCHEME = "https"
    GEOCODER_USER_AGENT = "lagesbild"
    GEOCODER_MIN_DELAY = 1.0
    GEOCODER_TIMEOUT = 10.0
    GEOCODER_COUNTRY_CODES = "se"
    #: Outgoing mail: off unless SMTP_HOST is set. Every message waits in the outbox
    #: until the server accepts it (retries with back-off; ``lagesbild mail send``).
    SMTP_HOST = ""
    SMTP_PORT = 25
    SMTP_USER = ""
    SMTP_PASSWORD = ""
    SMTP_STARTTLS = False
    MAIL_FROM = "lagesbild@localhost"
    #: Seconds between sending rounds of the mail worker in ``serve``.
    MAIL_INTERVAL = 30.0
    #: Public address of the installation, used for links in mail (no trailing slash).
    BASE_URL = "http://localhost:8000"


class ProductionConfig(Config):
    """Behind HTTPS: secure cookies."""

    SESSION_COOKIE_SECURE = True


class TestConfig(Config):
    """Used by the test-suite: no tiles, deterministic secret."""

    TESTING = True
    TILES = ""
    SECRET_KEY = "test-secret-key-not-for-production"
    #: Tests change data and read it back at once; replay is tested on its own.
    PUBLIC_REPLAY_SECONDS = 0.0


_TRUE = frozenset({"1", "true", "yes", "on", "ja"})
_FALSE = frozenset({"0", "false", "no", "off", "nej", ""})


def _coerce(raw: str, default: Any) -> Any:
    """``raw`` as the type of ``default``; :class:`ValueError` saying why when it is not."""
    if isinstance(default, bool):
        word = raw.strip().lower()
        if word not in _TRUE | _FALSE:
            raise ValueError(f"{raw!r} är inte sant/falskt (true/false, ja/nej, 1/0)")
        return word in _TRUE
    try:
        if isinstance(default, int):
            return int(raw)
        if isinstance(default, float):
            return float(raw)
        if isinstance(default, (list, dict)):
            value = json.loads(raw)
            if not isinstance(value, type(default)):
                raise ValueError(type(default).__name__)
            return value
    except ValueError as exc:
        kind = {int: "ett heltal", float: "ett tal"}.get(type(default), "JSON av rätt slag")
        raise ValueError(f"{raw!r} är inte {kind}") from exc
    return raw


def load_config(
    base: type[Config] = Config, env: dict[str, str] | None = None, **overrides: Any
) -> dict[str, Any]:
    """Collect settings: class defaults, then ``LAGESBILD_*`` variables, then ``overrides``.

    Raises
    ------
    geo.errors.ConfigError
        Naming every declared variable whose value is not of its setting's type.
    """
    env = dict(os.environ if env is None else env)
    out: dict[str, Any] = {
        k: getattr(base, k) for k in dir(base) if k.isupper() and not k.startswith("_")
    }
    problems = []
    for key, default in list(out.items()):
        raw = env.get(PREFIX + key)
        if raw is not None:
            try:
                out[key] = _coerce(raw, default)
            except ValueError as exc:
                problems.append(f"{PREFIX}{key}: {exc}")
    if problems:
        raise ConfigError("Felaktiga inställningar: " + "; ".join(problems))
    for key, raw in env.items():
        if key.startswith(PREFIX) and key[len(PREFIX) :] not in out:
            out[key[len(PREFIX) :]] = raw
    out.update(overrides)
    return out
