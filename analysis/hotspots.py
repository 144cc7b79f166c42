"""One entry point for the hotspot analysis: reports + localities -> cells, zones, grades.

>>> result = analyse(reports, localities, AnalysisConfig(kommun="norrtalje"))  # doctest: +SKIP
>>> result.zones[["id", "name", "pattern", "grade", "explanation"]]  # doctest: +SKIP

The pipeline: :func:`analysis.cube.reports_to_cube` (zero-filled cells x steps) ->
:class:`analysis.emerging.EmergingHotspots` (Gi* per step, Mann-Kendall, patterns) ->
:class:`analysis.zones.HotspotZones` (merged, named zones with stable ids) ->
:mod:`analysis.grading` (suggested grades with Swedish explanations). The CLI
(``lagesbild hotspots``) and the web app both call :func:`analyse`.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from analysis.config import AnalysisConfig
from analysis.cube import SpaceTimeCube, reports_to_cube
from analysis.emerging import EmergingHotspots
from analysis.grading import grade_localities, grade_zones
from analysis.zones import HotspotZones
from geo.errors import ValidationError


@dataclass(eq=False)
class HotspotResult:
    """Everything :func:`analyse` produces.

    Attributes
    ----------
    cells : DataFrame
        One row per cell of the universe: ``cell`` (hex string), ``locality``,
        ``pattern``, ``pattern_sv``, final-step ``z``, ``p``, ``q``, ``hot``,
        ``recurring``, Mann-Kendall ``tau``, ``tau_p``, ``trend``, ``hot_steps``,
        ``cold_steps``, ``hot_share``, ``ring_total``, ``steps_with_reports``, ``count``,
        ``weighted`` and ``zone`` (zone id or ``None``).
    zones : GeoDataFrame (EPSG:4326)
        :data:`analysis.zones.ZONE_COLUMNS` + ``grade``, ``label``, ``colour``,
        ``explanation`` + ``geometry``.
    locality_grades : DataFrame
        See :func:`analysis.grading.grade_localities`.
    zone_grades : DataFrame
        See :func:`analysis.grading.grade_zones`.
    z : DataFrame
        Gi* z-scores, index cell hex strings, columns step starts (UTC); built on
        access (a city's is hundreds of megabytes).
    cube, emerging, zone_model, config
        The intermediate objects (for plots and further analysis).
    """

    cells: pd.DataFrame
    zones: gpd.GeoDataFrame
    locality_grades: pd.DataFrame
    zone_grades: pd.DataFrame
    cube: SpaceTimeCube
    emerging: EmergingHotspots
    zone_model: HotspotZones
    config: AnalysisConfig

    @property
    def z(self) -> pd.DataFrame:
        """Gi* z-scores per cell (rows) and step (columns)."""
        return pd.DataFrame(
            self.emerging.z_, index=self.cells["cell"].to_numpy(), columns=self.cube.step_starts
        )

    @property
    def period(self) -> tuple[pd.Timestamp, pd.Timestamp]:
        """Start and end (UTC) of the analysed period."""
        return self.cube.edges[0], self.cube.edges[-1]

    def to_dict(self, cells: str = "all") -> dict[str, Any]:
        """JSON-ready dict: ``period``, ``config``, ``summary``, ``cells``, ``zones``,
        ``localities``.

        ``cells="all"`` lists every cell, ``"patterns"`` only cells with a pattern other
        than ``no_pattern``/``too_few_reports`` or in a zone, ``"none"`` no cell.
        """
        frame = self.cells
        if cells == "none":
            frame = frame.iloc[:0]
        elif cells == "patterns":
            keep = ~frame["pattern"].isin(["no_pattern", "too_few_reports"]) | frame["zone"].notna()
            frame = frame[keep]
        cell_rows = [
            {
                "cell": r["cell"],
                "locality": r["locality"],
                "pattern": r["pattern"],
                "z": _f(r["z"]),
                "p": _f(r["p"]),
                "q": _f(r["q"]),
                "hot": bool(r["hot"]),
                "trend": int(r["trend"]),
                "count": int(r["count"]),
                "zone": r["zone"],
            }
            for r in _records(frame)
        ]
        zone_rows = []
        for z in _records(self.zones):
            zone_rows.append(
                {
                    "id": z["id"],
                    "name": z["name"],
                    "locality": z["locality"],
                    "cells": list(z["cells"]),
                    "pattern": z["pattern"],
                    "pattern_sv": z["pattern_sv"],
                    "grade": int(z["grade"]),
                    "label": z["label"],
                    "colour": z["colour"],
                    "explanation": z["explanation"],
                    "trend": z["trend"],
                    "hot_now": bool(z["hot_now"]),
                    "count_window": int(z["count_window"]),
                    "serious_window": int(z["serious_window"]),
                    "reporters_window": int(z["reporters_window"]),
                    "window_weeks": int(z["window_weeks"]),
                    "top_categories": z["top_categories"],
                    "top_sources": z["top_sources"],
                    "first_seen": _iso(z["first_seen"]),
                    "last_seen": _iso(z["last_seen"]),
                    "lat": _f(z["lat"]),
                    "lon": _f(z["lon"]),
                    "geometry": shapely.geometry.mapping(z["geometry"]),
                }
            )
        loc_rows = [
            {
                "locality": r["locality"],
                "name": r["name"],
                "grade": int(r["grade"]),
                "label": r["label"],
                "colour": r["colour"],
                "explanation": r["explanation"],
                "count": int(r["count"]),
                "serious": int(r["serious"]),
                "zones_hot": int(r["zones_hot"]),
                "period_start": _iso(r["period_start"]),
                "period_end": _iso(r["period_end"]),
            }
            for r in _records(self.locality_grades)
        ]
        start, end = self.period
        return {
            "period": {
                "start": _iso(start),
                "end": _iso(end),
                "steps": self.cube.n_steps,
                "step_weeks": self.cube.step_weeks,
                "res": self.cube.res,
            },
            "summary": dict(self.cube.summary),
            "config": self.config.to_dict(),
            "cells": cell_rows,
            "zones": zone_rows,
            "localities": loc_rows,
        }

    def to_geojson(self) -> dict[str, Any]:
        """FeatureCollection of the zones (``kind: zone``) and the cells with a hot
        pattern or in a zone (``kind: cell``), EPSG:4326."""
        from geo.cells import cells_to_polygons, strings_to_cells

        features = []
        for z in self.to_dict(cells="patterns")["zones"]:
            geom = z.pop("geometry")
            features.append(
                {"type": "Feature", "geometry": geom, "properties": {"kind": "zone", **z}}
            )
        frame = self.cells[self.cells["pattern"].str.endswith("_hot") | self.cells["zone"].notna()]
        polys = (
            cells_to_polygons(strings_to_cells(frame["cell"]))
            if len(frame)
            else np.empty(0, dtype=object)
        )
        for r, poly in zip(_records(frame), polys, strict=True):
            features.append(
                {
                    "type": "Feature",
                    "geometry": shapely.geometry.mapping(poly),
                    "properties": {
                        "kind": "cell",
                        "cell": r["cell"],
                        "locality": r["locality"],
                        "pattern": r["pattern"],
                        "z": _f(r["z"]),
                        "p": _f(r["p"]),
                        "zone": r["zone"],
                    },
                }
            )
        return {"type": "FeatureCollection", "features": features}

    def to_json(self, **kwargs: Any) -> str:
        """:meth:`to_dict` as a JSON string."""
        return json.dumps(self.to_dict(**kwargs), ensure_ascii=False)


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    return frame.to_dict("records")  # type: ignore[return-value]


def _f(x: Any) -> float | None:
    x = float(x)
    return x if np.isfinite(x) else None


def _iso(ts: Any) -> str | None:
    if ts is None or (not isinstance(ts, str) and pd.isna(ts)):
        return None
    return pd.Timestamp(ts).isoformat()


def localities_to_universe(
    localities: pd.DataFrame,
    config: AnalysisConfig,
    fill: Callable[[pd.DataFrame, int], pd.DataFrame] | None = None,
) -> tuple[pd.DataFrame, dict[str, str]]:
    """Cell universe ``[cell, locality]`` and code -> name from a boundary frame.

    ``localities`` is a boundary frame (:mod:`geo.boundaries`, columns ``code``,
    ``name``, ``geometry``) or an already built universe ``DataFrame[cell, locality]``.
    Rows are filtered by ``config.kommun`` and ``config.localities``. ``fill`` turns
    the filtered boundary frame and the resolution into the universe (default
    :func:`geo.boundaries.localities_to_cells`; e.g. one that keeps its results).
    """
    frame = localities
    if "cell" in frame.columns:
        uni = frame
        if config.localities is not None and "locality" in uni.columns:
            uni = uni[uni["locality"].isin(config.localities)]
        return uni, {}
    missing = {"code", "geometry"} - set(frame.columns)
    if missing:
        raise ValidationError(
            f"localities need columns {sorted(missing)} (a boundary frame) or 'cell'",
            context="analyse",
        )
    if config.kommun is not None and "kommun" in frame.columns:
        frame = frame[frame["kommun"] == config.kommun]
    if config.localities is not None:
        frame = frame[frame["code"].isin(config.localities)]
    from geo.boundaries import localities_to_cells

    names = (
        dict(zip(frame["code"].astype(str), frame["name"].astype(str), strict=True))
        if "name" in frame.columns
        else {}
    )
    return (fill or localities_to_cells)(frame, config.res), names


def analyse(
    reports: pd.DataFrame,
    localities: pd.DataFrame,
    config: AnalysisConfig | None = None,
    *,
    places: pd.DataFrame | None = None,
    previous_zones: pd.DataFrame | None = None,
    fill: Callable[[pd.DataFrame, int], pd.DataFrame] | None = None,
    ring: Callable[..., Any] | None = None,
) -> HotspotResult:
    """Run the whole hotspot analysis.

    Parameters
    ----------
    reports
        Report frame (:mod:`geo.schema`); only approved reports count.
    localities
        Boundary frame of the localities to analyse (EPSG:4326, ``code``, ``name``,
        ``geometry``), or a ready cell universe ``DataFrame[cell, locality]``.
    config
        :class:`AnalysisConfig` (defaults when ``None``).
    places
        Optional ``DataFrame[name, lat, lon]`` to name zones (e.g. a gazetteer).
    previous_zones
        Zones of earlier runs (``HotspotResult.zones``) to keep zone ids stable.
    fill
        How boundaries become cells (see :func:`localities_to_universe`).
    ring
        How the cube builds its k-ring weights (default
        :func:`analysis.cube.ring_weights`; e.g. one that keeps them).
    """
    cfg = config or AnalysisConfig()
    universe, names = localities_to_universe(localities, cfg, fill)
    cube = reports_to_cube(reports, universe, cfg)
    if ring is not None:
        cube.ring_builder = ring
    emerging = EmergingHotspots.from_config(cfg).fit(cube)
    zone_model = HotspotZones.from_config(cfg, places=places, locality_names=names).fit(
        cube, previous_zones=previous_zones, emerging=emerging
    )
    zones = zone_model.zones_
    zone_grades = grade_zones(zones, cfg.grading, fdr=cfg.fdr, step_weeks=cube.step_weeks)
    if len(zones):
        zones = zones.merge(
            zone_grades[["id", "grade", "label", "colour", "explanation"]], on="id", how="left"
        )
    else:
        zones = zones.assign(grade=pd.Series(dtype=int), label="", colour="", explanation="")
    zones = gpd.GeoDataFrame(zones, geometry="geometry", crs="EPSG:4326")
    cells = emerging.to_frame(cube)
    cells["zone"] = zone_model.zone_ids_
    too_few = (
        cells.groupby("locality")["pattern"].apply(lambda s: float((s == "too_few_reports").mean()))
        if len(cells)
        else pd.Series(dtype=float)
    )
    locality_grades = grade_localities(
        cube,
        zones,
        cfg.grading,
        fdr=cfg.fdr,
        locality_names=names,
        too_few_share={str(k): float(v) for k, v in too_few.items()},
    )
    return HotspotResult(
        cells=cells,
        zones=zones,
        locality_grades=locality_grades,
        zone_grades=zone_grades,
        cube=cube,
        emerging=emerging,
        zone_model=zone_model,
        config=cfg,
    )


__all__ = ["HotspotResult", "analyse", "localities_to_universe"]
