"""Staging and validation: raw rows to prepared report rows with a reason per row."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd

from geo._fingerprint import RunningOrdinals, report_fingerprints
from geo._flags import _constant, _Flags, _quote
from geo._positions import _geocode, _positions, default_geocoder
from geo._result import PRECISIONS
from geo._staging import STR, Staged, column, is_datetime, present, strings, to_float
from geo._tenant_index import TenantIndex
from geo.boundaries import assign_points, points_in_geometry, slugify
from geo.cells import points_to_cells
from geo.errors import MappingError, ValidationError
from geo.mapping import Mapping, stage_native
from geo.polisen import Geocoder, stage_polisen
from geo.schema import (
    DEFAULT_TZ,
    STORAGE_RES,
    Precision,
    Reason,
    Source,
    Status,
)

#: Occurrences later than now plus this are ``future_timestamp``.
FUTURE_TOLERANCE = pd.Timedelta(minutes=10)
#: Longest accepted text per field (characters); longer -> ``too_long``.
MAX_LENGTHS = {"description": 4000, "location_text": 500, "reporter_org": 200, "external_id": 200}
CELL_PRECISIONS = (Precision.POINT.value, Precision.STREET.value)
_OFFSET = r"(?:Z|[+-]\d{2}(?::?\d{2})?)$"


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
    ordinals: RunningOrdinals | None = None,
) -> pd.DataFrame:
    """Validate, position and fingerprint a staged frame (vectorized).

    ``ordinals`` continues the occurrence counts of identical rows from earlier chunks of
    the same file (see :func:`geo._fingerprint.report_fingerprints`).

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
                lambda geo=geo, outside=outside: (  # the failing rows only
                    "positionen "
                    + lat[outside].round(5).astype(str)
                    + ", "
                    + lon[outside].round(5).astype(str)
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
        fps[ok] = report_fingerprints(prepared[ok], ordinals)
    prepared["fingerprint"] = fps
    return prepared


__all__ = ["CELL_PRECISIONS", "FUTURE_TOLERANCE", "MAX_LENGTHS", "load_mapping", "prepare", "stage"]
