"""The import pipeline: files and frames of reports into the database.

Every input row ends in exactly one of three outcomes:

* **stored** as a report (table ``report``),
* **duplicate** of a stored report: same ``(kommun, source, external_id)`` or, without an
  external id, the same content fingerprint (:mod:`geo._fingerprint`; it includes the
  occurrence ordinal of identical rows, so two identical rows of one file are both stored
  and a re-import matches both),
* **quarantined** with a reason code (:class:`geo.schema.Reason`), the raw row (JSON) and
  a Swedish detail message (table ``quarantine``, deduplicated by a raw fingerprint).

Stages (vectorized over the whole input; the first failing check decides the reason):

1. read (:mod:`geo.readers`) and stage: native columns (:func:`geo.mapping.stage_native`),
   a TOML mapping (:class:`geo.mapping.Mapping`) or Polisen events (:mod:`geo.polisen`);
2. ``missing_field`` (kommun, source, occurred_at, category), ``unknown_source``,
   ``no_tenant``, ``too_long`` (:data:`MAX_LENGTHS`), ``bad_timestamp``,
   ``future_timestamp`` (more than :data:`FUTURE_TOLERANCE` ahead), ``unknown_category``;
3. position: coordinates in EPSG:4326 or any CRS (pyproj, vectorized), ``x = y = 0`` or
   empty means no position (never (0, 0)); ``bad_coordinates`` when unparseable or out of
   range; without coordinates the location text is geocoded (:mod:`geo.gazetteer`),
   otherwise ``no_position``;
4. boundaries per tenant: outside :func:`geo.boundaries.tenant_extent` ->
   ``outside_boundary``; locality by :func:`geo.boundaries.assign_points` (NULL when inside
   the kommun but outside all localities); H3 cell (:func:`geo.cells.points_to_cells`) only
   at ``point``/``street`` precision;
5. store in batches of :data:`BATCH_SIZE` rows, each in one transaction together with the
   import run's progress (``rows_done`` and cumulative counts), so an import killed at any
   moment resumes where it stopped when the same command runs again. Each batch bumps the
   data version of every kommun that got new reports.

Test hook: when the environment variable ``LAGESBILD_TEST_PAUSE_AFTER_BATCH`` is ``"N"``
or ``"N:SECONDS"``, :func:`ingest_file` writes ``lagesbild: paus efter batch N`` to stderr
after committing its N-th batch and sleeps (default 600 s), so a test can kill the process
at a known point.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import json
import os
import sys
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from pyproj import CRS, Transformer
from sqlalchemy import Engine, or_, select, update
from sqlalchemy.engine import Connection

from geo._fingerprint import raw_fingerprints, report_fingerprints
from geo._staging import STR, Staged, column, is_datetime, present, strings, to_float
from geo._tenant_index import TenantIndex
from geo.boundaries import assign_points, points_in_geometry, slugify
from geo.cells import points_to_cells
from geo.errors import MappingError, ValidationError
from geo.mapping import Mapping, stage_native
from geo.polisen import Geocoder, stage_polisen
from geo.quarantine import (
    existing_raw_fingerprints,
    insert_quarantine,
    list_quarantine,
    resolve_quarantine,
    update_quarantine_reason,
)
from geo.readers import RawTable, _as_strings, read_table
from geo.schema import (
    DEFAULT_TZ,
    STORAGE_RES,
    Precision,
    Reason,
    Source,
    Status,
)
from geo.store.db import bump_version, utcnow
from geo.store.reports import existing_external_ids, existing_fingerprints, insert_reports
from geo.store.tables import import_run
from geo.tenants import get_tenant

#: Rows committed per transaction.
BATCH_SIZE = 5000
#: Environment variable of the test hook (see the module documentation).
PAUSE_ENV = "LAGESBILD_TEST_PAUSE_AFTER_BATCH"
#: Occurrences later than now plus this are ``future_timestamp``.
FUTURE_TOLERANCE = pd.Timedelta(minutes=10)
#: Longest accepted text per field (characters); longer -> ``too_long``.
MAX_LENGTHS = {"description": 4000, "location_text": 500, "reporter_org": 200, "external_id": 200}

PRECISIONS = tuple(p.value for p in Precision)
CELL_PRECISIONS = (Precision.POINT.value, Precision.STREET.value)
_OFFSET = r"(?:Z|[+-]\d{2}(?::?\d{2})?)$"
_WGS84 = CRS.from_epsg(4326)


@dataclass
class IngestResult:
    """Counts of one import (and, for :func:`ingest_frame`, the outcome of every row)."""

    read: int = 0
    stored: int = 0
    duplicates: int = 0
    quarantined: int = 0
    reasons: dict[str, int] = field(default_factory=dict)
    precision: dict[str, int] = field(default_factory=lambda: dict.fromkeys(PRECISIONS, 0))
    placed_from_text: int | None = None
    kommuner: list[str] = field(default_factory=list)
    import_id: int | None = None
    resumed_from: int = 0
    format: str | None = None
    encoding: str | None = None
    delimiter: str | None = None
    seconds: float = 0.0
    #: Problems that kept rows from being processed at all (retries).
    problems: list[str] = field(default_factory=list)
    #: Per input row (same index as the input): outcome (stored | duplicate | quarantined),
    #: report_id, reason, detail, quarantine_id. Only filled by :func:`ingest_frame`.
    outcomes: pd.DataFrame | None = None

    @property
    def stored_ids(self) -> list[int]:
        """Ids of the reports stored by this call (needs :attr:`outcomes`)."""
        if self.outcomes is None:
            return []
        ok = self.outcomes["outcome"] == "stored"
        return [int(i) for i in self.outcomes.loc[ok, "report_id"]]

    def counts(self) -> dict[str, Any]:
        """The counters as a JSON object (also what an import run records)."""
        out: dict[str, Any] = {
            "read": self.read,
            "stored": self.stored,
            "duplicates": self.duplicates,
            "quarantined": self.quarantined,
            "reasons": dict(sorted(self.reasons.items())),
            "precision": {p: int(self.precision.get(p, 0)) for p in PRECISIONS},
        }
        if self.placed_from_text is not None:
            out["placed_from_text"] = self.placed_from_text
        return out

    def to_dict(self) -> dict[str, Any]:
        """The ``--json`` output of ``lagesbild ingest``."""
        return self.counts()

    def add(self, other: dict[str, Any]) -> None:
        """Add the counters of a batch (a :meth:`counts` dict without ``read``)."""
        self.stored += int(other.get("stored", 0))
        self.duplicates += int(other.get("duplicates", 0))
        self.quarantined += int(other.get("quarantined", 0))
        reasons = Counter(self.reasons)
        reasons.update(other.get("reasons", {}))
        self.reasons = {k: int(v) for k, v in reasons.items() if v}
        for p, n in other.get("precision", {}).items():
            self.precision[p] = self.precision.get(p, 0) + int(n)
        if "placed_from_text" in other:
            self.placed_from_text = (self.placed_from_text or 0) + int(other["placed_from_text"])
        self.kommuner = sorted(set(self.kommuner) | set(other.get("kommuner", [])))

    @classmethod
    def from_counts(cls, counts: dict[str, Any]) -> IngestResult:
        """Rebuild a result from an import run's recorded counts."""
        res = cls(read=int(counts.get("read", 0)))
        res.add(counts)
        return res


