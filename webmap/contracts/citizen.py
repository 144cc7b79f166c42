"""Contracts of the citizen channel and the public API (``/api/…``, ``/rapportera``).

Request models check the shape of a body; :func:`webmap.citizen.submissions.validate_submission`
then applies the tenant's rules (category list, kommun outline, date window) to the
dumped model. Response models document what the routes answer; the OpenAPI document
(:mod:`webmap.contracts.openapi`) is generated from them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal, TypeAlias

from pydantic import Field

from analysis.public import GROUP_CODES, PERIODS
from webmap.citizen.photos import MAX_BYTES, MAX_PHOTOS, MAX_PIXELS
from webmap.citizen.submissions import MAX_DESCRIPTION, MAX_PLACE, TIME_OF_DAY
from webmap.contracts.common import Contract, KommunKey, Number, Query, Reply, text

if TYPE_CHECKING:  # the allowed values are read from the code lists at run time
    TimeOfDay: TypeAlias = str
    GroupCode: TypeAlias = str
    PeriodCode: TypeAlias = str
else:
    TimeOfDay = Literal[tuple(TIME_OF_DAY)]
    GroupCode = Literal[tuple(GROUP_CODES)]
    PeriodCode = Literal[tuple(PERIODS)]
ReportStatusCode = Literal["pending", "approved", "rejected"]

#: Fields of a citizen report (the JSON body and the form share them).
SUBMISSION_FIELDS = ("category", "lat", "lon", "place", "description", "date", "time_of_day")


class ReportInput(Contract):
    """A citizen report (``POST /api/reports``). Give ``lat`` + ``lon`` or a ``place``."""

    kommun: KommunKey | None = None
    category: text(64) | None = None  # type: ignore[valid-type]
    lat: Number | None = Field(None, json_schema_extra={"minimum": -90, "maximum": 90})
    lon: Number | None = Field(None, json_schema_extra={"minimum": -180, "maximum": 180})
    place: text(MAX_PLACE) | None = None  # type: ignore[valid-type]
    description: text(MAX_DESCRIPTION) | None = None  # type: ignore[valid-type]
    date: text(32, format="date") | None = None  # type: ignore[valid-type]
    time_of_day: TimeOfDay | None = None
    email: text(254, format="email") | None = Field(  # type: ignore[valid-type]
        None,
        description=(
            "Optional address for a confirmation and the moderation outcome (only when the "
            "installation sends mail); never shown to planners or the public, erased when "
            "the report is closed."
        ),
    )

    def submission_values(self) -> dict[str, object]:
        """The fields :func:`webmap.citizen.submissions.validate_submission` reads."""
        return {f: getattr(self, f) for f in SUBMISSION_FIELDS}


class PhotoUpload(Contract):
    """Photos of a pending report (``POST /api/reports/{receipt}/photos``, multipart).

    Each file is re-encoded as JPEG without any metadata (EXIF incl. GPS, XMP, ICC,
    comments), longest side at most 2,048 px; the public sees a photo only after a
    moderator approved it.
    """

    photos: list[bytes] = Field(
        min_length=1,
        max_length=MAX_PHOTOS,
        description=(
            f"1–{MAX_PHOTOS} JPEG, PNG or HEIC files (at most {MAX_PHOTOS} per report in all), "
            f"each at most {MAX_BYTES // (1024 * 1024)} MB and "
            f"{MAX_PIXELS // 1_000_000} megapixels."
        ),
    )


class PhotosAdded(Reply):
    """Photos stored with a report (all pending until a moderator decides)."""

    receipt: str = Field(pattern=r"^[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}$")
    added: int
    photos: int
    message: str


class ReportForm(Contract):
    """The report form ``POST /rapportera`` (every value is form text).

    Length and range rules are the tenant's (see :func:`validate_submission`); the form
    keeps what was typed so the page can show it again with every problem.
    """

    model_config = Contract.model_config | {"extra": "ignore"}

    csrf_token: text(200) = ""  # type: ignore[valid-type]
    form_token: text(500) = ""  # type: ignore[valid-type]
    kommun: text(64) = ""  # type: ignore[valid-type]
    category: text(200) = ""  # type: ignore[valid-type]
    lat: text(500) = ""  # type: ignore[valid-type]
    lon: text(500) = ""  # type: ignore[valid-type]
    place: text(5000) = ""  # type: ignore[valid-type]
    description: text(20000) = ""  # type: ignore[valid-type]
    date: text(100) = ""  # type: ignore[valid-type]
    time_of_day: text(100) = ""  # type: ignore[valid-type]
    webbplats: text(1000) = Field("", description="Honeypot: must stay empty.")  # type: ignore[valid-type]

    def submission_values(self) -> dict[str, str]:
        """The fields :func:`webmap.citizen.submissions.validate_submission` reads."""
        return {f: getattr(self, f) for f in SUBMISSION_FIELDS}


class Receipt(Reply):
    """The receipt of a stored report."""

    receipt: str = Field(pattern=r"^[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}$")
    status: ReportStatusCode
    status_text: str
    kommun: str
    next_steps: list[str]


class ReportStatus(Reply):
    """Status of a report by receipt (no text, no position)."""

    receipt: str
    status: ReportStatusCode
    status_text: str
    kommun: str
    category: str
    submitted: str = Field(json_schema_extra={"format": "date"})
    next_steps: list[str] = []


class Category(Reply):
    code: str
    label: str
    group: str


class Choice(Reply):
    code: str
    label: str


class Categories(Reply):
    """Categories of a kommun (``otrygg_plats`` first) and the time-of-day choices."""

    kommun: str
    categories: list[Category]
    time_of_day: list[Choice]


class Place(Reply):
    name: str
    lat: float
    lon: float
    precision: Literal["point", "street", "locality", "kommun"]
    approximate: bool


class Places(Reply):
    """Matching places of the offline gazetteer, best first."""

    kommun: str
    places: list[Place]


class PolygonGeometry(Reply):
    type: Literal["Polygon"]
    coordinates: list[object]


class CellProperties(Reply):
    cell: str
    count: int = Field(ge=1)
    locality: str | None = None
    near: str | None = Field(None, description="a known place within 300 m of the centre")
    colour: str


class CellFeature(Reply):
    type: Literal["Feature"]
    id: str
    geometry: PolygonGeometry
    properties: CellProperties


class CellCollection(Reply):
    """GeoJSON FeatureCollection of published (k-suppressed) cells."""

    type: Literal["FeatureCollection"]
    kommun: str
    group: GroupCode
    period: PeriodCode
    k: int = Field(ge=1)
    res: int
    as_of: str = Field(json_schema_extra={"format": "date-time"})
    cells: int = Field(ge=0)
    features: list[CellFeature]


class LocalityGrade(Reply):
    code: str
    name: str
    grade: int | None = Field(ge=1, le=5)
    label: str | None


class PublicAction(Reply):
    title: str
    kind: str
    status: str
    expected: str | None = None
    planned_end: str | None = None
    locality: str | None = None
    locality_name: str | None = None
    description: str | None = None


class Summary(Reply):
    """Published grade per locality and the public actions."""

    kommun: str
    name: str
    period: str | None
    period_text: str | None = Field(None, description='e.g. "vecka 46, 2026"')
    localities: list[LocalityGrade]
    actions: list[PublicAction]


class ColumnarCells(Reply):
    """Start page: k-suppressed counts per cell, as columns."""

    res: int
    k: int = Field(ge=1)
    n: int = Field(ge=0)
    as_of: str | None = None
    ids: list[str]
    c: list[int]


class FeatureCollection(Reply):
    """A GeoJSON FeatureCollection."""

    type: Literal["FeatureCollection"]
    features: list[dict[str, object]]


class PublicCellsQuery(Query):
    """Query of ``GET /api/public/cells``."""

    kommun: KommunKey | None = None
    group: GroupCode | None = None
    period: PeriodCode | None = None


class PlacesQuery(Query):
    """Query of ``GET /api/places``."""

    q: text(100, min_length=2)  # type: ignore[valid-type]
    kommun: KommunKey | None = None


class KommunQuery(Query):
    """Query with only the kommun (default: the installation's)."""

    kommun: KommunKey | None = None


__all__ = [
    "Categories",
    "CellCollection",
    "ColumnarCells",
    "FeatureCollection",
    "KommunQuery",
    "Places",
    "PlacesQuery",
    "PublicCellsQuery",
    "Receipt",
    "ReportForm",
    "ReportInput",
    "ReportStatus",
    "SUBMISSION_FIELDS",
    "Summary",
]


#: Most receipts one ``POST /api/reports/status`` may ask about ("Mina rapporter").
MAX_STATUS_RECEIPTS = 20


class StatusQuery(Contract):
    """Receipt numbers whose status "Mina rapporter" shows (``POST /api/reports/status``)."""

    receipts: list[text(40, 1)] = Field(  # type: ignore[valid-type]
        min_length=1, max_length=MAX_STATUS_RECEIPTS
    )


class ReceiptStatus(Reply):
    """Status of one receipt; an unknown receipt is ``found: false`` and nothing else."""

    receipt: str
    found: bool
    status: ReportStatusCode | None = None
    status_text: str


class ReceiptStatuses(Reply):
    """Status of each asked receipt, in the order asked (no text, no position, no place)."""

    reports: list[ReceiptStatus]
