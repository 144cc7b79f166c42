"""Parameters of the hotspot analysis (one frozen, validated dataclass).

:class:`AnalysisConfig` collects every choice the analysis makes: which reports count
(filters), how they are binned (H3 resolution, step length, period start), how Gi* is
computed (neighbourhood ``k``, global window, FDR), how patterns are classified and
how zones and grades are formed. It is immutable and hashable, so together with the
data version of a kommun it can serve as a cache key.

Examples
--------
>>> cfg = AnalysisConfig(res=9, step_weeks=2, hours=(18, 2))
>>> cfg.n_steps
26
>>> cfg.replace(alpha=0.01).alpha
0.01
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import pandas as pd

from geo._validate import Problems
from geo.errors import ValidationError
from geo.labels import WEEKDAYS_SV
from geo.schema import DEFAULT_CATEGORIES, DEFAULT_TZ, SERIOUS_CATEGORIES, Source

#: H3 resolutions the analysis may run at (derived from the stored res-10 cells).
ANALYSIS_RES: tuple[int, ...] = (8, 9, 10)

#: Allowed step lengths in weeks.
STEP_WEEKS: tuple[int, ...] = (1, 2, 4)

Window = Literal["cube", "step"]
ZoneSource = Literal["latest", "recurring", "pattern", "all"]
ZoneMethod = Literal["graph", "dbscan"]


def default_weights() -> tuple[tuple[str, float], ...]:
    """Severity weight of each default category (from :mod:`geo.schema`)."""
    return tuple((c.code, float(c.weight)) for c in DEFAULT_CATEGORIES)


def _as_tuple(values: Iterable[str] | str | None) -> tuple[str, ...] | None:
    if values is None:
        return None
    if isinstance(values, str):
        return (values,)
    return tuple(str(v) for v in values)


def _as_timestamp(value: Any) -> pd.Timestamp | None:
    if value is None:
        return None
    ts = pd.Timestamp(value)
    if ts.tzinfo is None:
        ts = ts.tz_localize(DEFAULT_TZ)
    return ts.tz_convert("UTC")


@dataclass(frozen=True)
class GradingRules:
    """Configurable thresholds of the suggested grade (see the module docstring)."""

    recent_steps: int = 1
    baseline_steps: int = 8
    min_baseline_steps: int = 3
    baseline_alpha: float = 0.05
    several_zones: int = 3
    escalate_patterns: tuple[str, ...] = ("persistent_hot", "intensifying_hot", "consecutive_hot")
    mild_patterns: tuple[str, ...] = ("sporadic_hot", "historical_hot")
    serious_cluster_min: int = 3
    serious_rise_min: int = 3
    serious_rise_factor: float = 2.0

    def __post_init__(self) -> None:
        p = Problems("GradingRules")
        p.check(self.recent_steps >= 1, "recent_steps must be >= 1")
        p.check(self.baseline_steps >= 1, "baseline_steps must be >= 1")
        p.check(self.min_baseline_steps >= 1, "min_baseline_steps must be >= 1")
        p.check(0 < self.baseline_alpha < 1, "baseline_alpha must be in (0, 1)")
        p.check(self.several_zones >= 1, "several_zones must be >= 1")
        p.check(self.serious_cluster_min >= 1, "serious_cluster_min must be >= 1")
        p.check(self.serious_rise_min >= 1, "serious_rise_min must be >= 1")
        p.check(self.serious_rise_factor >= 1, "serious_rise_factor must be >= 1")
        for name in ("escalate_patterns", "mild_patterns"):
            object.__setattr__(self, name, tuple(getattr(self, name)))
        p.raise_if_any()


@dataclass(frozen=True)
class AnalysisConfig:
    """Every parameter of one hotspot analysis.

    Parameters
    ----------
    res
        H3 resolution of the analysis (8, 9 or 10); reports stored at res 10 are
        aggregated to their parent cell. The default 10 with ``k=1`` gives Gi*
        neighbourhoods of about 0.1 km2, the block scale (one res-9 cell). A small town
        has only ~100 res-9 cells, and Gi* z-scores are capped near
        ``sqrt(n_cells / neighbourhood)``, so res 9 finds only the strongest hotspots
        there; use res 9 or 8 for large areas.
    step_weeks
        Length of one time step in weeks (1, 2 or 4). Longer steps suit sparse data in
        small towns: more reports per bin make patterns detectable.
    period_weekday, period_hour, period_minute
        Local start of a reporting period (Monday = 0). The default, Tuesday 13:00, is
        the EST reporting deadline: a report at exactly 13:00 belongs to the next period.
    timezone
        Time zone of the period boundaries and of the ``hours`` filter.
    period_anchor
        Optional local date of one period start; with ``step_weeks > 1`` it fixes which
        weeks start a step (e.g. Kungsör's every-other-week meeting). Without it, the
        grid is anchored at the end of the analysis period.
    start, end
        Analysis period. Naive values are read as ``timezone`` local time. ``end`` is
        rounded up to the next period boundary so the final step is complete;
        by default it is the time of the latest approved report. Without ``start`` the
        cube covers ``lookback_weeks`` before the end, shortened to the first report.
    lookback_weeks
        Length of the default period (52 weeks: 52, 26 or 13 steps).
    kommun, localities, sources, categories
        Filters (``None`` = all). ``localities`` are locality codes (e.g. ``0188TC109``).
    hours
        ``(from_hour, to_hour)`` local hours of day, half-open; wraps midnight when
        ``from_hour > to_hour``: ``(18, 2)`` keeps 18:00-01:59.
    weights
        Severity weight per category code, merged over the defaults from
        :data:`geo.schema.DEFAULT_CATEGORIES` (give only the ones to change; 0 drops a
        category from the weighted values). Unknown categories weigh ``default_weight``.
    serious_categories
        Categories that count as serious in grading (violence, threats, arson).
    k
        Gi* neighbourhood: the k-ring of each cell (self included).
    window
        ``"cube"`` (default, like ArcGIS): mean and variance over all cells and steps,
        so a steady hotspot has a flat z series; ``"step"``: each step on its own.
    time_lag
        Space-time neighbourhood: also the same k-ring in the previous ``time_lag``
        steps (only with ``window="cube"``).
    permutations, seed
        Conditional permutations for pseudo p-values (0 = analytical p only).
    alpha, fdr
        Significance level; with ``fdr`` p-values are Benjamini-Hochberg adjusted per
        step.
    hot_share
        Share of steps that must be significant for persistent/intensifying/
        diminishing/historical patterns (90 % in ArcGIS and sfdep).
    min_total, min_steps_with_reports
        A cell is ``too_few_reports`` when its k-ring holds fewer than ``min_total``
        reports over the whole period, or reports in fewer than
        ``min_steps_with_reports`` steps.
    min_step_count
        A significant step only counts as *hot* when the k-ring holds at least this
        many reports in that step. In a mostly empty town two reports in one block are
        already "significant"; requiring three kept false zones near zero on the demo data
        (see ``tests/analysis/test_hotspots.py``).
    recurring_m, recurring_n
        A cell is *recurring* when it was hot in at least ``m`` of the last ``n`` steps.
    zone_source
        Which cells form zones: significant hot in the final step (``"latest"``),
        recurring (``"recurring"``), a hot pattern with at least ``zone_min_hot_steps``
        hot steps (``"pattern"``) or any of these (``"all"``).
    zone_min_hot_steps
        Hot steps a cell needs to join a zone through its pattern alone.
    zone_method
        ``"graph"`` (connected components of the k=1 ring graph) or ``"dbscan"``
        (scikit-learn DBSCAN on EPSG:3006 centroids); see :mod:`analysis.zones`.
    min_zone_jaccard
        Smallest member-cell Jaccard overlap that keeps a previous zone's id.
    zone_link_k, zone_saddle_ratio
        Hot cells this many rings apart form one area; areas are split at valleys of the
        smoothed counts unless the pass is at least this share of the lower peak
        (``None``: no splitting). See :mod:`analysis.zones`.
    zone_window_steps
        Steps (from the end) whose reports describe a zone (categories, sources).
    grading
        Thresholds of the suggested 5-grade scale (:class:`GradingRules`, also
        importable from :mod:`analysis.grading`).
    """

    res: int = 10
    step_weeks: int = 1
    period_weekday: int = 1
    period_hour: int = 13
    period_minute: int = 0
    timezone: str = DEFAULT_TZ
    period_anchor: dt.date | None = None
    start: pd.Timestamp | None = None
    end: pd.Timestamp | None = None
    lookback_weeks: int = 52
    kommun: str | None = None
    localities: tuple[str, ...] | None = None
    sources: tuple[str, ...] | None = None
    categories: tuple[str, ...] | None = None
    hours: tuple[int, int] | None = None
    weights: tuple[tuple[str, float], ...] = field(default_factory=default_weights)
    default_weight: float = 1.0
    serious_categories: tuple[str, ...] = tuple(sorted(SERIOUS_CATEGORIES))
    k: int = 1
    window: Window = "cube"
    time_lag: int = 0
    permutations: int = 0
    seed: int = 20240521
    alpha: float = 0.05
    fdr: bool = True
    hot_share: float = 0.9
    min_total: int = 5
    min_steps_with_reports: int = 2
    min_step_count: int = 3
    recurring_m: int = 2
    recurring_n: int = 8
    zone_source: ZoneSource = "all"
    zone_min_hot_steps: int = 2
    zone_method: ZoneMethod = "graph"
    min_zone_jaccard: float = 0.1
    zone_link_k: int = 2
    zone_saddle_ratio: float | None = 0.5
    zone_window_steps: int = 4
    grading: GradingRules = field(default_factory=GradingRules)

    def __post_init__(self) -> None:
        # normalise convenient input types (dicts, lists, strings) to hashable ones
        given = self.weights.items() if isinstance(self.weights, Mapping) else self.weights
        merged = dict(default_weights())
        merged.update((str(k), float(v)) for k, v in given)
        object.__setattr__(self, "weights", tuple(merged.items()))
        for name in ("localities", "sources", "categories"):
            object.__setattr__(self, name, _as_tuple(getattr(self, name)))
        object.__setattr__(
            self, "serious_categories", tuple(_as_tuple(self.serious_categories) or ())
        )
        if self.hours is not None:
            object.__setattr__(self, "hours", tuple(int(h) for h in self.hours))
        if isinstance(self.grading, Mapping):
            object.__setattr__(self, "grading", GradingRules(**self.grading))
        if isinstance(self.period_anchor, str):
            object.__setattr__(self, "period_anchor", dt.date.fromisoformat(self.period_anchor))
        try:
            object.__setattr__(self, "start", _as_timestamp(self.start))
            object.__setattr__(self, "end", _as_timestamp(self.end))
        except (ValueError, TypeError) as exc:
            raise ValidationError(f"start/end: {exc}", context="AnalysisConfig") from exc
        self.validate()

    # ------------------------------------------------------------------ helpers
    def validate(self) -> None:
        """Raise one :class:`ValidationError` listing every inconsistent parameter."""
        p = Problems("AnalysisConfig")
        p.check(self.res in ANALYSIS_RES, f"res must be one of {ANALYSIS_RES}, got {self.res}")
        p.check(
            self.step_weeks in STEP_WEEKS,
            f"step_weeks must be one of {STEP_WEEKS}, got {self.step_weeks}",
        )
        p.check(0 <= self.period_weekday <= 6, "period_weekday must be 0 (Monday) .. 6")
        p.check(0 <= self.period_hour <= 23, "period_hour must be 0..23")
        p.check(0 <= self.period_minute <= 59, "period_minute must be 0..59")
        try:
            pd.Timestamp("2024-01-01").tz_localize(self.timezone)
        except Exception:  # noqa: BLE001 - any failure means an unknown zone
            p.add(f"unknown time zone {self.timezone!r}")
        p.check(self.lookback_weeks >= self.step_weeks, "lookback_weeks must cover one step")
        if self.start is not None and self.end is not None:
            p.check(self.start < self.end, "start must be before end")
        if self.hours is not None:
            p.check(len(self.hours) == 2, "hours must be (from_hour, to_hour)")
            p.check(
                all(0 <= h <= 24 for h in self.hours), "hours must lie in 0..24 (to_hour 24 ok)"
            )
            p.check(len(set(self.hours)) == 2, "hours from and to must differ")
        if self.sources is not None:
            bad = set(self.sources) - {s.value for s in Source}
            p.check(not bad, f"unknown sources {sorted(bad)}")
        for code, w in self.weights:
            p.check(w >= 0, f"weight of {code!r} must be >= 0")
        p.check(self.default_weight >= 0, "default_weight must be >= 0")
        p.check(1 <= self.k <= 5, "k must be 1..5")
        p.check(self.window in ("cube", "step"), "window must be 'cube' or 'step'")
        p.check(self.time_lag >= 0, "time_lag must be >= 0")
        p.check(
            self.time_lag == 0 or self.window == "cube",
            "time_lag > 0 needs window='cube'",
        )
        p.check(self.permutations >= 0, "permutations must be >= 0")
        p.check(0 < self.alpha < 1, "alpha must be in (0, 1)")
        p.check(0 < self.hot_share <= 1, "hot_share must be in (0, 1]")
        p.check(self.min_total >= 0, "min_total must be >= 0")
        p.check(self.min_steps_with_reports >= 0, "min_steps_with_reports must be >= 0")
        p.check(self.min_step_count >= 0, "min_step_count must be >= 0")
        p.check(
            1 <= self.recurring_m <= self.recurring_n,
            "recurring needs 1 <= recurring_m <= recurring_n",
        )
        p.check(
            self.zone_source in ("latest", "recurring", "pattern", "all"),
            "zone_source must be latest, recurring, pattern or all",
        )
        p.check(self.zone_min_hot_steps >= 1, "zone_min_hot_steps must be >= 1")
        p.check(self.zone_method in ("graph", "dbscan"), "zone_method must be graph or dbscan")
        p.check(0 <= self.min_zone_jaccard <= 1, "min_zone_jaccard must be in [0, 1]")
        p.check(1 <= self.zone_link_k <= 3, "zone_link_k must be 1..3")
        p.check(
            self.zone_saddle_ratio is None or 0 <= self.zone_saddle_ratio <= 1,
            "zone_saddle_ratio must be in [0, 1] or None",
        )
        p.check(self.zone_window_steps >= 1, "zone_window_steps must be >= 1")
        p.raise_if_any()

    @property
    def n_steps(self) -> int:
        """Number of steps of the default (lookback) period."""
        return max(1, self.lookback_weeks // self.step_weeks)

    @property
    def weight_map(self) -> dict[str, float]:
        """Weights as a dict (category code -> weight)."""
        return dict(self.weights)

    @property
    def period_text_sv(self) -> str:
        """Swedish description of the period start, e.g. ``tisdag 13:00``."""
        return f"{WEEKDAYS_SV[self.period_weekday]} {self.period_hour:02d}:{self.period_minute:02d}"

    @property
    def step_text_sv(self) -> str:
        """``vecka`` / ``2 veckor`` / ``4 veckor``."""
        return "vecka" if self.step_weeks == 1 else f"{self.step_weeks} veckor"

    def replace(self, **changes: Any) -> AnalysisConfig:
        """A copy with ``changes`` applied (validated again)."""
        return dataclasses.replace(self, **changes)

    @classmethod
    def from_mapping(cls, values: Mapping[str, Any]) -> AnalysisConfig:
        """Build from a plain mapping (e.g. a kommun's stored settings); unknown keys fail."""
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(values) - names)
        if unknown:
            raise ValidationError(
                [f"unknown setting {u!r}" for u in unknown], context="AnalysisConfig"
            )
        return cls(**dict(values))

    def to_dict(self) -> dict[str, Any]:
        """JSON-friendly dict of all parameters."""
        out: dict[str, Any] = {}
        for f in dataclasses.fields(self):
            v = getattr(self, f.name)
            if isinstance(v, dt.date):  # also pd.Timestamp
                v = v.isoformat()
            elif f.name == "weights":
                v = dict(v)
            elif isinstance(v, GradingRules):
                v = dataclasses.asdict(v)
            elif isinstance(v, tuple):
                v = list(v)
            out[f.name] = v
        return out


__all__ = ["ANALYSIS_RES", "STEP_WEEKS", "AnalysisConfig", "GradingRules", "default_weights"]
