"""The one table of Swedish labels and day parts."""

from __future__ import annotations

from geo.labels import CITIZEN_DAY_PARTS, CITIZEN_TIME_OF_DAY, DAY_PARTS, FILTER_TIME_OF_DAY


def _hours(part: tuple[int, int]) -> set[int]:
    start, end = part
    return {h % 24 for h in range(start, end if end > start else end + 24)}


def test_citizen_parts_cover_the_day_once_and_date_reports_inside_their_part() -> None:
    covered: list[int] = []
    for code in CITIZEN_DAY_PARTS:
        part = DAY_PARTS[code]
        assert part.hours is not None and part.typical_hour in _hours(part.hours)
        covered += sorted(_hours(part.hours))
    assert sorted(covered) == list(range(24))


def test_every_code_means_the_same_hours_for_citizens_and_for_the_map() -> None:
    for code, (label, hour) in CITIZEN_TIME_OF_DAY.items():
        filter_label, hours = FILTER_TIME_OF_DAY[code]
        assert label == filter_label and hours is not None and hour in _hours(hours)
    assert FILTER_TIME_OF_DAY["alla"][1] is None
    assert _hours(FILTER_TIME_OF_DAY["kvall_natt"][1] or (0, 0)) == _hours((18, 24)) | _hours(
        (0, 6)
    )


def test_weekday_and_month_names_follow_the_calendar() -> None:
    import datetime as dt

    from geo.labels import MONTHS_SV, WEEKDAYS_SV

    day = dt.date(2026, 12, 8)  # a Tuesday in December
    assert WEEKDAYS_SV[day.weekday()] == "tisdag"
    assert MONTHS_SV[day.month - 1] == "december"
    assert len(set(WEEKDAYS_SV)) == 7 and len(set(MONTHS_SV)) == 12
