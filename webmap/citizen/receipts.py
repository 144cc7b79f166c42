"""Status of the receipts kept in a citizen's browser ("Mina rapporter"; no Flask).

Only the status of each receipt is answered: no text, position, place, category or
kommun, so a guessed receipt number learns as little as possible.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy.engine import Connection

from webmap.citizen.submissions import STATUS_TEXT_SV, find_receipt, normalise_receipt

#: Status text of a receipt that is not (or no longer) stored.
UNKNOWN_SV = "Kvittot finns inte"


def receipt_statuses(conn: Connection, receipts: Iterable[str]) -> list[dict[str, Any]]:
    """``receipt``, ``found``, ``status`` and Swedish ``status_text`` of each receipt, in
    the given order (repeats answered once)."""
    out: list[dict[str, Any]] = []
    seen: set[str] = set()
    for raw in receipts:
        receipt = normalise_receipt(raw)
        if receipt in seen:
            continue
        seen.add(receipt)
        found = find_receipt(conn, receipt)
        if found is None:
            out.append({"receipt": receipt, "found": False, "status_text": UNKNOWN_SV})
            continue
        status = str(found["status"])
        out.append(
            {
                "receipt": str(found["receipt"]),
                "found": True,
                "status": status,
                "status_text": STATUS_TEXT_SV.get(status, status),
            }
        )
    return out