# ---------------------------------------------------------------------------- staging
def load_mapping(mapping: Mapping | str | Path | None) -> Mapping | None:
    """A :class:`Mapping` from a path or an existing mapping (None stays None)."""
    if mapping is None or isinstance(mapping, Mapping):
        return mapping
    return Mapping.from_file(mapping)


def stage(
    raw: pd.DataFrame,
    fmt: str,
    index: TenantIndex,
    *,
    mapping: Mapping | None = None,
    crs: str | None = None,
    kommun: str | None = None,
    source: str | None = None,
    geocoder: Geocoder | None = None,
) -> Staged:
    """Translate a raw frame of format ``fmt`` to a :class:`Staged` frame.

    Raises :class:`MappingError` / :class:`ValidationError` listing every problem of the
    mapping or the columns at once.
    """
    if fmt in ("polisen", "polisen-json"):
        if mapping is not None:
            raise ValidationError("--mapping gäller inte Polisens händelser")
        if kommun is not None:
            raise ValidationError(
                "--kommun gäller inte Polisens händelser: kommunen läses ur rubriken"
            )
        if geocoder is None:
            geocoder = default_geocoder(sorted(index.tenants))
        staged = stage_polisen(raw, index, geocoder)
        if source is not None:
            staged.frame["source"] = source
        return staged
    if mapping is not None:
        categories = None
        if kommun is not None and kommun in index.tenants:
            categories = list(index.tenants[kommun].categories)
        mapping.validate(raw.columns, categories=categories)
        staged = mapping.apply(raw)
        if crs is not None and "x" in staged.frame.columns:
            staged.crs = crs
    else:
        staged = stage_native(raw, crs)
    _check_columns(staged, mapping, kommun=kommun, source=source)
    return staged


def _check_columns(
    staged: Staged, mapping: Mapping | None, *, kommun: str | None, source: str | None
) -> None:
    problems: list[str] = []
    cols = set(staged.frame.columns)
    hint = "i mappningen" if mapping is not None else "som kolumn"
    if kommun is None and "kommun" not in cols:
        problems.append(f"kommun saknas: ange --kommun eller kommun {hint}")
    if source is None and "source" not in cols:
        problems.append(f"källa saknas: ange --source eller source {hint}")
    if "occurred_at" not in cols:
        problems.append(f"tidpunkt saknas: occurred_at {hint}")
    if "category" not in cols:
        problems.append(f"kategori saknas: category {hint}")
    if not ({"x", "y"} <= cols or "location_text" in cols):
        problems.append(f"position saknas: lat/lon, x/y (med --crs) eller location_text {hint}")
    if problems:
        error = MappingError if mapping is not None else ValidationError
        raise error(problems, context=mapping.name if mapping is not None else "kolumner")


# ---------------------------------------------------------------------------- preparation
class _Flags:
    """First failing reason and its detail per row."""

    def __init__(self, index: pd.Index) -> None:
        self.reason = pd.Series(None, index=index, dtype=object)
        self.detail = pd.Series(None, index=index, dtype=object)

    @property
    def ok(self) -> pd.Series:
        return self.reason.isna()

    def flag(self, mask: pd.Series | np.ndarray, reason: Reason, detail: Any) -> None:
        m = pd.Series(np.asarray(mask, dtype=bool), index=self.reason.index) & self.ok
        if not m.any():
            return
        if callable(detail):  # computed only when some row fails
            detail = detail()
        self.reason[m] = reason.value
        if isinstance(detail, pd.Series):
            self.detail[m] = detail[m].astype(object)
        else:
            self.detail[m] = detail


def _constant(value: str | None, index: pd.Index) -> pd.Series:
    return pd.Series(value, index=index, dtype=object)


def _quote(values: pd.Series) -> pd.Series:
    return "'" + values.astype(STR).fillna("") + "'"


def _parse_times(
    values: pd.Series, fmt: str | None, tz: pd.Series
) -> tuple[pd.Series, pd.Series, pd.Series]:
    """Parse timestamps; return ``(utc, present, bad)``.

    Strings with an offset (``+02:00``, ``Z``) keep it; naive values are local time in the
    row's time zone ``tz`` (ambiguous autumn hours resolve to the earlier instant,
    nonexistent spring hours shift forward).
    """
    index = values.index
    out = pd.Series(pd.NaT, index=index, dtype="datetime64[ns, UTC]")
    if isinstance(values.dtype, pd.DatetimeTZDtype):
        present = pd.Series(True, index=index)
        out[:] = values.dt.tz_convert("UTC").astype("datetime64[ns, UTC]")
        return out, present, out.isna()
    if pd.api.types.is_datetime64_dtype(values.dtype):
        naive = values
        s = None
    else:
        s = strings(values)
        naive = None
    if s is not None:
        present = s.notna()
        text = s.astype(STR)
        aware = present & text.str.contains(_OFFSET, regex=True).fillna(False).astype(bool)
        if aware.any():
            out[aware] = _to_datetime(text[aware], fmt, utc=True)
        naive_mask = present & ~aware
        naive = pd.Series(pd.NaT, index=index, dtype="datetime64[ns]")
        if naive_mask.any():
            naive[naive_mask] = _to_datetime(text[naive_mask], fmt, utc=False)
    else:
        present = values.notna()
        naive_mask = present
    assert naive is not None
    for zone in tz[naive_mask].dropna().unique():
        m = naive_mask & (tz == zone) & naive.notna()
        if not m.any():
            continue
        local = naive[m].dt.tz_localize(
            str(zone), ambiguous=np.ones(int(m.sum()), dtype=bool), nonexistent="shift_forward"
        )
        out[m] = local.dt.tz_convert("UTC")
    bad = present & out.isna()
    return out, present, bad


