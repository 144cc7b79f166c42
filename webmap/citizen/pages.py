"""Citizen reporting ``/rapportera`` (no login): form, submission and receipt.

Mobile first and usable without a mouse: the position can be set by tapping the map, with
"Använd min position", by searching a place (offline gazetteer), by moving the marker with
the arrow keys, or – without JavaScript – by typing the place, which the server looks up.

Abuse protection on ``POST /rapportera``:

* CSRF token (Flask-WTF, app-wide) and a **one-time form token** (signed, 24 h): it is the
  idempotency key, so submitting the same form twice (double click, reload, retry) gives
  the first receipt and stores nothing new;
* a honeypot field (``webbplats``) hidden from people and assistive technology;
* a per-client rate limit keyed by :func:`webmap.privacy.client_key` (a salted, daily
  rotating hash; the address is never stored or logged);
* validation of every field with all problems shown at once (:mod:`webmap.citizen.submissions`);
  nothing is stored unless everything is valid, and then in one transaction.
"""

from __future__ import annotations

import secrets
from typing import Any

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from geo.errors import NotFoundError, ValidationError
from webmap.citizen.photo_web import (
    PHOTO_FIELD,
    allow_photo_body,
    photo_folder,
    photo_response,
    uploads,
)
from webmap.citizen.photos import (
    MAX_BYTES,
    MAX_PHOTOS,
    clean_photos,
    files_undone_on_error,
    public_photo,
    receipt_photos,
    save_photos,
)
from webmap.citizen.submissions import (
    MAX_DESCRIPTION,
    MAX_PLACE,
    NEXT_STEPS_SV,
    STATUS_TEXT_SV,
    TIME_OF_DAY,
    FieldError,
    IdempotencyConflict,
    KommunGeo,
    SubmissionError,
    find_receipt,
    runtime,
    tenant_choices,
    validate_submission,
)
from webmap.contracts.citizen import ReportForm
from webmap.contracts.common import parse
from webmap.mail.citizen import clean_email, confirm, mail_enabled, register_address
from webmap.state import default_kommun, get_engine
from webmap.web import base_map_config

bp = Blueprint("citizen", __name__)

PUBLIC_ENDPOINTS = (
    "citizen.form",
    "citizen.submit",
    "citizen.receipt",
    "citizen.confirm_email",
    "citizen.photo",
)
bp.url_value_preprocessor(allow_photo_body(("citizen.submit",)))

#: Cache lifetime of an approved photo: its name never changes, but retention may erase
#: it, so shared caches keep it for an hour at most.
PUBLIC_PHOTO_CACHE = "public, max-age=3600"

#: Default per-client limits (override with ``CITIZEN_RATE_LIMIT`` / ``RECEIPT_RATE_LIMIT``).
DEFAULT_RATE_LIMIT = "10/minute;60/hour"
DEFAULT_RECEIPT_RATE_LIMIT = "30/minute"


def submit_limit() -> str:
    """Per-client limit of submissions (config ``CITIZEN_RATE_LIMIT``)."""
    return str(current_app.config.get("CITIZEN_RATE_LIMIT") or DEFAULT_RATE_LIMIT)


def receipt_limit() -> str:
    """Per-client limit of receipt look-ups (config ``RECEIPT_RATE_LIMIT``)."""
    return str(current_app.config.get("RECEIPT_RATE_LIMIT") or DEFAULT_RECEIPT_RATE_LIMIT)


RATE_LIMITS = {
    "citizen.submit": (submit_limit, ["POST"]),
    "citizen.receipt": (receipt_limit, ["GET"]),
    "citizen.confirm_email": (receipt_limit, ["GET"]),
    "citizen.photo": (receipt_limit, ["GET"]),
}

#: Name of the honeypot field (must stay empty).
HONEYPOT = "webbplats"
#: Lifetime of a one-time form token (seconds).
FORM_TOKEN_MAX_AGE = 24 * 3600


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(str(current_app.secret_key), salt="lagesbild-citizen-form")


def new_form_token() -> str:
    """A signed one-time token identifying one filled-in form (the idempotency key)."""
    return _serializer().dumps(secrets.token_urlsafe(16))


def read_form_token(token: str | None) -> str | None:
    """The nonce of a valid token, None when missing, forged or expired."""
    if not token:
        return None
    try:
        nonce = _serializer().loads(token, max_age=FORM_TOKEN_MAX_AGE)
    except (BadSignature, SignatureExpired):
        return None
    return str(nonce)


def kommun_key() -> str:
    """Tenant of the request (``?kommun=`` or the configured default)."""
    return str(request.values.get("kommun") or default_kommun())


def kommun_geo(key: str) -> KommunGeo:
    """The tenant's geography, 404 when the tenant does not exist."""
    try:
        return runtime().geo.get(get_engine(), key)
    except NotFoundError:
        abort(404)


def ordered_categories(geo: KommunGeo) -> list[tuple[str, str]]:
    """``(code, label)`` with ``otrygg_plats`` first, ``annat`` last."""
    cats = [(code, str(v.get("label", code))) for code, v in geo.tenant.categories.items()]
    first = [c for c in cats if c[0] == "otrygg_plats"]
    last = [c for c in cats if c[0] == "annat"]
    middle = [c for c in cats if c[0] not in ("otrygg_plats", "annat")]
    return first + middle + last


def map_config(geo: KommunGeo) -> dict[str, Any]:
    """Settings of the report map for the browser (no personal data)."""
    return {
        "kommun": geo.tenant.key,
        "centre": geo.centre,
        "bounds": geo.bounds,
        "outline": geo.outline_geojson,
        **base_map_config(geo.tenant.key),
        "placesUrl": url_for("api.places"),
    }


