"""Hotspot zones: adjacent hot cells merged into named places with stable ids.

Which cells
-----------
Cells that are significant hot in the final step (``zone_source="latest"``),
*recurring* (hot in at least ``m`` of the last ``n`` steps, ``"recurring"``), that have
one of the eight hot patterns with at least ``min_hot_steps`` hot steps (``"pattern"``;
this keeps a sporadic or historical hotspot on the list between its bursts), or any of
these (``"all"``, default); never ``too_few_reports`` cells.

Zone pattern
------------
A zone is classified like a cell (:func:`analysis.emerging.classify_patterns`) from its
own series. The zone is taken as one neighbourhood of ``n_cells`` cells: its summed
weighted counts per step are standardized with the same global window as the cells (a
Gi*-style z). A step is hot when that z is significant (two-sided normal ``p <= alpha``,
one test per zone and step), positive and the zone holds at least ``min_step_count``
reports; cold when significant and negative. The trend is Mann-Kendall on the zone z.
(Rules over member cells are worse: "any member hot" tests many cells at once and makes
large zones look hot in random weeks; a single core cell is too noisy when a hotspot
spreads over many cells.) Areas whose own series has no pattern are dropped
(``drop_no_pattern``): their cells were hot one at a time, not together. The
``trend`` column is Mann-Kendall on the zone's weighted report counts.
Evidence (``count_window``, ``serious_window``, ``reporters_window``, categories,
sources, the zone series) counts the reports in the zone's cells.
``serious_hot`` tells whether serious reports *alone* (violence/threats, arson) form a
significant Gi* hotspot (same settings, at least ``serious_min_count`` serious reports in
the k-ring) in a member cell during the zone window: serious incidents clustering.

How they merge
--------------
First, hot cells at most ``link_k`` rings apart (default 2: one quiet cell inside a
hotspot does not cut it) are linked. ``method="graph"`` (default): connected components
of the k-ring graph (:func:`scipy.sparse.csgraph.connected_components` on the cube's
neighbour matrix). ``method="dbscan"``: scikit-learn ``DBSCAN(min_samples=1)`` on the cell
centres projected to SWEREF 99 TM (EPSG:3006) with ``eps = (link_k + 0.5) x`` the
distance between neighbouring centres. Both give the same areas on an H3 grid (that
``eps`` links exactly the ring neighbours); the graph is exact by construction, needs
no projection and is many times faster (``benchmarks/analysis.py`` measures both: 0.3 ms
against 8 ms for ~450 hot cells), so it is the default.

Then each area is split at valleys of the k-ring-smoothed report counts
(:func:`split_at_saddles`): in a busy town two hotspots a few hundred metres apart are
often joined by a chain of hot cells, and one zone spanning both would get one name,
one pattern and one trend.

Stable ids
----------
``fit(cube, previous_zones=...)`` matches each new zone to the zones of earlier weeks by
the Jaccard overlap of their member cells (compared at the coarser of the two
resolutions). All pairs with overlap ``>= min_jaccard`` are taken greedily, best overlap
first; ties go to the older previous zone (earlier ``first_seen``), then the smaller id.
Each previous id is used at most once; a zone that splits keeps its id in the part with
the larger overlap, and of two zones that merge, the better-overlapping (then older) id
survives. Unmatched zones get new ids ``Z0001``, ``Z0002``, ... continuing after the
largest previous number. Passing the zones of several earlier weeks lets a zone that
paused for a week get its id back.

Names
-----
The nearest place of a ``places`` table (``DataFrame[name, lat, lon]``, e.g. a
gazetteer) within ``name_max_m`` of the zone centre; otherwise ``"<locality> zon <id>"``.

Event-level clustering of many points (:func:`cluster_events`) never runs DBSCAN on raw
points: points are aggregated to fine H3 cells first and the weighted cells are
clustered (``sample_weight`` = events per cell).
"""

from __future__ import annotations

from collections.abc import Mapping
from types import SimpleNamespace
from typing import Any, Literal

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import pandas as pd
import scipy.sparse as sp