def _to_datetime(text: pd.Series, fmt: str | None, utc: bool) -> pd.Series:
    if fmt:
        parsed = pd.to_datetime(text, format=fmt, errors="coerce", utc=utc)
    else:
        parsed = pd.to_datetime(text, format="ISO8601", errors="coerce", utc=utc)
        retry = parsed.isna()
        if retry.any():
            parsed[retry] = pd.to_datetime(text[retry], format="mixed", errors="coerce", utc=utc)
    if utc:
        return parsed.astype("datetime64[ns, UTC]")
    if isinstance(parsed.dtype, pd.DatetimeTZDtype):  # a format with %z on naive-looking text
        parsed = parsed.dt.tz_convert("UTC").dt.tz_localize(None)
    return parsed.astype("datetime64[ns]")


def _category_lookup(index: TenantIndex, key: str) -> dict[str, str]:
    cats = index.tenants[key].categories
    out: dict[str, str] = {}
    for code, spec in cats.items():
        for alias in (
            code,
            slugify(code),
            str(spec.get("label", "")),
            slugify(str(spec.get("label", ""))),
        ):
            if alias:
                out.setdefault(alias.casefold(), code)
    return out


def prepare(
    staged: Staged,
    index: TenantIndex,
    *,
    kommun: str | None = None,
    source: str | None = None,
    status: str = Status.APPROVED.value,
    geocoder: Geocoder | None = None,
    now: dt.datetime | pd.Timestamp | None = None,
) -> pd.DataFrame:
    """Validate, position and fingerprint a staged frame (vectorized).

    Returns a frame with the report columns (without ``id``), ``fingerprint``,
    ``in_lat``/``in_lon`` (input coordinates), ``_reason``/``_detail`` (None for rows to
    store), ``_placed`` (placed in a locality from text), ``_qkommun``/``_qsource`` (labels
    for quarantined rows).
    """
    f = staged.frame
    idx = f.index
    flags = _Flags(idx)
    now_ts = pd.Timestamp(now if now is not None else dt.datetime.now(dt.UTC))
    now_ts = now_ts.tz_localize("UTC") if now_ts.tzinfo is None else now_ts.tz_convert("UTC")

    # kommun, source ----------------------------------------------------------------
    kommun_raw = _constant(kommun, idx) if kommun is not None else strings(column(f, "kommun"))
    kommun_key = index.resolve(kommun_raw)
    source_val = _constant(source, idx) if source is not None else strings(column(f, "source"))
    source_val = source_val.astype(STR).str.lower().astype(object).where(source_val.notna(), None)
    sources = {s.value for s in Source}

    occurred_raw = column(f, "occurred_at")
    category_raw = strings(column(f, "category"))
    cat_problem = column(f, "_category_problem")
    flags.flag(kommun_raw.isna(), Reason.MISSING_FIELD, "kommun saknas")
    flags.flag(source_val.isna(), Reason.MISSING_FIELD, "källa (source) saknas")
    occ_missing = (
        ~present(occurred_raw) if not is_datetime(occurred_raw) else occurred_raw.isna() & False
    )
    flags.flag(occ_missing, Reason.MISSING_FIELD, "tidpunkt (occurred_at) saknas")
    flags.flag(category_raw.isna() & cat_problem.isna(), Reason.MISSING_FIELD, "kategori saknas")
    flags.flag(
        ~source_val.isin(sources),
        Reason.UNKNOWN_SOURCE,
        lambda: "okänd källa " + _quote(source_val) + f" (känt: {', '.join(sorted(sources))})",
    )
    flags.flag(
        kommun_key.isna(),
        Reason.NO_TENANT,
        "kommunen " + _quote(kommun_raw) + " finns inte i lagesbild",
    )

    # text lengths ------------------------------------------------------------------
    texts = {
        c: strings(column(f, c))
        for c in ("description", "location_text", "reporter_org", "external_id")
    }
    for col, limit in MAX_LENGTHS.items():
        length = texts[col].astype(STR).str.len().fillna(0)
        flags.flag(
            length > limit,
            Reason.TOO_LONG,
            lambda length=length, col=col, limit=limit: (
                f"{col} har " + length.astype(int).astype(str) + f" tecken (högst {limit})"
            ),
        )

    # timestamps ---------------------------------------------------------------------
    tz = pd.Series(staged.timezone or DEFAULT_TZ, index=idx, dtype=object)
    if staged.timezone is None:
        tenant_tz = {k: t.timezone for k, t in index.tenants.items()}
        tz = kommun_key.map(tenant_tz).where(kommun_key.notna(), DEFAULT_TZ).astype(object)
    occurred, _present, bad = _parse_times(occurred_raw, staged.time_formats.get("occurred_at"), tz)
    flags.flag(
        bad,
        Reason.BAD_TIMESTAMP,
        lambda: "tidpunkten " + _quote(strings(occurred_raw.astype(STR))) + " kan inte tolkas",
    )
    reported_raw = column(f, "reported_at")
    reported, _rp, rbad = _parse_times(reported_raw, staged.time_formats.get("reported_at"), tz)
    flags.flag(
        rbad,
        Reason.BAD_TIMESTAMP,
        lambda: "rapporttiden " + _quote(strings(reported_raw.astype(STR))) + " kan inte tolkas",
    )
    limit_ts = now_ts + FUTURE_TOLERANCE
    flags.flag(
        occurred > limit_ts,
        Reason.FUTURE_TIMESTAMP,
        lambda: (
            "tidpunkten "
            + occurred.dt.strftime("%Y-%m-%d %H:%M UTC").astype(STR).fillna("")
            + " ligger i framtiden"
        ),
    )
    flags.flag(reported > limit_ts, Reason.FUTURE_TIMESTAMP, "rapporttiden ligger i framtiden")

    # category -----------------------------------------------------------------------
    category = pd.Series(None, index=idx, dtype=object)
    for key in kommun_key.dropna().unique():
        rows = (kommun_key == key) & category_raw.notna()
        lookup = _category_lookup(index, str(key))
        folded = category_raw[rows].astype(STR).str.strip().str.casefold()
        category[rows] = folded.map(lookup).astype(object)
    flags.flag(cat_problem.notna(), Reason.UNKNOWN_CATEGORY, cat_problem)
    flags.flag(
        category.isna() & category_raw.notna(),
        Reason.UNKNOWN_CATEGORY,
        lambda: "kategorin " + _quote(category_raw) + " finns inte för kommunen",
    )
    severity = to_float(column(f, "severity"))
    severity = severity.where((severity >= 1) & (severity <= 5))

    # position -----------------------------------------------------------------------
    lat, lon, in_lat, in_lon, precision, zero = _positions(staged, flags)
    locality = strings(column(f, "locality"))
    location_text = texts["location_text"]
    need_geo = flags.ok & lat.isna() & location_text.notna() & staged.geocode
    geocoded = pd.Series(False, index=idx)
    if need_geo.any():
        geocoder = geocoder or default_geocoder(sorted(kommun_key[need_geo].dropna().unique()))
        if geocoder is not None:
            for key in kommun_key[need_geo].dropna().unique():
                rows = need_geo & (kommun_key == key)
                found = _geocode(geocoder, location_text[rows], str(key))
                hit = (
                    found["lat"].notna()
                    & found["lon"].notna()
                    & found["precision"].isin(PRECISIONS)
                )
                hit_idx = found.index[hit]
                lat[hit_idx] = found.loc[hit_idx, "lat"]
                lon[hit_idx] = found.loc[hit_idx, "lon"]
                precision[hit_idx] = found.loc[hit_idx, "precision"]
                if "locality" in found.columns:
                    locality[hit_idx] = found.loc[hit_idx, "locality"]
                geocoded[hit_idx] = True
    no_pos = lat.isna()
    flags.flag(
        no_pos & zero,
        Reason.NO_POSITION,
        "koordinaterna är 0, 0: källan anger ingen position (placeras aldrig i 0, 0)",
    )
    flags.flag(
        no_pos & location_text.notna() & staged.geocode,
        Reason.NO_POSITION,
        "inga koordinater och platsen " + _quote(location_text) + " hittades inte",
    )
    flags.flag(no_pos, Reason.NO_POSITION, "inga koordinater och ingen plats som kan slås upp")

    # boundaries, localities, cells ---------------------------------------------------
    precision = precision.where(precision.isin(PRECISIONS), Precision.POINT.value)
    cell = np.zeros(len(f), dtype=np.uint64)
    out_locality = pd.Series(None, index=idx, dtype=object)
    positioned = flags.ok & lat.notna()
    for key in kommun_key[positioned].dropna().unique():
        rows = positioned & (kommun_key == key)
        geo = index.geo(str(key))
        # a report placed in one of the tenant's own localities belongs to it by definition
        own_locality = (precision == Precision.LOCALITY.value) & geo.locality_codes(
            locality
        ).notna()
        check = rows & ~own_locality
        if geo.extent is not None and check.any():
            inside = points_in_geometry(
                lat[check].to_numpy(float), lon[check].to_numpy(float), geo.extent
            )
            outside = pd.Series(False, index=idx)
            outside[check[check].index[~inside]] = True
            flags.flag(
                outside,
                Reason.OUTSIDE_BOUNDARY,
                lambda geo=geo: (
                    "positionen "
                    + lat.round(5).astype(str)
                    + ", "
                    + lon.round(5).astype(str)
                    + f" ligger utanför {geo.tenant.name}"
                ),
            )
        rows = rows & flags.ok
        if not rows.any():
            continue
        fine = rows & precision.isin(CELL_PRECISIONS)
        if fine.any() and len(geo.localities):
            out_locality[fine] = assign_points(
                lat[fine].to_numpy(float), lon[fine].to_numpy(float), geo.localities
            )
        at_locality = rows & (precision == Precision.LOCALITY.value)
        if at_locality.any():
            given = geo.locality_codes(locality[at_locality])
            missing = given.isna()
            if missing.any() and len(geo.localities):
                sub = given.index[missing]
                given[sub] = assign_points(
                    lat[sub].to_numpy(float), lon[sub].to_numpy(float), geo.localities
                )
            out_locality[at_locality] = given
        if fine.any():
            pos = np.flatnonzero(fine.to_numpy())
            cell[pos] = points_to_cells(
                lat[fine].to_numpy(float), lon[fine].to_numpy(float), STORAGE_RES
            )

    prepared = pd.DataFrame(
        {
            "kommun": kommun_key,
            "source": source_val,
            "external_id": texts["external_id"],
            "occurred_at": occurred,
            "reported_at": reported,
            "category": category,
            "severity": severity,
            "description": texts["description"],
            "reporter_org": texts["reporter_org"],
            "location_text": location_text,
            "lat": lat.astype(float),
            "lon": lon.astype(float),
            "precision": precision,
            "locality": out_locality,
            "cell": cell,
            "status": status,
            "in_lat": in_lat.astype(float),
            "in_lon": in_lon.astype(float),
        },
        index=idx,
    )
    if staged.kind == "polisen":
        placed = column(f, "_placed_from_text")
        prepared["_placed"] = placed.fillna(False).astype(bool) & flags.ok
    prepared["_geocoded"] = geocoded & flags.ok
    prepared["_reason"] = flags.reason
    prepared["_detail"] = flags.detail
    slugs = {v: slugify(str(v)) for v in kommun_raw.dropna().unique()}
    qkommun = kommun_raw.map(slugs).astype(object).where(kommun_raw.notna(), None)
    prepared["_qkommun"] = kommun_key.where(kommun_key.notna(), qkommun)
    prepared["_qsource"] = source_val.where(source_val.isin(sources), None)
    ok = flags.ok
    fps = pd.Series(None, index=idx, dtype=object)
    if ok.any():
        fps[ok] = report_fingerprints(prepared[ok])
    prepared["fingerprint"] = fps
    return prepared


