"""The storage layer: one MetaData, one migration history, databases of earlier layouts."""

from __future__ import annotations

from alembic import command
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text

from geo.store import connect, kommun, metadata, upgrade, utcnow
from geo.store.db import migration_config

#: The newest revision: every database ends there.

#: Heads of a database migrated before all tables moved into geo.store (one per branch).
OLD_HEADS = ("webmap_0002", "citizen_0001", "patrol_0001")


def _heads(engine) -> set[str]:  # type: ignore[no-untyped-def]
    with engine.connect() as conn:
        return set(conn.execute(text("SELECT version_num FROM alembic_version")).scalars())


def _script_head() -> set[str]:
    """The one revision no other revision follows or depends on (the newest)."""
    with connect("sqlite://").connect() as conn:
        revisions = list(ScriptDirectory.from_config(migration_config(conn)).walk_revisions())
    referenced = set()
    for rev in revisions:
        referenced |= set(rev._all_down_revisions)
    heads = {rev.revision for rev in revisions} - referenced
    assert len(heads) == 1, heads
    return heads


def test_upgrade_creates_every_table_of_the_one_metadata(database_url: str) -> None:
    engine = connect(database_url)
    upgrade(engine)
    tables = set(inspect(engine).get_table_names()) - {"spatial_ref_sys"}  # PostGIS's own
    assert tables == set(metadata.tables) | {"alembic_version"}
    assert _heads(engine) == _script_head()
    upgrade(engine)  # idempotent
    assert _heads(engine) == _script_head()
    engine.dispose()


def test_database_of_the_former_branches_upgrades_to_one_head(database_url: str) -> None:
    engine = connect(database_url)
    with engine.begin() as conn:
        for head in OLD_HEADS:
            command.upgrade(migration_config(conn), head)
    assert _heads(engine) == set(OLD_HEADS)
    with engine.begin() as conn:
        conn.execute(kommun.insert().values(key="x", name="X", settings={}, created_at=utcnow()))
    upgrade(engine)
    assert _heads(engine) == _script_head()
    with engine.connect() as conn:  # the data survive the merge
        assert conn.execute(text("SELECT name FROM kommun WHERE key = 'x'")).scalar_one() == "X"
    engine.dispose()


def test_citizen_reports_use_the_importers_external_id_fingerprint() -> None:
    import datetime as dt

    import pandas as pd

    from geo._fingerprint import external_id_fingerprint, report_fingerprints
    from geo.store.citizen import citizen_report_row

    frame = pd.DataFrame(
        {
            "kommun": ["norrtalje"],
            "source": ["citizen"],
            "external_id": ["7KQM-29XA-3FHD"],
            "occurred_at": [pd.Timestamp("2026-01-01", tz="UTC")],
            "reported_at": [pd.NaT],
            "category": ["belysning"],
            "severity": [float("nan")],
            "description": ["x"],
            "reporter_org": [None],
            "location_text": [None],
            "in_lat": [59.76],
            "in_lon": [18.70],
        }
    )
    expected = report_fingerprints(frame).iloc[0]
    assert external_id_fingerprint("norrtalje", "citizen", " 7KQM-29XA-3FHD ") == expected
    fields = {
        "kommun": "norrtalje",
        "occurred_at": dt.datetime(2026, 1, 1),
        "category": "belysning",
        "description": "helt annan text",  # the text never enters the fingerprint
        "place": None,
        "lat": 59.76,
        "lon": 18.70,
        "precision": "point",
        "locality": None,
    }
    row = citizen_report_row(fields, "7KQM-29XA-3FHD", utcnow())
    assert row["fingerprint"] == expected and row["status"] == "pending" and row["cell"]
