"""Suggested 5-grade assessment of localities and zones, with a Swedish explanation.

The product **suggests** a grade; the meeting sets it. The scale (docs/domain.md):

=====  ===============  ============  =========================================================
grade  label            colour        rule (first that holds, from the top; thresholds in
                                      :class:`GradingRules`)
=====  ===============  ============  =========================================================
5      Allvarligt       red           serious incidents (violence/threats, arson) cluster: a
                                      zone holds ``serious_cluster_min`` serious reports in its
                                      window that by themselves form a significant Gi*
                                      hotspot (``serious_hot``); or rise sharply: the
                                      locality's serious reports in
                                      the period reach ``serious_rise_min``, at least
                                      ``serious_rise_factor`` x their baseline, Poisson-
                                      significant above it
4      Oroligt          orange        a zone with a pattern in ``escalate_patterns``
                                      (persistent, intensifying, consecutive), or at least
                                      ``several_zones`` zones significant now
3      Förhöjt          yellow        a significant hotspot now (a zone hot in the period), or
                                      the report count significantly above baseline (one-sided
                                      Poisson test at ``baseline_alpha``)
2      Mestadels lugnt  light green   isolated incidents: reports above the usual level but not
                                      significantly, or only sporadic/historical patterns
1      Lugnt            dark green    nothing significant, count at or below the usual level
=====  ===============  ============  =========================================================

The *period* is the last ``recent_steps`` steps of the cube; the *baseline* (usual level)
is the mean count per period of up to ``baseline_steps`` steps before it (at least
``min_baseline_steps``; with fewer, grade 1 needs zero reports). Zones get grades 2-5
by the same rules applied to the zone alone (a zone always has some evidence).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd
from scipy.special import pdtrc

from analysis.config import GradingRules
from analysis.cube import SpaceTimeCube

#: Swedish label of each grade.
GRADE_LABELS: dict[int, str] = {
    1: "Lugnt",
    2: "Mestadels lugnt",
    3: "Förhöjt",
    4: "Oroligt",
    5: "Allvarligt",
}

#: Colour of each grade (dark green, light green, yellow, orange, red).
GRADE_COLOURS: dict[int, str] = {
    1: "#1a7f37",
    2: "#8ccf7e",
    3: "#f2c94c",
    4: "#f2994a",
    5: "#d63031",
}

_SERIOUS_SV = {"vald_hot": "våld eller hot", "brand": "brand", "vapen": "vapen"}


# --------------------------------------------------------------------------- text
def _num(x: float) -> str:
    """Swedish number: integers plain, else one decimal with a comma."""
    if abs(x - round(x)) < 1e-9:
        return str(int(round(x)))
    return f"{x:.1f}".replace(".", ",")


def plural(n: float, one: str, many: str) -> str:
    """``"1 rapport"`` / ``"3 rapporter"``."""
    return f"{_num(n)} {one if n == 1 else many}"


def weeks_text(weeks: int) -> str:
    """``"1 vecka"`` / ``"4 veckor"``."""
    return plural(weeks, "vecka", "veckor")


def _join(parts: Sequence[str]) -> str:
    parts = [p for p in parts if p]
    if not parts:
        return ""
    text = ", ".join(parts)
    return text[0].upper() + text[1:] + "."


def _serious_text(n: int, categories: Sequence[str] = ()) -> str:
    if n <= 0:
        return ""
    names = [_SERIOUS_SV.get(c, c) for c in categories]
    what = f" ({', '.join(names)})" if names else ""
    return f"{plural(n, 'allvarlig händelse', 'allvarliga händelser')}{what}"


def _step_note(step_weeks: int) -> str:
    if step_weeks > 1:
        return f"perioder om {step_weeks} veckor används eftersom rapporterna är glesa"
    return ""


def _significance_text(fdr: bool) -> str:
    return "signifikant hotspot efter FDR-korrigering" if fdr else "signifikant hotspot"


_TREND_SV = {"increasing": "ökande trend", "decreasing": "minskande trend"}


# --------------------------------------------------------------------------- grades
def _grade_row(grade: int) -> dict[str, Any]:
    return {"grade": grade, "label": GRADE_LABELS[grade], "colour": GRADE_COLOURS[grade]}


def grade_zones(
    zones: pd.DataFrame,
    rules: GradingRules | None = None,
    *,
    fdr: bool = True,
    step_weeks: int = 1,
) -> pd.DataFrame:
    """Suggested grade of each zone (rows of :attr:`analysis.zones.HotspotZones.zones_`).

    Returns
    -------
    DataFrame
        ``id, name, locality, grade, label, colour, explanation, reasons``.
    """
    r = rules or GradingRules()
    out = []
    for z in _records(zones):
        reasons: list[str] = []
        serious_cats = [c["code"] for c in (z["top_categories"] or []) if c["code"] in _SERIOUS_SV]
        if _serious_cluster(z, r):
            grade = 5
            reasons.append("serious_cluster")
        elif z["pattern"] in r.escalate_patterns:
            grade = 4
            reasons.append(f"pattern:{z['pattern']}")
        elif z["hot_now"]:
            grade = 3
            reasons.append("significant_now")
        else:
            grade = 2
            reasons.append(
                f"pattern:{z['pattern']}" if z["pattern"] != "no_pattern" else "recurring"
            )
        counted = plural(z["count_window"], "rapport", "rapporter")
        parts = [
            f"{counted} på {weeks_text(z['window_weeks'])}"
            + (
                f" från {plural(z['reporters_window'], 'aktör', 'aktörer')}"
                if z["reporters_window"]
                else ""
            ),
            _significance_text(fdr) if z["hot_now"] else "inte signifikant denna period",
            z["pattern_sv"] if z["pattern"] not in ("no_pattern", "too_few_reports") else "",
            _TREND_SV.get(z["trend"], ""),
            _serious_text(int(z["serious_window"]), serious_cats),
            _step_note(step_weeks),
        ]
        out.append(
            {
                "id": z["id"],
                "name": z["name"],
                "locality": z["locality"],
                **_grade_row(grade),
                "explanation": _join(parts),
                "reasons": reasons,
            }
        )
    cols = ["id", "name", "locality", "grade", "label", "colour", "explanation", "reasons"]
    return pd.DataFrame(out, columns=cols)


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    return frame.to_dict("records")  # type: ignore[return-value]


def _serious_cluster(zone: Mapping[str, Any], rules: GradingRules) -> bool:
    return bool(
        zone["serious_window"] >= rules.serious_cluster_min and zone.get("serious_hot", True)
    )


def _poisson_above(count: float, lam: float) -> float:
    """One-sided p-value P(X >= count) for X ~ Poisson(lam)."""
    if count <= 0:
        return 1.0
    return float(pdtrc(count - 1, max(lam, 1e-9)))  # scipy.stats.poisson.sf, lighter import


def grade_localities(
    cube: SpaceTimeCube,
    zones: pd.DataFrame | None = None,
    rules: GradingRules | None = None,
    *,
    fdr: bool = True,
    locality_names: Mapping[str, str] | None = None,
    too_few_share: Mapping[str, float] | None = None,
) -> pd.DataFrame:
    """Suggested grade of each locality for the final period of ``cube``.

    Parameters
    ----------
    cube
        The space-time cube (its per-locality totals include locality-precision reports).
    zones
        Zones (:attr:`analysis.zones.HotspotZones.zones_`) with their ``locality``.
    rules
        Thresholds.
    fdr
        Whether significance was FDR-corrected (for the explanation).
    locality_names
        Code -> name for the explanation.
    too_few_share
        Share of cells of each locality classified ``too_few_reports``; with no zone and
        a share above one half the explanation says there are too few reports.

    Returns
    -------
    DataFrame
        ``locality, name, period_start, period_end, grade, label, colour, explanation,
        count, weighted, serious, reporters, baseline, above_baseline_p, zones_hot,
        zones_total, reasons``.
    """
    r = rules or GradingRules()
    names = dict(locality_names or {})
    T = cube.n_steps
    rs = min(r.recent_steps, T)
    p0 = T - rs
    b0 = max(0, p0 - r.baseline_steps)
    n_base = p0 - b0
    step_weeks = cube.step_weeks
    weeks = rs * step_weeks
    zones = zones if zones is not None else pd.DataFrame(columns=["locality"])
    rows = []
    # the final period's detail rows of each locality, split once
    recent = cube.locality_detail
    recent = recent[recent["step"] >= p0] if len(recent) else recent
    by_locality = dict(tuple(recent.groupby("locality", sort=False))) if len(recent) else {}
    for li, code in enumerate(cube.locality_codes):
        cnt = int(cube.locality_counts[li, p0:].sum())
        wtd = float(cube.locality_weighted[li, p0:].sum())
        ser = int(cube.locality_serious[li, p0:].sum())
        ld = by_locality.get(code, recent.iloc[:0])
        rep = int(ld["reporter_org"].dropna().nunique()) if len(ld) else 0
        base = (
            float(cube.locality_counts[li, b0:p0].sum()) / n_base * rs if n_base else float("nan")
        )
        base_ser = float(cube.locality_serious[li, b0:p0].sum()) / n_base * rs if n_base else 0.0
        has_base = n_base >= r.min_baseline_steps
        lam = (float(cube.locality_counts[li, b0:p0].sum()) + 0.5) / max(n_base, 1) * rs
        p_above = _poisson_above(cnt, lam) if has_base else 1.0
        above = has_base and p_above <= r.baseline_alpha
        lam_s = (float(cube.locality_serious[li, b0:p0].sum()) + 0.5) / max(n_base, 1) * rs
        serious_rise = (
            ser >= r.serious_rise_min
            and ser >= r.serious_rise_factor * base_ser
            and (not has_base or _poisson_above(ser, lam_s) <= r.baseline_alpha)
        )
        zl = zones[zones["locality"] == code] if len(zones) else zones
        hot_now = zl[zl["hot_now"].astype(bool)] if len(zl) else zl
        escalate = zl[zl["pattern"].isin(r.escalate_patterns)] if len(zl) else zl
        serious_zones = zl[[_serious_cluster(z, r) for z in _records(zl)]] if len(zl) else zl
        mild = zl[zl["pattern"].isin(r.mild_patterns)] if len(zl) else zl

        reasons: list[str] = []
        if len(serious_zones) or serious_rise:
            grade = 5
            reasons += [f"serious_cluster:{z}" for z in serious_zones["id"]] if len(zl) else []
            reasons += ["serious_rise"] * bool(serious_rise)
        elif len(escalate) or len(hot_now) >= r.several_zones:
            grade = 4
            reasons += [f"pattern:{p}" for p in escalate["pattern"]] if len(escalate) else []
            if len(hot_now) >= r.several_zones:
                reasons.append("several_zones")
        elif len(hot_now) or above:
            grade = 3
            reasons += ["significant_now"] * bool(len(hot_now))
            reasons += ["above_baseline"] * bool(above)
        else:
            usual = (cnt <= base) if has_base else (cnt == 0)
            if usual and not len(zl):
                grade = 1
                reasons.append("usual_level")
            else:
                grade = 2
                reasons.append("isolated" if not len(mild) else "sporadic")

        name = names.get(code, code)
        count_part = f"{plural(cnt, 'rapport', 'rapporter')} på {weeks_text(weeks)}"
        if rep:
            count_part += f" från {plural(rep, 'aktör', 'aktörer')}"
        if has_base:
            per = "vecka" if weeks == 1 else weeks_text(weeks)
            count_part += f" (vanligt {_num(round(base, 1))} per {per}"
            count_part += ", signifikant fler)" if above else ")"
        zone_parts: list[str] = []
        if len(hot_now):
            listed = ", ".join(
                f"{z['name']} ({z['pattern_sv']})" for z in _records(hot_now.head(4))
            )
            what = "signifikant hotspot" if len(hot_now) == 1 else "signifikanta hotspots"
            fdr_text = " efter FDR-korrigering" if fdr else ""
            zone_parts.append(f"{len(hot_now)} {what}{fdr_text} nu: {listed}")
        rest = zl[~zl.index.isin(hot_now.index)] if len(zl) else zl
        if len(rest):
            zone_parts.append(
                (
                    "utan signifikans denna period: "
                    if len(hot_now)
                    else "inget signifikant nu; tidigare "
                )
                + ", ".join(f"{z['name']} ({z['pattern_sv']})" for z in _records(rest.head(4)))
            )
        if not len(zl):
            share = (too_few_share or {}).get(code, 0.0)
            zone_parts.append(
                "för få rapporter för att se mönster"
                + ("" if step_weeks >= 4 else " (prova perioder om 2 eller 4 veckor)")
                if share > 0.5 and cnt < 10
                else "ingen signifikant hotspot"
            )
        ser_cats = sorted(set(ld["category"].astype(str)) & set(_SERIOUS_SV)) if ser else []
        serious_part = _serious_text(ser, ser_cats)
        if serious_rise:
            serious_part += ", kraftigt ökande"
        parts = [count_part, *zone_parts, serious_part, _step_note(step_weeks)]
        rows.append(
            {
                "locality": code,
                "name": name,
                "period_start": cube.edges[p0],
                "period_end": cube.edges[-1],
                **_grade_row(grade),
                "explanation": _join(parts),
                "count": cnt,
                "weighted": wtd,
                "serious": ser,
                "reporters": rep,
                "baseline": base,
                "above_baseline_p": p_above,
                "zones_hot": int(len(hot_now)),
                "zones_total": int(len(zl)),
                "reasons": reasons,
            }
        )
    cols = [
        "locality",
        "name",
        "period_start",
        "period_end",
        "grade",
        "label",
        "colour",
        "explanation",
        "count",
        "weighted",
        "serious",
        "reporters",
        "baseline",
        "above_baseline_p",
        "zones_hot",
        "zones_total",
        "reasons",
    ]
    return pd.DataFrame(rows, columns=cols)


__all__ = [
    "GRADE_COLOURS",
    "GRADE_LABELS",
    "GradingRules",
    "grade_localities",
    "grade_zones",
    "plural",
    "weeks_text",
]
