"""Clustering helpers of the hotspot zones: graph components, DBSCAN, saddle splits.

See :mod:`analysis.zones` for how they are used; :func:`cluster_events` clusters many
points through weighted H3 cells and :func:`nearest_place_names` names positions after
the nearest place of a gazetteer.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pandas as pd
import scipy.sparse as sp
from pyproj import Transformer
from scipy.sparse.csgraph import connected_components
from scipy.spatial import cKDTree

from geo.cells import average_edge_m, cells_resolution, cells_to_points, points_to_cells

SWEREF = "EPSG:3006"
_TO_SWEREF = Transformer.from_crs("EPSG:4326", SWEREF, always_xy=True)


def lonlat_to_sweref(
    lon: npt.ArrayLike, lat: npt.ArrayLike
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """WGS84 lon/lat to SWEREF 99 TM metres (x east, y north)."""
    x, y = _TO_SWEREF.transform(np.asarray(lon, float), np.asarray(lat, float))
    return np.asarray(x, float), np.asarray(y, float)


def cells_to_components(W: sp.spmatrix, members: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
    """Component label (0..) of each of ``members`` in the graph ``W`` restricted to them."""
    if members.size == 0:
        return np.zeros(0, np.int64)
    sub = sp.csr_matrix(W)[members][:, members]
    _, labels = connected_components(sub, directed=False)
    return labels.astype(np.int64)


def cells_to_dbscan(cells: npt.ArrayLike, k: int = 1) -> npt.NDArray[np.int64]:
    """DBSCAN labels of cells with ``eps`` linking their ring-``k`` neighbours (EPSG:3006)."""
    arr = np.asarray(cells, dtype=np.uint64)
    if arr.size == 0:
        return np.zeros(0, np.int64)
    lat, lon = cells_to_points(arr)
    x, y = lonlat_to_sweref(lon, lat)
    spacing = np.sqrt(3.0) * average_edge_m(cells_resolution(arr))
    eps = spacing * (k + 0.5)
    from sklearn.cluster import DBSCAN  # imported when used: heavy, and rarely needed

    labels = DBSCAN(eps=eps, min_samples=1).fit_predict(np.c_[x, y])
    return labels.astype(np.int64)


def split_at_saddles(
    W: sp.spmatrix,
    members: npt.NDArray[np.int64],
    labels: npt.NDArray[np.int64],
    score: npt.NDArray[np.float64],
    saddle_ratio: float = 0.5,
) -> npt.NDArray[np.int64]:
    """Split connected groups of cells at valleys of ``score`` (a graph watershed).

    Each member climbs to its highest neighbour (within the same group, k-ring ``W``)
    until it reaches a peak; cells that reach the same peak form a basin. Two touching
    basins of one group merge again when the pass between them (the highest
    ``min(score_i, score_j)`` over touching cells ``i``, ``j``) is at least ``saddle_ratio``
    times the lower of their peaks, so only real valleys split a group: two hotspots
    700 m apart joined by a busy street stay two zones, a plateau with noise stays one.

    Returns new labels ``0..`` for ``members``.
    """
    m = members.shape[0]
    if m == 0:
        return labels
    sub = sp.csr_matrix(W)[members][:, members].tocoo()
    same = labels[sub.row] == labels[sub.col]
    rows, cols = sub.row[same], sub.col[same]
    sc = score[members] + np.arange(m) * 1e-12  # strict order: no ties between cells
    # best neighbour (self included) of each member
    order = np.lexsort((sc[cols], rows))
    rows_o, cols_o = rows[order], cols[order]
    last = np.r_[rows_o[1:] != rows_o[:-1], True]
    best = np.arange(m)
    best[rows_o[last]] = cols_o[last]
    best = np.where(sc[best] >= sc, best, np.arange(m))
    peak = best.copy()
    while True:  # pointer jumping to the peak
        nxt = peak[peak]
        if np.array_equal(nxt, peak):
            break
        peak = nxt
    # merge basins over high passes (union-find on peaks)
    parent = np.arange(m)

    def find(a: int) -> int:
        while parent[a] != a:
            parent[a] = parent[parent[a]]
            a = parent[a]
        return a

    cross = peak[rows] != peak[cols]
    if cross.any():
        pa, pb = peak[rows[cross]], peak[cols[cross]]
        height = np.minimum(sc[rows[cross]], sc[cols[cross]])
        for k in np.argsort(-height, kind="stable"):
            a, b = find(int(pa[k])), find(int(pb[k]))
            if a == b:
                continue
            low = min(sc[a], sc[b])
            if height[k] >= saddle_ratio * low:
                hi, lo = (a, b) if sc[a] >= sc[b] else (b, a)
                parent[lo] = hi
    roots = np.asarray([find(int(p)) for p in peak])
    _, new = np.unique(roots, return_inverse=True)
    return new.astype(np.int64)


def cluster_events(
    lat: npt.ArrayLike,
    lon: npt.ArrayLike,
    *,
    eps_m: float = 150.0,
    min_events: int = 10,
    res: int = 11,
    weights: npt.ArrayLike | None = None,
) -> npt.NDArray[np.int64]:
    """DBSCAN cluster label of each event (``-1`` = noise), via weighted H3 cells.

    Points are binned to H3 cells at ``res`` (res 11: edge ~25 m); each occupied cell is
    one DBSCAN sample at its centre (EPSG:3006) with ``sample_weight`` = its events, so
    ``min_events`` counts events, not cells. A million points cluster in seconds because
    DBSCAN sees only the occupied cells.
    """
    la = np.asarray(lat, float)
    lo = np.asarray(lon, float)
    cells = points_to_cells(la, lo, res)
    ok = cells != 0
    labels = np.full(la.shape[0], -1, dtype=np.int64)
    if not ok.any():
        return labels
    uniq, inv = np.unique(cells[ok], return_inverse=True)
    w = np.ones(int(ok.sum())) if weights is None else np.asarray(weights, float)[ok]
    cell_w = np.bincount(inv, weights=w, minlength=uniq.shape[0])
    clat, clon = cells_to_points(uniq)
    x, y = lonlat_to_sweref(clon, clat)
    from sklearn.cluster import DBSCAN

    cell_labels = DBSCAN(eps=eps_m, min_samples=min_events).fit_predict(
        np.c_[x, y], sample_weight=cell_w
    )
    labels[ok] = cell_labels[inv]
    return labels


def nearest_place_names(
    lat: npt.ArrayLike, lon: npt.ArrayLike, places: pd.DataFrame | None, max_m: float
) -> list[str | None]:
    """Name of the nearest place within ``max_m`` metres of each point, else ``None``.

    Parameters
    ----------
    lat, lon
        WGS84 positions (degrees).
    places
        ``DataFrame[name, lat, lon]`` (e.g. :func:`geo.gazetteer.named_places`); ``None``
        or empty gives ``None`` for every point.
    max_m
        Largest distance (SWEREF 99 TM metres) at which a place names a point.
    """
    lat_a = np.atleast_1d(np.asarray(lat, dtype=float))
    lon_a = np.atleast_1d(np.asarray(lon, dtype=float))
    names: list[str | None] = [None] * len(lat_a)
    if places is None or not len(places) or not len(lat_a):
        return names
    px, py = lonlat_to_sweref(places["lon"], places["lat"])
    tree = cKDTree(np.c_[px, py])
    x, y = lonlat_to_sweref(lon_a, lat_a)
    dist, idx = tree.query(np.c_[x, y])
    place_names = places["name"].astype(str).to_numpy()
    for r, (d, i) in enumerate(zip(dist, idx, strict=True)):
        if d <= max_m:
            names[r] = str(place_names[i])
    return names


__all__ = [
    "SWEREF",
    "cells_to_components",
    "cells_to_dbscan",
    "cluster_events",
    "lonlat_to_sweref",
    "nearest_place_names",
    "split_at_saddles",
]
