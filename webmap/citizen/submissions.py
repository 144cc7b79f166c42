"""Citizen submissions: validation, idempotent storage with a receipt, moderation helpers.

Used by the web form (:mod:`webmap.citizen.pages`), the JSON API (:mod:`webmap.api.views`) and
Open311 (:mod:`webmap.open311.views`). Everything a submission writes happens in **one
transaction**: the report (``status = "pending"``, ``source = "citizen"``, stored through
the normal ingest pipeline when :mod:`geo.ingest` is available) and its
``citizen_report`` row with the receipt and the idempotency key. A repeated submission
with the same key returns the first receipt and stores nothing.

No function here receives or stores the client's address.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import math
import secrets
import unicodedata
from collections.abc import Mapping
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from sqlalchemy import Engine
from sqlalchemy.engine import Connection

from geo import pii
from geo.errors import DuplicateKeyError, LagesbildError, ValidationError
from geo.labels import CITIZEN_TIME_OF_DAY, REPORT_STATUS_TEXT_SV
from geo.schema import Precision, Status
from geo.store.citizen import (
    by_idempotency_key,
    citizen_report_row,
    insert_citizen_report,
    receipt_facts,
    shred_citizen_rows,
    stored_submission,
)
from geo.store.db import utcnow
from webmap.citizen.kommun_geo import GeoCache, KommunGeo, load_kommun_geo, tenant_choices

if TYPE_CHECKING:
    from webmap.citizen.runtime import CitizenRuntime

#: Longest description from the web form and the JSON API (characters).
MAX_DESCRIPTION = 1000
#: Longest description through Open311 (the GeoReport v2 limit).
MAX_DESCRIPTION_OPEN311 = 4000
#: Longest place text / address string.
MAX_PLACE = 200
#: Longest idempotency key accepted.
MAX_KEY = 200
#: How far back a citizen may date a report.
MAX_AGE_DAYS = 365

#: Time of day a citizen may choose: code -> (Swedish label, typical local hour).
TIME_OF_DAY = CITIZEN_TIME_OF_DAY

CHANNELS = ("web", "api", "open311")

#: Receipt alphabet (Crockford base 32: no I, L, O, U).
_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"

#: What happens next, shown with every receipt (Swedish).
NEXT_STEPS_SV: tuple[str, ...] = (
    "Rapporten granskas av kommunens trygghetssamordnare innan den används.",
    "Text som kan peka ut en person tas bort eller så avvisas rapporten.",
    "Godkända rapporter räknas in i kommunens lägesbild och i den publika kartan "
    "när tillräckligt många rapporter finns i samma område.",
    "Vid akut fara: ring 112. Vill du polisanmäla något: ring 114 14.",
)

STATUS_TEXT_SV = REPORT_STATUS_TEXT_SV


@dataclass(frozen=True)
class FieldError:
    """One problem with one field (``code`` is stable, ``message`` is Swedish)."""

    field: str
    code: str
    message: str

    def to_dict(self) -> dict[str, str]:
        return {"field": self.field, "code": self.code, "message": self.message}


class SubmissionError(ValidationError):
    """A submission that cannot be stored; :attr:`errors` lists every problem."""

    def __init__(self, errors: list[FieldError]) -> None:
        self.errors = errors
        super().__init__([e.message for e in errors], context="rapport")


class IdempotencyConflict(LagesbildError):
    """The idempotency key was already used for a *different* submission.

    Answering with the first receipt would silently drop the new report (and hand one
    sender another sender's receipt), so the caller refuses the request instead.
    """


@dataclass
class Submission:
    """A validated citizen report, ready to store."""

    kommun: str
    category: str
    lat: float
    lon: float
    precision: str
    locality: str | None
    occurred_at: dt.datetime  # naive UTC
    description: str | None
    place: str | None
    time_of_day: str | None
    channel: str
    idempotency_key: str | None = None
    api_key_id: int | None = None
    pii_flags: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Receipt:
    """Outcome of storing a submission."""

    receipt: str
    report_id: int
    status: str
    created: bool
    kommun: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "receipt": self.receipt,
            "status": self.status,
            "status_text": STATUS_TEXT_SV.get(self.status, self.status),
            "kommun": self.kommun,
            "next_steps": list(NEXT_STEPS_SV),
        }


# -- validation ------------------------------------------------------------------------------


def clean_text(value: Any, limit: int) -> tuple[str | None, bool]:
    """Normalised text (NFC, no control characters except newlines, trimmed) and whether
    it is within ``limit`` characters. Empty text gives None."""
    if value is None:
        return None, True
    text = unicodedata.normalize("NFC", str(value)).replace("\r\n", "\n").replace("\r", "\n")
    text = "".join(ch for ch in text if ch in "\n\t" or unicodedata.category(ch)[0] != "C")
    text = text.strip()
    if not text:
        return None, True
    return text, len(text) <= limit


def _parse_float(value: Any) -> float | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, bool):
        raise ValueError("bool")
    try:
        number = (
            float(str(value).strip().replace(",", ".")) if isinstance(value, str) else float(value)
        )
    except OverflowError as exc:  # an int beyond float range (JSON allows any size)
        raise ValueError("too large") from exc
    if not math.isfinite(number):
        raise ValueError("not finite")
    return number


def validate_submission(
    data: Mapping[str, Any],
    geo: KommunGeo,
    *,
    channel: str,
    max_description: int = MAX_DESCRIPTION,
    geocode: Any = None,
    now: dt.datetime | None = None,
) -> Submission:
    """Check a raw submission; raise :class:`SubmissionError` listing **every** problem.

    Parameters
    ----------
    data
        ``category``, ``lat``, ``lon``, ``place`` (free text, geocoded when there is no
        position), ``description``, ``date`` (``YYYY-MM-DD``, optional), ``time_of_day``
        (a key of :data:`TIME_OF_DAY`, optional).
    geo
        The kommun's geography (:func:`load_kommun_geo`).
    channel
        ``web`` | ``api`` | ``open311``.
    geocode
        Callable ``(text, kommun) -> (lat, lon, precision, locality) | None`` used when
        only a place text is given.
    """
    errors: list[FieldError] = []
    tenant = geo.tenant
    categories = tenant.categories
    category = str(data.get("category") or "").strip()
    if not category:
        errors.append(FieldError("category", "required", "Välj vad rapporten gäller."))
    elif category not in categories:
        errors.append(FieldError("category", "unknown", "Okänd kategori. Välj en i listan."))

    description, ok = clean_text(data.get("description"), max_description)
    if not ok:
        errors.append(
            FieldError(
                "description",
                "too_long",
                f"Beskrivningen får vara högst {max_description} tecken.",
            )
        )
    place, ok = clean_text(data.get("place"), MAX_PLACE)
    if not ok:
        errors.append(
            FieldError("place", "too_long", f"Platsen får vara högst {MAX_PLACE} tecken.")
        )

    lat = lon = None
    precision = Precision.POINT.value
    locality: str | None = None
    try:
        lat = _parse_float(data.get("lat"))
        lon = _parse_float(data.get("lon"))
    except (TypeError, ValueError):
        errors.append(FieldError("position", "invalid", "Positionen kunde inte tolkas."))
        lat = lon = None
    else:
        if (lat is None) != (lon is None):
            errors.append(FieldError("position", "invalid", "Både latitud och longitud behövs."))
            lat = lon = None
        elif lat is not None and lon is not None:
            if not (-90 <= lat <= 90 and -180 <= lon <= 180):
                errors.append(
                    FieldError("position", "invalid", "Positionen ligger utanför giltiga värden.")
                )
                lat = lon = None
            elif not geo.contains(lat, lon):
                errors.append(
                    FieldError(
                        "position",
                        "outside_kommun",
                        f"Platsen ligger utanför {tenant.name} kommun. "
                        "Välj en plats inom kommunen.",
                    )
                )
                lat = lon = None
            else:
                locality = geo.locality_of(lat, lon)
        elif place and ok:
            found = geocode(place, tenant.key) if geocode is not None else None
            if found is None:
                errors.append(
                    FieldError(
                        "place",
                        "not_found",
                        f"Platsen ”{place[:60]}” hittades inte. Välj platsen på kartan.",
                    )
                )
            else:
                lat, lon, precision, locality = found
                if not geo.contains(lat, lon):
                    errors.append(
                        FieldError(
                            "place",
                            "outside_kommun",
                            f"Platsen ligger utanför {tenant.name} kommun.",
                        )
                    )
        elif not any(e.field == "position" for e in errors):
            errors.append(
                FieldError(
                    "position",
                    "required",
                    "Välj en plats: tryck i kartan, använd din position eller sök en plats.",
                )
            )

    tod = str(data.get("time_of_day") or "").strip() or None
    if tod is not None and tod not in TIME_OF_DAY:
        errors.append(FieldError("time_of_day", "unknown", "Okänd tid på dygnet."))
        tod = None
    occurred = _occurred_at(data.get("date"), tod, tenant.timezone, now, errors)

    if errors:
        raise SubmissionError(errors)
    assert lat is not None and lon is not None and occurred is not None
    flags = sorted(set(pii.flags(description)) | set(pii.flags(place)))
    return Submission(
        kommun=tenant.key,
        category=category,
        lat=float(lat),
        lon=float(lon),
        precision=precision,
        locality=locality,
        occurred_at=occurred,
        description=description,
        place=place,
        time_of_day=tod,
        channel=channel,
        pii_flags=flags,
    )


def _occurred_at(
    raw_date: Any, tod: str | None, tz: str, now: dt.datetime | None, errors: list[FieldError]
) -> dt.datetime | None:
    zone = ZoneInfo(tz)
    current = (now or dt.datetime.now(dt.UTC)).astimezone(zone)
    text = str(raw_date or "").strip()
    if text:
        try:
            day = dt.date.fromisoformat(text[:10])
        except ValueError:
            errors.append(FieldError("date", "invalid", "Datumet ska skrivas ÅÅÅÅ-MM-DD."))
            return None
        if day > current.date():
            errors.append(FieldError("date", "future", "Datumet ligger i framtiden."))
            return None
        if (current.date() - day).days > MAX_AGE_DAYS:
            errors.append(FieldError("date", "too_old", "Datumet får vara högst ett år tillbaka."))
            return None
    else:
        day = current.date()
    if tod is not None:
        local = dt.datetime.combine(day, dt.time(TIME_OF_DAY[tod][1]), tzinfo=zone)
        if local > current:
            local = current if day == current.date() else local
    elif day == current.date():
        local = current
    else:
        local = dt.datetime.combine(day, dt.time(12), tzinfo=zone)
    return local.astimezone(dt.UTC).replace(tzinfo=None, microsecond=0)


# -- storage ---------------------------------------------------------------------------------


def new_receipt() -> str:
    """A random, unguessable receipt number like ``7KQM-29XA-3FHD`` (60 bits)."""
    value = int.from_bytes(secrets.token_bytes(8), "big") >> 4  # 60 random bits
    chars = "".join(_ALPHABET[(value >> (5 * i)) & 31] for i in range(12))
    return f"{chars[:4]}-{chars[4:8]}-{chars[8:]}"


def normalise_receipt(value: str) -> str:
    """Upper-case receipt with dashes (tolerates spaces and missing dashes)."""
    raw = "".join(ch for ch in str(value).upper() if ch.isalnum())
    raw = raw.replace("O", "0").replace("I", "1").replace("L", "1")
    if len(raw) != 12:
        return raw
    return f"{raw[:4]}-{raw[4:8]}-{raw[8:]}"


def idempotency_hash(channel: str, key: str | None) -> str | None:
    """Stored form of an idempotency key (SHA-256, scoped by channel)."""
    if not key:
        return None
    return hashlib.sha256(f"{channel}\x1f{key}".encode()).hexdigest()


def text_hash(salt: str | None, text: str | None) -> str | None:
    """Salted SHA-256 of a text for the moderation audit (None without text or salt)."""
    if text is None or salt is None:
        return None
    return hashlib.sha256(f"{salt}\x1f{text}".encode()).hexdigest()


def _report_row(sub: Submission, receipt: str, now: dt.datetime) -> dict[str, Any]:
    """The ``report`` row of a submission (see :func:`geo.store.citizen.citizen_report_row`)."""
    fields = {
        "kommun": sub.kommun,
        "occurred_at": sub.occurred_at,
        "category": sub.category,
        "description": sub.description,
        "place": sub.place,
        "lat": sub.lat,
        "lon": sub.lon,
        "precision": sub.precision,
        "locality": sub.locality,
    }
    return citizen_report_row(fields, receipt, now)


def _citizen_row(
    sub: Submission, receipt: str, key: str | None, salt: str, now: dt.datetime
) -> dict[str, Any]:
    """The ``citizen_report`` row of a submission (without ``report_id``)."""
    return {
        "kommun": sub.kommun,
        "receipt": receipt,
        "idempotency_key": key,
        "channel": sub.channel,
        "api_key_id": sub.api_key_id,
        "time_of_day": sub.time_of_day,
        "pii_flags": list(sub.pii_flags),
        "text_salt": salt,
        "submitted_at": now,
        "moderated_at": None,
        "moderated_by": None,
        "text_deleted_at": None,
    }


def store_submission(
    engine: Engine,
    sub: Submission,
    lock: AbstractContextManager[Any] | None = None,
    writer: Connection | None = None,
) -> Receipt:
    """Store ``sub`` (pending) with a new receipt, or return the receipt of its first copy.

    One transaction: look up the idempotency key, then write the report and its
    ``citizen_report`` row; committed before this returns (no batching). ``lock``
    serialises writers inside one process (SQLite allows one writer at a time; waiting on
    a lock is cheaper and fairer than SQLite's busy-sleep back-off); ``writer`` is an
    optional long-lived connection used under that lock (see :class:`CitizenRuntime`).
    Across processes the unique idempotency key still guarantees that a submission is
    stored at most once.
    """
    key = idempotency_hash(sub.channel, sub.idempotency_key)
    salt = secrets.token_hex(16)  # per report: salts its audit text hashes
    for _attempt in range(3):
        receipt = new_receipt()
        now = utcnow().replace(microsecond=0)
        try:
            # no look-up first: the unique idempotency key makes a repeated submission
            # fail here (IntegrityError, rolled back) and the first receipt is returned
            with lock or nullcontext():
                report_id = insert_citizen_report(
                    engine,
                    writer,
                    _report_row(sub, receipt, now),
                    _citizen_row(sub, receipt, key, salt, now),
                )
        except DuplicateKeyError:
            if key is not None:
                found = find_by_idempotency(engine, key)
                if found is not None:  # a repeated or concurrent copy won
                    if not _same_submission(engine, found.report_id, sub):
                        raise IdempotencyConflict(
                            "idempotensnyckeln har redan använts för en annan rapport"
                        ) from None
                    return found
            continue  # receipt collision (2**-60): draw again
        return Receipt(receipt, report_id, Status.PENDING.value, True, sub.kommun)
    raise LagesbildError("rapporten kunde inte sparas, försök igen")


def _find_by_key(conn: Connection, key_hash: str) -> Receipt | None:
    row = by_idempotency_key(conn, key_hash)
    if row is None:
        return None
    return Receipt(
        row["receipt"], int(row["report_id"]), str(row["status"]), False, str(row["kommun"])
    )


def _same_submission(engine: Engine, report_id: int, sub: Submission) -> bool:
    """Whether the stored report ``report_id`` holds the same submission as ``sub``.

    Compares what a retry sends unchanged: kommun, category, position, place text, time
    of day and, while moderation and retention have not changed it, the description.
    """
    with engine.connect() as conn:
        row = stored_submission(conn, report_id)
    if row is None:
        return False
    same = (
        row["kommun"] == sub.kommun
        and row["category"] == sub.category
        and row["lat"] is not None
        and row["lon"] is not None
        and math.isclose(float(row["lat"]), sub.lat, abs_tol=1e-9)
        and math.isclose(float(row["lon"]), sub.lon, abs_tol=1e-9)
        and (row["location_text"] or None) == sub.place
        and (row["time_of_day"] or None) == sub.time_of_day
    )
    if same and row["moderated_at"] is None and row["text_deleted_at"] is None:
        same = (row["description"] or None) == sub.description
    return bool(same)


def find_by_idempotency(engine: Engine, key_hash: str) -> Receipt | None:
    """Receipt of the submission stored with this idempotency key hash, if any."""
    with engine.connect() as conn:
        return _find_by_key(conn, key_hash)


def find_receipt(conn: Connection, receipt: str) -> dict[str, Any] | None:
    """Public facts of a receipt (no text, no position), or None."""
    return receipt_facts(conn, normalise_receipt(receipt))


# -- per-app runtime ---------------------------------------------------------------------


def runtime() -> CitizenRuntime:
    """The current app's :class:`CitizenRuntime`."""
    from webmap.state import current_state

    return current_state().citizen


__all__ = [
    "CHANNELS",
    "MAX_DESCRIPTION",
    "MAX_DESCRIPTION_OPEN311",
    "MAX_PLACE",
    "NEXT_STEPS_SV",
    "STATUS_TEXT_SV",
    "TIME_OF_DAY",
    "FieldError",
    "GeoCache",
    "IdempotencyConflict",
    "KommunGeo",
    "Receipt",
    "Submission",
    "SubmissionError",
    "clean_text",
    "find_by_idempotency",
    "find_receipt",
    "idempotency_hash",
    "load_kommun_geo",
    "new_receipt",
    "normalise_receipt",
    "runtime",
    "tenant_choices",
    "shred_citizen_rows",
    "store_submission",
    "text_hash",
    "validate_submission",
]
