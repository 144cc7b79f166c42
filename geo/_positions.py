"""Positions of prepared rows: coordinates in any CRS, geocoded place names."""

from __future__ import annotations

import functools
from collections.abc import Sequence

import numpy as np
import pandas as pd
from pyproj import CRS, Transformer

from geo._flags import _Flags, _quote
from geo._staging import STR, Staged, column, present, strings, to_float
from geo.errors import ValidationError
from geo.polisen import Geocoder
from geo.schema import (
    Reason,
)

_WGS84 = CRS.from_epsg(4326)


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


__all__ = ["default_geocoder"]
