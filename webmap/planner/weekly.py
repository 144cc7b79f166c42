"""Content of the weekly meeting and of the yearly lägesbild (pure data, no Flask).

:func:`build_weekly` collects, per locality: the suggested grade with its explanation,
the grade set by the meeting (latest decision, with the audit trail), the hotspot list,
actions due for follow-up, new reports by source and category, the latest report texts
and the comparison with previous weeks. :func:`build_yearly` collects the yearly
document required by law 2023:196 (lägesbild: kartläggning, omfattning, analys;
åtgärdsplan). Both feed :mod:`webmap.render.reports` (HTML and PDF) and the meeting page.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any, cast

import numpy as np
import pandas as pd
from sqlalchemy import Engine

from analysis.grading import GRADE_COLOURS, GRADE_LABELS
from geo.boundaries import read_boundaries
from geo.cells import cells_to_parent
from geo.labels import SOURCE_LABELS_SV
from geo.store.grades import (
    decision_history,
    grades_over_weeks,
    latest_decisions,
    published_grade_per_locality,
)
from geo.store.reports import read_reports
from geo.tenants import Tenant, get_tenant
from webmap.planner.actions import list_actions
from webmap.results import CachedResult, ResultStore
from webmap.weeks import canonical_week, deadline, monday_of, shift_week, week_text_sv

#: Weeks shown in the comparison with previous weeks.
HISTORY_WEEKS = 6


@dataclass
class LocalityWeek:
    """One locality in the weekly picture."""

    code: str
    name: str
    primary: bool
    suggested: dict[str, Any]
    decision: dict[str, Any] | None
    history: list[dict[str, Any]]
    zones: list[dict[str, Any]]
    actions_due: list[dict[str, Any]]
    by_source: dict[str, int]
    by_category: dict[str, int]
    latest: list[dict[str, Any]]
    previous: list[dict[str, Any]]
    series: list[int]
    geometry: Any = None
    #: last published grade of an earlier week ``{"grade", "period"}`` (shown when undecided)
    published: dict[str, Any] | None = None

    @property
    def grade(self) -> int | None:
        """The meeting's grade, else the last published one; never the suggestion."""
        if self.decision:
            return int(self.decision["grade"])
        if self.published:
            return int(self.published["grade"])
        return None

    @property
    def grade_week(self) -> str | None:
        """Week of a grade carried over from an earlier publication (None: this week's)."""
        if self.decision or not self.published:
            return None
        return str(self.published["period"])

    @property
    def grade_label(self) -> str:
        return GRADE_LABELS.get(self.grade or 0, "–")

    @property
    def grade_colour(self) -> str:
        return GRADE_COLOURS.get(self.grade or 0, "#999999")


@dataclass
class WeeklyPicture:
    """The weekly lägesbild of one kommun."""

    tenant: Tenant
    week: str
    period_start: pd.Timestamp
    period_end: pd.Timestamp
    data_version: int
    localities: list[LocalityWeek]
    actions: list[dict[str, Any]]
    generated_at: dt.datetime = field(default_factory=lambda: dt.datetime.now(dt.UTC))

    @property
    def title(self) -> str:
        return f"Lägesbild {self.tenant.name}, {week_text_sv(self.week)}"


def _local(ts: Any, tz: str = "Europe/Stockholm") -> str:
    return pd.Timestamp(ts).tz_convert(tz).strftime("%Y-%m-%d %H:%M")


def _zone_row(z: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": z["id"],
        "name": z.get("name") or z["id"],
        "pattern_sv": z.get("pattern_sv") or "",
        "pattern": z.get("pattern") or "",
        "trend": {"increasing": "ökande", "decreasing": "minskande"}.get(z.get("trend") or "", "–"),
        "grade": z.get("grade"),
        "label": z.get("label"),
        "explanation": z.get("explanation") or "",
        "count_window": z.get("count_window"),
        "window_weeks": z.get("window_weeks"),
        "hot_now": bool(z.get("hot_now")),
        "series": z.get("series") or [],
        "geometry": z.get("geometry"),
        "lat": z.get("lat"),
        "lon": z.get("lon"),
    }


def _actions_due(
    actions: list[dict[str, Any]], code: str, zone_ids: set[str], week_end: dt.date
) -> list[dict[str, Any]]:
    out = []
    for a in actions:
        if a["status"] not in ("planerad", "pågår"):
            continue
        if a.get("locality") != code and a.get("zone_id") not in zone_ids:
            continue
        last = a.get("last_followup")
        last_date = last["meeting_date"] if last else None
        ends = a.get("planned_end")
        starts = a.get("planned_start")
        due = (
            last_date is None
            or (week_end - last_date).days >= 7
            or (ends is not None and ends <= week_end + dt.timedelta(days=7))
            or (starts is not None and starts <= week_end and a["status"] == "planerad")
        )
        if due:
            out.append({**a, "last_followup_date": last_date})
    return out