def _positions(
    staged: Staged, flags: _Flags
) -> tuple[pd.Series, pd.Series, pd.Series, pd.Series, pd.Series, pd.Series]:
    """``lat, lon`` (WGS84) from ``x``/``y``; also the input coordinates, precision and
    which rows had ``x = y = 0`` (no position)."""
    f = staged.frame
    idx = f.index
    xr, yr = column(f, "x"), column(f, "y")
    x, y = to_float(xr), to_float(yr)
    xp, yp = present(xr), present(yr)
    flags.flag(xp ^ yp, Reason.BAD_COORDINATES, "bara en av koordinaterna är angiven")
    both = xp & yp
    flags.flag(
        both & (x.isna() | y.isna()),
        Reason.BAD_COORDINATES,
        lambda: "koordinaterna " + _quote(xr) + ", " + _quote(yr) + " är inga tal",
    )
    geom = column(f, "_geometry")
    flags.flag(
        geom.notna(),
        Reason.BAD_COORDINATES,
        "geometrin är " + geom.astype(STR) + ", inte en punkt",
    )
    has = both & x.notna() & y.notna() & flags.ok
    if staged.zero_is_missing:
        zero = has & (x == 0) & (y == 0)
        has &= ~zero
    else:
        zero = pd.Series(False, index=idx)
    lat = pd.Series(np.nan, index=idx)
    lon = pd.Series(np.nan, index=idx)
    if has.any():
        crs = CRS.from_user_input(staged.crs)
        xs, ys = x[has].to_numpy(float), y[has].to_numpy(float)
        if crs.equals(_WGS84):
            lo, la = xs, ys
        else:
            tr = Transformer.from_crs(crs, _WGS84, always_xy=True)
            lo, la = tr.transform(xs, ys, errcheck=False)
        lat[has], lon[has] = la, lo
    bad = has & ~(np.isfinite(lat) & np.isfinite(lon) & (lat.abs() <= 90) & (lon.abs() <= 180))
    flags.flag(
        bad,
        Reason.BAD_COORDINATES,
        lambda: (
            "koordinaterna "
            + x.astype(str)
            + ", "
            + y.astype(str)
            + f" ({staged.crs}) ligger utanför giltigt område"
        ),
    )
    lat[bad] = np.nan
    lon[bad] = np.nan
    precision = strings(column(f, "precision"))
    precision = precision.astype(STR).str.lower().astype(object).where(precision.notna(), None)
    in_lat, in_lon = lat.copy(), lon.copy()
    if staged.kind == "polisen":  # centroids placed by the stage, not input coordinates
        in_lat[:] = np.nan
        in_lon[:] = np.nan
    return lat, lon, in_lat, in_lon, precision, zero


