"""The lägesbild sent after the meeting to the kommun's distribution list (no Flask).

The list is the tenant setting ``distribution_list`` (addresses), edited with
``lagesbild mail distribution``. Publishing a week queues one mail per address with the
published PDF attached and a link to the public page; each address gets the lägesbild of
a week once only (a second publication or a retry queues nothing more, an address added
later gets it at the next publication).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

from sqlalchemy.engine import Connection

from geo.errors import ValidationError
from geo.store.mail import claim_once, enqueue, record_once_message
from geo.store.tenants import update_settings
from geo.tenants import Tenant, get_tenant
from webmap.mail.citizen import clean_email
from webmap.mail.compose import compose, links
from webmap.weeks import week_text_sv

#: Name of the tenant setting.
SETTING = "distribution_list"
#: Most addresses on one list.
MAX_ADDRESSES = 200


def distribution_list(tenant: Tenant) -> list[str]:
    """The addresses the lägesbild of ``tenant`` is sent to."""
    return [str(a) for a in tenant.settings.get(SETTING) or []]


def clean_list(addresses: Iterable[str]) -> list[str]:
    """Trimmed addresses without repeats (case-insensitive), in the given order.

    Raises
    ------
    ValidationError
        Listing every address that is not valid (Swedish), or a list that is too long.
    """
    problems: list[str] = []
    out: list[str] = []
    seen: set[str] = set()
    for raw in addresses:
        try:
            address = clean_email(raw)
        except ValidationError:
            problems.append(f"{str(raw).strip()!r}: e-postadressen ser inte giltig ut")
            continue
        if address is not None and address.lower() not in seen:
            seen.add(address.lower())
            out.append(address)
    if len(out) > MAX_ADDRESSES:
        problems.append(f"högst {MAX_ADDRESSES} adresser får stå på sändlistan")
    if problems:
        raise ValidationError(problems, context="sändlista")
    return out


def set_distribution_list(conn: Connection, kommun: str, addresses: Iterable[str]) -> list[str]:
    """Replace the distribution list of ``kommun``; returns the stored addresses."""
    tenant = get_tenant(conn, kommun)
    cleaned = clean_list(addresses)
    update_settings(conn, tenant.key, {SETTING: cleaned})
    return cleaned


def pdf_filename(kommun: str, week: str) -> str:
    """File name of the published lägesbild of ``week``."""
    return f"lagesbild-{kommun}-{week}.pdf"


def send_lagesbild(
    conn: Connection, tenant: Tenant, week: str, pdf: bytes, base_url: str
) -> list[str]:
    """Queue the published lägesbild of ``week`` to every address of the list that has
    not had it yet; returns the addresses queued now.

    Call it in the transaction that stores the publication: the once-records and the
    messages are committed together with it, or not at all.
    """
    when = week_text_sv(week)
    subject = f"Lägesbild {when} – {tenant.name}"
    lines = [
        f"Hej! Här är lägesbilden för {tenant.name}, {when}, som den publicerades efter "
        "veckomötet.",
        "Den fullständiga lägesbilden finns i den bifogade PDF-filen. Den publika kartan "
        "visar läget för allmänheten.",
    ]
    urls = links(base_url, **{"Publik karta": f"/karta/publik?kommun={tenant.key}"})
    text, body_html = compose(subject, lines, urls)
    queued = []
    for address in distribution_list(tenant):
        digest = hashlib.sha256(address.lower().encode()).hexdigest()[:32]
        key = f"lagesbild:{tenant.key}:{week}:{digest}"
        if not claim_once(conn, key):
            continue
        message_id = enqueue(
            conn,
            kind="lagesbild",
            recipient=address,
            subject=subject,
            body_text=text,
            body_html=body_html,
            attachments=[(pdf_filename(tenant.key, week), "application/pdf", pdf)],
        )
        record_once_message(conn, [key], message_id)
        queued.append(address)
    return queued
