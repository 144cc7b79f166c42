"""Test plugin: the database dialects every store-backed test runs against.

Loaded for the whole suite by ``-p lagesbild_db`` in ``pyproject.toml`` (this folder is
on the test ``pythonpath``; it holds only plugins, so nothing shadows the packages).

``db_dialect``
    ``"sqlite"`` and ``"postgresql"``: a test whose fixtures include ``database_url``
    (directly or through ``engine``/``db_url`` in ``tests/geo`` or ``app`` in
    ``tests/webmap``) runs once per dialect. Browser tests run on SQLite only; a test
    marked ``@pytest.mark.dialects("postgresql")`` only on the dialects it names.
``postgres_server``
    The throwaway PostgreSQL/PostGIS cluster of the session (:mod:`lagesbild_pg`), started
    on first use and stopped at the end.
``database_url``
    URL of a fresh, empty database of the test's dialect (an SQLite file in
    ``tmp_path``, or a new PostgreSQL database with PostGIS, dropped afterwards).
``migrated_database_url``
    The same, but a PostgreSQL database is already at the newest migration (cloned from
    a migrated template); for fixtures that call ``upgrade`` anyway (an SQLite file is
    migrated by them in a few milliseconds).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from lagesbild_pg import PostgresServer

DIALECTS: tuple[str, ...] = ("sqlite", "postgresql")


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "db_dialect" in metafunc.fixturenames:
        chosen = metafunc.definition.get_closest_marker("dialects")
        if chosen is not None:
            dialects = list(chosen.args)
        elif metafunc.definition.get_closest_marker("browser") is not None:
            dialects = ["sqlite"]
        else:
            dialects = list(DIALECTS)
        metafunc.parametrize("db_dialect", dialects)


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """The session's PostgreSQL/PostGIS cluster (127.0.0.1, free port, temporary folder)."""
    server = PostgresServer()
    try:
        server.start()
        yield server
    finally:
        server.stop()


def _database(
    db_dialect: str, tmp_path: Path, request: pytest.FixtureRequest, migrated: bool
) -> Iterator[str]:
    if db_dialect == "sqlite":
        yield f"sqlite:///{tmp_path / 'lagesbild.db'}"
        return
    server: PostgresServer = request.getfixturevalue("postgres_server")
    url = server.new_database(migrated=migrated)
    try:
        yield url
    finally:
        server.drop_database(url)


@pytest.fixture
def database_url(db_dialect: str, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[str]:
    """A fresh empty database of ``db_dialect``; PostgreSQL ones have PostGIS."""
    yield from _database(db_dialect, tmp_path, request, migrated=False)


@pytest.fixture
def migrated_database_url(
    db_dialect: str, tmp_path: Path, request: pytest.FixtureRequest
) -> Iterator[str]:
    """Like ``database_url``; a PostgreSQL database is already migrated."""
    yield from _database(db_dialect, tmp_path, request, migrated=True)
