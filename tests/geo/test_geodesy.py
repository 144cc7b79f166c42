"""The one great-circle distance: known distances, scalars and arrays alike."""

from __future__ import annotations

import math

import numpy as np
import pytest

from geo.geodesy import EARTH_RADIUS_M, haversine_m


def test_one_degree_of_latitude_and_of_longitude_at_60_north() -> None:
    quarter = math.pi / 2 * EARTH_RADIUS_M
    assert haversine_m(0.0, 0.0, 90.0, 0.0) == pytest.approx(quarter)
    assert haversine_m(59.5, 18.0, 60.5, 18.0) == pytest.approx(111_195, abs=1)
    # along a parallel at 60° N a degree of longitude is half as long (great circle a bit less)
    assert haversine_m(60.0, 18.0, 60.0, 19.0) == pytest.approx(55_597, rel=1e-3)


def test_stockholm_to_goteborg() -> None:
    # Stockholm central station to Göteborg central station, about 398 km as the crow flies
    d = haversine_m(59.3303, 18.0583, 57.7089, 11.9732)
    assert 395_000 < d < 400_000


def test_scalar_and_array_agree_and_distance_is_symmetric() -> None:
    lat = np.array([59.7577, 59.7515, 60.0518])
    lon = np.array([18.6990, 18.7040, 18.6005])
    many = haversine_m(59.7446, 18.3630, lat, lon)
    assert isinstance(many, np.ndarray) and many.shape == (3,)
    for i in range(3):
        one = haversine_m(59.7446, 18.3630, float(lat[i]), float(lon[i]))
        assert isinstance(one, float)
        assert one == pytest.approx(many[i])
        assert haversine_m(float(lat[i]), float(lon[i]), 59.7446, 18.3630) == pytest.approx(one)
    assert haversine_m(59.7, 18.7, 59.7, 18.7) == 0.0
