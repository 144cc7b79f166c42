"""The cell universe of a set of boundaries, computed once and kept on disk.

Filling a kommun's polygons with H3 cells (:func:`geo.boundaries.localities_to_cells`)
depends only on the boundaries and the resolution, yet a big city pays for it on every
analysis. :class:`StoredCellFill` keeps each universe in a folder under a key made of
the resolution and every boundary's code and geometry, so a changed, added or removed
boundary gives a new key (and a new fill) while unchanged ones are read back.
:class:`StoredRings` does the same for the k-ring weights between the cells of a universe
(keyed by the cells themselves).
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import scipy.sparse as sp
import shapely

from geo.boundaries import localities_to_cells


def universe_key(localities: pd.DataFrame, res: int) -> str:
    """Hex digest of ``res`` and the ``code`` and geometry (WKB) of every row, in order."""
    digest = hashlib.sha256(f"res={int(res)}".encode())
    wkb = shapely.to_wkb(localities.geometry.to_numpy(), hex=False, output_dimension=2)
    for code, geom in zip(localities["code"].astype(str), wkb, strict=True):
        for part in (code.encode(), geom):
            digest.update(len(part).to_bytes(8, "little"))
            digest.update(part)
    return digest.hexdigest()[:32]


class StoredCellFill:
    """``localities_to_cells`` whose results are kept in ``folder`` (one Parquet file
    per boundary set and resolution; written atomically, so readers never see a part).

    Parameters
    ----------
    folder
        Where the universes are kept (created when needed).
    """

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)

    def __call__(self, localities: pd.DataFrame, res: int) -> pd.DataFrame:
        path = self.folder / f"{universe_key(localities, res)}.parquet"
        if path.exists():
            return pd.read_parquet(path)
        universe = localities_to_cells(localities, res)
        _write_atomically(path, lambda tmp: universe.to_parquet(tmp, index=False))
        return universe


class StoredRings:
    """A k-ring weight builder (``build(cells, k, include_self)`` -> CSR matrix of ones)
    whose results are kept in ``folder`` under a key of the cells, ``k`` and
    ``include_self``.

    Parameters
    ----------
    folder
        Where the weights are kept (created when needed).
    build
        The builder, e.g. :func:`analysis.cube.ring_weights`.
    """

    def __init__(self, folder: Path, build: Callable[[np.ndarray, int, bool], sp.csr_matrix]):
        self.folder = Path(folder)
        self.build = build

    def __call__(self, cells: np.ndarray, k: int = 1, include_self: bool = True) -> sp.csr_matrix:
        arr = np.ascontiguousarray(cells, dtype=np.uint64)
        digest = hashlib.sha256(f"k={int(k)};self={bool(include_self)};".encode())
        digest.update(arr.tobytes())
        path = self.folder / f"ring-{digest.hexdigest()[:32]}.npz"
        if path.exists():
            with np.load(path) as stored:
                indices, indptr = stored["indices"], stored["indptr"]
            w = sp.csr_matrix(
                (np.ones(indices.shape[0]), indices, indptr), shape=(arr.size, arr.size)
            )
            w.has_sorted_indices = True
            return w
        w = self.build(arr, k, include_self)
        _write_atomically(path, lambda tmp: np.savez(tmp, indices=w.indices, indptr=w.indptr))
        return w


def _write_atomically(path: Path, write: Callable[[str], None]) -> None:
    """``write(tmp)`` to a temporary file beside ``path``, then renamed to ``path``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=path.suffix, dir=path.parent)
    os.close(fd)
    try:
        write(tmp)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


__all__ = ["StoredCellFill", "StoredRings", "universe_key"]
