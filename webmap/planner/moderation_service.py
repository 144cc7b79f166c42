"""Moderation of citizen reports without Flask: decide, the queue, the audit log.

Every decision is applied in the caller's transaction and logged (who, when, what, salted
text hashes before and after); approving or rejecting changes the kommun's data version
when the analysis input changes.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from geo import pii
from geo.errors import NotFoundError, ValidationError
from geo.schema import Status
from geo.store.citizen import (
    log_moderation,
    moderation_history,
    moderation_subject,
    pending_citizen_reports,
    set_citizen_status,
    set_citizen_text,
)
from geo.store.db import bump_version, utcnow
from webmap.citizen.submissions import (
    MAX_DESCRIPTION_OPEN311,
    clean_text,
    text_hash,
)

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection


ACTIONS = ("approve", "reject", "redact")


@dataclass(frozen=True)
class Decision:
    """Result of :func:`decide`."""

    report_id: int
    status_before: str
    status_after: str
    logged: tuple[str, ...]


def moderation_row(conn: Connection, report_id: int) -> dict[str, Any]:
    """The citizen report ``report_id`` as moderation needs it; :class:`NotFoundError` if none."""
    row = moderation_subject(conn, report_id)
    if row is None:
        raise NotFoundError(f"medborgarrapport {report_id} finns inte")
    return row


def decide(
    conn: Connection,
    report_id: int,
    action: str,
    actor: str,
    actor_id: int | None = None,
    new_text: str | None = None,
    now: dt.datetime | None = None,
) -> Decision:
    """Apply one moderation decision and log it (inside the caller's transaction).

    Parameters
    ----------
    action
        ``approve`` (optionally with ``new_text``: the text is redacted first and both
        steps are logged), ``reject``, ``redact`` (change the text, keep the status) or
        ``redact_auto`` (replace every personal-data finding; logged as ``redact``).
    new_text
        The moderated text for ``approve``/``redact`` (None keeps the text; ``""``
        removes it).
    """
    if action not in (*ACTIONS, "redact_auto"):
        raise ValidationError(f"okänt beslut {action!r}")
    row = moderation_row(conn, report_id)
    when = (now or utcnow()).replace(microsecond=0)
    status_before = str(row["status"])
    current = row["description"]
    logged: list[str] = []

    def log(kind: str, before: str, after: str, text_before: Any, text_after: Any) -> None:
        log_moderation(
            conn,
            report_id=report_id,
            kommun=row["kommun"],
            action=kind,
            actor=actor,
            actor_id=actor_id,
            at=when,
            status_before=before,
            status_after=after,
            text_hash_before=text_hash(row["text_salt"], text_before),
            text_hash_after=text_hash(row["text_salt"], text_after),
            pii_flags=pii.flags(text_after),
        )
        logged.append(kind)

    target = current
    if action == "redact_auto":
        target = pii.redact(current) if current else current
    elif new_text is not None and action in ("approve", "redact"):
        target, ok = clean_text(new_text, MAX_DESCRIPTION_OPEN311)
        if not ok:
            raise ValidationError(f"texten får vara högst {MAX_DESCRIPTION_OPEN311} tecken")
    if target != current:
        set_citizen_text(conn, report_id, target, pii.flags(target))
        log("redact", status_before, status_before, current, target)
    status_after = status_before
    if action in ("approve", "reject"):
        status_after = Status.APPROVED.value if action == "approve" else Status.REJECTED.value
        set_citizen_status(conn, report_id, status_after, when, actor)
        log(action, status_before, status_after, target, target)
    if Status.APPROVED.value in (status_before, status_after):
        bump_version(conn, row["kommun"])  # the analysis input changed
    return Decision(report_id, status_before, status_after, tuple(logged))


def queue(conn: Connection, kommun: str, limit: int = 50) -> list[dict[str, Any]]:
    """Pending citizen reports of a kommun, oldest first."""
    return pending_citizen_reports(conn, kommun, limit)


def audit_log(conn: Connection, kommun: str, limit: int = 200) -> list[dict[str, Any]]:
    """Latest moderation decisions of a kommun (newest first)."""
    return moderation_history(conn, kommun, limit)


def highlight(text: str | None) -> list[tuple[str, str | None]]:
    """``text`` split into ``(segment, kind or None)`` for highlighting flagged spans."""
    if not text:
        return []
    out: list[tuple[str, str | None]] = []
    pos = 0
    for f in pii.detect(text):
        if f.start > pos:
            out.append((text[pos : f.start], None))
        out.append((text[f.start : f.end], f.kind))
        pos = f.end
    if pos < len(text):
        out.append((text[pos:], None))
    return out


__all__ = [
    "ACTIONS",
    "Decision",
    "audit_log",
    "decide",
    "highlight",
    "moderation_row",
    "queue",
]
