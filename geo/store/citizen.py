"""Citizen reports: the ``report`` row with its ``citizen_report`` receipt, and moderation.

A citizen report is stored by :func:`insert_citizen_report`: one transaction writes the
``report`` row (pending, fingerprinted by its receipt with the rule of
:mod:`geo._fingerprint`) and its ``citizen_report`` row. Moderation changes the report's
status and text here too, so no code outside :mod:`geo.store` writes ``report``.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Engine, bindparam, func, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from geo._fingerprint import external_id_fingerprint
from geo.errors import DuplicateKeyError
from geo.schema import STORAGE_RES, Precision, Source, Status
from geo.store.db import utcnow
from geo.store.reports import chunks
from geo.store.tables import citizen_report, moderation_log
from geo.store.tables import report as report_table

_REPORT_INSERT = report_table.insert()
_CITIZEN_INSERT = citizen_report.insert()


def citizen_report_row(fields: Mapping[str, Any], receipt: str, now: dt.datetime) -> dict[str, Any]:
    """The ``report`` row of a citizen submission (same conventions as geo's importer).

    ``fields`` holds ``kommun``, ``category``, ``description``, ``place``, ``lat``,
    ``lon``, ``precision`` and ``locality``. The fingerprint is the external-id rule of
    :func:`geo._fingerprint.external_id_fingerprint` with the receipt as external id:
    never a hash of the text.
    """
    from geo.cells import latlng_to_cell_reference

    cell = 0
    if Precision(fields["precision"]).has_cell:
        # one point: the reference H3 call gives the same cell as points_to_cells, faster
        cell = latlng_to_cell_reference(fields["lat"], fields["lon"], STORAGE_RES)
    kommun = str(fields["kommun"])
    return {
        "kommun": kommun,
        "source": Source.CITIZEN.value,
        "external_id": receipt,
        "fingerprint": external_id_fingerprint(kommun, Source.CITIZEN.value, receipt),
        "occurred_at": fields["occurred_at"],
        "reported_at": now,
        "category": fields["category"],
        "severity": None,
        "description": fields["description"],
        "reporter_org": None,
        "location_text": fields["place"],
        "lat": fields["lat"],
        "lon": fields["lon"],
        "precision": fields["precision"],
        "locality": fields["locality"],
        "cell": cell or None,
        "status": Status.PENDING.value,
        "import_id": None,
        "created_at": now,
    }


class _DriverInsert:
    """A plain ``INSERT`` for the SQLite DB-API connection, with SQLAlchemy's value conversion.

    Used on the SQLite writer connection only: the same SQL and stored formats as
    ``conn.execute(table.insert(), row)``, without the per-statement overhead.
    """

    def __init__(self, table: Any, dialect: Any, skip: tuple[str, ...] = ()) -> None:
        self.columns = [c.name for c in table.columns if c.name not in skip]
        quote = dialect.identifier_preparer.quote
        names = ", ".join(quote(c) for c in self.columns)
        marks = ", ".join("?" for _ in self.columns)  # sqlite3's paramstyle
        self.sql = f"INSERT INTO {quote(table.name)} ({names}) VALUES ({marks})"
        self.processors = [table.c[c].type.bind_processor(dialect) for c in self.columns]

    def values(self, row: dict[str, Any]) -> tuple[Any, ...]:
        out = []
        for name, proc in zip(self.columns, self.processors, strict=True):
            value = row[name]
            out.append(proc(value) if proc is not None and value is not None else value)
        return tuple(out)


#: Prepared inserts per dialect name (immutable SQL and converters, built once).
_DRIVER_INSERTS: dict[str, tuple[_DriverInsert, _DriverInsert]] = {}


def _driver_inserts(engine: Engine) -> tuple[_DriverInsert, _DriverInsert]:
    key = engine.dialect.name
    found = _DRIVER_INSERTS.get(key)
    if found is None:
        found = (
            _DriverInsert(report_table, engine.dialect, skip=("id",)),
            _DriverInsert(citizen_report, engine.dialect),
        )
        _DRIVER_INSERTS[key] = found
    return found


@contextmanager
def _transaction(engine: Engine, writer: Connection | None) -> Iterator[Connection]:
    if writer is None:
        with engine.begin() as conn:
            yield conn
    else:
        with writer.begin():
            yield writer


def insert_citizen_report(
    engine: Engine,
    writer: Connection | None,
    report_row: dict[str, Any],
    citizen_row: dict[str, Any],
) -> int:
    """Insert both rows in one transaction (committed on return); returns the report id.

    ``writer`` is an optional long-lived SQLite connection used by one writer at a time
    (see :func:`sqlite_writer`); through it the rows go in with two prepared DB-API
    statements. Any other database uses ordinary Core inserts. A duplicate receipt or
    idempotency key raises :class:`~geo.errors.DuplicateKeyError` (nothing is stored).
    """
    try:
        return _insert_citizen_report(engine, writer, report_row, citizen_row)
    except (IntegrityError, sqlite3.IntegrityError) as exc:
        raise DuplicateKeyError("kvittot eller idempotensnyckeln finns redan") from exc


def _insert_citizen_report(
    engine: Engine,
    writer: Connection | None,
    report_row: dict[str, Any],
    citizen_row: dict[str, Any],
) -> int:
    if writer is None or engine.dialect.name != "sqlite":
        with _transaction(engine, writer) as conn:
            res = conn.execute(_REPORT_INSERT, report_row)
            pk = res.inserted_primary_key
            assert pk is not None
            report_id = int(pk[0])
            conn.execute(_CITIZEN_INSERT, {**citizen_row, "report_id": report_id})
        return report_id
    inserts = _driver_inserts(engine)
    raw: Any = writer.connection.dbapi_connection
    cur = raw.cursor()
    try:
        if raw.isolation_level is None:  # autocommit driver: open the transaction
            cur.execute("BEGIN")
        cur.execute(inserts[0].sql, inserts[0].values(report_row))
        report_id = int(cur.lastrowid)
        cur.execute(inserts[1].sql, inserts[1].values({**citizen_row, "report_id": report_id}))
        raw.commit()
    except BaseException:
        raw.rollback()
        raise
    finally:
        cur.close()
    return report_id


def sqlite_writer(engine: Engine) -> Connection | None:
    """A long-lived connection to an SQLite file database that never checkpoints itself.

    None for any other database. Checkpoints (with their fsync) are left to
    :func:`checkpoint`, run outside the writes.
    """
    database = engine.url.database or ""
    if engine.dialect.name != "sqlite" or database in ("", ":memory:"):
        return None
    conn = engine.connect()
    conn.exec_driver_sql("PRAGMA wal_autocheckpoint=0")
    conn.commit()
    return conn


def checkpoint(conn: Connection) -> None:
    """A PASSIVE WAL checkpoint of an SQLite database (copies committed frames, never waits)."""
    try:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(PASSIVE)")
        conn.commit()
    except Exception:  # pragma: no cover - the next round tries again
        conn.rollback()


_BY_KEY = (
    select(
        citizen_report.c.receipt,
        citizen_report.c.report_id,
        citizen_report.c.kommun,
        report_table.c.status,
    )
    .join(report_table, report_table.c.id == citizen_report.c.report_id)
    .where(citizen_report.c.idempotency_key == bindparam("key_hash"))
)


def by_idempotency_key(conn: Connection, key_hash: str) -> dict[str, Any] | None:
    """``receipt``, ``report_id``, ``kommun`` and ``status`` stored under a key hash."""
    row = conn.execute(_BY_KEY, {"key_hash": key_hash}).first()
    return None if row is None else dict(row._mapping)


def _first_joined(
    conn: Connection, columns: Sequence[Any], condition: Any
) -> dict[str, Any] | None:
    """The first row of ``columns`` of a report joined with its citizen row, as a dict."""
    r, c = report_table, citizen_report
    row = conn.execute(
        select(*columns).select_from(r.join(c, c.c.report_id == r.c.id)).where(condition)
    ).first()
    return None if row is None else dict(row._mapping)


def stored_submission(conn: Connection, report_id: int) -> dict[str, Any] | None:
    """What a retry of a citizen report would repeat (for idempotency checks)."""
    r, c = report_table, citizen_report
    columns = [
        r.c.kommun,
        r.c.category,
        r.c.lat,
        r.c.lon,
        r.c.location_text,
        r.c.description,
        c.c.time_of_day,
        c.c.moderated_at,
        c.c.text_deleted_at,
    ]
    return _first_joined(conn, columns, r.c.id == report_id)


def receipt_facts(conn: Connection, receipt: str) -> dict[str, Any] | None:
    """Public facts of a (normalised) receipt: no text, no position."""
    c, r = citizen_report, report_table
    columns = [
        c.c.receipt,
        c.c.kommun,
        c.c.submitted_at,
        c.c.moderated_at,
        c.c.time_of_day,
        c.c.channel,
        r.c.category,
        r.c.status,
        r.c.occurred_at,
        r.c.id,
    ]
    return _first_joined(conn, columns, c.c.receipt == receipt)


def report_place(conn: Connection, report_id: int) -> dict[str, Any] | None:
    """``description``, ``cell``, ``locality`` and ``kommun`` of a report."""
    r = report_table
    row = conn.execute(
        select(r.c.description, r.c.cell, r.c.locality, r.c.kommun).where(r.c.id == report_id)
    ).first()
    return None if row is None else dict(row._mapping)


def approved_citizen_reports(
    conn: Connection,
    kommun: str,
    *,
    receipts: Sequence[str] | None = None,
    submitted: tuple[dt.datetime, dt.datetime] | None = None,
    categories: Sequence[str] = (),
    moderated_before: dt.datetime | None = None,
    limit: int = 1000,
) -> list[dict[str, Any]]:
    """Approved citizen reports of ``kommun``, newest submission first.

    Each has ``receipt``, ``submitted_at``, ``moderated_at``, ``category``, ``status``,
    ``description``, ``cell`` and ``locality``. ``receipts`` picks reports by receipt;
    otherwise ``submitted`` (start, end; inclusive) and ``categories`` filter.
    ``moderated_before`` keeps only reports approved before that instant.
    """
    r, c = report_table, citizen_report
    query = (
        select(
            c.c.receipt,
            c.c.submitted_at,
            c.c.moderated_at,
            r.c.category,
            r.c.status,
            r.c.description,
            r.c.cell,
            r.c.locality,
        )
        .join(r, r.c.id == c.c.report_id)
        .where(
            r.c.kommun == kommun,
            r.c.source == Source.CITIZEN.value,
            r.c.status == Status.APPROVED.value,
        )
        .order_by(c.c.submitted_at.desc(), r.c.id.desc())
        .limit(limit)
    )
    if receipts is not None:
        query = query.where(c.c.receipt.in_(list(receipts)))
    else:
        if submitted is not None:
            query = query.where(c.c.submitted_at >= submitted[0], c.c.submitted_at <= submitted[1])
        if categories:
            query = query.where(r.c.category.in_(list(categories)))
    if moderated_before is not None:
        query = query.where(c.c.moderated_at < moderated_before)
    return [dict(x._mapping) for x in conn.execute(query)]


def shred_citizen_rows(conn: Connection, report_ids: list[int]) -> None:
    """Retention hook: forget the text salts (audit hashes become unlinkable) and flags."""
    if not report_ids:
        return
    now = utcnow()
    for part in chunks(report_ids, 500):
        conn.execute(
            update(citizen_report)
            .where(citizen_report.c.report_id.in_(list(part)))
            .values(text_salt=None, pii_flags=[], text_deleted_at=now)
        )


# --------------------------------------------------------------------------- moderation


def moderation_subject(conn: Connection, report_id: int) -> dict[str, Any] | None:
    """A citizen report as moderation needs it (None when there is no citizen report)."""
    r, c = report_table, citizen_report
    columns = [
        r.c.id,
        r.c.kommun,
        r.c.status,
        r.c.description,
        r.c.source,
        c.c.text_salt,
        c.c.receipt,
    ]
    row = _first_joined(conn, columns, r.c.id == report_id)
    return row if row is not None and row["source"] == Source.CITIZEN.value else None


def set_citizen_text(
    conn: Connection, report_id: int, text: str | None, pii_flags: Iterable[str]
) -> None:
    """Replace the text of a citizen report and the kinds of personal data found in it."""
    conn.execute(
        update(report_table).where(report_table.c.id == report_id).values(description=text)
    )
    conn.execute(
        update(citizen_report)
        .where(citizen_report.c.report_id == report_id)
        .values(pii_flags=list(pii_flags))
    )


def set_citizen_status(
    conn: Connection, report_id: int, status: str, when: dt.datetime, actor: str
) -> None:
    """Record a moderation decision's status on the report and who made it when."""
    conn.execute(update(report_table).where(report_table.c.id == report_id).values(status=status))
    conn.execute(
        update(citizen_report)
        .where(citizen_report.c.report_id == report_id)
        .values(moderated_at=when, moderated_by=actor)
    )


def log_moderation(conn: Connection, **values: Any) -> None:
    """Append one row to the moderation audit log (columns of ``moderation_log``)."""
    conn.execute(moderation_log.insert().values(**values))


def pending_citizen_reports(conn: Connection, kommun: str, limit: int = 50) -> list[dict[str, Any]]:
    """Pending citizen reports of a kommun, oldest first."""
    r, c = report_table, citizen_report
    rows = conn.execute(
        select(
            r.c.id,
            r.c.category,
            r.c.description,
            r.c.location_text,
            r.c.lat,
            r.c.lon,
            r.c.locality,
            r.c.occurred_at,
            c.c.receipt,
            c.c.channel,
            c.c.time_of_day,
            c.c.pii_flags,
            c.c.submitted_at,
        )
        .join(c, c.c.report_id == r.c.id)
        .where(r.c.kommun == kommun, r.c.status == Status.PENDING.value)
        .order_by(c.c.submitted_at, r.c.id)
        .limit(limit)
    ).all()
    return [dict(row._mapping) for row in rows]


def pending_count(conn: Connection, kommun: str) -> int:
    """Number of pending citizen reports of a kommun."""
    r, c = report_table, citizen_report
    return int(
        conn.execute(
            select(func.count())
            .select_from(r.join(c, c.c.report_id == r.c.id))
            .where(r.c.kommun == kommun, r.c.status == Status.PENDING.value)
        ).scalar_one()
    )


def moderation_history(conn: Connection, kommun: str, limit: int = 200) -> list[dict[str, Any]]:
    """Latest moderation decisions of a kommun (newest first) with their receipts."""
    m, c = moderation_log, citizen_report
    rows = conn.execute(
        select(m, c.c.receipt)
        .select_from(m.outerjoin(c, c.c.report_id == m.c.report_id))
        .where(m.c.kommun == kommun)
        .order_by(m.c.at.desc(), m.c.id.desc())
        .limit(limit)
    ).all()
    return [dict(row._mapping) for row in rows]


__all__ = [
    "approved_citizen_reports",
    "by_idempotency_key",
    "checkpoint",
    "citizen_report_row",
    "insert_citizen_report",
    "log_moderation",
    "moderation_history",
    "moderation_subject",
    "pending_citizen_reports",
    "pending_count",
    "receipt_facts",
    "report_place",
    "set_citizen_status",
    "set_citizen_text",
    "shred_citizen_rows",
    "sqlite_writer",
    "stored_submission",
]
