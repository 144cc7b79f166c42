"""Distances on the Earth's surface between WGS84 positions.

The one great-circle distance of the project (haversine on a sphere of the Earth's mean
radius): the geocoder's plausibility check, the patrol planner's areas and the patrol
pages' "how far" texts all measure with it. Accurate to about 0.5 % at Swedish latitudes,
far below the precision of a reported position.
"""

from __future__ import annotations

from typing import overload

import numpy as np
import numpy.typing as npt

#: Mean radius of the Earth (IUGG), metres.
EARTH_RADIUS_M = 6_371_008.8
#: Metres per degree of latitude (the usual flat approximation for small offsets; a degree
#: of longitude is this times the cosine of the latitude).
METRES_PER_DEGREE = 111_320.0

FloatArray = npt.NDArray[np.float64]


@overload
def haversine_m(lat0: float, lon0: float, lat: float, lon: float) -> float: ...


@overload
def haversine_m(lat0: float, lon0: float, lat: FloatArray, lon: FloatArray) -> FloatArray: ...


def haversine_m(
    lat0: float, lon0: float, lat: FloatArray | float, lon: FloatArray | float
) -> FloatArray | float:
    """Great-circle distance in metres from ``(lat0, lon0)`` to each ``(lat, lon)``.

    Parameters
    ----------
    lat0, lon0
        The origin, degrees.
    lat, lon
        Destinations, degrees: scalars or arrays of one shape.

    Returns
    -------
    float or numpy.ndarray
        A float for scalar destinations, otherwise an array of their shape.
    """
    p0 = np.radians(lat0)
    p = np.radians(lat)
    dl = np.radians(np.asarray(lon, dtype=float) - lon0)
    a = np.sin((p - p0) / 2) ** 2 + np.cos(p0) * np.cos(p) * np.sin(dl / 2) ** 2
    d = 2 * EARTH_RADIUS_M * np.arcsin(np.sqrt(np.minimum(a, 1.0)))
    if np.ndim(d) == 0:
        return float(d)
    return np.asarray(d, dtype=np.float64)


__all__ = ["EARTH_RADIUS_M", "METRES_PER_DEGREE", "haversine_m"]
