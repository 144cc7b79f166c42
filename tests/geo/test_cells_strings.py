"""Cell ids as hexadecimal text: the one-pass formatting equals Python's ``format``."""

from __future__ import annotations

import numpy as np

from geo.cells import cells_to_strings, points_to_cells, strings_to_cells


def test_strings_equal_python_hex_at_every_resolution() -> None:
    rng = np.random.default_rng(5)
    lat, lon = rng.uniform(55, 69, 400), rng.uniform(11, 24, 400)
    cells = np.concatenate([points_to_cells(lat, lon, res) for res in (0, 5, 9, 10, 15)])
    text = cells_to_strings(cells)
    assert text.tolist() == [format(int(c), "x") for c in cells]
    assert np.array_equal(strings_to_cells(text), cells)


def test_values_outside_the_h3_range_keep_their_own_length() -> None:
    values = np.array([0, 255, 1 << 60], dtype=np.uint64)
    assert cells_to_strings(values).tolist() == ["0", "ff", format(1 << 60, "x")]
    assert cells_to_strings(np.zeros(0, dtype=np.uint64)).tolist() == []
