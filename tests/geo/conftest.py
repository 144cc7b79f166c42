"""Shared fixtures of the geo tests: a real, migrated database (SQLite and PostgreSQL)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine

from geo.store import connect, upgrade
from geo.tenants import seed_default_tenants

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "fixtures"


@pytest.fixture
def db_url(migrated_database_url: str) -> str:
    """URL of the test's database: an SQLite file in ``tmp_path`` or a PostGIS database."""
    return migrated_database_url


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    """Migrated database with the shipped tenants (Norrtälje, Kungsör, Sölvesborg) seeded."""
    eng = connect(db_url)
    upgrade(eng)
    with eng.begin() as conn:
        seed_default_tenants(conn)
    yield eng
    eng.dispose()


@pytest.fixture
def vancouver_engine(engine: Engine) -> Engine:
    """``engine`` plus the tenant ``vancouver`` with the City of Vancouver neighbourhoods."""
    from geo.tenants import import_boundary_file

    with engine.begin() as conn:
        import_boundary_file(
            conn,
            FIXTURES / "vancouver" / "vancouver_neighbourhoods.geojson",
            name_field="name",
            code_field="mapid",
            kommun="vancouver",
            timezone="America/Vancouver",
        )
    return engine