def _geocode(geocoder: Geocoder, texts: pd.Series, kommun: str) -> pd.DataFrame:
    found = pd.DataFrame(geocoder.lookup_many(texts.astype(str).to_list(), kommun))
    found = found.reset_index(drop=True)
    if len(found) != len(texts):
        raise ValidationError(
            f"gazetteer gav {len(found)} svar för {len(texts)} platser (kommun {kommun})"
        )
    for col in ("lat", "lon", "precision"):
        if col not in found.columns:
            found[col] = None
    found.index = texts.index
    found["lat"] = pd.to_numeric(found["lat"], errors="coerce")
    found["lon"] = pd.to_numeric(found["lon"], errors="coerce")
    return found


def default_geocoder(kommun_keys: Sequence[str]) -> Geocoder | None:
    """The offline gazetteer (:class:`geo.gazetteer.Gazetteer`) for these tenants (cached)."""
    return _cached_gazetteer(tuple(sorted(str(k) for k in kommun_keys)))


@functools.lru_cache(maxsize=8)
def _cached_gazetteer(kommun_keys: tuple[str, ...]) -> Geocoder | None:
    try:
        from geo.gazetteer import Gazetteer
    except ImportError:  # pragma: no cover - the gazetteer ships with geo
        return None
    gaz: Geocoder = Gazetteer.default(kommun_keys=list(kommun_keys) or None)
    return gaz


# ---------------------------------------------------------------------------- storage
def _raw_records(raw: pd.DataFrame) -> list[dict[str, Any]]:
    """Each raw row as a dict of strings (None for empty cells), keys in column order."""
    cols = list(raw.columns)
    values = [raw[c].astype(object).where(raw[c].notna(), None).tolist() for c in cols]
    return [dict(zip(cols, row, strict=True)) for row in zip(*values, strict=True)]


