"""Contracts of Open311 GeoReport v2 (``/open311/v2/…``, the JSON form of each route).

Open311 keeps its own conventions: English error descriptions in a list of
``{code, description}`` and a form-encoded ``POST requests.json``.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from webmap.citizen.submissions import MAX_DESCRIPTION_OPEN311, MAX_PLACE
from webmap.contracts.citizen import TimeOfDay
from webmap.contracts.common import Contract, Query, Reply, form_number, text

#: W3C datetime with a time zone, as Open311 requires.
W3C_PATTERN = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$"


class JurisdictionQuery(Query):
    """Query with only the jurisdiction (kommun key or SCB code)."""

    jurisdiction_id: text(64) | None = Field(  # type: ignore[valid-type]
        None, description="Kommun (tenant key or SCB code); default: the installation's."
    )


class RequestsQuery(JurisdictionQuery):
    """Query of ``GET requests.json``."""

    service_request_id: text(2000) | None = None  # type: ignore[valid-type]
    service_code: text(1000) | None = None  # type: ignore[valid-type]
    start_date: text(64, pattern=W3C_PATTERN) | None = None  # type: ignore[valid-type]
    end_date: text(64, pattern=W3C_PATTERN) | None = None  # type: ignore[valid-type]
    status: text(100, pattern="^(open|closed)(,(open|closed))*$") | None = None  # type: ignore[valid-type]


class Open311Error(Reply):
    code: int
    description: str


class DiscoveryEndpoint(Reply):
    specification: str
    url: str
    changeset: str
    type: Literal["production", "test"]
    formats: list[str]


class Discovery(Reply):
    """Service discovery."""

    changeset: str
    contact: str
    key_service: str
    endpoints: list[DiscoveryEndpoint]


class Service(Reply):
    """A service (a category, with its group)."""

    service_code: str
    service_name: str
    description: str
    metadata: bool
    type: Literal["realtime", "batch", "blackbox"]
    keywords: str
    group: str


class AttributeValue(Reply):
    key: str
    name: str


class ServiceAttribute(Reply):
    variable: bool
    code: str
    datatype: str
    required: bool
    datatype_description: str | None = None
    order: int
    description: str
    values: list[AttributeValue] | None = None


class ServiceDefinition(Reply):
    """Attributes of a service."""

    service_code: str
    attributes: list[ServiceAttribute]


class ServiceRequest(Reply):
    """An approved request, public fields only."""

    service_request_id: str
    status: Literal["open", "closed"]
    status_notes: str | None = None
    service_name: str
    service_code: str
    description: str | None = None
    agency_responsible: str
    service_notice: str | None = None
    requested_datetime: str = Field(json_schema_extra={"format": "date-time"})
    updated_datetime: str | None = Field(None, json_schema_extra={"format": "date-time"})
    expected_datetime: str | None = Field(None, json_schema_extra={"format": "date-time"})
    address: str | None = None
    address_id: str | None = None
    zipcode: str | None = None
    lat: float | None = None
    long: float | None = None
    media_url: str | None = None


class ServiceRequestCreated(Reply):
    service_request_id: str
    service_notice: str | None = None
    account_id: str | None = None


_NOT_STORED = "Accepted, never stored."


class ServiceRequestInput(Contract):
    """``POST /open311/v2/requests.json`` (form-encoded; every value is text)."""

    # partner systems may send further ``attribute[…]`` fields: ignored, never stored
    model_config = Contract.model_config | {"populate_by_name": True, "extra": "ignore"}

    api_key: text(200) | None = None  # type: ignore[valid-type]
    jurisdiction_id: text(64) | None = None  # type: ignore[valid-type]
    service_code: text(64)  # type: ignore[valid-type]
    lat: form_number(-90, 90) | None = None  # type: ignore[valid-type]
    long: form_number(-180, 180) | None = None  # type: ignore[valid-type]
    address_string: text(MAX_PLACE) | None = None  # type: ignore[valid-type]
    description: text(MAX_DESCRIPTION_OPEN311) | None = None  # type: ignore[valid-type]
    time_of_day: TimeOfDay | None = Field(None, alias="attribute[time_of_day]")
    email: text(500) | None = Field(None, description=_NOT_STORED)  # type: ignore[valid-type]
    first_name: text(500) | None = Field(None, description=_NOT_STORED)  # type: ignore[valid-type]
    last_name: text(500) | None = Field(None, description=_NOT_STORED)  # type: ignore[valid-type]
    phone: text(500) | None = Field(None, description=_NOT_STORED)  # type: ignore[valid-type]
    device_id: text(500) | None = Field(None, description=_NOT_STORED)  # type: ignore[valid-type]
    account_id: text(500) | None = Field(None, description=_NOT_STORED)  # type: ignore[valid-type]
    media_url: text(2000) | None = Field(None, description=_NOT_STORED)  # type: ignore[valid-type]


__all__ = [
    "Discovery",
    "Open311Error",
    "Service",
    "ServiceDefinition",
    "ServiceRequest",
    "ServiceRequestCreated",
    "ServiceRequestInput",
    "JurisdictionQuery",
    "RequestsQuery",
    "W3C_PATTERN",
]
