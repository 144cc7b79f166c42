"""The cell universe of a set of boundaries, computed once and kept on disk.

Filling a kommun's polygons with H3 cells (:func:`geo.boundaries.localities_to_cells`)
depends only on the boundaries and the resolution, yet a big city pays for it on every
analysis. :class:`StoredCellFill` keeps each universe in a folder under a key made of
the resolution and every boundary's code and geometry, so a changed, added or removed
boundary gives a new key (and a new fill) while unchanged ones are read back.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path

import pandas as pd
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
        self.folder.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=".parquet", dir=self.folder)
        os.close(fd)
        try:
            universe.to_parquet(tmp, index=False)
            os.replace(tmp, path)
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)
        return universe


__all__ = ["StoredCellFill", "universe_key"]
