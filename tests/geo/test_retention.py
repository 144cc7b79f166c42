"""Retention of citizen free text (geo.retention)."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest
from sqlalchemy import select

from geo.cells import cells_to_points, points_to_cells
from geo.errors import ValidationError
from geo.retention import RETAINED_PREFIX, purge_citizen_text
from geo.store.tables import quarantine, report

NOW = dt.datetime(2026, 6, 1, 12, 0)
LAT, LON = 59.7577, 18.6990


# ``engine`` (tests/geo/conftest.py): migrated, tenants seeded, SQLite and PostgreSQL


def _add(
    conn,
    source: str,
    age_days: int,
    text: str | None = "Anna Svensson 070-123 45 67",
    kommun="norrtalje",
) -> int:
    when = NOW - dt.timedelta(days=age_days)
    cell = int(points_to_cells(np.array([LAT]), np.array([LON]), 10)[0])
    res = conn.execute(
        report.insert().values(
            kommun=kommun,
            source=source,
            external_id=None,
            fingerprint=f"fp-{source}-{age_days}-{text}",
            occurred_at=when,
            reported_at=when,
            category="otrygg_plats",
            description=text,
            location_text="vid kiosken",
            lat=LAT,
            lon=LON,
            precision="point",
            locality="0188TC109",
            cell=np.int64(np.uint64(cell)).item(),
            status="approved",
            created_at=when,
        )
    )
    return int(res.inserted_primary_key[0])


def test_old_citizen_text_is_deleted_and_the_rest_kept(engine) -> None:
    with engine.begin() as conn:
        old = _add(conn, "citizen", 200)
        young = _add(conn, "citizen", 10)
        actor = _add(conn, "actor", 400)
        conn.execute(
            quarantine.insert().values(
                kommun="norrtalje",
                source="citizen",
                reason="outside_boundary",
                raw={"description": "Anna Svensson"},
                raw_fingerprint="q1",
                created_at=NOW - dt.timedelta(days=300),
            )
        )
    hooked: list[list[int]] = []
    with engine.begin() as conn:
        result = purge_citizen_text(
            conn, days=180, now=NOW, on_purged=[lambda c, ids: hooked.append(ids)]
        )
    assert result.reports == 1 and result.quarantined == 1
    summary = result.to_dict()
    assert summary["descriptions_deleted"] == 1 and summary["positions_coarsened"] == 1
    assert hooked == [[old]]
    with engine.connect() as conn:
        rows = {r.id: r for r in conn.execute(select(report))}
        assert conn.execute(select(quarantine)).all() == []
    r = rows[old]
    assert r.description is None and r.location_text is None
    assert r.category == "otrygg_plats" and r.cell is not None and r.status == "approved"
    assert r.occurred_at == NOW - dt.timedelta(days=200)
    clat, clon = cells_to_points(np.array([np.uint64(np.int64(r.cell).view(np.uint64))]))
    assert (r.lat, r.lon) == pytest.approx((clat[0], clon[0]))
    assert (r.lat, r.lon) != (LAT, LON)
    assert r.fingerprint.startswith(RETAINED_PREFIX) and "Anna" not in r.fingerprint
    # younger citizen text and other sources are untouched
    assert rows[young].description is not None and rows[young].lat == LAT
    assert rows[actor].description is not None


def test_second_run_deletes_nothing_and_dry_run_changes_nothing(engine) -> None:
    with engine.begin() as conn:
        _add(conn, "citizen", 200)
    with engine.begin() as conn:
        dry = purge_citizen_text(conn, days=180, now=NOW, dry_run=True)
    assert dry.reports == 1 and dry.dry_run
    with engine.connect() as conn:
        assert conn.execute(select(report.c.description)).scalar_one() is not None
    with engine.begin() as conn:
        assert purge_citizen_text(conn, days=180, now=NOW).reports == 1
    with engine.begin() as conn:
        assert purge_citizen_text(conn, days=180, now=NOW).reports == 0


def test_tenant_setting_sets_the_period(engine) -> None:
    from geo.store.tables import kommun as kommun_table

    with engine.begin() as conn:
        _add(conn, "citizen", 40)
        settings = conn.execute(
            select(kommun_table.c.settings).where(kommun_table.c.key == "norrtalje")
        ).scalar_one()
        conn.execute(
            kommun_table.update()
            .where(kommun_table.c.key == "norrtalje")
            .values(settings={**settings, "citizen_text_retention_days": 30})
        )
    with engine.begin() as conn:
        result = purge_citizen_text(conn, now=NOW)
    by_kommun = {k.kommun: k for k in result.kommuner}
    assert by_kommun["norrtalje"].days == 30 and by_kommun["norrtalje"].reports == 1
    assert by_kommun["kungsor"].days == 180 and by_kommun["kungsor"].reports == 0


def test_bad_arguments(engine) -> None:
    with engine.begin() as conn, pytest.raises(ValidationError):
        purge_citizen_text(conn, days=0, now=NOW)
    with engine.begin() as conn, pytest.raises(ValidationError):
        purge_citizen_text(conn, kommun="atlantis", now=NOW)
