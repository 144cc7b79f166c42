"""Stable zone ids: match new zones to earlier ones by member-cell overlap.

See "Stable ids" in :mod:`analysis.zones` for the rule :func:`match_zones` implements.
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from geo.cells import cells_resolution, cells_to_parent, strings_to_cells


def _as_cell_set(value: Any) -> npt.NDArray[np.uint64]:
    if value is None:
        return np.zeros(0, np.uint64)
    items = list(value) if not isinstance(value, str) else value.split(",")
    if not items:
        return np.zeros(0, np.uint64)
    if isinstance(items[0], str):
        return np.unique(strings_to_cells([s.strip() for s in items]))
    return np.unique(np.asarray(items, dtype=np.uint64))


def _id_number(zone_id: str) -> int:
    m = re.search(r"(\d+)$", str(zone_id))
    return int(m.group(1)) if m else 0


def match_zones(
    new_cells: list[npt.NDArray[np.uint64]],
    previous: pd.DataFrame | None,
    min_jaccard: float = 0.1,
    id_prefix: str = "Z",
    order: npt.ArrayLike | None = None,
) -> tuple[list[str], list[float], list[pd.Timestamp | None]]:
    """Ids for new zones given earlier zones (see the module docstring for the rule).

    Returns the id, the Jaccard overlap with the matched previous zone (0 for new) and
    the previous ``first_seen`` (``None`` for new) of each new zone.
    """
    n_new = len(new_cells)
    ids: list[str | None] = [None] * n_new
    jac = [0.0] * n_new
    first: list[pd.Timestamp | None] = [None] * n_new
    next_no = 1
    if previous is not None and len(previous):
        prev = previous.reset_index(drop=True)
        prev_ids = prev["id"].astype(str).tolist()
        next_no = max((_id_number(i) for i in prev_ids), default=0) + 1
        prev_first = (
            pd.to_datetime(prev["first_seen"], utc=True)
            if "first_seen" in prev.columns
            else pd.Series([pd.NaT] * len(prev))
        )
        prev_sets = [_as_cell_set(c) for c in prev["cells"]]
        pairs: list[tuple[float, int, str, int, int]] = []
        for a, cells_a in enumerate(new_cells):
            if cells_a.size == 0:
                continue
            for b, cells_b in enumerate(prev_sets):
                if cells_b.size == 0:
                    continue
                ra, rb = cells_resolution(cells_a), cells_resolution(cells_b)
                r = min(ra, rb)
                sa = np.unique(cells_to_parent(cells_a, r)) if ra != r else cells_a
                sb = np.unique(cells_to_parent(cells_b, r)) if rb != r else cells_b
                inter = np.intersect1d(sa, sb, assume_unique=True).size
                if inter == 0:
                    continue
                j = inter / (sa.size + sb.size - inter)
                if j >= min_jaccard:
                    ts = prev_first.iloc[b]
                    age = int(ts.value) if pd.notna(ts) else np.iinfo(np.int64).max
                    pairs.append((-j, age, prev_ids[b], a, b))
        pairs.sort(key=lambda t: (t[0], t[1], _id_number(t[2]), t[2]))
        used_prev: set[str] = set()
        for negj, _age, pid, a, b in pairs:
            if ids[a] is not None or pid in used_prev:
                continue
            ids[a] = pid
            jac[a] = -negj
            ts = prev_first.iloc[b]
            first[a] = ts if pd.notna(ts) else None
            used_prev.add(pid)
    seq = np.arange(n_new) if order is None else np.asarray(order)
    for ai in seq:
        if ids[int(ai)] is None:
            ids[int(ai)] = f"{id_prefix}{next_no:04d}"
            next_no += 1
    return [str(i) for i in ids], jac, first


__all__ = ["match_zones"]
