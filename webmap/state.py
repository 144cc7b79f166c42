"""Per-app state kept in ``app.extensions["lagesbild"]`` (no module-level mutable globals).

Views reach it through :func:`current_state` / :func:`get_engine`; pure code receives
what it needs as arguments.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from flask import current_app
from sqlalchemy import Engine

from webmap.privacy import DailySalt

EXTENSION_KEY = "lagesbild"


@dataclass
class AppState:
    """Everything one app instance shares between requests.

    Attributes
    ----------
    engine
        SQLAlchemy engine of the app's database (migrations applied).
    config
        The settings the app was created with.
    instance_dir
        Folder for the secret key, the result cache and other local files.
    salt
        Daily rotating salt of :func:`webmap.privacy.client_key`.
    limiter
        The app's :class:`flask_limiter.Limiter` (``limiter.limit(...)`` works as a
        context manager inside a view).
    public_endpoints
        Endpoints reachable without login (collected from the blueprint modules).
    extras
        Room for other areas' per-app objects (e.g. the result store).
    """

    engine: Engine
    config: dict[str, Any]
    instance_dir: Path
    salt: DailySalt = field(default_factory=DailySalt)
    limiter: Any = None
    public_endpoints: set[str] = field(default_factory=set)
    extras: dict[str, Any] = field(default_factory=dict)


def current_state() -> AppState:
    """State of the app handling the current request (or app context)."""
    return current_app.extensions[EXTENSION_KEY]  # type: ignore[no-any-return]


def get_engine() -> Engine:
    """Database engine of the current app."""
    return current_state().engine