from analysis._clusters import (
    cells_to_components,
    cells_to_dbscan,
    cluster_events,
    lonlat_to_sweref,
    nearest_place_names,
    split_at_saddles,
)
from analysis._grouping import group_sums
from analysis._mannkendall import mann_kendall
from analysis._zone_ids import match_zones
from analysis.cube import ring_weights
from analysis.emerging import (
    PATTERN_CODE,
    PATTERN_LABELS_SV,
    PATTERNS,
    EmergingHotspots,
    _sparse,
    classify_patterns,
)
from analysis.getis_ord import GetisOrdGiStar, two_sided_p
from geo.cells import (
    cells_to_outline,
    cells_to_points,
    cells_to_strings,
)
from geo.errors import ValidationError

#: The eight hot patterns.
HOT_PATTERNS: tuple[str, ...] = tuple(p for p in PATTERNS if p.endswith("_hot"))

#: Columns of the zones GeoDataFrame (plus ``geometry``, EPSG:4326).
ZONE_COLUMNS: tuple[str, ...] = (
    "id",
    "name",
    "locality",
    "n_cells",
    "cells",
    "lat",
    "lon",
    "pattern",
    "pattern_sv",
    "trend",
    "trend_tau",
    "trend_p",
    "z_max",
    "hot_now",
    "hot_cells_now",
    "steps_hot",
    "count_window",
    "weighted_window",
    "serious_window",
    "serious_hot",
    "reporters_window",
    "count_total",
    "window_weeks",
    "top_categories",
    "top_sources",
    "first_seen",
    "last_seen",
    "matched",
    "jaccard",
)


def _row_sums(matrix: sp.csr_matrix, start: int = 0) -> npt.NDArray[np.float64]:
    """Sum of each row over the columns ``start..``."""
    return np.asarray((matrix[:, start:] if start else matrix).sum(axis=1)).ravel()


def _tops(
    detail: pd.DataFrame, zone: npt.NDArray[np.int64], column: str, n_zones: int, n: int = 3
) -> list[list[dict[str, Any]]]:
    """The ``n`` values of ``column`` with most reports in each zone (``zone``: each
    detail row's zone), largest first."""
    out: list[list[dict[str, Any]]] = [[] for _ in range(n_zones)]
    if not len(detail):
        return out
    frame = pd.DataFrame(
        {"zone": zone, "key": detail[column].to_numpy(), "count": detail["count"].to_numpy()}
    )
    s = frame.groupby(["zone", "key"], dropna=True, sort=True)["count"].sum()
    zones = s.index.get_level_values(0).to_numpy()
    keys, counts = s.index.get_level_values(1).to_numpy(), s.to_numpy()
    bounds = np.searchsorted(zones, np.arange(n_zones + 1))
    for zi in np.flatnonzero(np.diff(bounds)):
        part = slice(bounds[zi], bounds[zi + 1])
        # the zone's own sums, ordered as a per-zone groupby and sort would order them
        top = pd.Series(counts[part], index=keys[part]).sort_values(ascending=False)
        out[zi] = [{"code": str(k), "count": int(v)} for k, v in top.head(n).items()]
    return out


def _window_evidence(
    detail: pd.DataFrame, cells: npt.NDArray[np.int64], groups: list[Any], n: int
) -> tuple[npt.NDArray[np.int64], list[Any], list[Any]]:
    """Reporters, top categories and top sources of each zone's ``detail`` rows.

    ``cells`` is the cube row of each detail row, ``groups`` the cube rows of each zone
    (disjoint), ``n`` the number of cube rows.
    """
    zone_of = np.full(n, -1, dtype=np.int64)
    for zi, g in enumerate(groups):
        zone_of[g] = zi
    cells = np.asarray(cells, dtype=np.int64)
    zone = np.where(cells >= 0, zone_of[np.maximum(cells, 0)], -1) if n else cells
    inside = zone >= 0
    sub, zone = detail[inside], zone[inside]
    reporters = np.zeros(len(groups), dtype=np.int64)
    if len(sub):
        frame = pd.DataFrame({"zone": zone, "org": sub["reporter_org"].to_numpy()})
        counted = frame.groupby("zone")["org"].nunique()
        reporters[counted.index.to_numpy()] = counted.to_numpy()
    return (
        reporters,
        _tops(sub, zone, "category", len(groups)),
        _tops(sub, zone, "source", len(groups)),
    )