def _render_form(
    geo: KommunGeo,
    values: dict[str, Any] | None = None,
    errors: list[FieldError] | None = None,
    status: int = 200,
    token: str | None = None,
) -> Any:
    html = render_template(
        "citizen/report.html",
        geo=geo,
        categories=ordered_categories(geo),
        times=TIME_OF_DAY,
        values=values or {},
        errors=errors or [],
        error_fields={e.field for e in errors or []},
        form_token=token or new_form_token(),
        honeypot=HONEYPOT,
        max_description=MAX_DESCRIPTION,
        max_place=MAX_PLACE,
        map_config=map_config(geo),
        kommuner=tenant_choices(get_engine()),
        retention_days=int(geo.tenant.settings.get("citizen_text_retention_days", 180)),
        photo_field=PHOTO_FIELD,
        max_photos=MAX_PHOTOS,
        max_photo_mb=MAX_BYTES // (1024 * 1024),
    )
    return html, status


@bp.get("/rapportera")
def form() -> Any:
    """The report form."""
    return _render_form(kommun_geo(kommun_key()))


@bp.post("/rapportera")
def submit() -> Any:
    """Validate and store a report; redirect to its receipt (303)."""
    values = parse(ReportForm, request.form.to_dict()).submission_values()
    geo = kommun_geo(kommun_key())
    if request.form.get(HONEYPOT):
        # filled by a robot: store nothing, say little
        return render_template(
            "error.html", code=400, message="Rapporten kunde inte tas emot."
        ), 400
    token = request.form.get("form_token")
    nonce = read_form_token(token)
    if nonce is None:
        err = FieldError(
            "form", "expired", "Formuläret har gått ut. Kontrollera uppgifterna och skicka igen."
        )
        return _render_form(geo, values, [err], status=400)
    rt = runtime()
    typed_email = str(request.form.get("email", ""))[:1000]
    email, errors = _email(typed_email)
    values["email"] = typed_email
    sent = uploads()
    try:
        photos = clean_photos(sent)
    except SubmissionError as exc:
        errors += exc.errors
        photos = []
    try:
        sub = validate_submission(values, geo, channel="web", geocode=rt.geocode)
    except SubmissionError as exc:
        errors = exc.errors + errors
    if errors:
        if sent:  # a browser cannot put files back into a file input
            errors.append(_choose_again())
        return _render_form(geo, values, errors, status=400, token=token)
    sub.idempotency_key = nonce
    try:
        receipt = rt.store(get_engine(), sub)
    except IdempotencyConflict:
        # this form was already sent with other details (e.g. back button, edit, send):
        # keep the new details and offer a fresh form instead of dropping them
        err = FieldError(
            "form",
            "already_sent",
            "Formuläret har redan skickats med andra uppgifter. "
            "Kontrollera uppgifterna och skicka igen för att lämna en ny rapport.",
        )
        return _render_form(geo, values, [err], status=409)
    if receipt.created and (email or photos):
        folder = photo_folder()
        with files_undone_on_error(folder) as written, get_engine().begin() as conn:
            save_photos(conn, folder, receipt.report_id, photos, written)
            if email:
                register_address(
                    conn, receipt.report_id, receipt.receipt, email, current_app.config["BASE_URL"]
                )
    return redirect(url_for("citizen.receipt", nr=receipt.receipt, ny=1), code=303)


def _choose_again() -> FieldError:
    return FieldError(
        PHOTO_FIELD,
        "choose_again",
        "Rapporten och bilderna har inte skickats. Välj bilderna igen innan du skickar.",
    )


def _email(value: str) -> tuple[str | None, list[FieldError]]:
    """The cleaned address of the form (None when mail is off), or the field's error."""
    if not mail_enabled(current_app.config):
        return None, []
    try:
        return clean_email(value), []
    except ValidationError as exc:
        return None, [FieldError("email", "invalid", str(exc).capitalize() + ".")]


@bp.get("/rapportera/bekrafta/<token>")
def confirm_email(token: str) -> Any:
    """Confirm a citizen's e-mail address; show the receipt."""
    with get_engine().begin() as conn:
        receipt_nr = confirm(conn, token)
    if receipt_nr is None:
        return render_template(
            "error.html",
            code=404,
            message="Länken gäller inte längre: rapporten kan redan vara granskad.",
        ), 404
    flash("Tack! Din e-postadress är bekräftad. Vi meddelar dig när rapporten är granskad.", "info")
    return redirect(url_for("citizen.receipt", nr=receipt_nr), code=303)


@bp.get("/rapportera/kvitto/<nr>")
def receipt(nr: str) -> Any:
    """Receipt: number, status and what happens next (no text, no position)."""
    with get_engine().connect() as conn:
        found = find_receipt(conn, nr)
        approved, pending = receipt_photos(conn, int(found["id"])) if found else ([], 0)
    if found is None:
        abort(404)
    geo = kommun_geo(found["kommun"])
    labels = dict(ordered_categories(geo))
    return render_template(
        "citizen/receipt.html",
        r=found,
        fresh=request.args.get("ny") == "1",
        category_label=labels.get(found["category"], found["category"]),
        status_text=STATUS_TEXT_SV.get(found["status"], found["status"]),
        next_steps=NEXT_STEPS_SV,
        tenant=geo.tenant,
        time_label=TIME_OF_DAY.get(found["time_of_day"] or "", ("", 0))[0],
        photos=approved,
        pending_photos=pending,
    )


@bp.get("/rapportera/bild/<name>.jpg")
def photo(name: str) -> Any:
    """An approved photo (the only photos the public sees), re-encoded without metadata."""
    with get_engine().connect() as conn:
        row = public_photo(conn, name)
    return photo_response(str(row["name"]) if row else "", PUBLIC_PHOTO_CACHE)