def _store(
    conn: Connection,
    batch: pd.DataFrame,
    raw: pd.DataFrame,
    raw_fp: pd.Series,
    *,
    import_id: int | None,
    row_offset: int = 0,
    quarantine_ids: pd.Series | None = None,
    now: dt.datetime | None = None,
    collect: bool = True,
) -> tuple[dict[str, Any], pd.DataFrame]:
    """Store one batch inside the caller's transaction; return ``(counts, outcomes)``.

    With ``quarantine_ids`` (a retry) no quarantine rows are inserted: existing ones are
    resolved or get their new reason.
    """
    when = now or utcnow()
    outcomes = pd.DataFrame(
        {
            "outcome": pd.Series("quarantined", index=batch.index, dtype=object),
            "report_id": pd.Series(pd.NA, index=batch.index, dtype="Int64"),
            "reason": batch["_reason"],
            "detail": batch["_detail"],
            "quarantine_id": pd.Series(pd.NA, index=batch.index, dtype="Int64"),
        }
    )
    ok = batch["_reason"].isna()
    acc = batch[ok]
    # fingerprints embed the kommun, so they are unique across tenants
    known: dict[str, int] = {}  # fingerprint -> report id
    for key in acc["kommun"].unique():
        part = acc[acc["kommun"] == key]
        known.update(existing_fingerprints(conn, str(key), part["fingerprint"].tolist()))
        has_ext = part["external_id"].notna()
        for src in part.loc[has_ext, "source"].unique():
            sub = part[has_ext & (part["source"] == src)]
            by_ext = existing_external_ids(conn, str(key), str(src), sub["external_id"].tolist())
            if by_ext:
                hit = sub["external_id"].isin(list(by_ext))
                ext_ids = sub.loc[hit, "external_id"].map(by_ext)
                known.update(dict(zip(sub.loc[hit, "fingerprint"], ext_ids, strict=True)))
    in_db = acc["fingerprint"].isin(list(known))
    is_dup = in_db | acc.duplicated("fingerprint", keep="first")
    new = acc[~is_dup]
    ids = insert_reports(conn, new, import_id, return_ids=collect or quarantine_ids is not None)
    outcomes.loc[new.index, "outcome"] = "stored"
    if len(ids):
        known.update(dict(zip(new["fingerprint"], ids.tolist(), strict=True)))
        outcomes.loc[new.index, "report_id"] = ids
    dup_idx = acc.index[is_dup.to_numpy()]
    outcomes.loc[dup_idx, "outcome"] = "duplicate"
    outcomes.loc[dup_idx, "report_id"] = acc.loc[dup_idx, "fingerprint"].map(known).to_numpy()
    for key in new["kommun"].unique():
        bump_version(conn, str(key))

    bad = batch[~ok]
    if quarantine_ids is None and len(bad):
        fps = raw_fp[bad.index]
        existing = existing_raw_fingerprints(conn, fps.tolist())
        fresh = ~fps.isin(list(existing))
        # identical raw rows within one batch get distinct fingerprints (ordinal)
        fresh_idx = bad.index[fresh.to_numpy()]
        positions = row_offset + batch.index.get_indexer(fresh_idx) + 1
        columns = {
            "kommun": batch.loc[fresh_idx, "_qkommun"],
            "source": batch.loc[fresh_idx, "_qsource"],
            "reason": batch.loc[fresh_idx, "_reason"],
            "detail": batch.loc[fresh_idx, "_detail"],
            "raw_fingerprint": fps[fresh_idx],
        }
        lists = {k: v.astype(object).where(v.notna(), None).tolist() for k, v in columns.items()}
        lists["row_number"] = positions.tolist()
        lists["raw"] = _raw_records(raw.loc[fresh_idx])
        names = list(lists)
        rows = [
            {**dict(zip(names, vals, strict=True)), "import_id": import_id, "created_at": when}
            for vals in zip(*lists.values(), strict=True)
        ]
        qids = insert_quarantine(conn, rows, return_ids=collect)
        if qids:
            outcomes.loc[fresh_idx, "quarantine_id"] = qids
        old_idx = bad.index[~fresh.to_numpy()]
        outcomes.loc[old_idx, "quarantine_id"] = [existing[fps[i]] for i in old_idx]
    elif quarantine_ids is not None:
        outcomes["quarantine_id"] = quarantine_ids.astype("Int64")
        resolved = outcomes["outcome"] != "quarantined"
        resolve_quarantine(
            conn,
            [
                (int(q), int(r))
                for q, r in zip(
                    outcomes.loc[resolved, "quarantine_id"],
                    outcomes.loc[resolved, "report_id"],
                    strict=True,
                )
            ],
            when,
        )
        update_quarantine_reason(
            conn,
            [
                (int(q), str(r), None if pd.isna(d) else str(d))
                for q, r, d in zip(
                    outcomes.loc[~resolved, "quarantine_id"],
                    outcomes.loc[~resolved, "reason"],
                    outcomes.loc[~resolved, "detail"],
                    strict=True,
                )
            ],
        )

    stored_rows = batch.loc[new.index]
    counts: dict[str, Any] = {
        "stored": len(new),
        "duplicates": int(is_dup.sum()),
        "quarantined": int((~ok).sum()),
        "reasons": {str(k): int(v) for k, v in batch.loc[~ok, "_reason"].value_counts().items()},
        "precision": {str(k): int(v) for k, v in stored_rows["precision"].value_counts().items()},
        "kommuner": sorted(str(k) for k in new["kommun"].unique()),
    }
    if "_placed" in batch.columns:  # Polisen events
        counts["placed_from_text"] = int(stored_rows["_placed"].sum())
    return counts, outcomes


# ---------------------------------------------------------------------------- entry points
def ingest_frame(
    conn: Connection,
    frame: pd.DataFrame,
    kommun: str | None = None,
    source: str | None = None,
    status: str = Status.APPROVED.value,
    *,
    crs: str | None = None,
    mapping: Mapping | str | Path | None = None,
    format: str = "csv",
    geocoder: Geocoder | None = None,
    import_id: int | None = None,
    now: dt.datetime | pd.Timestamp | None = None,
) -> IngestResult:
    """Run the pipeline on an in-memory frame inside the caller's transaction.

    Meant for single web submissions (citizen, patrol, actor forms) and small batches: the
    frame has schema columns (or a mapping's columns); values may be strings or typed.
    Nothing is committed here; the caller's ``engine.begin()`` block commits.

    Parameters
    ----------
    conn
        Connection in a transaction.
    frame
        Input rows.
    kommun, source
        Constant tenant key and source for all rows (else columns ``kommun``/``source``).
    status
        Status of stored reports (``"pending"`` for citizen reports awaiting moderation).
    crs
        CRS of ``x``/``y`` columns.
    mapping
        Optional TOML mapping (path or :class:`Mapping`).
    format
        ``"csv"`` for schema/mapping columns, ``"polisen"`` for Polisen event columns.
    geocoder
        Object with ``lookup_many(texts, kommun)``; default: the offline gazetteer.

    Returns
    -------
    IngestResult
        Counts and :attr:`IngestResult.outcomes` with one row per input row (same index):
        ``outcome``, ``report_id``, ``reason``, ``detail``, ``quarantine_id``.
    """
    t0 = time.perf_counter()
    kommun = _check_options(conn, kommun, source, status)
    raw = _as_strings(frame.reset_index(drop=True))
    index = TenantIndex(conn)
    staged = stage(
        raw,
        format,
        index,
        mapping=load_mapping(mapping),
        crs=crs,
        kommun=kommun,
        source=source,
        geocoder=geocoder,
    )
    prepared = prepare(
        staged, index, kommun=kommun, source=source, status=status, geocoder=geocoder, now=now
    )
    raw_fp = _quarantine_fingerprints(prepared, raw, kommun, source)
    counts, outcomes = _store(conn, prepared, raw, raw_fp, import_id=import_id)
    result = IngestResult(read=len(frame), format=format)
    result.add(counts)
    if staged.kind != "polisen":
        result.placed_from_text = None
    outcomes.index = frame.index
    for col in ("reason", "detail"):
        outcomes[col] = outcomes[col].astype(object).where(outcomes[col].notna(), None)
    result.outcomes = outcomes
    result.seconds = time.perf_counter() - t0
    return result


