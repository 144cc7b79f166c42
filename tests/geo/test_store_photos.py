"""Rows of citizens' photos (``citizen_photo``) on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import Engine

from geo.store import photos as store
from geo.store.citizen import citizen_report_row, insert_citizen_report
from geo.store.db import utcnow
from geo.tenants import list_tenants, seed_default_tenants


def _report(engine: Engine, receipt: str) -> int:
    with engine.begin() as conn:
        if not list_tenants(conn):
            seed_default_tenants(conn)
    now = utcnow().replace(microsecond=0)
    fields = {
        "kommun": "norrtalje",
        "occurred_at": dt.datetime(2026, 1, 1),
        "category": "belysning",
        "description": None,
        "place": None,
        "lat": 59.76,
        "lon": 18.70,
        "precision": "point",
        "locality": None,
    }
    citizen = {
        "kommun": "norrtalje",
        "receipt": receipt,
        "idempotency_key": None,
        "channel": "api",
        "api_key_id": None,
        "time_of_day": None,
        "pii_flags": [],
        "text_salt": None,
        "submitted_at": now,
        "moderated_at": None,
        "moderated_by": None,
        "text_deleted_at": None,
    }
    return insert_citizen_report(engine, None, citizen_report_row(fields, receipt, now), citizen)


def test_photo_rows_are_stored_decided_once_and_deleted(engine: Engine) -> None:
    first = _report(engine, "7KQM-29XA-3FHD")
    other = _report(engine, "7KQM-29XA-3FHE")
    with engine.begin() as conn:
        a = store.add_photo(conn, first, "namn-a", 2048, 1365, 123_456)
        b = store.add_photo(conn, first, "namn-b", 800, 600, 50_000)
        c = store.add_photo(conn, other, "namn-c", 10, 20, 300)
    with engine.connect() as conn:
        assert store.photo_count(conn, first) == 2 and store.photo_count(conn, other) == 1
        rows = store.photos_of(conn, [first, other])
        assert [r["name"] for r in rows] == ["namn-a", "namn-b", "namn-c"]
        assert {r["status"] for r in rows} == {"pending"}
        assert (rows[0]["width"], rows[0]["height"], rows[0]["bytes"]) == (2048, 1365, 123_456)
        found = store.photo_by_id(conn, a)
        assert found is not None and found["receipt"] == "7KQM-29XA-3FHD"
        assert found["kommun"] == "norrtalje"
        assert store.photo_by_name(conn, "namn-c")["id"] == c  # type: ignore[index]
        assert store.photo_by_name(conn, "finns-inte") is None

    with engine.begin() as conn:
        assert store.set_photo_status(conn, a, "approved", "anna")
        assert store.set_photo_status(conn, b, "rejected", "anna")
        assert not store.set_photo_status(conn, a, "rejected", "bertil")  # decided already
        with pytest.raises(ValueError):
            store.set_photo_status(conn, c, "pending", "anna")
    with engine.connect() as conn:
        approved = store.photos_of(conn, [first], "approved")
        assert [r["id"] for r in approved] == [a]
        assert approved[0]["decided_by"] == "anna" and approved[0]["decided_at"] is not None

    with engine.begin() as conn:
        store.delete_photo_rows(conn, [a, b])
    with engine.connect() as conn:
        assert store.photos_of(conn, [first]) == [] and store.photo_count(conn, other) == 1
