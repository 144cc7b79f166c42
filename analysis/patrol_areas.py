"""Patrol areas: compact walkable k-ring disks that cover the most expected incidents.

A maximal covering location problem over the cells of a :class:`~analysis.shift_risk.ShiftRisk`;
see :mod:`analysis.patrol` for the rules.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
import scipy.sparse as sp

from analysis._patrol_order import _set_order
from analysis._patrol_solve import max_cover
from analysis.shift_risk import CellArray
from geo.cells import (
    average_edge_m,
    cells_resolution,
    cells_to_disks,
    cells_to_parent,
    cells_to_points,
    cells_to_polygons,
    cells_to_strings,
    points_to_cells,
    polygon_to_cells,
    strings_to_cells,
)
from geo.errors import ValidationError
from geo.geodesy import haversine_m


# ---------------------------------------------------------------------- areas
def disk_diameter_m(res: int, k: int) -> float:
    """Approximate vertex-to-vertex width of a k-ring disk of hexagons at ``res``."""
    edge = average_edge_m(res)
    return 2.0 * (k * math.sqrt(3.0) * edge + edge)


def ring_for_diameter(res: int, diameter_m: float) -> int:
    """Largest ring ``k`` whose disk fits within ``diameter_m`` at ``res``."""
    if disk_diameter_m(res, 0) > diameter_m:
        raise ValidationError(
            f"en cell på upplösning {res} är redan bredare än {diameter_m:g} m; "
            "välj en finare upplösning eller större diameter"
        )
    k = 0
    while disk_diameter_m(res, k + 1) <= diameter_m:
        k += 1
    return k


def places_to_cells(specs: Iterable[str], res: int, radius_m: float = 0.0) -> list[CellArray]:
    """Cells of each place: an H3 cell (hex) or ``"lat,lon[,radius_m]"``.

    A coarser cell becomes every cell of ``res`` inside it, a finer one its parent; a
    point becomes its cell plus every cell whose centre lies within the radius.
    """
    out: list[CellArray] = []
    problems: list[str] = []
    for spec in specs:
        text = str(spec).strip()
        parts = [p.strip() for p in text.split(",")]
        if len(parts) in (2, 3):
            try:
                lat, lon = float(parts[0]), float(parts[1])
                radius = float(parts[2]) if len(parts) == 3 else radius_m
            except ValueError:
                problems.append(f"platsen {text!r} ska vara lat,lon[,radie_m] eller en H3-cell")
                continue
            if not (-90 <= lat <= 90 and -180 <= lon <= 180) or radius < 0:
                problems.append(f"platsen {text!r} ligger utanför giltiga koordinater")
                continue
            centre = points_to_cells([lat], [lon], res)
            k = int(math.ceil(radius / (math.sqrt(3.0) * average_edge_m(res) * 0.8))) + 1
            _, disk = cells_to_disks(centre, k if radius > 0 else 0)
            dlat, dlon = cells_to_points(disk)
            d = haversine_m(lat, lon, dlat, dlon)
            keep = (d <= radius) | (disk == centre[0])
            out.append(np.unique(disk[keep]))
            continue
        try:
            cell = strings_to_cells([text])
        except ValidationError:
            problems.append(f"platsen {text!r} ska vara lat,lon[,radie_m] eller en H3-cell")
            continue
        r = cells_resolution(cell)
        if r > res:
            out.append(np.unique(cells_to_parent(cell, res)))
        elif r == res:
            out.append(cell)
        else:
            out.append(polygon_to_cells(cells_to_polygons(cell)[0], res))
    if problems:
        raise ValidationError(problems)
    return out


@dataclass
class PatrolArea:
    """One patrol area of a plan."""

    centre_cell: int
    cells: CellArray
    expected: float
    centre: tuple[float, float]
    locality: str | None = None
    must_visit: bool = False
    window: tuple[int, int] | None = None
    reason: str = ""
    interval: tuple[float, float] | None = None

    @property
    def window_label(self) -> str | None:
        if self.window is None:
            return None
        return f"{self.window[0]:02d}–{self.window[1] % 24:02d}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "cells": [str(c) for c in cells_to_strings(self.cells)],
            "centre": {"lat": round(self.centre[0], 6), "lon": round(self.centre[1], 6)},
            "expected": round(float(self.expected), 4),
            "interval_80": None if self.interval is None else [int(v) for v in self.interval],
            "window": self.window_label,
            "reason": self.reason,
            "locality": self.locality,
            "must_visit": self.must_visit,
        }


@dataclass
class PatrolPlan:
    """Chosen areas, walking order and how the choice was made."""

    areas: list[PatrolArea]
    order: list[int]
    method: str
    optimal: bool
    bound: float
    covered_expected: float
    total_expected: float
    ring: int
    res: int
    diameter_m: float
    guarantee: float | None = None
    walk_m: float = 0.0
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "areas": [a.to_dict() for a in self.areas],
            "order": list(self.order),
            "method": self.method,
            "optimal": bool(self.optimal),
            "guarantee": None if self.guarantee is None else round(self.guarantee, 4),
            "bound": round(float(self.bound), 4),
            "expected_covered": round(float(self.covered_expected), 4),
            "expected_total": round(float(self.total_expected), 4),
            "covered_share": round(self.covered_expected / self.total_expected, 4)
            if self.total_expected > 0
            else None,
            "res": self.res,
            "ring": self.ring,
            "diameter_m": round(self.diameter_m),
            "walk_m": round(self.walk_m),
            "notes": list(self.notes),
        }


def candidate_areas(
    demand_cells: CellArray,
    k: int,
    *,
    exclude: CellArray | None = None,
    extra_centres: CellArray | None = None,
) -> tuple[CellArray, npt.NDArray[np.int64], CellArray]:
    """Candidate centres and their disks.

    Returns ``(centres, area_index, area_cell)``: every pair of a candidate (index into
    ``centres``) and a cell of its disk, excluded cells left out. Centres are every
    cell within ``k`` of a demand cell (plus ``extra_centres``) that is not excluded.
    """
    excl = np.unique(exclude) if exclude is not None else np.zeros(0, np.uint64)
    _, near = cells_to_disks(demand_cells, k)
    centres = np.unique(near)
    if extra_centres is not None and extra_centres.size:
        centres = np.union1d(centres, extra_centres)
    centres = centres[~np.isin(centres, excl)]
    origin, disk = cells_to_disks(centres, k)
    keep = ~np.isin(disk, excl)
    idx = np.searchsorted(centres, origin[keep]).astype(np.int64)
    return centres, idx, disk[keep]


def _area_localities(
    centres: CellArray,
    area_idx: npt.NDArray[np.int64],
    area_cell: CellArray,
    localities: pd.DataFrame | None,
) -> npt.NDArray[np.object_]:
    """Locality of each candidate: its centre's, else the most common among its cells."""
    out = np.full(centres.size, None, dtype=object)
    if localities is None or not len(localities):
        return out
    lmap = pd.Series(
        localities["locality"].astype(object).to_numpy(),
        index=np.asarray(localities["cell"].to_numpy(), dtype=np.uint64),
    )
    lmap = lmap[~lmap.index.duplicated()].dropna()
    own = lmap.reindex(centres).to_numpy(object)
    pairs = pd.DataFrame({"area": area_idx, "locality": lmap.reindex(area_cell).to_numpy(object)})
    pairs = pairs.dropna()
    if len(pairs):
        counts = pairs.groupby(["area", "locality"]).size().reset_index(name="n")
        counts = counts.sort_values(["area", "n", "locality"], ascending=[True, False, True])
        first = counts.drop_duplicates("area")
        out[first["area"].to_numpy(np.int64)] = first["locality"].to_numpy(object)
    has_own = pd.notna(own)
    out[has_own] = own[has_own]
    return out


