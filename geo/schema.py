"""The report schema shared by every stage of lagesbild.

A *report frame* is a :class:`pandas.DataFrame` with exactly the columns of
:data:`REPORT_COLUMNS` (extra columns are allowed and ignored). Positions are WGS84
(EPSG:4326) latitude/longitude in degrees; timestamps are timezone-aware UTC.

==============  ======================  ==================================================
column          dtype                   meaning
==============  ======================  ==================================================
id              Int64                   database id (``<NA>`` before storage)
kommun          string                  tenant key, e.g. ``"norrtalje"``
source          string                  ``actor`` | ``citizen`` | ``patrol`` | ``police``
external_id     string                  id in the source system (``<NA>`` if none)
occurred_at     datetime64[ns, UTC]     when the incident happened
reported_at     datetime64[ns, UTC]     when it was reported (``NaT`` if unknown)
category        string                  category code (:data:`DEFAULT_CATEGORIES`)
severity        float64                 reported severity 1-5, ``NaN`` if not given
description     string                  free text (``<NA>`` if none)
reporter_org    string                  reporting organisation (actors only)
location_text   string                  place as written by the reporter
lat, lon        float64                 WGS84 degrees, ``NaN`` when unknown
precision       string                  ``point`` | ``street`` | ``locality`` | ``kommun``
locality        string                  locality (tätort) code, ``<NA>`` outside all
cell            uint64                  H3 cell at :data:`STORAGE_RES`; 0 = no cell
status          string                  ``approved`` | ``pending`` | ``rejected``
==============  ======================  ==================================================

Reports at ``locality`` or ``kommun`` precision count in locality and kommun statistics
but never get a cell: a centroid must never become a hotspot.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

import numpy as np
import pandas as pd

from geo._validate import Problems, require_columns
from geo.errors import ValidationError

#: H3 resolution reports are stored at; coarser resolutions derive from it.
STORAGE_RES = 10

#: Default time zone of Swedish inputs without an explicit offset.
DEFAULT_TZ = "Europe/Stockholm"


class Source(StrEnum):
    """Who filed a report."""

    ACTOR = "actor"
    CITIZEN = "citizen"
    PATROL = "patrol"
    POLICE = "police"


class Precision(StrEnum):
    """How exactly a report's position is known (best first)."""

    POINT = "point"
    STREET = "street"
    LOCALITY = "locality"
    KOMMUN = "kommun"

    @property
    def has_cell(self) -> bool:
        """Whether a report at this precision is placed in an H3 cell."""
        return self in (Precision.POINT, Precision.STREET)


class Status(StrEnum):
    """Moderation status; only ``approved`` reports enter the analysis."""

    APPROVED = "approved"
    PENDING = "pending"
    REJECTED = "rejected"


class Reason(StrEnum):
    """Why an input row was quarantined instead of stored."""

    NO_POSITION = "no_position"
    BAD_COORDINATES = "bad_coordinates"
    OUTSIDE_BOUNDARY = "outside_boundary"
    UNKNOWN_CATEGORY = "unknown_category"
    BAD_TIMESTAMP = "bad_timestamp"
    FUTURE_TIMESTAMP = "future_timestamp"
    MISSING_FIELD = "missing_field"
    UNKNOWN_SOURCE = "unknown_source"
    NO_TENANT = "no_tenant"
    TOO_LONG = "too_long"
    BAD_ROW = "bad_row"


#: Swedish explanation of each quarantine reason (shown in the UI and CLI).
REASON_TEXT_SV: dict[str, str] = {
    Reason.NO_POSITION: (
        "Saknar position: inga koordinater och ingen ort eller adress som kunde hittas"
    ),
    Reason.BAD_COORDINATES: "Koordinaterna kan inte tolkas eller ligger utanför giltigt intervall",
    Reason.OUTSIDE_BOUNDARY: "Positionen ligger utanför kommunens gränser",
    Reason.UNKNOWN_CATEGORY: "Okänd kategori för kommunen",
    Reason.BAD_TIMESTAMP: "Tidpunkten kan inte tolkas",
    Reason.FUTURE_TIMESTAMP: "Tidpunkten ligger i framtiden",
    Reason.MISSING_FIELD: "Ett obligatoriskt fält saknas",
    Reason.UNKNOWN_SOURCE: "Okänd källa (ska vara actor, citizen, patrol eller police)",
    Reason.NO_TENANT: "Kommunen finns inte i lagesbild (ingen hyresgäst)",
    Reason.TOO_LONG: "Texten är för lång",
    Reason.BAD_ROW: (
        "Raden kan inte delas upp i filens kolumner (fler fält än rubriken, NUL-tecken)"
    ),
}


@dataclass(frozen=True)
class Category:
    """A report category with its Swedish label and default severity weight."""

    code: str
    label_sv: str
    label_en: str
    weight: float
    serious: bool = False