def _quarantine_fingerprints(
    prepared: pd.DataFrame, raw: pd.DataFrame, kommun: str | None, source: str | None
) -> pd.Series:
    bad = prepared["_reason"].notna()
    out = pd.Series(None, index=prepared.index, dtype=object)
    if bad.any():
        scope = json.dumps({"kommun": kommun, "source": source}, sort_keys=True)
        out[bad] = raw_fingerprints(raw[bad.to_numpy()], scope).to_numpy()
    return out


def _check_options(
    conn: Connection, kommun: str | None, source: str | None, status: str
) -> str | None:
    """Validate the constant options; return the tenant key of ``kommun``."""
    problems: list[str] = []
    if source is not None and source not in {s.value for s in Source}:
        problems.append(f"okänd källa {source!r}; välj {', '.join(s.value for s in Source)}")
    if status not in {s.value for s in Status}:
        problems.append(f"okänd status {status!r}; välj {', '.join(s.value for s in Status)}")
    if problems:
        raise ValidationError(problems)
    if kommun is None:
        return None
    return get_tenant(conn, kommun).key


def import_key(data: bytes, options: dict[str, Any]) -> str:
    """sha256 of the file bytes and the import options (the import run's key)."""
    h = hashlib.sha256(data)
    h.update(b"\x00")
    h.update(json.dumps(options, sort_keys=True, ensure_ascii=False).encode("utf-8"))
    return h.hexdigest()


def _begin_run(
    engine: Engine, key: str, file_name: str, options: dict[str, Any], read: int
) -> tuple[int, int, IngestResult]:
    """Find the unfinished run for ``key`` or start a new one: ``(id, rows_done, counts)``."""
    t = import_run
    with engine.begin() as conn:
        runs = conn.execute(
            select(t.c.id, t.c.key, t.c.status, t.c.rows_done, t.c.counts)
            .where(or_(t.c.key == key, t.c.key.like(key + ":%")))
            .order_by(t.c.id.desc())
        ).all()
        if runs and runs[0].status == "running":
            run = runs[0]
            counts = IngestResult.from_counts(dict(run.counts or {}))
            counts.read = read
            return int(run.id), int(run.rows_done), counts
        new_key = key if not runs else f"{key}:{len(runs)}"
        res = conn.execute(
            t.insert().values(
                key=new_key,
                file_name=file_name,
                kommun=options.get("kommun"),
                source=options.get("source"),
                options=options,
                rows_done=0,
                counts={},
                status="running",
                started_at=utcnow(),
            )
        )
        pk = res.inserted_primary_key
        assert pk is not None
        run_id = int(pk[0])
    return run_id, 0, IngestResult(read=read)


def _pause_hook(batch_no: int) -> None:
    spec = os.environ.get(PAUSE_ENV)
    if not spec:
        return
    n, _, secs = spec.partition(":")
    if batch_no == int(n):
        print(f"lagesbild: paus efter batch {batch_no}", file=sys.stderr, flush=True)
        time.sleep(float(secs or 600))


def ingest_file(
    engine: Engine,
    path: str | Path,
    *,
    kommun: str | None = None,
    source: str | None = None,
    mapping: Mapping | str | Path | None = None,
    crs: str | None = None,
    format: str = "auto",
    status: str = Status.APPROVED.value,
    geocoder: Geocoder | None = None,
    batch_size: int = BATCH_SIZE,
    progress: bool = False,
    now: dt.datetime | pd.Timestamp | None = None,
) -> IngestResult:
    """Import a file; resumable and idempotent.

    Parameters
    ----------
    engine
        Database engine (each batch commits in its own transaction).
    path
        CSV, ``.xlsx``, GeoJSON or Polisen events (``.gz`` read transparently).
    kommun, source
        Constant tenant key and source (else from columns / the mapping).
    mapping
        TOML column mapping (path or :class:`Mapping`).
    crs
        CRS of ``x``/``y`` columns (e.g. ``"EPSG:3006"``).
    format
        ``auto``, ``csv``, ``xlsx``, ``geojson``, ``polisen`` or ``polisen-json``.
    status
        Status of stored reports.
    geocoder
        Object with ``lookup_many(texts, kommun)``; default: the offline gazetteer.
    batch_size
        Rows per transaction.
    progress
        Show a tqdm progress bar on stderr (only on a terminal).

    Returns
    -------
    IngestResult
        Cumulative counts over all runs of this import (including resumed ones).
    """
    t0 = time.perf_counter()
    path = Path(path)
    with engine.connect() as conn:
        kommun = _check_options(conn, kommun, source, status)
        index = TenantIndex(conn)
    table: RawTable = read_table(path, format)
    mapping_obj = load_mapping(mapping)
    staged = stage(
        table.frame,
        table.format,
        index,
        mapping=mapping_obj,
        crs=crs,
        kommun=kommun,
        source=source,
        geocoder=geocoder,
    )
    prepared = prepare(
        staged, index, kommun=kommun, source=source, status=status, geocoder=geocoder, now=now
    )
    raw = table.frame
    raw_fp = _quarantine_fingerprints(prepared, raw, kommun, source)
    options = {
        "format": table.format,
        "kommun": kommun,
        "source": source,
        "crs": crs,
        "status": status,
        "mapping": mapping_obj.text if mapping_obj is not None else None,
    }
    key = import_key(path.read_bytes(), options)
    stored_options = {
        **options,
        "mapping_name": mapping_obj.name if mapping_obj is not None else None,
    }
    n = len(prepared)
    run_id, done, result = _begin_run(engine, key, path.name, stored_options, n)
    result.resumed_from = done
    result.import_id = run_id
    result.format, result.encoding, result.delimiter = table.format, table.encoding, table.delimiter
    if staged.kind == "polisen" and result.placed_from_text is None:
        result.placed_from_text = 0
    bar = _progress(n, done, path.name, progress)
    batch_no = 0
    try:
        for start in range(done, n, max(1, int(batch_size))):
            end = min(n, start + max(1, int(batch_size)))
            batch = prepared.iloc[start:end]
            with engine.begin() as conn:
                counts, _ = _store(
                    conn,
                    batch,
                    raw.iloc[start:end],
                    raw_fp.iloc[start:end],
                    import_id=run_id,
                    row_offset=start,
                    collect=False,
                )
                result.add(counts)
                conn.execute(
                    update(import_run)
                    .where(import_run.c.id == run_id)
                    .values(rows_done=end, counts=result.counts())
                )
            batch_no += 1
            if bar is not None:
                bar.update(end - start)
            _pause_hook(batch_no)
    finally:
        if bar is not None:
            bar.close()
    with engine.begin() as conn:
        conn.execute(
            update(import_run)
            .where(import_run.c.id == run_id)
            .values(status="done", finished_at=utcnow(), rows_done=n, counts=result.counts())
        )
    result.seconds = time.perf_counter() - t0
    return result


