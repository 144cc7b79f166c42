"""Swedish texts every layer shows: sources, statuses, action kinds, day parts, dates.

The one place for these labels: the import pipeline, the analysis, the web pages, the PDF
reports and the APIs all read them from here. Category labels live with the categories
(:data:`geo.schema.DEFAULT_CATEGORIES`, or a tenant's own settings).

Day parts
---------
One table, :data:`DAY_PARTS`, defines each part of the day once: its label and its local
hours ``[start, end)``. Citizens choose one of :data:`CITIZEN_DAY_PARTS` when they do not
know the exact time (the report is then dated at the part's ``typical_hour``); the
planner's map filters by any part, including the whole day and "evening and night".
"""

from __future__ import annotations

from dataclasses import dataclass

from geo.schema import Source, Status

#: Who filed a report.
SOURCE_LABELS_SV: dict[str, str] = {
    Source.ACTOR.value: "Aktörer (EST)",
    Source.CITIZEN.value: "Medborgare",
    Source.PATROL.value: "Trygghetsvärdar",
    Source.POLICE.value: "Polisen",
}

#: Moderation status of a citizen report, as told to the person who filed it.
REPORT_STATUS_TEXT_SV: dict[str, str] = {
    Status.PENDING.value: "Mottagen – väntar på granskning",
    Status.APPROVED.value: "Granskad och godkänd – ingår i lägesbilden",
    Status.REJECTED.value: "Granskad – ingår inte i lägesbilden",
}

#: Weekday names, Monday first (``date.weekday()`` indexes them).
WEEKDAYS_SV: tuple[str, ...] = (
    "måndag",
    "tisdag",
    "onsdag",
    "torsdag",
    "fredag",
    "lördag",
    "söndag",
)

#: Month names, January first (``date.month - 1`` indexes them).
MONTHS_SV: tuple[str, ...] = (
    "januari",
    "februari",
    "mars",
    "april",
    "maj",
    "juni",
    "juli",
    "augusti",
    "september",
    "oktober",
    "november",
    "december",
)

#: Kinds of actions (åtgärder): code -> label.
ACTION_KIND_LABELS_SV: dict[str, str] = {
    "kamerabevakning": "Kamerabevakning",
    "belysning": "Belysning",
    "ombyggnad": "Ombyggnad",
    "ordningsvakter": "Ordningsvakter",
    "trygghetsvandring": "Trygghetsvandring",
    "städning": "Städning",
    "annat": "Annat",
}

#: Statuses of actions: code -> label.
ACTION_STATUS_LABELS_SV: dict[str, str] = {
    "planerad": "Planerad",
    "pågår": "Pågår",
    "genomförd": "Genomförd",
    "avbruten": "Avbruten",
}


@dataclass(frozen=True)
class DayPart:
    """A part of the day in local time.

    Attributes
    ----------
    label_sv
        Swedish label with the hours.
    hours
        Local hours ``(start, end)``, end exclusive, wrapping past midnight when
        ``end <= start``; None for the whole day.
    typical_hour
        Local hour a report is dated at when only this part is known (None: not offered
        to citizens).
    """

    label_sv: str
    hours: tuple[int, int] | None
    typical_hour: int | None = None


#: Every part of the day, each defined once.
DAY_PARTS: dict[str, DayPart] = {
    "alla": DayPart("Hela dygnet", None),
    "morgon": DayPart("Morgon 06–10", (6, 10), 8),
    "dag": DayPart("Dagtid 10–18", (10, 18), 13),
    "kvall": DayPart("Kväll 18–24", (18, 24), 20),
    "natt": DayPart("Natt 00–06", (0, 6), 1),
    "kvall_natt": DayPart("Kväll och natt 18–06", (18, 6)),
}

#: Parts a citizen may choose (they cover the day without overlap).
CITIZEN_DAY_PARTS: tuple[str, ...] = tuple(
    code for code, part in DAY_PARTS.items() if part.typical_hour is not None
)

#: Citizen choices: code -> (label, typical local hour).
CITIZEN_TIME_OF_DAY: dict[str, tuple[str, int]] = {
    code: (DAY_PARTS[code].label_sv, int(DAY_PARTS[code].typical_hour or 0))
    for code in CITIZEN_DAY_PARTS
}

#: Map filters: code -> (label, local hours or None for the whole day).
FILTER_TIME_OF_DAY: dict[str, tuple[str, tuple[int, int] | None]] = {
    code: (part.label_sv, part.hours) for code, part in DAY_PARTS.items()
}


__all__ = [
    "ACTION_KIND_LABELS_SV",
    "ACTION_STATUS_LABELS_SV",
    "CITIZEN_DAY_PARTS",
    "CITIZEN_TIME_OF_DAY",
    "DAY_PARTS",
    "FILTER_TIME_OF_DAY",
    "MONTHS_SV",
    "REPORT_STATUS_TEXT_SV",
    "SOURCE_LABELS_SV",
    "WEEKDAYS_SV",
    "DayPart",
]