def build_weekly(
    engine: Engine,
    store: ResultStore,
    kommun: str,
    week: str,
    result: CachedResult | None = None,
    latest_per_locality: int = 8,
) -> WeeklyPicture:
    """Everything the weekly meeting and its report show, for ``kommun`` and ``week``."""
    week = canonical_week(week)
    res = result or store.get(kommun, week)
    assert res is not None
    with engine.connect() as conn:
        tenant = get_tenant(conn, kommun)
        localities = read_boundaries(conn, kommun, "locality")
        decisions = latest_decisions(conn, kommun, week)
        history = decision_history(conn, kommun, week)
        actions = list_actions(conn, kommun)
        prev_weeks = [shift_week(week, -i) for i in range(HISTORY_WEEKS, 0, -1)]
        prev_grades = grades_over_weeks(conn, kommun, prev_weeks)
        published = published_grade_per_locality(conn, kommun, shift_week(week, -1))
        end = pd.Timestamp(res.meta["period_end"])
        step_weeks = int(res.meta["step_weeks"])
        period_start = end - pd.Timedelta(weeks=step_weeks)
        reports = read_reports(conn, kommun, start=period_start, end=end, status="approved")
    tz = tenant.timezone
    labels = {k: v["label"] for k, v in tenant.categories.items()}
    suggested = {g["locality"]: g for g in res.localities}
    zones = [_zone_row(z) for z in res.zones]
    week_end = (end.tz_convert(tz) - pd.Timedelta(seconds=1)).date()
    rows: list[LocalityWeek] = []
    for loc in localities.sort_values(["primary", "name"], ascending=[False, True]).itertuples(
        index=False
    ):
        code = str(loc.code)
        sug = suggested.get(code, {})
        lz = [z for z in zones if res_zone_locality(res, z["id"]) == code]
        sel = reports[reports["locality"].astype("string") == code]
        by_source = {
            SOURCE_LABELS_SV.get(str(k), str(k)): int(v)
            for k, v in sel["source"].astype(str).value_counts().items()
        }
        by_category = {
            labels.get(str(k), str(k)): int(v)
            for k, v in sel["category"].astype(str).value_counts().items()
        }
        latest = [
            {
                "when": _local(r.occurred_at, tz),
                "category": labels.get(str(r.category), str(r.category)),
                "source": SOURCE_LABELS_SV.get(str(r.source), str(r.source)),
                "org": None if pd.isna(r.reporter_org) else str(r.reporter_org),
                "text": None if pd.isna(r.description) else str(r.description)[:400],
            }
            for r in cast(
                Any, sel.sort_values("occurred_at", ascending=False).head(latest_per_locality)
            ).itertuples(index=False)
        ]
        series = list(sug.get("series") or [])
        previous = []
        for i, pw in enumerate(prev_weeks):
            idx = len(series) - len(prev_weeks) - 1 + i
            previous.append(
                {
                    "week": pw,
                    "grade": prev_grades.get(pw, {}).get(code),
                    "count": series[idx] if 0 <= idx < len(series) else None,
                }
            )
        rows.append(
            LocalityWeek(
                code=code,
                name=str(loc.name),
                primary=bool(loc.primary),
                suggested=sug,
                decision=decisions.get(code),
                history=[h for h in history if h["locality"] == code],
                zones=lz,
                actions_due=_actions_due(actions, code, {z["id"] for z in lz}, week_end),
                by_source=by_source,
                by_category=by_category,
                latest=latest,
                previous=previous,
                series=series,
                geometry=loc.geometry,
                published=published.get(code),
            )
        )
    return WeeklyPicture(
        tenant=tenant,
        week=week,
        period_start=period_start,
        period_end=end,
        data_version=res.version,
        localities=rows,
        actions=actions,
    )


def res_zone_locality(res: CachedResult, zone_id: str) -> str | None:
    for z in res.zones:
        if z["id"] == zone_id:
            return z.get("locality")
    return None


# --------------------------------------------------------------------------- yearly


@dataclass
class YearlyPicture:
    """The yearly lägesbild and åtgärdsplan (law 2023:196) of one kommun."""

    tenant: Tenant
    year: int
    start: pd.Timestamp
    end: pd.Timestamp
    total: int
    by_locality: pd.DataFrame  # locality, name, count, serious, per 1000 inhabitants
    by_category: pd.DataFrame  # category label, count, share
    by_source: pd.DataFrame
    by_month: pd.DataFrame  # month, count
    zones: list[dict[str, Any]]
    grade_weeks: pd.DataFrame  # locality name, weeks per grade
    actions: list[dict[str, Any]]
    localities: Any = None
    data_version: int = 0