def plan_patrol(
    risk: pd.Series,
    n_areas: int = 3,
    *,
    diameter_m: float = 800.0,
    exclude: Iterable[CellArray] | CellArray | None = None,
    must_visit: Sequence[CellArray] = (),
    localities: pd.DataFrame | None = None,
    spread: bool = False,
    method: str = "auto",
    time_limit: float = 5.0,
    max_terms: int = 60_000,
) -> PatrolPlan:
    """Choose ``n_areas`` disks maximising the expected incidents covered.

    Parameters
    ----------
    risk
        Expected incidents per cell (index: uint64 cells of one resolution).
    diameter_m
        Largest width of an area; sets the ring ``k`` (:func:`ring_for_diameter`).
    exclude
        Cells no area may contain or be centred on (e.g. where police will be).
    must_visit
        Places (each an array of cells); some area must contain at least one cell of
        each.
    localities
        ``[cell, locality]`` (e.g. :func:`geo.boundaries.localities_to_cells`), used by
        ``spread`` and to name each area's locality.
    spread
        At most ``ceil(K / L)`` areas per locality (``L`` localities with risk; cells
        outside every locality form one more group).
    method
        ``"auto"``/``"mip"`` (exact when the reduced model is small enough) or
        ``"greedy"``.
    """
    problems = []
    if int(n_areas) < 1:
        problems.append("antal områden måste vara minst 1")
    if not diameter_m > 0:
        problems.append("diametern måste vara positiv")
    if method not in ("auto", "mip", "greedy"):
        problems.append("metoden ska vara auto, mip eller greedy")
    if problems:
        raise ValidationError(problems)
    cells = np.asarray(risk.index.to_numpy(), dtype=np.uint64)
    values = np.asarray(risk.to_numpy(), dtype=np.float64)
    ok = (cells != 0) & np.isfinite(values) & (values > 0)
    cells, values = cells[ok], values[ok]
    if cells.size == 0:
        raise ValidationError("ingen cell har förväntade händelser; inget att planera")
    order = np.argsort(cells)
    cells, values = cells[order], values[order]
    res = cells_resolution(cells)
    k = ring_for_diameter(res, diameter_m)
    if exclude is None:
        excl = np.zeros(0, np.uint64)
    elif isinstance(exclude, np.ndarray):
        excl = np.unique(exclude.astype(np.uint64))
    else:
        parts = [np.asarray(e, dtype=np.uint64) for e in exclude]
        excl = np.unique(np.concatenate(parts)) if parts else np.zeros(0, np.uint64)
    musts = [np.unique(np.asarray(m, dtype=np.uint64)) for m in must_visit]
    demand = ~np.isin(cells, excl)
    d_cells, d_values = cells[demand], values[demand]
    must_centres = np.zeros(0, np.uint64)
    if musts:
        _, near = cells_to_disks(np.concatenate(musts), k)
        must_centres = np.unique(near)
    centres, area_idx, area_cell = candidate_areas(
        d_cells if d_cells.size else cells, k, exclude=excl, extra_centres=must_centres
    )
    if centres.size == 0:
        raise ValidationError("alla möjliga områden är undantagna")
    # incidence between demand cells and candidate areas
    pos = np.searchsorted(d_cells, area_cell)
    pos = np.minimum(pos, max(d_cells.size - 1, 0))
    hit = d_cells[pos] == area_cell if d_cells.size else np.zeros(area_cell.size, bool)
    A = sp.csc_matrix(
        (np.ones(int(hit.sum())), (pos[hit], area_idx[hit])),
        shape=(d_cells.size, centres.size),
    )
    must_groups = []
    for m, place in zip(musts, must_visit, strict=True):
        members = np.unique(area_idx[np.isin(area_cell, m)])
        if members.size == 0:
            shown = ", ".join(str(s) for s in cells_to_strings(np.asarray(place)[:3]))
            raise ValidationError(f"platsen som måste besökas ({shown}) är undantagen")
        must_groups.append(members)
    if len(must_groups) > int(n_areas):
        raise ValidationError(
            f"{len(must_groups)} platser måste besökas men bara {n_areas} områden planeras"
        )
    loc_of_centre = _area_localities(centres, area_idx, area_cell, localities)
    groups = None
    cap = None
    if spread:
        codes = np.where(pd.isna(loc_of_centre), "__utanför__", loc_of_centre)
        uniq, group_ids = np.unique(codes.astype(str), return_inverse=True)
        single = np.asarray(A.T @ d_values).ravel()
        active = np.unique(group_ids[single > 0])
        if active.size > 1:
            groups = group_ids.astype(np.int64)
            cap = int(math.ceil(int(n_areas) / active.size))
    result = max_cover(
        A,
        d_values,
        int(n_areas),
        must=must_groups,
        groups=groups,
        cap=cap,
        method=method,
        time_limit=time_limit,
        max_terms=max_terms,
    )
    notes = list(result.notes)
    if len(result.chosen) < int(n_areas):
        notes.append(
            f"bara {len(result.chosen)} områden har förväntade händelser; fler planerades inte"
        )
    risk_lookup = pd.Series(values, index=cells)
    areas: list[PatrolArea] = []
    for j in result.chosen:
        member = np.unique(area_cell[area_idx == j])
        expected = float(risk_lookup.reindex(member).fillna(0.0).sum())
        lat, lon = cells_to_points(centres[j : j + 1])
        is_must = any(np.isin(j, g) for g in must_groups)
        areas.append(
            PatrolArea(
                centre_cell=int(centres[j]),
                cells=member,
                expected=expected,
                centre=(float(lat[0]), float(lon[0])),
                locality=None if loc_of_centre[j] is None else str(loc_of_centre[j]),
                must_visit=bool(is_must),
            )
        )
    areas.sort(key=lambda a: (not a.must_visit, -a.expected, a.centre_cell))
    guarantee = result.guarantee if result.method == "greedy" else None
    plan = PatrolPlan(
        areas=areas,
        order=list(range(len(areas))),
        method=result.method,
        optimal=result.optimal,
        bound=result.bound,
        covered_expected=result.value,
        total_expected=float(d_values.sum()),
        ring=k,
        res=res,
        diameter_m=disk_diameter_m(res, k),
        guarantee=guarantee,
        notes=notes,
    )
    _set_order(plan)
    if result.method == "greedy" and guarantee is not None:
        plan.notes.append(
            f"girig lösning: minst {guarantee:.0%} av optimum (garanti), "
            f"högst {result.bound:.2f} förväntade händelser möjliga"
        )
    return plan