#: Category codes (docs/domain.md) with default weights (configurable per kommun).
DEFAULT_CATEGORIES: tuple[Category, ...] = (
    Category("otrygg_plats", "Otrygg plats", "Perceived unsafe place", 0.5),
    Category("skadegorelse", "Skadegörelse", "Vandalism", 1.0),
    Category("klotter", "Klotter", "Graffiti", 0.5),
    Category("nedskrapning", "Nedskräpning", "Littering", 0.3),
    Category("narkotika", "Narkotika", "Drugs", 1.5),
    Category("storande_grupp", "Störande grupp", "Disturbing group", 1.0),
    Category("ordningsstorning", "Ordningsstörning", "Public disorder", 1.0),
    Category("brand", "Brand", "Fire, arson", 2.0, serious=True),
    Category("vald_hot", "Våld eller hot", "Violence, threats", 3.0, serious=True),
    Category("inbrott_stold", "Inbrott eller stöld", "Burglary, theft", 1.5),
    Category("trafik", "Trafik (MBU, A-traktor)", "Reckless driving", 0.8),
    Category("belysning", "Trasig belysning", "Broken lighting", 0.3),
    Category("annat", "Annat", "Other", 0.5),
)

CATEGORY_CODES: tuple[str, ...] = tuple(c.code for c in DEFAULT_CATEGORIES)
SERIOUS_CATEGORIES: frozenset[str] = frozenset(c.code for c in DEFAULT_CATEGORIES if c.serious)

#: Column -> pandas dtype of a report frame.
REPORT_COLUMNS: dict[str, str] = {
    "id": "Int64",
    "kommun": "string",
    "source": "string",
    "external_id": "string",
    "occurred_at": "datetime64[ns, UTC]",
    "reported_at": "datetime64[ns, UTC]",
    "category": "string",
    "severity": "float64",
    "description": "string",
    "reporter_org": "string",
    "location_text": "string",
    "lat": "float64",
    "lon": "float64",
    "precision": "string",
    "locality": "string",
    "cell": "uint64",
    "status": "string",
}


def empty_reports() -> pd.DataFrame:
    """Return an empty report frame with the documented dtypes."""
    return pd.DataFrame({c: pd.Series(dtype=t) for c, t in REPORT_COLUMNS.items()})


def conform_reports(frame: pd.DataFrame) -> pd.DataFrame:
    """Return ``frame`` with the report columns in order and cast to their dtypes.

    Missing optional columns are added empty. Raises :class:`ValidationError` listing
    every problem when required columns are missing or values are out of range.
    """
    problems = Problems("report frame")
    require_columns(frame, ("kommun", "source", "occurred_at", "category"), problems)
    problems.raise_if_any()
    out = pd.DataFrame(index=frame.index)
    for col, dtype in REPORT_COLUMNS.items():
        if col in frame.columns:
            values = frame[col]
            if dtype.startswith("datetime64"):
                values = pd.to_datetime(values, utc=True)
            elif col == "cell":
                values = values.fillna(0).astype("uint64") if values.dtype == object else values
            out[col] = values.astype(dtype)
        elif col == "cell":
            out[col] = np.zeros(len(frame), dtype="uint64")
        elif col == "status":
            out[col] = pd.array([Status.APPROVED.value] * len(frame), dtype="string")
        else:
            out[col] = pd.Series(pd.array([None] * len(frame), dtype=dtype), index=frame.index)
    validate_reports(out)
    return out


def validate_reports(frame: pd.DataFrame) -> None:
    """Check a report frame against the schema; raise one error listing all problems."""
    problems = Problems("report frame")
    require_columns(frame, REPORT_COLUMNS, problems)
    problems.raise_if_any()
    lat, lon = frame["lat"].to_numpy(float), frame["lon"].to_numpy(float)
    bad = np.isfinite(lat) & ((np.abs(lat) > 90) | (np.abs(lon) > 180))
    problems.check(not bad.any(), f"{int(bad.sum())} rows have lat/lon outside WGS84 range")
    prec = frame["precision"].dropna()
    unknown = set(prec.unique()) - {p.value for p in Precision}
    problems.check(not unknown, f"unknown precision values: {sorted(unknown)}")
    src = frame["source"].dropna()
    unknown = set(src.unique()) - {s.value for s in Source}
    problems.check(not unknown, f"unknown source values: {sorted(unknown)}")
    coarse = (
        frame["precision"].isin([Precision.LOCALITY.value, Precision.KOMMUN.value]).to_numpy(bool)
    )
    with_cell = frame["cell"].to_numpy() != 0
    problems.check(
        not (coarse & with_cell).any(),
        "reports at locality/kommun precision must not have an H3 cell",
    )
    problems.raise_if_any()


__all__ = [
    "CATEGORY_CODES",
    "DEFAULT_CATEGORIES",
    "DEFAULT_TZ",
    "REASON_TEXT_SV",
    "REPORT_COLUMNS",
    "SERIOUS_CATEGORIES",
    "STORAGE_RES",
    "Category",
    "Precision",
    "Reason",
    "Source",
    "Status",
    "ValidationError",
    "conform_reports",
    "empty_reports",
    "validate_reports",
]
