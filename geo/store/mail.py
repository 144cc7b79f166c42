"""The mail outbox: every outgoing message is stored first and sent later.

A message is ``pending`` until the SMTP server accepts it (``sent``). A failed attempt
keeps it pending with the next try after an exponential back-off (1, 2, 4 … minutes,
at most :data:`MAX_DELAY`); after :data:`MAX_ATTEMPTS` attempts it is ``failed``.
Claiming a message moves its next try into the future first, so two senders never
deliver the same message twice.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.engine import Connection

from geo.store.db import insert_row, utcnow
from geo.store.tables import mail_attachment, mail_once, mail_outbox

#: Attempts before a message is given up (``failed``).
MAX_ATTEMPTS = 8
#: First delay after a failure; doubled after each further failure.
BASE_DELAY = dt.timedelta(minutes=1)
#: Longest delay between two attempts.
MAX_DELAY = dt.timedelta(hours=6)
#: Kinds of messages to citizens: their address and text are erased once sent.
CITIZEN_PREFIX = "citizen_"
#: What replaces an erased address.
ERASED = "(raderad)"
#: How long a claimed message is reserved for the sender that claimed it.
CLAIM = dt.timedelta(minutes=10)

_LISTED = (
    "id",
    "kind",
    "recipient",
    "subject",
    "status",
    "attempts",
    "next_try_at",
    "last_error",
    "created_at",
)


def enqueue(
    conn: Connection,
    *,
    kind: str,
    recipient: str,
    subject: str,
    body_text: str,
    body_html: str,
    attachments: Iterable[tuple[str, str, bytes]] = (),
    now: dt.datetime | None = None,
) -> int:
    """Store one message for sending (due at once) and return its id.

    Parameters
    ----------
    conn
        Connection inside the caller's transaction (the message is queued together with
        whatever caused it).
    kind
        Short code of the message (``"confirm"``, ``"approved"`` …), for the outbox list.
    recipient, subject, body_text, body_html
        Address and content.
    attachments
        Files sent with the message, each ``(filename, mimetype, content)``.
    now
        Current time (naive UTC); defaults to :func:`utcnow`.
    """
    when = now or utcnow()
    message_id = insert_row(
        conn,
        mail_outbox,
        kind=kind,
        recipient=recipient,
        subject=subject,
        body_text=body_text,
        body_html=body_html,
        status="pending",
        attempts=0,
        next_try_at=when,
        created_at=when,
    )
    for filename, mimetype, content in attachments:
        conn.execute(
            mail_attachment.insert().values(
                message_id=message_id, filename=filename, mimetype=mimetype, content=content
            )
        )
    return message_id


def attachments_of(conn: Connection, message_id: int) -> list[tuple[str, str, bytes]]:
    """``(filename, mimetype, content)`` of each file attached to message ``message_id``."""
    rows = conn.execute(
        select(mail_attachment.c.filename, mail_attachment.c.mimetype, mail_attachment.c.content)
        .where(mail_attachment.c.message_id == message_id)
        .order_by(mail_attachment.c.id)
    ).all()
    return [(str(r.filename), str(r.mimetype), bytes(r.content)) for r in rows]


def claim_once(conn: Connection, key: str, now: dt.datetime | None = None) -> bool:
    """Record that the mail of ``key`` goes out now; False when it was recorded before.

    The row is written in the caller's transaction, together with the queued message: a
    retry or a second request finds it and queues nothing (two concurrent transactions
    cannot both commit the same key, it is the primary key).
    """
    done = conn.execute(select(mail_once.c.key).where(mail_once.c.key == key)).first()
    if done is not None:
        return False
    conn.execute(mail_once.insert().values(key=key, message_id=None, at=now or utcnow()))
    return True


def record_once_message(conn: Connection, keys: Iterable[str], message_id: int) -> None:
    """Link the once-keys ``keys`` to the message that was queued for them."""
    keys = list(keys)
    if keys:
        conn.execute(
            update(mail_once).where(mail_once.c.key.in_(keys)).values(message_id=message_id)
        )


def claim_due(
    conn: Connection, now: dt.datetime | None = None, limit: int = 50
) -> list[dict[str, Any]]:
    """Pending messages due at ``now``, reserved for this sender for :data:`CLAIM`.

    Returns
    -------
    list of dict
        Every column of each claimed message, oldest first.
    """
    when = now or utcnow()
    rows = conn.execute(
        select(mail_outbox)
        .where(mail_outbox.c.status == "pending", mail_outbox.c.next_try_at <= when)
        .order_by(mail_outbox.c.id)
        .limit(limit)
    ).mappings()
    claimed = []
    for row in list(rows):
        res = conn.execute(
            update(mail_outbox)
            .where(
                mail_outbox.c.id == row["id"],
                mail_outbox.c.status == "pending",
                mail_outbox.c.next_try_at == row["next_try_at"],
            )
            .values(next_try_at=when + CLAIM)
        )
        if res.rowcount == 1:
            claimed.append(dict(row))
    return claimed


def mark_sent(conn: Connection, message_id: int, now: dt.datetime | None = None) -> None:
    """Record that the SMTP server accepted message ``message_id``.

    A citizen's address (kinds starting with ``citizen_``) is erased from the sent
    message: it is kept only as long as something still has to be sent to it.
    """
    values: dict[str, Any] = {
        "status": "sent",
        "attempts": mail_outbox.c.attempts + 1,
        "sent_at": now or utcnow(),
        "last_error": None,
    }
    _finish(conn, message_id, values)


def _finish(conn: Connection, message_id: int, values: dict[str, Any]) -> None:
    """Store the final ``values`` of a message that will not be sent again: a citizen's
    address and text are erased, and the attached files deleted."""
    kind = conn.execute(
        select(mail_outbox.c.kind).where(mail_outbox.c.id == message_id)
    ).scalar_one()
    if str(kind).startswith(CITIZEN_PREFIX):
        values.update(recipient=ERASED, body_text="", body_html="")
    conn.execute(update(mail_outbox).where(mail_outbox.c.id == message_id).values(**values))
    # the files were only kept to be sent (a published PDF stays in ``publications``)
    conn.execute(delete(mail_attachment).where(mail_attachment.c.message_id == message_id))


def backoff(attempts: int) -> dt.timedelta:
    """Delay before the next try after ``attempts`` failed attempts (exponential)."""
    return min(BASE_DELAY * 2 ** max(attempts - 1, 0), MAX_DELAY)


def mark_failed(
    conn: Connection, message_id: int, error: str, now: dt.datetime | None = None
) -> str:
    """Record a failed attempt; returns the new status (``pending`` or ``failed``).

    A message given up (``failed``) is final: like a sent one it keeps no citizen's
    address and no attachment.
    """
    when = now or utcnow()
    attempts = (
        int(
            conn.execute(
                select(mail_outbox.c.attempts).where(mail_outbox.c.id == message_id)
            ).scalar_one()
        )
        + 1
    )
    status = "failed" if attempts >= MAX_ATTEMPTS else "pending"
    values: dict[str, Any] = {
        "status": status,
        "attempts": attempts,
        "next_try_at": when + backoff(attempts),
        "last_error": error[:2000],
    }
    if status == "failed":
        _finish(conn, message_id, values)
    else:
        conn.execute(update(mail_outbox).where(mail_outbox.c.id == message_id).values(**values))
    return status


def unsent(conn: Connection) -> list[dict[str, Any]]:
    """Pending and failed messages (without their bodies), oldest first."""
    cols = [mail_outbox.c[name] for name in _LISTED]
    rows = conn.execute(
        select(*cols)
        .where(mail_outbox.c.status.in_(("pending", "failed")))
        .order_by(mail_outbox.c.id)
    ).mappings()
    return [dict(row) for row in rows]


def messages(conn: Connection, status: str | None = None) -> list[dict[str, Any]]:
    """Every message (optionally only those with ``status``), oldest first."""
    query = select(mail_outbox).order_by(mail_outbox.c.id)
    if status is not None:
        query = query.where(mail_outbox.c.status == status)
    return [dict(row) for row in conn.execute(query).mappings()]
