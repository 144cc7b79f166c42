"""Retention of citizen free text: after a configurable period only category, time and cell stay.

Citizen reports (``source = "citizen"``) may contain personal data in their free text even
after moderation. :func:`purge_citizen_text` deletes, for every citizen report submitted
before the cut-off:

* ``description``, ``location_text`` and ``reporter_org`` (set to NULL);
* the exact position: ``lat``/``lon`` become the centre of the report's stored H3 cell
  (res 10, ≈ 66 m edge), or NULL when the report has no cell;
* the content fingerprint (it is a hash of the text): replaced by a random-free marker
  ``retained:<sha256 of the id>`` that also marks the row as done;
* quarantined citizen rows (their raw JSON holds the original text) older than the cut-off.

Category, ``occurred_at``/``reported_at``, cell, locality, precision and status are kept,
so the report still counts in the analysis. The period is the tenant setting
``citizen_text_retention_days`` (default :data:`DEFAULT_RETENTION_DAYS`) unless the caller
gives ``days``. Other areas hook in through ``on_purged`` (called in the same transaction
with the ids of the purged reports), e.g. the web app deletes the salts of its text hashes.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from sqlalchemy.engine import Connection

from geo.cells import cells_to_points
from geo.errors import ValidationError
from geo.schema import Source
from geo.store.db import bump_version, utcnow
from geo.store.retention import (
    count_quarantined_before,
    delete_quarantined_before,
    reports_to_purge,
    strip_report_text,
)
from geo.tenants import list_tenants

#: Days citizen free text is kept when the tenant sets nothing.
DEFAULT_RETENTION_DAYS = 180
#: Prefix of the fingerprint of a purged report.
RETAINED_PREFIX = "retained:"

Hook = Callable[[Connection, list[int]], None]


@dataclass
class KommunRetention:
    """What was (or would be) deleted in one kommun."""

    kommun: str
    days: int
    cutoff: dt.datetime
    reports: int = 0
    descriptions: int = 0
    location_texts: int = 0
    positions: int = 0
    quarantined: int = 0
    report_ids: list[int] = field(default_factory=list, repr=False)

    def to_dict(self) -> dict[str, Any]:
        return {
            "kommun": self.kommun,
            "days": self.days,
            "cutoff": self.cutoff.replace(tzinfo=dt.UTC).isoformat().replace("+00:00", "Z"),
            "reports": self.reports,
            "descriptions_deleted": self.descriptions,
            "location_texts_deleted": self.location_texts,
            "positions_coarsened": self.positions,
            "quarantine_rows_deleted": self.quarantined,
        }


@dataclass
class RetentionResult:
    """Outcome of one retention run (all kommuner)."""

    dry_run: bool
    kommuner: list[KommunRetention]

    @property
    def reports(self) -> int:
        return sum(k.reports for k in self.kommuner)

    @property
    def quarantined(self) -> int:
        return sum(k.quarantined for k in self.kommuner)

    def to_dict(self) -> dict[str, Any]:
        return {
            "dry_run": self.dry_run,
            "reports": self.reports,
            "descriptions_deleted": sum(k.descriptions for k in self.kommuner),
            "location_texts_deleted": sum(k.location_texts for k in self.kommuner),
            "positions_coarsened": sum(k.positions for k in self.kommuner),
            "quarantine_rows_deleted": self.quarantined,
            "kommuner": [k.to_dict() for k in self.kommuner],
        }


def retention_days(settings: dict[str, Any] | None) -> int:
    """Retention period (days) from tenant settings."""
    value = (settings or {}).get("citizen_text_retention_days", DEFAULT_RETENTION_DAYS)
    days = int(value)
    if days < 1:
        raise ValidationError(f"citizen_text_retention_days must be at least 1, got {value!r}")
    return days


def retained_fingerprint(report_id: int) -> str:
    """Fingerprint of a purged report (no trace of its text, unique per id)."""
    digest = hashlib.sha256(f"retained\x1f{int(report_id)}".encode()).hexdigest()
    return (RETAINED_PREFIX + digest)[:64]


def purge_citizen_text(
    conn: Connection,
    *,
    days: int | None = None,
    kommun: str | None = None,
    now: dt.datetime | None = None,
    dry_run: bool = False,
    on_purged: Sequence[Hook] = (),
) -> RetentionResult:
    """Delete citizen free text (and exact positions) older than the retention period.

    Parameters
    ----------
    conn
        Connection inside the caller's transaction (everything or nothing is purged).
    days
        Period in days for every kommun; None uses each tenant's
        ``citizen_text_retention_days`` (default :data:`DEFAULT_RETENTION_DAYS`).
    kommun
        Only this tenant key (all tenants when None).
    now
        Reference time (naive or aware UTC; default now).
    dry_run
        Count what would be deleted, change nothing.
    on_purged
        Callables ``hook(conn, report_ids)`` run after the reports are purged.

    Returns
    -------
    RetentionResult
    """
    if days is not None and int(days) < 1:
        raise ValidationError(f"days must be at least 1, got {days}")
    ref = now or utcnow()
    if ref.tzinfo is not None:
        ref = ref.astimezone(dt.UTC).replace(tzinfo=None)
    tenants = [t for t in list_tenants(conn) if kommun is None or t.key == kommun]
    if kommun is not None and not tenants:
        raise ValidationError(f"kommun {kommun!r} finns inte")
    results = []
    for tenant in tenants:
        period = int(days) if days is not None else retention_days(tenant.settings)
        cutoff = ref - dt.timedelta(days=period)
        results.append(_purge_kommun(conn, tenant.key, period, cutoff, dry_run, on_purged))
    return RetentionResult(dry_run=dry_run, kommuner=results)


def _purge_kommun(
    conn: Connection,
    key: str,
    period: int,
    cutoff: dt.datetime,
    dry_run: bool,
    hooks: Sequence[Hook],
) -> KommunRetention:
    citizen = Source.CITIZEN.value
    rows = reports_to_purge(conn, key, citizen, cutoff, RETAINED_PREFIX)
    n_quarantine = count_quarantined_before(conn, key, citizen, cutoff)
    out = KommunRetention(
        kommun=key,
        days=period,
        cutoff=cutoff,
        reports=len(rows),
        descriptions=sum(1 for r in rows if r.description is not None),
        location_texts=sum(1 for r in rows if r.location_text is not None),
        positions=sum(1 for r in rows if r.lat is not None),
        quarantined=n_quarantine,
        report_ids=[int(r.id) for r in rows],
    )
    if dry_run or (not rows and not n_quarantine):
        return out
    if rows:
        cells = np.asarray([int(r.cell or 0) for r in rows], dtype=np.int64).astype(np.uint64)
        lat, lon = cells_to_points(cells)
        params = [
            {
                "rid": int(r.id),
                "new_lat": float(lat[i]) if np.isfinite(lat[i]) else None,
                "new_lon": float(lon[i]) if np.isfinite(lon[i]) else None,
                "new_fp": retained_fingerprint(int(r.id)),
            }
            for i, r in enumerate(rows)
        ]
        strip_report_text(conn, params)
        for hook in hooks:
            hook(conn, out.report_ids)
        bump_version(conn, key)
    if n_quarantine:
        delete_quarantined_before(conn, key, citizen, cutoff)
    return out


__all__ = [
    "DEFAULT_RETENTION_DAYS",
    "RETAINED_PREFIX",
    "KommunRetention",
    "RetentionResult",
    "purge_citizen_text",
    "retained_fingerprint",
    "retention_days",
]
