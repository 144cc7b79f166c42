"""Per-app state kept in ``app.extensions["lagesbild"]`` (no module-level mutable globals).

:class:`AppState` is built once by :func:`webmap.app.create_app` with every per-app
object already in place (no lazily created entries, no locks around them). Views reach it
through :func:`current_state` / :func:`get_engine`; pure code receives what it needs as
arguments.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from flask import current_app

from webmap.privacy import DailySalt

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from geo.gazetteer import Gazetteer
    from webmap.citizen.runtime import CitizenRuntime
    from webmap.patrol.plan import PatrolRuntime
    from webmap.payloads import PayloadCache
    from webmap.public.map_page import PublicCache
    from webmap.results import ResultStore

EXTENSION_KEY = "lagesbild"


class SharedGazetteer:
    """The offline gazetteer of one app, loaded once on first use and then shared."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._gazetteer: Gazetteer | None = None

    def get(self) -> Gazetteer:
        """The gazetteer of every Swedish kommun (:meth:`geo.gazetteer.Gazetteer.default`)."""
        with self._lock:
            if self._gazetteer is None:
                from geo.gazetteer import Gazetteer

                self._gazetteer = Gazetteer.default()
            return self._gazetteer


@dataclass(frozen=True)
class Caches:
    """Per-app caches keyed by kommun (each entry checks its own data version)."""

    boundaries: dict[tuple[str, str], tuple[int, Any]] = field(default_factory=dict)
    place_labels: dict[str, list[tuple[str, float, float, str]]] = field(default_factory=dict)
    public_localities: dict[Any, Any] = field(default_factory=dict)
    public_cells: dict[Any, Any] = field(default_factory=dict)
    locality_geometries: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
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
    default_kommun
        Tenant of requests that name none (setting ``DEFAULT_KOMMUN``).
    limiter
        The app's :class:`flask_limiter.Limiter` (``limiter.limit(...)`` works as a
        context manager inside a view).
    results
        Analysis results per kommun and data version.
    citizen
        Citizen channel: writer connection, write lock, kommun extents.
    patrol
        Patrol plans cache and observation write lock.
    public_cache
        Public (k-suppressed) tables per kommun, data version and snapshot.
    payloads
        Ready page and API payloads shared by every server process (on disk).
    gazetteer
        The offline gazetteer, loaded once for the whole app.
    salt
        Daily rotating salt of :func:`webmap.privacy.client_key`.
    public_endpoints
        Endpoints reachable without login (collected from the blueprint modules).
    nav
        Navigation entries ``(endpoint, label, roles)`` of the blueprint modules.
    caches
        Boundaries, place labels and public layers per kommun.
    """

    engine: Engine
    config: Mapping[str, Any]
    instance_dir: Path
    default_kommun: str
    limiter: Any
    results: ResultStore
    citizen: CitizenRuntime
    patrol: PatrolRuntime
    public_cache: PublicCache
    payloads: PayloadCache
    gazetteer: SharedGazetteer = field(default_factory=SharedGazetteer)
    salt: DailySalt = field(default_factory=DailySalt)
    public_endpoints: set[str] = field(default_factory=set)
    nav: list[tuple[str, str, tuple[str, ...]]] = field(default_factory=list)
    caches: Caches = field(default_factory=Caches)


def current_state() -> AppState:
    """State of the app handling the current request (or app context)."""
    return current_app.extensions[EXTENSION_KEY]  # type: ignore[no-any-return]


def get_engine() -> Engine:
    """Database engine of the current app."""
    return current_state().engine


def default_kommun() -> str:
    """The current app's default tenant (see :attr:`AppState.default_kommun`)."""
    return current_state().default_kommun