class HotspotZones:
    """Merge hot cells into zones with names, polygons, evidence and stable ids.

    Parameters
    ----------
    source
        ``"latest"``, ``"recurring"``, ``"pattern"`` or ``"all"`` (see module docstring).
    method
        ``"graph"`` or ``"dbscan"``.
    min_jaccard
        Smallest overlap that keeps a previous id.
    window_steps
        Steps from the end whose reports describe the zone (counts, categories).
    places
        Optional ``DataFrame[name, lat, lon]`` to name zones after.
    locality_names
        Optional mapping locality code -> name (fallback names, ``locality`` column).
    name_max_m
        Farthest distance of a place used as a name.
    simplify_m
        Simplification tolerance of the dissolved polygons (metres, approximately).
    id_prefix
        Prefix of new ids.
    emerging
        Parameters for an internal :class:`EmergingHotspots` when ``fit`` gets none.
    min_hot_steps
        Hot steps a cell with a hot pattern needs to join a zone through its pattern.
    serious_min_count
        Serious reports a k-ring needs in a step for ``serious_hot``.
    link_k
        Hot cells at most this many rings apart belong to one area (2 bridges a single
        quiet cell inside a hotspot).
    saddle_ratio
        Areas are split at valleys of the smoothed report counts
        (:func:`split_at_saddles`); ``None`` keeps whole connected areas.
    drop_no_pattern
        Drop areas whose own series shows no pattern: cells that were hot one by one
        but are no hotspot together (multiple testing over many cells).

    Attributes
    ----------
    zones_ : geopandas.GeoDataFrame (EPSG:4326)
        One row per zone, columns :data:`ZONE_COLUMNS` + ``geometry``; sorted by
        ``weighted_window`` descending.
    labels_ : int ndarray (n_cells,)
        Row of ``zones_`` of each cube cell, ``-1`` outside zones.
    zone_ids_ : object ndarray (n_cells,)
        Zone id of each cube cell (``None`` outside zones).
    """

    def __init__(
        self,
        source: Literal["latest", "recurring", "pattern", "all"] = "all",
        method: Literal["graph", "dbscan"] = "graph",
        min_jaccard: float = 0.1,
        window_steps: int = 4,
        places: pd.DataFrame | None = None,
        locality_names: Mapping[str, str] | None = None,
        name_max_m: float = 600.0,
        simplify_m: float = 3.0,
        id_prefix: str = "Z",
        emerging: Mapping[str, Any] | None = None,
        min_hot_steps: int = 2,
        serious_min_count: int = 2,
        link_k: int = 2,
        saddle_ratio: float | None = 0.5,
        drop_no_pattern: bool = True,
    ) -> None:
        self.drop_no_pattern = drop_no_pattern
        self.link_k = link_k
        self.saddle_ratio = saddle_ratio
        self.min_hot_steps = min_hot_steps
        self.serious_min_count = serious_min_count
        self.source = source
        self.method = method
        self.min_jaccard = min_jaccard
        self.window_steps = window_steps
        self.places = places
        self.locality_names = locality_names
        self.name_max_m = name_max_m
        self.simplify_m = simplify_m
        self.id_prefix = id_prefix
        self.emerging = emerging

    @classmethod
    def from_config(cls, config: Any, **kwargs: Any) -> HotspotZones:
        """Build from an :class:`analysis.config.AnalysisConfig` (+ ``places`` etc.)."""
        return cls(
            source=config.zone_source,
            method=config.zone_method,
            min_jaccard=config.min_zone_jaccard,
            window_steps=config.zone_window_steps,
            min_hot_steps=config.zone_min_hot_steps,
            link_k=config.zone_link_k,
            saddle_ratio=config.zone_saddle_ratio,
            **kwargs,
        )

    def _check(self) -> None:
        problems = []
        if self.source not in ("latest", "recurring", "pattern", "all"):
            problems.append("source must be latest, recurring, pattern or all")
        if self.method not in ("graph", "dbscan"):
            problems.append("method must be graph or dbscan")
        if not 0 <= self.min_jaccard <= 1:
            problems.append("min_jaccard must be in [0, 1]")
        if self.window_steps < 1:
            problems.append("window_steps must be >= 1")
        if self.places is not None:
            missing = {"name", "lat", "lon"} - set(self.places.columns)
            if missing:
                problems.append(f"places needs columns {sorted(missing)}")
        if problems:
            raise ValidationError(problems, context="HotspotZones")

    def candidates(self, emerging: EmergingHotspots) -> npt.NDArray[np.bool_]:
        """Cells that form zones (see the module docstring)."""
        hot = emerging.hot_
        latest = hot[:, -1]
        recurring = emerging.recurring_
        hot_pattern = np.isin(emerging.pattern_, HOT_PATTERNS) & (
            hot.sum(axis=1) >= self.min_hot_steps
        )
        if self.source == "latest":
            cand = latest.copy()
        elif self.source == "recurring":
            cand = recurring.copy()
        elif self.source == "pattern":
            cand = hot_pattern
        else:
            cand = latest | recurring | hot_pattern
        return cand & ~emerging.too_few_

    def fit(
        self,
        cube: Any,
        previous_zones: pd.DataFrame | None = None,
        emerging: EmergingHotspots | None = None,
    ) -> HotspotZones:
        """Find the zones of ``cube``; keep ids of matching ``previous_zones``.

        Parameters
        ----------
        cube
            :class:`analysis.cube.SpaceTimeCube`.
        previous_zones
            Zones of earlier weeks: a frame with ``id``, ``cells`` (list of cell hex
            strings or integers) and optionally ``first_seen`` (e.g. an earlier
            ``zones_``).
        emerging
            A fitted :class:`EmergingHotspots` of ``cube`` (fitted here when missing).
        """
        self._check()
        if emerging is None:
            emerging = EmergingHotspots(**dict(self.emerging or {})).fit(cube)
        values, counts = _sparse(cube, "values"), _sparse(cube, "counts")
        n, T = values.shape
        cand = self.candidates(emerging)
        members = np.flatnonzero(cand).astype(np.int64)
        if self.method == "graph":  # the link graph among the members only
            within = ring_weights(cube.cells[members], self.link_k)
            comp = cells_to_components(within, np.arange(members.size, dtype=np.int64))
        else:
            comp = cells_to_dbscan(cube.cells[members], k=self.link_k)
        totals = _row_sums(values)
        if self.saddle_ratio is not None and members.size:
            score = np.asarray(cube.weights(1) @ totals).ravel()
            comp = split_at_saddles(cube.weights(1), members, comp, score, self.saddle_ratio)
        n_zones = int(comp.max()) + 1 if comp.size else 0
        groups = [members[comp == z] for z in range(n_zones)]

        # each zone's own series, z, hot/cold steps, trend and pattern, over its cells.
        # (Over the cells plus their k-ring, the "footprint", tested worse: more
        # background made random weeks significant and diluted steady hotspots.)
        hot = emerging.hot_
        alpha = getattr(emerging, "alpha", 0.05)
        feet = list(groups)
        series, zcounts = group_sums(values, feet), group_sums(counts, feet)
        sizes = np.asarray([f.size for f in feet], dtype=np.int64)
        zone_z = self._zone_z(series, sizes, emerging)
        if zone_z is not None:
            pz = two_sided_p(zone_z)
            min_count = getattr(emerging, "min_step_count", 3)
            zone_hot = (pz <= alpha) & (zone_z > 0) & (zcounts >= min_count)
            zone_cold = (pz <= alpha) & (zone_z < 0)
            trend_input = zone_z
        else:  # no window statistics (a bare stand-in): any member hot / all cold
            zone_hot = np.asarray([hot[g].any(axis=0) for g in groups]).reshape(n_zones, T)
            zone_cold = np.asarray([emerging.cold_[g].all(axis=0) for g in groups]).reshape(
                n_zones, T
            )
            trend_input = series
        zone_trend = (
            mann_kendall(trend_input, alpha=alpha).trend if n_zones else np.zeros(0, np.int8)
        )
        zone_codes = classify_patterns(
            zone_hot, zone_cold, zone_trend, getattr(emerging, "hot_share", 0.9)
        )
        keep = np.ones(n_zones, dtype=bool)
        if self.drop_no_pattern and zone_z is not None:
            keep = zone_codes != PATTERN_CODE["no_pattern"]
        groups = [g for g, k in zip(groups, keep, strict=True) if k]
        feet = [f for f, k in zip(feet, keep, strict=True) if k]
        series, zcounts, zone_hot = series[keep], zcounts[keep], zone_hot[keep]
        zone_codes = zone_codes[keep]
        n_zones = len(groups)
        self.dropped_ = int((~keep).sum())

        w0 = max(0, T - self.window_steps)
        window_w = _row_sums(values, w0)
        window_counts, total_counts = _row_sums(counts, w0), _row_sums(counts)
        window_serious = _row_sums(_sparse(cube, "serious"), w0)
        # order zones by recent weighted reports so new ids are deterministic
        order = np.argsort([-window_w[f].sum() for f in feet], kind="stable")
        groups = [groups[i] for i in order]
        feet = [feet[i] for i in order]
        series, zone_hot, zone_codes = series[order], zone_hot[order], zone_codes[order]
        ids, jac, prev_first = match_zones(
            [cube.cells[g] for g in groups],
            previous_zones,
            self.min_jaccard,
            self.id_prefix,
        )

        detail = cube.detail
        det_window = detail[detail["step"] >= w0] if len(detail) else detail
        det_cells = det_window["cell_index"].to_numpy() if len(det_window) else np.zeros(0, int)

        starts = cube.step_starts
        rows: list[dict[str, Any]] = []
        geoms = []
        mk = mann_kendall(series, alpha=alpha) if n_zones else None
        serious_hot = self._serious_hot(cube, emerging, w0)
        last = getattr(emerging, "last_step", None)
        z_last = last()["z"] if last is not None else np.asarray(emerging.z_)[:, -1]
        step_weeks = getattr(cube, "step_weeks", 1)
        # positions, outlines and ids of every member at once (one H3 call each)
        reporters, top_categories, top_sources = _window_evidence(det_window, det_cells, feet, n)
        bounds = np.cumsum([0, *(g.size for g in groups)])
        all_cells = cube.cells[np.concatenate(groups)] if groups else cube.cells[:0]
        all_lat, all_lon = cells_to_points(all_cells)
        all_ids = cells_to_strings(all_cells)
        for zi, g in enumerate(groups):
            part = slice(bounds[zi], bounds[zi + 1])
            lat, lon = all_lat[part], all_lon[part]
            wts = totals[g] + 1e-9
            clat = float(np.average(lat, weights=wts))
            clon = float(np.average(lon, weights=wts))
            pattern = PATTERNS[int(zone_codes[zi])]
            hot_steps = np.flatnonzero(zone_hot[zi])
            first_seen = starts[hot_steps[0]] if hot_steps.size else starts[-1]
            last_seen = starts[hot_steps[-1]] if hot_steps.size else starts[-1]
            if prev_first[zi] is not None and prev_first[zi] < first_seen:
                first_seen = prev_first[zi]
            locs = pd.Series(cube.locality[g]).dropna()
            locality = None
            if len(locs):
                locality = str(pd.Series(locs.to_numpy(), dtype=object).value_counts().index[0])
            f = feet[zi]
            trend = 0 if mk is None else int(mk.trend[zi])
            rows.append(
                {
                    "id": ids[zi],
                    "name": None,
                    "locality": locality,
                    "n_cells": int(g.size),
                    "cells": [str(s) for s in all_ids[part]],
                    "lat": clat,
                    "lon": clon,
                    "pattern": pattern,
                    "pattern_sv": PATTERN_LABELS_SV[pattern],
                    "trend": {1: "increasing", -1: "decreasing"}.get(trend, "none"),
                    "trend_tau": float(mk.tau[zi]) if mk is not None else 0.0,
                    "trend_p": float(mk.p[zi]) if mk is not None else 1.0,
                    "z_max": float(z_last[g].max()),
                    "hot_now": bool(zone_hot[zi, -1]) if T else False,
                    "hot_cells_now": int(hot[g, -1].sum()),
                    "steps_hot": int(zone_hot[zi].sum()),
                    "count_window": int(window_counts[f].sum()),
                    "weighted_window": float(window_w[f].sum()),
                    "serious_window": int(window_serious[f].sum()),
                    "serious_hot": bool(serious_hot[g].any()),
                    "reporters_window": int(reporters[zi]),
                    "count_total": int(total_counts[f].sum()),
                    "window_weeks": int((T - w0) * step_weeks),
                    "top_categories": top_categories[zi],
                    "top_sources": top_sources[zi],
                    "first_seen": first_seen,
                    "last_seen": last_seen,
                    "matched": jac[zi] > 0,
                    "jaccard": float(jac[zi]),
                }
            )
            poly = cells_to_outline(all_cells[part])
            tol = self.simplify_m / 111_320.0
            geoms.append(poly.simplify(tol, preserve_topology=True))
        zones = gpd.GeoDataFrame(
            pd.DataFrame(rows, columns=list(ZONE_COLUMNS)), geometry=geoms, crs="EPSG:4326"
        )
        if n_zones:
            zones["name"] = self._names(zones)
        zones = zones.sort_values(
            ["weighted_window", "id"], ascending=[False, True], ignore_index=True
        )
        self.zones_ = zones
        row_of_id = {zid: r for r, zid in enumerate(zones["id"])}
        labels = np.full(n, -1, dtype=np.int64)
        zone_ids = np.full(n, None, dtype=object)
        for zi, g in enumerate(groups):
            labels[g] = row_of_id[ids[zi]]
            zone_ids[g] = ids[zi]
        self.labels_ = labels
        self.zone_ids_ = zone_ids
        self.series_ = pd.DataFrame(series, index=ids, columns=starts)
        return self

    @staticmethod
    def _zone_z(
        series: npt.NDArray[np.float64], sizes: npt.NDArray[np.int64], emerging: Any
    ) -> npt.NDArray[np.float64] | None:
        """Gi*-style z of each zone taken as one neighbourhood (same global window).

        ``None`` when ``emerging`` carries no fitted Gi* (no window statistics).
        """
        gi = getattr(emerging, "gistar_", None)
        if gi is None:
            return None
        T = series.shape[1]
        mean = np.broadcast_to(np.asarray(gi.mean_, dtype=float), (T,))
        std = np.broadcast_to(np.asarray(gi.std_, dtype=float), (T,))
        N = float(gi.n_window_)
        c = sizes.astype(float)[:, None]
        with np.errstate(divide="ignore", invalid="ignore"):
            z = (series - c * mean[None, :]) / (std[None, :] * np.sqrt(c * (N - c) / (N - 1)))
        return np.where(np.isfinite(z), z, 0.0)

    def _serious_hot(self, cube: Any, emerging: EmergingHotspots, w0: int) -> npt.NDArray[np.bool_]:
        """Cells where serious reports alone form a significant Gi* hotspot in a step
        from ``w0`` on (length n)."""
        serious = sp.csr_matrix(_sparse(cube, "serious"), dtype=np.float64)
        if not serious.nnz:
            return np.zeros(serious.shape[0], dtype=bool)
        gi = emerging.gistar_
        k = getattr(emerging, "k", 1)
        W = cube.weights(k)
        ring = sp.csr_matrix(W @ serious)
        ring.eliminate_zeros()
        sgi = GetisOrdGiStar(
            k=k, window=gi.window, time_lag=gi.time_lag, fdr=gi.fdr, alpha=gi.alpha
        ).fit(
            SimpleNamespace(values=serious),  # type: ignore[arg-type]
            weights=W,
            keep_rows=np.diff(ring.indptr) > 0,
        )
        first = np.empty(sgi.row_weight_.shape[0], dtype=np.int64)
        first[sgi.rows_[::-1]] = np.arange(sgi.rows_.shape[0])[::-1]
        ring_c = ring[first].toarray()
        hot = sgi.compact_significant_ & (sgi.compact_z_ > 0) & (ring_c >= self.serious_min_count)
        return hot[:, w0:].any(axis=1)[sgi.rows_]

    def _names(self, zones: pd.DataFrame) -> list[str]:
        names = nearest_place_names(zones["lat"], zones["lon"], self.places, self.name_max_m)
        out: list[str] = []
        loc_names = dict(self.locality_names or {})
        for r, nm in enumerate(names):
            if nm is None:
                loc = zones["locality"].iloc[r]
                base = loc_names.get(loc, loc) if loc is not None else None
                nm = f"{base} zon {zones['id'].iloc[r]}" if base else f"zon {zones['id'].iloc[r]}"
            if nm in out:  # two zones near the same place
                nm = f"{nm} ({zones['id'].iloc[r]})"
            out.append(nm)
        return out


__all__ = [
    "ZONE_COLUMNS",
    "nearest_place_names",
    "HotspotZones",
    "cells_to_components",
    "cells_to_dbscan",
    "cluster_events",
    "split_at_saddles",
    "lonlat_to_sweref",
    "match_zones",
]
