"""Public, k-suppressed aggregation of reports into H3 cells (``/karta/publik``).

The public map shows how many reports lie in each H3 cell, never individual reports.
A count below ``k`` (tenant setting ``public_min_count``, default 3) could point at one
person, so it is never published, **neither directly nor through any combination of the
published numbers**. This module is pure (frames in, frames out); the web app reads the
reports and caches the result per data version and snapshot.

Approach
========

1. **A fixed, coarse set of filters.** Visitors cannot choose arbitrary categories or
   dates. There are :data:`GROUPS` (``alla`` plus three category groups that partition the
   categories) and :data:`PERIODS` (``12m``: the last 52 weeks; ``3m``: the last 13 weeks).
   Every published number is therefore a sum of *atoms*: the counts of one cell in one
   group (3) and one disjoint time slice (the last 13 weeks, weeks 14-52) – six atoms a
   cell.

2. **One partition per cell (its level).** Differencing works by subtracting published
   sums (``12m − 3m`` = weeks 14-52; ``alla − ordning − brott`` = ``trygghet``). So for
   each cell we publish only sums over the blocks of a single partition of its atoms, and
   only when **every non-empty block has at least k reports**:

   ===========  ==================================================  =====================
   level        blocks (each 0 or ≥ k)                               views published
   ===========  ==================================================  =====================
   ``full``     the six atoms                                         every filter
   ``groups``   each group over 52 weeks                              ``(*, 12m)``
   ``periods``  all groups per time slice                             ``(alla, 12m/3m)``
   ``total``    everything                                            ``(alla, 12m)``
   ``none``     –                                                     nothing
   ===========  ==================================================  =====================

   The finest level that holds is chosen (``groups`` before ``periods``; never both, since
   the two sets of margins together would bound the atoms). Every published number, and
   every linear combination of published numbers of a cell, is a sum of whole blocks,
   hence 0 or at least k. A view never shows a cell with 0, so "absent" means "zero or
   suppressed" and cannot be told apart.

3. **No area totals.** Kommun or locality totals are not published: a total minus the
   published cells would reveal the suppressed remainder.

4. **Time differencing.** Counts are taken at a *snapshot* (default: the start of the
   current ISO week, Europe/Stockholm): only reports that occurred before it **and were
   approved before it** count, so the numbers change once a week and two consecutive
   days cannot be subtracted to isolate one new report. ``"day"`` and ``"live"``
   snapshots exist for small installations and tests.

Examples
--------
>>> import pandas as pd
>>> snap = pd.Timestamp("2026-01-05", tz="UTC")
>>> t = public_table(frame, k=3, res=9, as_of=snap)  # doctest: +SKIP
>>> t.view("alla", "12m")  # doctest: +SKIP
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd

from geo.cells import cells_to_parent, cells_to_points, cells_to_strings
from geo.errors import ValidationError
from geo.schema import DEFAULT_TZ

#: Category groups of the public filter (a partition of the categories; unknown codes go
#: to the last group). Code -> (Swedish label, categories).
GROUPS: dict[str, tuple[str, tuple[str, ...]]] = {
    "ordning": (
        "Ordning och skadegörelse",
        ("skadegorelse", "klotter", "nedskrapning", "ordningsstorning", "storande_grupp"),
    ),
    "brott": ("Brott, våld och narkotika", ("vald_hot", "inbrott_stold", "narkotika", "brand")),
    "trygghet": (
        "Otrygghet, trafik och belysning",
        ("otrygg_plats", "trafik", "belysning", "annat"),
    ),
}
ALL = "alla"
GROUP_CODES: tuple[str, ...] = (ALL, *GROUPS)

#: Public periods: code -> (Swedish label, weeks back from the snapshot).
PERIODS: dict[str, tuple[str, int]] = {
    "12m": ("Senaste 12 månaderna", 52),
    "3m": ("Senaste 3 månaderna", 13),
}
LONG, SHORT = "12m", "3m"

#: Levels from finest to coarsest (see the module docstring).
LEVELS: tuple[str, ...] = ("full", "groups", "periods", "total", "none")

Snapshot = Literal["week", "day", "live"]
SNAPSHOTS: tuple[str, ...] = ("week", "day", "live")

#: Resolutions the public map may use (never finer than res 9, ≈ 0.1 km²).
PUBLIC_RES: tuple[int, ...] = (7, 8, 9)

_GROUP_OF: dict[str, str] = {c: g for g, (_l, cats) in GROUPS.items() for c in cats}
_LAST_GROUP = list(GROUPS)[-1]


def category_to_group(categories: pd.Series | list[str]) -> np.ndarray:
    """Public group code of each category (unknown categories: the last group)."""
    values = pd.Series(categories, dtype="string").fillna("")
    return values.map(lambda c: _GROUP_OF.get(c, _LAST_GROUP)).to_numpy(dtype=object)


def snapshot_time(
    now: dt.datetime | pd.Timestamp, mode: str = "week", tz: str = DEFAULT_TZ
) -> pd.Timestamp:
    """The instant counts are taken at (tz-aware UTC).

    ``week``: Monday 00:00 local time of the current ISO week; ``day``: today 00:00 local
    time; ``live``: ``now`` itself.
    """
    if mode not in SNAPSHOTS:
        raise ValidationError(f"public snapshot must be one of {SNAPSHOTS}, got {mode!r}")
    ts = pd.Timestamp(now)
    ts = ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")
    if mode == "live":
        return ts
    day = ts.tz_convert(tz).date()
    if mode == "week":
        day = day - dt.timedelta(days=day.weekday())
    # midnight wall-clock time of that day (correct across DST changes)
    local = pd.Timestamp(day).tz_localize(tz)
    return local.tz_convert("UTC")


@dataclass(frozen=True)
class PublicTable:
    """Atoms and publication level of every cell of one kommun at one snapshot.

    Attributes
    ----------
    atoms
        One row per cell: column ``cell`` (uint64 at :attr:`res`) and one count column per
        ``(group, slice)`` named ``"<group>:<slice>"`` with slice ``recent`` (last 13
        weeks) or ``earlier`` (weeks 14-52), plus ``level``.
    k, res
        Minimum published count and H3 resolution.
    as_of
        Snapshot instant (UTC).
    """

    atoms: pd.DataFrame
    k: int
    res: int
    as_of: pd.Timestamp

    def view(self, group: str = ALL, period: str = LONG) -> pd.DataFrame:
        """Published cells of one filter combination.

        Returns a frame with ``cell`` (uint64), ``cell_id`` (hex string), ``count``,
        ``lat``, ``lon`` (cell centre); only cells whose count may be published (≥ k).
        """
        check_filters(group, period)
        a = self.atoms
        groups = list(GROUPS) if group == ALL else [group]
        slices = ["recent"] if period == SHORT else ["recent", "earlier"]
        cols = [f"{g}:{s}" for g in groups for s in slices]
        counts = a[cols].sum(axis=1).to_numpy(np.int64) if len(a) else np.zeros(0, np.int64)
        allowed = allowed_levels(group, period)
        keep = a["level"].isin(allowed).to_numpy(bool) & (counts > 0)
        # defence in depth: a published count is never below k
        keep &= counts >= self.k
        cells = a["cell"].to_numpy(np.uint64)[keep]
        lat, lon = cells_to_points(cells)
        return pd.DataFrame(
            {
                "cell": cells,
                "cell_id": cells_to_strings(cells),
                "count": counts[keep],
                "lat": lat,
                "lon": lon,
            }
        )

    def published_cells(self) -> set[int]:
        """Cells that appear in at least one view."""
        return {int(c) for c in self.atoms.loc[self.atoms["level"] != "none", "cell"]}

    def level_of(self, cells: np.ndarray) -> np.ndarray:
        """Level of each given cell (at :attr:`res`; ``"none"`` for unknown cells)."""
        lookup = dict(
            zip(self.atoms["cell"].astype(np.uint64).tolist(), self.atoms["level"], strict=True)
        )
        return np.asarray(
            [lookup.get(int(c), "none") for c in np.asarray(cells, np.uint64)], dtype=object
        )


def check_filters(group: str, period: str) -> None:
    """Raise :class:`ValidationError` unless ``group`` and ``period`` are public filters."""
    problems = []
    if group not in GROUP_CODES:
        problems.append(f"okänd grupp {group!r}; välj en av {list(GROUP_CODES)}")
    if period not in PERIODS:
        problems.append(f"okänd period {period!r}; välj en av {list(PERIODS)}")
    if problems:
        raise ValidationError(problems)


def allowed_levels(group: str, period: str) -> tuple[str, ...]:
    """Cell levels whose value may be shown in the view ``(group, period)``."""
    if group == ALL and period == LONG:
        return ("full", "groups", "periods", "total")
    if period == LONG:
        return ("full", "groups")
    if group == ALL:
        return ("full", "periods")
    return ("full",)


def _blocks_ok(blocks: np.ndarray, k: int) -> np.ndarray:
    """Per row: every block is 0 or ≥ k."""
    return ((blocks == 0) | (blocks >= k)).all(axis=1)


def cell_levels(atoms: pd.DataFrame, k: int) -> np.ndarray:
    """Publication level of each row of an atom table (see the module docstring)."""
    groups = list(GROUPS)
    rec = np.column_stack([atoms[f"{g}:recent"].to_numpy(np.int64) for g in groups])
    ear = np.column_stack([atoms[f"{g}:earlier"].to_numpy(np.int64) for g in groups])
    full_blocks = np.hstack([rec, ear])
    group_blocks = rec + ear
    period_blocks = np.column_stack([rec.sum(axis=1), ear.sum(axis=1)])
    total = full_blocks.sum(axis=1)
    level = np.full(len(atoms), "none", dtype=object)
    level[total >= k] = "total"
    level[(total >= k) & _blocks_ok(period_blocks, k)] = "periods"
    level[(total >= k) & _blocks_ok(group_blocks, k)] = "groups"
    level[(total >= k) & _blocks_ok(full_blocks, k)] = "full"
    return level


def public_table(
    reports: pd.DataFrame,
    k: int = 3,
    res: int = 9,
    as_of: dt.datetime | pd.Timestamp | None = None,
    published_at: str | None = "published_at",
) -> PublicTable:
    """Aggregate approved reports into k-suppressed public cells.

    Parameters
    ----------
    reports
        Report frame (at least ``cell``, ``category``, ``occurred_at``; ``status`` if
        present must be ``approved`` to count). Reports without a cell are ignored.
    k
        Minimum count of a published block (≥ 1; 1 disables suppression).
    res
        Public H3 resolution, one of :data:`PUBLIC_RES`.
    as_of
        Snapshot instant (see :func:`snapshot_time`); now when None.
    published_at
        Optional column with the instant each report became approved (public). Reports
        approved at or after ``as_of`` do not count yet.

    Returns
    -------
    PublicTable
    """
    if int(k) < 1:
        raise ValidationError(f"public_min_count (k) must be at least 1, got {k}")
    if int(res) not in PUBLIC_RES:
        raise ValidationError(f"public resolution must be one of {PUBLIC_RES}, got {res}")
    snap = snapshot_time(pd.Timestamp.now(tz="UTC") if as_of is None else as_of, "live")
    frame = reports
    mask = frame["cell"].to_numpy(np.uint64) != 0
    if "status" in frame.columns:
        mask &= (frame["status"].astype("string") == "approved").fillna(False).to_numpy(bool)
    occurred = pd.to_datetime(frame["occurred_at"], utc=True)
    long_start = snap - pd.Timedelta(weeks=PERIODS[LONG][1])
    short_start = snap - pd.Timedelta(weeks=PERIODS[SHORT][1])
    mask &= ((occurred >= long_start) & (occurred < snap)).fillna(False).to_numpy(bool)
    if published_at is not None and published_at in frame.columns:
        pub = pd.to_datetime(frame[published_at], utc=True)
        mask &= (pub < snap).fillna(False).to_numpy(bool)
    sel = frame.loc[mask]
    columns = [f"{g}:{s}" for g in GROUPS for s in ("recent", "earlier")]
    if sel.empty:
        atoms = pd.DataFrame(
            {"cell": np.zeros(0, np.uint64), **{c: np.zeros(0, np.int64) for c in columns}}
        )
        atoms["level"] = np.zeros(0, dtype=object)
        return PublicTable(atoms=atoms, k=int(k), res=int(res), as_of=snap)
    parents = cells_to_parent(sel["cell"].to_numpy(np.uint64), int(res))
    recent = (pd.to_datetime(sel["occurred_at"], utc=True) >= short_start).to_numpy(bool)
    keys = pd.DataFrame(
        {
            "cell": parents,
            "col": pd.Series(category_to_group(sel["category"]), dtype=object)
            + np.where(recent, ":recent", ":earlier"),
        }
    )
    atoms = (
        keys.groupby(["cell", "col"])
        .size()
        .unstack("col", fill_value=0)
        .reindex(columns=columns, fill_value=0)
    )
    atoms = atoms.reset_index()
    atoms["cell"] = atoms["cell"].to_numpy(np.uint64)
    atoms[columns] = atoms[columns].astype(np.int64)
    atoms["level"] = cell_levels(atoms, int(k))
    return PublicTable(
        atoms=atoms.sort_values("cell").reset_index(drop=True), k=int(k), res=int(res), as_of=snap
    )


def group_labels() -> Mapping[str, str]:
    """Swedish label of every public group code (``alla`` first)."""
    return {ALL: "Alla kategorier", **{g: label for g, (label, _c) in GROUPS.items()}}


def period_labels() -> Mapping[str, str]:
    """Swedish label of every public period code."""
    return {p: label for p, (label, _w) in PERIODS.items()}


__all__ = [
    "ALL",
    "GROUPS",
    "GROUP_CODES",
    "LEVELS",
    "PERIODS",
    "PUBLIC_RES",
    "SNAPSHOTS",
    "PublicTable",
    "allowed_levels",
    "category_to_group",
    "cell_levels",
    "check_filters",
    "group_labels",
    "period_labels",
    "public_table",
    "snapshot_time",
]
