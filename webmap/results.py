"""Cached analysis results: heavy work happens once per data version, not per request.

:class:`ResultStore` runs :func:`analysis.hotspots.analyse` for one kommun, one meeting
week and one set of filters, and keeps the result on disk under
``<instance>/cache/analysis/<kommun>/v<data version>/<parameter hash>/``:

=====================  ==============================================================
``meta.json``          period, steps, resolution, parameters, data version
``cells.parquet``      one row per cell: id, locality, pattern, final z, counts, zone
``steps.npz``          ``z`` and ``weighted`` (cells x steps, float32) for the week slider,
                       compact: the distinct rows of ``z`` with each cell's row, and
                       ``weighted`` as a sparse matrix (dense again when first used)
``zones.json``         zones with grade, explanation, trend series and geometry
``localities.json``    suggested grade per locality with explanation and trend series
=====================  ==============================================================

The key includes the data version (:func:`geo.store.current_version`), so new reports
make new results; old versions are pruned. Results are computed lazily on first use
under a per-key lock (concurrent requests wait for one computation) or ahead of time by
``lagesbild analyse``. Loaded results are kept in a small in-memory LRU.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import scipy.sparse as sp
import shapely
from sqlalchemy import Engine
from sqlalchemy.engine import Connection

from analysis.config import AnalysisConfig
from analysis.cube import ring_weights
from analysis.hotspots import HotspotResult, analyse
from geo.boundaries import load_boundaries, read_boundaries
from geo.cells import strings_to_cells
from geo.errors import ValidationError
from geo.gazetteer import named_places
from geo.schema import Source
from geo.store import current_version
from geo.store.analysis_rows import read_analysis_reports
from geo.store.reports import latest_occurred_before, occurred_range
from geo.store.zones import replace_zones
from geo.tenants import Tenant, get_tenant
from geo.universe import StoredCellFill, StoredRings
from webmap.lru import SingleFlightLru
from webmap.weeks import TIME_OF_DAY, canonical_week, deadline, shift_week, week_of

CACHE_FORMAT = 2


@dataclass(frozen=True)
class Filters:
    """User-selectable filters of the planner map (part of the cache key)."""

    categories: tuple[str, ...] = ()
    sources: tuple[str, ...] = ()
    time_of_day: str = "alla"

    def __post_init__(self) -> None:
        if self.time_of_day not in TIME_OF_DAY:
            raise ValidationError(
                f"okänd tid på dygnet {self.time_of_day!r}; giltiga: {', '.join(TIME_OF_DAY)}"
            )
        unknown = sorted(set(self.sources) - {s.value for s in Source})
        if unknown:
            raise ValidationError(
                f"okänd källa {unknown[0][:40]!r}; giltiga: {', '.join(s.value for s in Source)}"
            )
        object.__setattr__(self, "categories", tuple(sorted(set(self.categories))))
        object.__setattr__(self, "sources", tuple(sorted(set(self.sources))))

    def to_dict(self) -> dict[str, Any]:
        return {
            "categories": list(self.categories),
            "sources": list(self.sources),
            "time_of_day": self.time_of_day,
        }


@dataclass(frozen=True)
class StepArrays:
    """The (cells x steps) float32 arrays ``z`` and ``weighted`` in compact form.

    ``z`` is ``z_rows_data[z_rows]`` (cells whose neighbourhoods never had a report share
    rows), ``weighted`` a CSR matrix; :meth:`z` and :meth:`weighted` give them dense.
    """

    z_rows_data: np.ndarray
    z_rows: np.ndarray
    weighted_csr: sp.csr_matrix

    @classmethod
    def from_dense(cls, z: np.ndarray, weighted: np.ndarray) -> StepArrays:
        """Wrap ready dense arrays (the rows of ``z`` are kept as they are)."""
        z = np.asarray(z, dtype=np.float32)
        rows = np.arange(z.shape[0], dtype=np.int64)
        return cls(z, rows, sp.csr_matrix(np.asarray(weighted, dtype=np.float32)))

    def z(self) -> np.ndarray:
        """``z`` as a dense (n, T) float32 array."""
        return self.z_rows_data[self.z_rows]

    def weighted(self) -> np.ndarray:
        """``weighted`` as a dense (n, T) float32 array."""
        return np.asarray(self.weighted_csr.toarray(), dtype=np.float32)

    def save(self, path: Path) -> None:
        """Write ``steps.npz``."""
        w = self.weighted_csr
        np.savez(
            path,
            z_rows_data=self.z_rows_data,
            z_rows=self.z_rows,
            w_data=w.data,
            w_indices=w.indices,
            w_indptr=w.indptr,
            w_shape=np.asarray(w.shape, dtype=np.int64),
        )

    @classmethod
    def load(cls, path: Path) -> StepArrays:
        """Read ``steps.npz`` written by :meth:`save`."""
        with np.load(path) as a:
            shape = tuple(int(v) for v in a["w_shape"])
            w = sp.csr_matrix((a["w_data"], a["w_indices"], a["w_indptr"]), shape=shape)
            return cls(a["z_rows_data"], a["z_rows"], w)


@dataclass(init=False)
class CachedResult:
    """An analysis result as the web app uses it (small, JSON-friendly parts).

    ``z`` and ``weighted`` (dense cells x steps) are made from the compact ``steps``
    when first used; either ``steps`` or both dense arrays are given.
    """

    kommun: str
    week: str
    version: int
    meta: dict[str, Any]
    cells: pd.DataFrame
    steps: StepArrays
    zones: list[dict[str, Any]]
    localities: list[dict[str, Any]]
    payload_cache: dict[Any, Any] = field(default_factory=dict, repr=False)

    def __init__(
        self,
        kommun: str,
        week: str,
        version: int,
        meta: dict[str, Any],
        cells: pd.DataFrame,
        z: np.ndarray | None = None,
        weighted: np.ndarray | None = None,
        zones: list[dict[str, Any]] | None = None,
        localities: list[dict[str, Any]] | None = None,
        payload_cache: dict[Any, Any] | None = None,
        *,
        steps: StepArrays | None = None,
    ) -> None:
        if steps is None:
            if z is None or weighted is None:
                raise TypeError("CachedResult needs steps or both z and weighted")
            steps = StepArrays.from_dense(z, weighted)
        self.kommun, self.week, self.version = kommun, week, version
        self.meta, self.cells, self.steps = meta, cells, steps
        self.zones, self.localities = zones or [], localities or []
        self.payload_cache = payload_cache if payload_cache is not None else {}

    @functools.cached_property
    def z(self) -> np.ndarray:
        """Gi* z per cell and step (float32, dense)."""
        return self.steps.z()

    @functools.cached_property
    def weighted(self) -> np.ndarray:
        """Weighted reports per cell and step (float32, dense)."""
        return self.steps.weighted()

    @property
    def step_starts(self) -> list[str]:
        return list(self.meta["step_starts"])


def tenant_config(tenant: Tenant | None, kommun: str) -> AnalysisConfig:
    """The analysis parameters of a kommun: its settings, weights and time zone.

    The one place that turns a tenant into an :class:`AnalysisConfig` (the web app, the
    meeting, the command line). Without a tenant the defaults apply.
    """
    base: dict[str, Any] = {}
    if tenant is not None:
        base = dict(tenant.settings.get("analysis") or {})
        base.setdefault("weights", tenant.weights)
        base.setdefault("timezone", tenant.timezone)
    base["kommun"] = kommun
    return AnalysisConfig.from_mapping(base)


def tenant_localities(conn: Connection, kommun: str) -> tuple[gpd.GeoDataFrame, str]:
    """Locality polygons of a kommun and where they come from (Swedish).

    Stored boundaries first; a kommun without any gets the shipped approximate ones.
    """
    stored = read_boundaries(conn, kommun, "locality")
    if len(stored):
        return stored, "databasen"
    return load_boundaries("locality", kommun=kommun), "medföljande ungefärliga gränser"


def analysis_config(tenant: Tenant, week: str, filters: Filters) -> AnalysisConfig:
    """The analysis parameters of ``tenant`` for meeting ``week`` with ``filters``."""
    cfg = tenant_config(tenant, tenant.key)
    end = deadline(
        week, cfg.period_weekday, cfg.period_hour, cfg.period_minute, cfg.timezone
    ) - pd.Timedelta(seconds=1)
    return cfg.replace(
        end=end,
        categories=filters.categories or None,
        sources=filters.sources or None,
        hours=TIME_OF_DAY[filters.time_of_day][1],
    )


def config_hash(cfg: AnalysisConfig) -> str:
    """Stable short hash of every analysis parameter."""
    text = json.dumps(cfg.to_dict(), sort_keys=True, default=str)
    return hashlib.sha256(f"{CACHE_FORMAT}:{text}".encode()).hexdigest()[:16]


def _f(x: Any) -> float | None:
    try:
        v = float(x)
    except (TypeError, ValueError):
        return None
    return round(v, 4) if np.isfinite(v) else None


def _iso(ts: Any) -> str | None:
    if ts is None or (not isinstance(ts, str) and pd.isna(ts)):
        return None
    return pd.Timestamp(ts).isoformat()


def result_to_cached(result: HotspotResult, kommun: str, week: str, version: int) -> CachedResult:
    """Reduce a :class:`HotspotResult` to what the web app needs."""
    cube = result.cube
    found_cells = result.cells
    keep = [
        "locality",
        "pattern",
        "pattern_sv",
        "z",
        "p",
        "hot",
        "trend",
        "hot_steps",
        "count",
        "weighted",
        "zone",
    ]
    # the kept columns only, as they are (no copy of the whole frame), with a plain index
    columns = {"cell_id": found_cells["cell"].astype(str).array}
    columns |= {c: found_cells[c].array for c in keep if c in found_cells.columns}
    cells = pd.DataFrame(columns, copy=False)
    gi = result.emerging.gistar_
    values = sp.csr_matrix(cube.sparse("values"), dtype=np.float32)
    steps = StepArrays(gi.compact_z_.astype(np.float32), np.asarray(gi.rows_), values)
    zones: list[dict[str, Any]] = []
    for zrow in result.to_dict(cells="none")["zones"]:
        found: Any = cube.cell_index(strings_to_cells(zrow["cells"])) if zrow["cells"] else []
        idx = np.asarray([i for i in found if i >= 0], dtype=np.int64)
        series = values[idx].toarray().sum(axis=0) if len(idx) else np.zeros(cube.n_steps)
        counts = np.asarray(cube.sparse("counts")[idx].sum(axis=0)).ravel().astype(int)
        geom = shapely.geometry.shape(zrow["geometry"])
        zrow["geometry"] = shapely.geometry.mapping(shapely.set_precision(geom, 1e-6))
        zrow["series"] = [round(float(v), 2) for v in series]
        zrow["series_counts"] = [int(v) for v in counts]
        zones.append(zrow)
    localities: list[dict[str, Any]] = []
    lf = cube.locality_frame() if len(cube.locality_codes) else pd.DataFrame()
    r: Any
    for r in result.locality_grades.itertuples(index=False):
        sub = lf[lf["locality"] == r.locality] if len(lf) else lf
        localities.append(
            {
                "locality": r.locality,
                "name": r.name,
                "grade": int(r.grade),
                "label": r.label,
                "colour": r.colour,
                "explanation": r.explanation,
                "count": int(r.count),
                "weighted": _f(r.weighted),
                "serious": int(r.serious),
                "reporters": int(r.reporters),
                "baseline": _f(r.baseline),
                "zones_hot": int(r.zones_hot),
                "zones_total": int(r.zones_total),
                "series": [int(v) for v in sub["count"]] if len(sub) else [],
                "series_weighted": [round(float(v), 2) for v in sub["weighted"]]
                if len(sub)
                else [],
            }
        )
    start, end = result.period
    meta = {
        "format": CACHE_FORMAT,
        "kommun": kommun,
        "week": week,
        "version": version,
        "period_start": _iso(start),
        "period_end": _iso(end),
        "step_starts": [_iso(s) for s in cube.step_starts],
        "step_weeks": cube.step_weeks,
        "res": cube.res,
        "summary": {k: int(v) for k, v in dict(cube.summary).items()},
        "config": result.config.to_dict(),
    }
    return CachedResult(
        kommun=kommun,
        week=week,
        version=version,
        meta=meta,
        cells=cells,
        zones=zones,
        localities=localities,
        steps=steps,
    )


def _write(path: Path, res: CachedResult) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".tmp-", dir=path.parent))
    try:
        (tmp / "meta.json").write_text(json.dumps(res.meta, default=str), encoding="utf-8")
        res.cells.to_parquet(tmp / "cells.parquet", index=False)
        res.steps.save(tmp / "steps.npz")
        (tmp / "zones.json").write_text(
            json.dumps(res.zones, ensure_ascii=False, default=str), encoding="utf-8"
        )
        (tmp / "localities.json").write_text(
            json.dumps(res.localities, ensure_ascii=False, default=str), encoding="utf-8"
        )
        try:
            os.replace(tmp, path)
        except OSError:  # another process wrote it first
            shutil.rmtree(tmp, ignore_errors=True)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def _read(path: Path) -> CachedResult | None:
    try:
        meta = json.loads((path / "meta.json").read_text(encoding="utf-8"))
        if meta.get("format") != CACHE_FORMAT:
            return None
        cells = pd.read_parquet(path / "cells.parquet")
        steps = StepArrays.load(path / "steps.npz")
        zones = json.loads((path / "zones.json").read_text(encoding="utf-8"))
        localities = json.loads((path / "localities.json").read_text(encoding="utf-8"))
    except (OSError, ValueError, KeyError):
        return None
    return CachedResult(
        kommun=meta["kommun"],
        week=meta["week"],
        version=int(meta["version"]),
        meta=meta,
        cells=cells,
        zones=zones,
        localities=localities,
        steps=steps,
    )


@dataclass(frozen=True)
class ReportsRead:
    """Approved reports of ``kommun`` with ``start <= occurred_at < end`` as last read."""

    kommun: str
    start: pd.Timestamp
    end: pd.Timestamp
    frame: pd.DataFrame

    def between(self, kommun: str, start: Any, end: Any) -> pd.DataFrame | None:
        """The reports with ``start <= occurred_at < end`` (None: not all of them read)."""
        lo, hi = _utc(start), _utc(end)
        if kommun != self.kommun or lo < _utc(self.start) or hi > _utc(self.end):
            return None
        when = self.frame["occurred_at"]
        return self.frame[(when >= lo) & (when < hi)].reset_index(drop=True)


def _utc(value: Any) -> pd.Timestamp:
    """A time as the store compares it: UTC, to the microsecond (naive = UTC)."""
    ts = pd.Timestamp(value)
    ts = ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")
    return ts.floor("us")


class ResultStore:
    """Compute-once cache of analysis results per (kommun, data version, parameters).

    Parameters
    ----------
    engine
        Database with the reports.
    cache_dir
        Folder of the on-disk cache (``<instance>/cache/analysis``); the cell universes
        and their ring weights are kept beside it (``<instance>/cache/universe``).
    memory_items
        Loaded results kept in memory.

    Attributes
    ----------
    on_read : callable or None
        Called with the :class:`ReportsRead` of each computation as soon as they are
        read (``lagesbild analyse`` hands them to the forecast choice, which needs a
        part of them).
    """

    def __init__(self, engine: Engine, cache_dir: Path | str, memory_items: int = 24) -> None:
        self.on_read: Callable[[ReportsRead], None] | None = None
        self.engine = engine
        self.cache_dir = Path(cache_dir)
        self.memory_items = memory_items
        self.fill = StoredCellFill(self.cache_dir.parent / "universe")
        self.rings = StoredRings(self.cache_dir.parent / "universe", ring_weights)
        self._memory: SingleFlightLru[tuple[str, int, str], CachedResult] = SingleFlightLru(
            memory_items
        )

    # -------------------------------------------------------------- helpers
    def version(self, kommun: str) -> int:
        with self.engine.connect() as conn:
            return current_version(conn, kommun)

    def tenant(self, kommun: str) -> Tenant:
        with self.engine.connect() as conn:
            return get_tenant(conn, kommun)

    def report_range(self, kommun: str) -> tuple[pd.Timestamp | None, pd.Timestamp | None]:
        """First and last ``occurred_at`` of approved reports (UTC)."""
        with self.engine.connect() as conn:
            lo, hi = occurred_range(conn, kommun)

        def conv(v: Any) -> pd.Timestamp | None:
            return None if v is None else pd.Timestamp(v).tz_localize("UTC")

        return conv(lo), conv(hi)

    def latest_week(self, kommun: str) -> str:
        """The latest *complete* meeting week with approved reports.

        A week whose reporting period has not ended (a report dated today) is never the
        default; without reports before the current week, the last complete week (or,
        for data that lie wholly in the future, the week of the latest report).
        """
        with self.engine.connect() as conn:
            tenant = get_tenant(conn, kommun)
            cfg = tenant_config(tenant, tenant.key)
            when = (cfg.period_weekday, cfg.period_hour, cfg.period_minute, cfg.timezone)
            now = pd.Timestamp.now(tz="UTC")
            current = week_of(now, *when)  # the week in progress
            cutoff = deadline(shift_week(current, -1), *when)  # end of the last complete week
            before = cutoff.tz_convert("UTC").tz_localize(None).to_pydatetime()
            hi = latest_occurred_before(conn, kommun, before)
            if hi is None:  # nothing before the cutoff: any report lies after it
                _, hi = occurred_range(conn, kommun)
        if hi is not None:
            return week_of(pd.Timestamp(hi).tz_localize("UTC"), *when)
        return shift_week(current, -1)

    def path_for(self, kommun: str, version: int, key: str) -> Path:
        return self.cache_dir / kommun / f"v{version}" / key

    # -------------------------------------------------------------- main API
    def get(
        self,
        kommun: str,
        week: str | None = None,
        filters: Filters | None = None,
        compute: bool = True,
    ) -> CachedResult | None:
        """The result for ``kommun``, ``week`` (default: latest) and ``filters``.

        Computed and stored when missing (unless ``compute`` is false: then None).
        """
        filters = filters or Filters()
        week = canonical_week(week or self.latest_week(kommun))
        tenant = self.tenant(kommun)
        cfg = analysis_config(tenant, week, filters)
        version = self.version(kommun)
        h = config_hash(cfg)
        key = (kommun, version, h)

        def load() -> CachedResult | None:
            path = self.path_for(kommun, version, h)
            found = _read(path) if path.exists() else None
            if found is not None or not compute:
                return found
            found = self._compute(tenant, week, cfg, version)
            _write(path, found)
            if filters == Filters():  # the week's zones, for GIS clients
                with self.engine.begin() as conn:
                    replace_zones(conn, kommun, week, version, found.zones)
            self._prune(kommun, version)
            return found

        return self._memory.get_or_compute(key, load)

    def _compute(
        self, tenant: Tenant, week: str, cfg: AnalysisConfig, version: int
    ) -> CachedResult:
        end = cfg.end if cfg.end is not None else pd.Timestamp.now(tz="UTC")
        # the period and a margin: the cube drops what lies outside its steps
        step = pd.Timedelta(weeks=cfg.step_weeks)
        start = cfg.start or end - (cfg.n_steps + 2) * step
        with self.engine.connect() as conn:
            reports = read_analysis_reports(conn, tenant.key, start=start, end=end + step)
            localities, _ = tenant_localities(conn, tenant.key)
        if self.on_read is not None:
            self.on_read(ReportsRead(tenant.key, start, end + step, reports))
        if len(localities) == 0:
            raise ValidationError(f"kommunen {tenant.key!r} har inga tätorter")
        places = named_places(tenant.key)
        result = analyse(reports, localities, cfg, places=places, fill=self.fill, ring=self.rings)
        return result_to_cached(result, tenant.key, week, version)

    def _prune(self, kommun: str, keep_version: int) -> None:
        """Remove cached results of older data versions of ``kommun``."""
        folder = self.cache_dir / kommun
        if not folder.exists():
            return
        for child in folder.iterdir():
            if child.name.startswith("v") and child.name != f"v{keep_version}":
                shutil.rmtree(child, ignore_errors=True)

    def clear_memory(self) -> None:
        self._memory.clear()


def filters_from_args(args: Any) -> Filters:
    """Filters from request arguments (``kategori``, ``kalla`` repeated or comma lists,
    ``tid``)."""

    def _multi(name: str) -> tuple[str, ...]:
        values: list[str] = []
        for raw in args.getlist(name) if hasattr(args, "getlist") else [args.get(name, "")]:
            values.extend(v for v in str(raw).split(",") if v)
        return tuple(values)

    return Filters(
        categories=_multi("kategori"),
        sources=_multi("kalla"),
        time_of_day=str(args.get("tid") or "alla"),
    )


def replace_filters(filters: Filters, **changes: Any) -> Filters:
    return dataclasses.replace(filters, **changes)
