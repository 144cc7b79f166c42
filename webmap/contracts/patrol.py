"""Contracts of the patrol (trygghetsvärd) JSON routes (``/patrull/…``).

:class:`ObservationInput` checks the shape of an observation; the kommun outline,
category list, accuracy and time window are checked by
:func:`webmap.patrol.observations.validate_observation`, whose field-by-field answer is a 422 (the
phone's offline queue drops a 422 and refreshes its CSRF token on a 400).
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from webmap.contracts.common import Contract, KommunKey, Number, Reply, Text, text


class ObservationInput(Contract):
    """One observation (``POST /patrull/observation``, JSON, ``X-CSRFToken`` header)."""

    key: text(200) | None = Field(  # type: ignore[valid-type]
        None, description="Idempotency key: 8-64 characters of [A-Za-z0-9_-]."
    )
    kommun: KommunKey | None = None
    category: text(200) | None = None  # type: ignore[valid-type]
    note: text(20000) | None = None  # type: ignore[valid-type]
    lat: Number | Text | None = None
    lon: Number | Text | None = None
    accuracy: Number | Text | None = Field(None, description="GPS accuracy in metres.")
    observed_at: text(64) | None = Field(  # type: ignore[valid-type]
        None, description="ISO 8601 time (local time of the kommun when no offset)."
    )


class ObservationStored(Reply):
    """An observation stored now (201) or earlier with the same key (200)."""

    report_id: int
    status: Literal["stored", "already_stored"]
    key: str


class CsrfToken(Reply):
    """A fresh CSRF token for queued observations."""

    csrf: str


__all__ = ["CsrfToken", "ObservationInput", "ObservationStored"]