def build_yearly(engine: Engine, store: ResultStore, kommun: str, year: int) -> YearlyPicture:
    """Facts for the yearly document from the year's reports, analysis and actions."""
    with engine.connect() as conn:
        tenant = get_tenant(conn, kommun)
        localities = read_boundaries(conn, kommun, "locality")
    tz = tenant.timezone
    start = pd.Timestamp(dt.datetime(year, 1, 1)).tz_localize(tz).tz_convert("UTC")
    end = pd.Timestamp(dt.datetime(year + 1, 1, 1)).tz_localize(tz).tz_convert("UTC")
    with engine.connect() as conn:
        reports = read_reports(conn, kommun, start=start, end=end, status="approved")
        actions = list_actions(conn, kommun)
        weeks = [f"{year}-W{w:02d}" for w in range(1, dt.date(year, 12, 28).isocalendar()[1] + 1)]
        set_grades = grades_over_weeks(conn, kommun, weeks)
    labels = {k: v["label"] for k, v in tenant.categories.items()}
    names = dict(zip(localities["code"].astype(str), localities["name"].astype(str), strict=False))
    pops = dict(zip(localities["code"].astype(str), localities["population"], strict=False))
    serious = set(k for k, v in tenant.categories.items() if v.get("serious"))
    loc = reports["locality"].astype("string").fillna("(utanför tätort)")
    by_loc = (
        pd.DataFrame({"locality": loc, "serious": reports["category"].astype(str).isin(serious)})
        .groupby("locality")
        .agg(count=("serious", "size"), serious=("serious", "sum"))
        .reset_index()
    )
    by_loc["name"] = by_loc["locality"].map(lambda c: names.get(c, c))
    by_loc["per_1000"] = [
        round(1000 * n / float(pops[c]), 1) if c in pops and pd.notna(pops[c]) and pops[c] else None
        for c, n in zip(by_loc["locality"], by_loc["count"], strict=True)
    ]
    by_loc = by_loc.sort_values("count", ascending=False).reset_index(drop=True)
    total = int(len(reports))
    by_cat = reports["category"].astype(str).map(lambda c: labels.get(c, c)).value_counts()
    by_category = pd.DataFrame(
        {
            "category": by_cat.index,
            "count": by_cat.to_numpy(),
            "share": np.round(100 * by_cat.to_numpy() / max(total, 1), 1),
        }
    )
    by_src = reports["source"].astype(str).map(lambda s: SOURCE_LABELS_SV.get(s, s)).value_counts()
    by_source = pd.DataFrame({"source": by_src.index, "count": by_src.to_numpy()})
    months = pd.to_datetime(reports["occurred_at"], utc=True).dt.tz_convert(tz).dt.month
    by_month = (
        months.value_counts()
        .reindex(range(1, 13), fill_value=0)
        .rename_axis("month")
        .reset_index(name="count")
    )
    # analysis of the year's final week (52-week lookback) for the hotspot part
    last_week = weeks[-1]
    latest = store.latest_week(kommun)
    if latest < last_week:
        last_week = latest
    res = store.get(kommun, last_week)
    assert res is not None
    zones = [_zone_row(z) for z in res.zones]
    for z in zones:
        z["locality_name"] = names.get(res_zone_locality(res, z["id"]) or "", "")
    # weeks per grade from the meetings' decisions
    grade_rows = []
    for code, name in names.items():
        counts = {g: 0 for g in range(1, 6)}
        for w in weeks:
            g = set_grades.get(w, {}).get(code)
            if g:
                counts[int(g)] += 1
        if sum(counts.values()):
            grade_rows.append({"name": name, **{str(g): n for g, n in counts.items()}})
    grade_weeks = pd.DataFrame(grade_rows, columns=["name", "1", "2", "3", "4", "5"])
    year_actions = [
        a
        for a in actions
        if (a.get("planned_start") is None or a["planned_start"].year <= year)
        and (a.get("planned_end") is None or a["planned_end"].year >= year)
    ]
    return YearlyPicture(
        tenant=tenant,
        year=year,
        start=start,
        end=end,
        total=total,
        by_locality=by_loc,
        by_category=by_category,
        by_source=by_source,
        by_month=by_month,
        zones=zones,
        grade_weeks=grade_weeks,
        actions=year_actions,
        localities=localities,
        data_version=res.version,
    )


def week_period_text(week: str, tenant: Tenant) -> str:
    """``"tisdag 10 nov 13:00 – tisdag 17 nov 13:00"`` style text of a meeting week."""
    end = deadline(week, tz=tenant.timezone).tz_convert(tenant.timezone)
    start = end - pd.Timedelta(weeks=1)
    return f"{start:%Y-%m-%d %H:%M} – {end:%Y-%m-%d %H:%M}"


__all__ = [
    "LocalityWeek",
    "WeeklyPicture",
    "YearlyPicture",
    "build_weekly",
    "build_yearly",
    "cells_to_parent",
    "monday_of",
    "week_period_text",
]
