"""Public JSON API under ``/api`` (citizen reports, categories, place search, OpenAPI).

Described by the OpenAPI 3 document at ``/api/openapi.json``, generated from the models
of :mod:`webmap.contracts`; a test keeps every JSON route of ``/api`` and ``/open311``
documented and the responses valid against it.

Errors are ``{"error": "<Swedish message>"}`` plus, for invalid submissions,
``"errors": [{"field", "code", "message"}, …]`` listing every problem (HTTP 400).

``POST /api/reports`` needs no login and no CSRF token: it never reads the session (no
ambient authority a forged request could borrow) and only accepts
``Content-Type: application/json``, which a cross-site form cannot send and a cross-site
script cannot send without a CORS preflight that this app never grants. It is rate
limited per client (salted hash) and idempotent with the ``Idempotency-Key`` header.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import Blueprint, current_app, jsonify, request

from analysis.public import category_to_group
from geo.errors import NotFoundError, ValidationError
from webmap.citizen.photo_web import allow_photo_body, photo_folder, uploads
from webmap.citizen.photos import (
    MAX_PHOTOS,
    clean_photos,
    files_undone_on_error,
    room_for,
    save_photos,
)
from webmap.citizen.submissions import (
    MAX_KEY,
    NEXT_STEPS_SV,
    STATUS_TEXT_SV,
    TIME_OF_DAY,
    IdempotencyConflict,
    KommunGeo,
    Submission,
    SubmissionError,
    find_receipt,
    runtime,
    validate_submission,
)
from webmap.contracts.citizen import ReportInput
from webmap.contracts.common import parse
from webmap.mail.citizen import clean_email, mail_enabled, register_address
from webmap.state import default_kommun, get_engine

bp = Blueprint("api", __name__, url_prefix="/api")
bp.url_value_preprocessor(allow_photo_body(("api.add_photos",)))

PUBLIC_ENDPOINTS = (
    "api.openapi",
    "api.categories",
    "api.places",
    "api.create_report",
    "api.report_status",
    "api.add_photos",
)
#: Neither route reads the session: a forged cross-site request borrows no authority
#: (photos are added by receipt number, which only the sender knows).
CSRF_EXEMPT = ("api.create_report", "api.add_photos")


def _submit_limit() -> str:
    from webmap.citizen.pages import submit_limit

    return submit_limit()


def _read_limit() -> str:
    return str(current_app.config.get("API_READ_RATE_LIMIT") or "120/minute")


RATE_LIMITS = {
    "api.create_report": (_submit_limit, ["POST"]),
    "api.add_photos": (_submit_limit, ["POST"]),
    "api.report_status": (_read_limit, ["GET"]),
    "api.places": (_read_limit, ["GET"]),
}

#: Largest accepted request body of ``POST /api/reports`` (bytes; a report is ≈ 1 kB).
MAX_BODY = 64 * 1024


def error(message: str, status: int, errors: list[dict[str, str]] | None = None) -> Any:
    """JSON error response."""
    return jsonify(_error_body(message, errors)), status


def _geo(kommun: str | None) -> KommunGeo | None:
    key = kommun or default_kommun()
    try:
        return runtime().geo.get(get_engine(), key)
    except NotFoundError:
        return None


@bp.get("/openapi.json")
def openapi() -> Any:
    """The OpenAPI 3 document of this API."""
    from webmap.contracts.openapi import openapi_document

    return jsonify(openapi_document())


@bp.get("/categories")
def categories() -> Any:
    """Categories of a kommun (``otrygg_plats`` first) and the time-of-day choices."""
    from webmap.citizen.pages import ordered_categories

    geo = _geo(request.args.get("kommun"))
    if geo is None:
        return error("Kommunen finns inte.", 404)
    cats = ordered_categories(geo)
    groups = category_to_group([c for c, _l in cats])
    return jsonify(
        {
            "kommun": geo.tenant.key,
            "categories": [
                {"code": code, "label": label, "group": str(g)}
                for (code, label), g in zip(cats, groups, strict=True)
            ],
            "time_of_day": [{"code": c, "label": v[0]} for c, v in TIME_OF_DAY.items()],
        }
    )


@bp.get("/places")
def places() -> Any:
    """Place search in the offline gazetteer (``q``: at least 2 characters)."""
    q = (request.args.get("q") or "").strip()
    if not 2 <= len(q) <= 100:
        return error("Sökningen ska vara 2–100 tecken.", 400)
    geo = _geo(request.args.get("kommun"))
    if geo is None:
        return error("Kommunen finns inte.", 404)
    return jsonify({"kommun": geo.tenant.key, "places": runtime().search(q, geo.tenant.key)})


@bp.post("/reports")
def create_report() -> Any:
    """Submit a citizen report (stored as pending, moderated before use)."""
    if not request.is_json:
        return error("Skicka JSON (Content-Type: application/json).", 415)
    chunked = "chunked" in request.headers.get("Transfer-Encoding", "").lower()
    if request.content_length is None and chunked:
        return error("Ange längden på förfrågan (Content-Length).", 411)
    if (request.content_length or 0) > MAX_BODY:
        return error(f"Förfrågan är för stor (högst {MAX_BODY // 1024} kB).", 413)
    try:
        data = request.get_json(silent=True)
    except RecursionError:  # absurdly nested JSON
        data = None
    if not isinstance(data, dict):
        return error("Ogiltig JSON: ett objekt förväntas.", 400)
    key = request.headers.get("Idempotency-Key")
    if key is not None and not 1 <= len(key) <= MAX_KEY:
        return error(f"Idempotency-Key ska vara 1–{MAX_KEY} tecken.", 400)
    checked = check_report(data, key)
    body, status = checked if isinstance(checked, tuple) else store_report(checked)
    return jsonify(body), status


@dataclass
class CheckedReport:
    """A submission that passed every check, ready for :func:`store_report`."""

    submission: Submission
    email: str | None


def _error_body(message: str, errors: list[dict[str, str]] | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"error": message}
    if errors is not None:
        body["errors"] = errors
    return body


def check_report(data: dict[str, Any], key: str | None) -> CheckedReport | tuple[Any, int]:
    """The checks of ``POST /api/reports`` on a JSON object (no side effects).

    Needs an app context, not a request. Returns the checked report, or the error's
    ``(body, status)``; a body of the wrong shape raises :class:`pydantic.ValidationError`
    (the app's Swedish 400).
    """
    body = parse(ReportInput, data)  # shape errors: a Swedish 400 naming each field
    geo = _geo(body.kommun)
    if geo is None:
        return _error_body("Kommunen finns inte."), 404
    try:
        email = clean_email(body.email) if mail_enabled(current_app.config) else None
    except ValidationError as exc:
        bad = {"field": "email", "code": "invalid", "message": str(exc)}
        return _error_body("Rapporten kunde inte tas emot.", [bad]), 400
    rt = runtime()
    try:
        sub = validate_submission(body.submission_values(), geo, channel="api", geocode=rt.geocode)
    except SubmissionError as exc:
        problems = [e.to_dict() for e in exc.errors]
        return _error_body("Rapporten kunde inte tas emot.", problems), 400
    sub.idempotency_key = key
    return CheckedReport(sub, email)


def store_report(checked: CheckedReport) -> tuple[Any, int]:
    """Store a checked report (idempotent with its key); the answer's ``(body, status)``."""
    try:
        receipt = runtime().store(get_engine(), checked.submission)
    except IdempotencyConflict:
        return _error_body("Idempotency-Key har redan använts för en annan rapport."), 422
    if checked.email and receipt.created:
        with get_engine().begin() as conn:
            register_address(
                conn,
                receipt.report_id,
                receipt.receipt,
                checked.email,
                current_app.config["BASE_URL"],
            )
    return receipt.to_dict(), (201 if receipt.created else 200)


@bp.post("/reports/<receipt>/photos")
def add_photos(receipt: str) -> Any:
    """Add photos (multipart ``photos``) to a pending report, found by its receipt."""
    receipt_nr = receipt
    if request.mimetype != "multipart/form-data":
        return error("Skicka bilderna som multipart/form-data (fältet photos).", 415)
    if len(receipt_nr) > 40:
        return error("Kvittot finns inte.", 404)
    with get_engine().connect() as conn:
        found = find_receipt(conn, receipt_nr)
        room = room_for(conn, int(found["id"])) if found is not None else 0
    if found is None:
        return error("Kvittot finns inte.", 404)
    if found["status"] != "pending":
        return error("Rapporten är redan granskad; bilder kan inte läggas till.", 409)
    sent = uploads()
    if not sent:
        missing = {"field": "photos", "code": "required", "message": "Skicka minst en bild."}
        return error("Bilderna kunde inte tas emot.", 400, [missing])
    try:
        photos = clean_photos(sent, already=MAX_PHOTOS - room)
    except SubmissionError as exc:
        return error("Bilderna kunde inte tas emot.", 400, [e.to_dict() for e in exc.errors])
    folder = photo_folder()
    with (
        files_undone_on_error(folder) as written,
        runtime().write_lock,
        get_engine().begin() as conn,
    ):
        if room_for(conn, int(found["id"])) < len(photos):  # a concurrent upload won
            return error(f"Högst {MAX_PHOTOS} bilder per rapport.", 409)
        save_photos(conn, folder, int(found["id"]), photos, written)
        total = MAX_PHOTOS - room_for(conn, int(found["id"]))
    body = {
        "receipt": found["receipt"],
        "added": len(photos),
        "photos": total,
        "message": "Bilderna är mottagna och granskas innan någon annan ser dem.",
    }
    return jsonify(body), 201


@bp.get("/reports/<receipt>")
def report_status(receipt: str) -> Any:
    """Status of a report by its receipt number (no text, no position)."""
    if len(receipt) > 40:
        return error("Kvittot finns inte.", 404)
    with get_engine().connect() as conn:
        found = find_receipt(conn, receipt)
    if found is None:
        return error("Kvittot finns inte.", 404)
    return jsonify(
        {
            "receipt": found["receipt"],
            "status": found["status"],
            "status_text": STATUS_TEXT_SV.get(found["status"], found["status"]),
            "kommun": found["kommun"],
            "category": found["category"],
            "submitted": found["submitted_at"].date().isoformat(),
            "next_steps": list(NEXT_STEPS_SV),
        }
    )
