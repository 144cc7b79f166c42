""" "Mina rapporter" (no login): the receipts kept in the browser and their status.

The receipt page stores each receipt number in the browser (``localStorage``, never sent
anywhere but here); ``/mina-rapporter`` lists them with their current status, fetched in
one ``POST /api/reports/status`` (at most :data:`MAX_STATUS_RECEIPTS` receipts, rate
limited per client like the receipt page).
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, jsonify, render_template, request

from webmap.citizen.pages import receipt_limit
from webmap.citizen.receipts import receipt_statuses
from webmap.contracts.citizen import MAX_STATUS_RECEIPTS, StatusQuery
from webmap.contracts.common import parse
from webmap.state import get_engine

bp = Blueprint("mine", __name__)

PUBLIC_ENDPOINTS = ("mine.page", "mine.statuses")
RATE_LIMITS = {"mine.statuses": (receipt_limit, ["POST"])}
#: A JSON API without a session: nothing to forge (it changes nothing, reveals only status).
CSRF_EXEMPT = ("mine.statuses",)

#: Largest accepted body of ``POST /api/reports/status`` (bytes).
MAX_BODY = 4 * 1024


@bp.get("/mina-rapporter")
def page() -> Any:
    """The list of the receipts kept in this browser (filled in by ``mine.js``)."""
    return render_template("citizen/mine.html", max_receipts=MAX_STATUS_RECEIPTS)


def _error(message: str, status: int) -> Any:
    return jsonify({"error": message}), status


@bp.post("/api/reports/status")
def statuses() -> Any:
    """Status of each receipt of the body ``{"receipts": [...]}``."""
    if not request.is_json:
        return _error("Skicka JSON (Content-Type: application/json).", 415)
    if (request.content_length or 0) > MAX_BODY:
        return _error(f"Förfrågan är för stor (högst {MAX_BODY // 1024} kB).", 413)
    query = parse(StatusQuery, request.get_json(silent=True))
    with get_engine().connect() as conn:
        reports = receipt_statuses(conn, query.receipts)
    return jsonify({"reports": reports})
