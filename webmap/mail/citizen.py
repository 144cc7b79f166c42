"""Mail to citizens who left an e-mail address with a report (no Flask).

1. On submission: a confirmation mail with a confirm link and the receipt link.
2. After the address is confirmed: one mail when the report is approved or rejected
   (with the reason). A rejection closes the report: the address is erased right after
   that last mail is queued (unconfirmed addresses are erased at any decision).
3. An approved report stays followed for :data:`FOLLOW_UP_DAYS` days: one mail per
   action planned or completed in its area (:mod:`webmap.mail.actions`). Then the report
   is closed and ``retention run`` erases the address (:func:`erase_closed`).

The address lives only in ``citizen_contact`` and, until sent, in the outbox; sent
messages to citizens keep no address (:func:`geo.store.mail.mark_sent`).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import secrets
from collections.abc import Mapping
from typing import Any

from sqlalchemy.engine import Connection

from geo.errors import ValidationError
from geo.store.contacts import (
    add_contact,
    confirm_contact,
    contact_of,
    erase_contacts,
    moderated_before,
)
from geo.store.db import utcnow
from geo.store.mail import CITIZEN_PREFIX, enqueue
from webmap.mail.compose import compose, links

#: Days after approval during which a confirmed address gets mails about actions.
FOLLOW_UP_DAYS = 90
#: Longest accepted address (RFC 5321 path limit).
MAX_EMAIL = 254
_EMAIL = re.compile(
    r"^[^@\s<>\"',;]{1,64}@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+$"
)


def clean_email(value: Any) -> str | None:
    """A trimmed e-mail address, ``None`` for an empty value.

    Raises
    ------
    ValidationError
        When the value is not a plausible address (Swedish message).
    """
    if value is None:
        return None
    text = str(value).strip()
    if not text:
        return None
    if len(text) > MAX_EMAIL or not _EMAIL.match(text):
        raise ValidationError("e-postadressen ser inte giltig ut (t.ex. namn@exempel.se)")
    return text


def mail_enabled(config: Mapping[str, Any]) -> bool:
    """True when outgoing mail is on (``SMTP_HOST`` set)."""
    return bool(str(config.get("SMTP_HOST") or "").strip())


def token_hash(token: str) -> str:
    """Stored form of a confirmation token (SHA-256)."""
    return hashlib.sha256(token.encode()).hexdigest()


def _queue(
    conn: Connection, kind: str, to: str, subject: str, lines: list[str], link_map: dict[str, str]
) -> int:
    """Queue a Swedish message of ``lines`` and ``{label: url}`` links as text + HTML."""
    text, body_html = compose(subject, lines, link_map)
    return enqueue(
        conn,
        kind=CITIZEN_PREFIX + kind,
        recipient=to,
        subject=subject,
        body_text=text,
        body_html=body_html,
    )


def register_address(
    conn: Connection, report_id: int, receipt: str, email: str, base_url: str
) -> None:
    """Store ``email`` for report ``report_id`` and queue the confirmation mail."""
    token = secrets.token_urlsafe(24)
    add_contact(conn, report_id, email, token_hash(token))
    urls = links(
        base_url,
        **{
            "Bekräfta din e-postadress": f"/rapportera/bekrafta/{token}",
            "Se din rapports status": f"/rapportera/kvitto/{receipt}",
        },
    )
    _queue(
        conn,
        "confirm",
        email,
        f"Bekräfta din e-postadress – rapport {receipt}",
        [
            "Tack för din rapport!",
            f"Ditt kvittonummer är {receipt}.",
            "Bekräfta din e-postadress med länken nedan, så meddelar vi dig när "
            "rapporten har granskats. Utan bekräftelse skickar vi inget mer.",
        ],
        urls,
    )


def confirm(conn: Connection, token: str) -> str | None:
    """Confirm the address of ``token``; returns the report's receipt or None if unknown."""
    if not token or len(token) > 100:
        return None
    return confirm_contact(conn, token_hash(token))


def report_closed(
    conn: Connection,
    report_id: int,
    receipt: str,
    status: str,
    reason: str | None,
    base_url: str,
) -> bool:
    """Queue the decision mail (confirmed addresses only) and erase the address unless it
    is still needed.

    A confirmed address of an approved report is kept for :data:`FOLLOW_UP_DAYS` days
    after the decision, for the mails about actions in the report's area
    (:mod:`webmap.mail.actions`); every other address is erased at once.

    Returns
    -------
    bool
        True when a mail was queued.
    """
    contact = contact_of(conn, report_id)
    if contact is None:
        return False
    confirmed = contact["confirmed_at"] is not None
    if confirmed and status in ("approved", "rejected"):
        urls = links(base_url, **{"Se din rapport": f"/rapportera/kvitto/{receipt}"})
        if status == "approved":
            subject = f"Din rapport {receipt} har godkänts"
            lines = [
                "Din rapport har granskats och godkänts.",
                "Den ingår nu i kommunens lägesbild för trygghetsarbetet.",
                f"Under de kommande {FOLLOW_UP_DAYS} dagarna meddelar vi dig när kommunen "
                "planerar eller genomför en åtgärd i området. Sedan raderas din "
                "e-postadress.",
            ]
        else:
            subject = f"Din rapport {receipt} har avvisats"
            lines = ["Din rapport har granskats men kunde inte godkännas."]
            lines.append(
                f"Skäl: {reason.strip()}" if reason and reason.strip() else "Inget skäl angavs."
            )
        _queue(conn, status, contact["email"], subject, lines, urls)
    if not (confirmed and status == "approved"):
        erase_contacts(conn, [report_id])
    return confirmed and status in ("approved", "rejected")


def erase_closed(conn: Connection, now: dt.datetime | None = None) -> int:
    """Retention: erase the addresses whose follow-up time (:data:`FOLLOW_UP_DAYS` after
    the moderation decision) is over; returns how many were erased."""
    cutoff = (now or utcnow()) - dt.timedelta(days=FOLLOW_UP_DAYS)
    return erase_contacts(conn, moderated_before(conn, cutoff))


def erase_for_retention(conn: Connection, report_ids: list[int]) -> None:
    """Retention hook: delete the addresses of ``report_ids``."""
    erase_contacts(conn, report_ids)