def _progress(total: int, initial: int, name: str, enabled: bool) -> Any:
    if not enabled:
        return None
    from tqdm import tqdm

    return tqdm(
        total=total,
        initial=initial,
        desc=name,
        unit=" rader",
        file=sys.stderr,
        disable=None,  # off when stderr is not a terminal
        leave=False,
    )


# ---------------------------------------------------------------------------- retry
def retry_quarantine(
    engine: Engine,
    *,
    ids: Sequence[int] | None = None,
    reason: str | None = None,
    kommun: str | None = None,
    mapping: Mapping | str | Path | None = None,
    geocoder: Geocoder | None = None,
    now: dt.datetime | pd.Timestamp | None = None,
) -> IngestResult:
    """Run the pipeline again on open quarantined rows.

    Rows are re-read from their raw content with the options of the import that
    quarantined them (format, mapping, CRS, kommun, source, status); ``mapping`` replaces
    the mapping. Rows that are now stored (or found to duplicate a stored report) are
    marked resolved with the report id; the others keep their quarantine entry with the
    new reason and detail. Rows quarantined by :func:`ingest_frame` without an import run
    are re-read as schema columns with their quarantine kommun/source and status
    ``pending``.
    """
    t0 = time.perf_counter()
    override = load_mapping(mapping)
    with engine.connect() as conn:
        rows = list_quarantine(conn, reason=reason, kommun=kommun, ids=ids, resolved=False)
        run_ids = [int(i) for i in rows["import_id"].dropna().unique()]
        run_opts = (
            {
                int(r.id): dict(r.options or {})
                for r in conn.execute(
                    select(import_run.c.id, import_run.c.options).where(
                        import_run.c.id.in_(run_ids)
                    )
                )
            }
            if run_ids
            else {}
        )
        index = TenantIndex(conn)
    result = IngestResult(read=len(rows))
    if rows.empty:
        result.seconds = time.perf_counter() - t0
        return result
    rows["_run"] = rows["import_id"].fillna(-1).astype(int)
    for run_key, group in rows.groupby("_run", sort=True):
        run = int(str(run_key))
        raw = _as_strings(pd.DataFrame.from_records(list(group["raw"])))
        raw.index = group.index
        if run == -1:
            # rows of ingest_frame(): schema columns; tenant and source from the quarantine row
            labels = [group["kommun"].fillna(""), group["source"].fillna("")]
            for (qk, qs), sub in group.groupby(labels, sort=False):
                sub_raw = raw.loc[sub.index]
                qk, qs = str(qk), str(qs)
                k = qk if qk in index.tenants and not _has_values(sub_raw, "kommun") else None
                s = qs if qs and not _has_values(sub_raw, "source") else None
                _retry_part(
                    engine,
                    sub_raw,
                    sub,
                    "csv",
                    index,
                    override,
                    None,
                    k,
                    s,
                    Status.PENDING.value,
                    geocoder,
                    now,
                    result,
                )
            continue
        opts = run_opts.get(run, {})
        fmt = str(opts.get("format") or "csv")
        use_mapping = override
        if use_mapping is None and opts.get("mapping"):
            use_mapping = Mapping.from_text(
                str(opts["mapping"]), name=str(opts.get("mapping_name") or "mapping")
            )
        if fmt in ("polisen", "polisen-json"):
            use_mapping = None
        kom = opts.get("kommun")
        _retry_part(
            engine,
            raw,
            group,
            fmt,
            index,
            use_mapping,
            opts.get("crs"),
            kom if kom in index.tenants else None,
            opts.get("source"),
            str(opts.get("status") or Status.APPROVED.value),
            geocoder,
            now,
            result,
        )
    result.seconds = time.perf_counter() - t0
    return result


def _has_values(frame: pd.DataFrame, col: str) -> bool:
    return col in frame.columns and bool(frame[col].notna().any())


def _retry_part(
    engine: Engine,
    raw: pd.DataFrame,
    group: pd.DataFrame,
    fmt: str,
    index: TenantIndex,
    mapping: Mapping | None,
    crs: str | None,
    kommun: str | None,
    source: str | None,
    status: str,
    geocoder: Geocoder | None,
    now: dt.datetime | pd.Timestamp | None,
    result: IngestResult,
) -> None:
    try:
        staged = stage(
            raw,
            fmt,
            index,
            mapping=mapping,
            crs=crs,
            kommun=kommun,
            source=source,
            geocoder=geocoder,
        )
    except ValidationError as exc:  # MappingError too: the rows stay as they are
        result.problems.append(f"{len(group)} rader kunde inte prövas igen: {exc}")
        result.add(
            {
                "quarantined": len(group),
                "reasons": group["reason"].astype(str).value_counts().to_dict(),
            }
        )
        return
    prepared = prepare(
        staged, index, kommun=kommun, source=source, status=status, geocoder=geocoder, now=now
    )
    with engine.begin() as conn:
        counts, _ = _store(
            conn,
            prepared,
            raw,
            pd.Series(None, index=raw.index, dtype=object),
            import_id=None,
            quarantine_ids=group["id"],
        )
    result.add(counts)


__all__ = [
    "BATCH_SIZE",
    "FUTURE_TOLERANCE",
    "MAX_LENGTHS",
    "PAUSE_ENV",
    "IngestResult",
    "default_geocoder",
    "import_key",
    "ingest_file",
    "ingest_frame",
    "load_mapping",
    "prepare",
    "retry_quarantine",
    "stage",
]
