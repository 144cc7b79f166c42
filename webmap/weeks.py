"""Meeting weeks (``2026-W47``) and their reporting periods.

The meeting of ISO week *W* discusses the reporting period that ends at the reporting
deadline of that week (default Tuesday 13:00 local time, :class:`AnalysisConfig`
``period_weekday/hour/minute``): the analysis for week *W* uses
``end = deadline(W) - 1 s`` so its last step is exactly that period.
"""

from __future__ import annotations

import datetime as dt
import re

import pandas as pd

from geo.errors import ValidationError
from geo.labels import FILTER_TIME_OF_DAY

_WEEK_RE = re.compile(r"^(\d{4})-W(\d{1,2})$")
#: Years a week may have (timestamps of the analysis end in 2262; a meeting tool needs
#: no more).
MIN_YEAR = 1900
MAX_YEAR = 2200

#: Time-of-day filters of the planner map: code -> (Swedish label, hours or None).
TIME_OF_DAY = FILTER_TIME_OF_DAY


def parse_week(text: str) -> tuple[int, int]:
    """``"2026-W47"`` -> ``(2026, 47)``; raises :class:`ValidationError`."""
    m = _WEEK_RE.match((text or "").strip())
    if not m:
        raise ValidationError(f"vecka måste skrivas ÅÅÅÅ-Wvv, t.ex. 2026-W47, inte {text!r}")
    year, week = int(m.group(1)), int(m.group(2))
    if not MIN_YEAR <= year <= MAX_YEAR:
        raise ValidationError(f"vecka {text!r} ligger utanför åren {MIN_YEAR}–{MAX_YEAR}")
    try:
        dt.date.fromisocalendar(year, week, 1)
    except ValueError as exc:
        raise ValidationError(f"vecka {week} finns inte år {year}") from exc
    return year, week


def week_label(year: int, week: int) -> str:
    """``(2026, 47)`` -> ``"2026-W47"``."""
    return f"{year}-W{week:02d}"


def canonical_week(text: str) -> str:
    """The one spelling of a week: ``"2026-W7"``, ``" 2026-W07\\n"`` -> ``"2026-W07"``.

    Week labels are keys (grades, publications, cached results); every spelling that
    :func:`parse_week` accepts must map to the same key.
    """
    return week_label(*parse_week(text))


def week_text_sv(label: str) -> str:
    """``"2026-W47"`` -> ``"vecka 47, 2026"``."""
    year, week = parse_week(label)
    return f"vecka {week}, {year}"


def deadline(
    label: str,
    weekday: int = 1,
    hour: int = 13,
    minute: int = 0,
    tz: str = "Europe/Stockholm",
) -> pd.Timestamp:
    """Reporting deadline of meeting week ``label`` (UTC)."""
    year, week = parse_week(label)
    day = dt.date.fromisocalendar(year, week, weekday + 1)
    local = pd.Timestamp(dt.datetime.combine(day, dt.time(hour, minute))).tz_localize(
        tz, nonexistent="shift_forward", ambiguous=True
    )
    return local.tz_convert("UTC")


def week_of(
    ts: pd.Timestamp | dt.datetime,
    weekday: int = 1,
    hour: int = 13,
    minute: int = 0,
    tz: str = "Europe/Stockholm",
) -> str:
    """Meeting week whose reporting period contains ``ts`` (first deadline after it)."""
    t = pd.Timestamp(ts)
    t = t.tz_localize("UTC") if t.tzinfo is None else t.tz_convert("UTC")
    local = t.tz_convert(tz)
    iso = local.isocalendar()
    label = week_label(iso[0], iso[1])
    if deadline(label, weekday, hour, minute, tz) <= t:
        nxt = (local + pd.Timedelta(days=7)).isocalendar()
        label = week_label(nxt[0], nxt[1])
    return label


def shift_week(label: str, weeks: int) -> str:
    """The week ``weeks`` after ``label`` (negative: before)."""
    year, week = parse_week(label)
    day = dt.date.fromisocalendar(year, week, 1) + dt.timedelta(weeks=weeks)
    iso = day.isocalendar()
    return week_label(iso[0], iso[1])


def weeks_between(first: str, last: str, limit: int = 520) -> list[str]:
    """Every week label from ``first`` to ``last`` inclusive (at most ``limit``)."""
    out = [first]
    while out[-1] != last and len(out) < limit:
        out.append(shift_week(out[-1], 1))
    return out


def monday_of(label: str) -> dt.date:
    """Monday of the ISO week ``label``."""
    year, week = parse_week(label)
    return dt.date.fromisocalendar(year, week, 1)
