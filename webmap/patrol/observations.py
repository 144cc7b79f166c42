"""Patrol observations: store each once per idempotency key, list a user's recent ones.

Every observation is a ``patrol`` report written by :func:`geo.ingest.ingest_frame`; the
key row of :mod:`geo.store.patrol` is claimed first in the same transaction, so two
concurrent retries cannot both store.
"""

from __future__ import annotations

import datetime as dt
import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pandas as pd

from geo.errors import DuplicateKeyError, LagesbildError
from geo.store.db import utcnow
from geo.store.patrol import (
    claim_observation_key,
    observation_key,
    set_observation_report,
    user_observations,
)

if TYPE_CHECKING:
    from sqlalchemy import Engine
    from sqlalchemy.engine import Connection


@dataclass
class Observation:
    """A validated observation, ready to store."""

    key: str
    kommun: str
    category: str
    note: str | None
    lat: float
    lon: float
    precision: str
    occurred_at: dt.datetime  # tz-aware UTC
    reporter_org: str

    def to_frame(self, now: dt.datetime) -> pd.DataFrame:
        """One schema row for :func:`geo.ingest.ingest_frame`."""
        return pd.DataFrame(
            {
                "external_id": [self.key],
                "occurred_at": [self.occurred_at.isoformat()],
                "reported_at": [now.replace(tzinfo=dt.UTC).isoformat()],
                "category": [self.category],
                "description": [self.note],
                "reporter_org": [self.reporter_org],
                "lat": [f"{self.lat:.6f}"],
                "lon": [f"{self.lon:.6f}"],
                "precision": [self.precision],
            }
        )


class ObservationRejected(LagesbildError):
    """The pipeline quarantined an observation (its Swedish detail is the message)."""


@dataclass(frozen=True)
class StoredKey:
    """What an idempotency key already stored."""

    report_id: int | None
    user_id: int | None
    kommun: str


def find_observation(conn: Connection, key: str) -> StoredKey | None:
    """The stored row of an idempotency key, or None."""
    row = observation_key(conn, key)
    if row is None:
        return None
    rid = None if row["report_id"] is None else int(row["report_id"])
    uid = None if row["user_id"] is None else int(row["user_id"])
    return StoredKey(rid, uid, str(row["kommun"]))


def store_observation(
    engine: Engine,
    obs: Observation,
    user_id: int | None,
    lock: threading.Lock | None = None,
    now: dt.datetime | None = None,
) -> tuple[int, bool]:
    """Store ``obs`` as a ``patrol`` report once per key: ``(report_id, created)``.

    One transaction: claim the key (insert; the primary key makes a second claim fail),
    run the report through :func:`geo.ingest.ingest_frame`, record the report id. A key
    that is already claimed returns its report id with ``created=False``. Raises
    :class:`ObservationRejected` (nothing stored) when the pipeline quarantines the row.
    """
    from geo.ingest import ingest_frame

    moment = (now or utcnow()).replace(tzinfo=None)
    for _attempt in range(3):
        try:
            with lock or threading.Lock(), engine.begin() as conn:
                claim_observation_key(conn, obs.key, obs.kommun, user_id, moment)
                result = ingest_frame(
                    conn, obs.to_frame(moment), kommun=obs.kommun, source="patrol"
                )
                assert result.outcomes is not None
                outcome = result.outcomes.iloc[0]
                if outcome["outcome"] == "quarantined" or pd.isna(outcome["report_id"]):
                    detail = outcome["detail"]
                    raise ObservationRejected(
                        str(detail) if isinstance(detail, str) else "observationen avvisades"
                    )
                report_id = int(outcome["report_id"])
                set_observation_report(conn, obs.key, report_id)
            return report_id, True
        except DuplicateKeyError:
            with engine.connect() as conn:
                found = find_observation(conn, obs.key)
            if found is not None and found.report_id is not None:
                return found.report_id, False
    raise LagesbildError("observationen kunde inte sparas, försök igen")


def recent_observations(
    engine: Engine, user_id: int, kommun: str, since: dt.datetime, limit: int = 20
) -> list[dict[str, Any]]:
    """The user's stored observations in ``kommun`` since ``since`` (naive UTC), newest first."""
    with engine.connect() as conn:
        return user_observations(conn, user_id, kommun, since, limit)


__all__ = [
    "Observation",
    "ObservationRejected",
    "StoredKey",
    "find_observation",
    "recent_observations",
    "store_observation",
]
