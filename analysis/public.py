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

4. **Time differencing: sticky numbers.** Counts are taken at a *snapshot* (default: the
   start of the current ISO week, Europe/Stockholm): only reports that occurred before it
   **and were approved before it** count. That alone is not enough: two consecutive weekly
   snapshots could be subtracted, and a change of one would single out one new report.
   So :func:`public_table` replays the weekly snapshots from the week of the first report
   up to ``as_of`` and remembers, per cell, the last published value of each of the twelve
   numbers a level can reveal (six atoms, three group totals, two period totals, the total;
   :data:`REVEALS`). At each snapshot a cell is republished at the finest level that holds
   (point 2) **and** whose revealed numbers each differ from their last published value by
   0 or by at least ``k``; if no level qualifies the cell keeps exactly the numbers of its
   last publication (column ``as_of`` of :attr:`PublicTable.atoms` says when that was). A
   cell whose total falls below ``k`` is hidden, as at a single snapshot.

   Why this is safe: (a) every published number changes, between any two snapshots, by 0
   or by at least ``k``, also across weeks in which it was hidden (it is compared with its
   last *published* value, not with "absent"); (b) what a cell shows at any snapshot is
   the state of one real snapshot at one level, so point 2 holds for every filter
   combination at every snapshot; (c) cells hold disjoint reports. A change an observer
   sees is therefore always the net change of at least ``k`` reports since the number's
   last publication, never fewer. The replay is a pure function of the
   reports, so every process and every restart publishes the same numbers. A report
   *withdrawn* after publication (deleted, or approval revoked) changes the replayed
   history; such corrections should be rare. ``"day"`` and ``"live"`` snapshots (small
   installations and tests) add one last step at ``as_of``; the guarantee over time is
   stated for the weekly snapshot. See ``docs/domain.md``, "Publishing counts".

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

#: The atom columns: ``"<group>:<slice>"``, groups in :data:`GROUPS` order, recent first.
ATOM_COLUMNS: tuple[str, ...] = tuple(f"{g}:{s}" for g in GROUPS for s in ("recent", "earlier"))
#: Numbers a cell can reveal, as columns of :func:`revealed_numbers`: the six atoms, the
#: three group totals, the recent and earlier totals, and the total.
NUMBERS: tuple[str, ...] = (*ATOM_COLUMNS, *GROUPS, "recent", "earlier", "total")
#: Which of :data:`NUMBERS` each level reveals (directly or by differencing its views).
REVEALS: dict[str, tuple[int, ...]] = {
    "full": tuple(range(len(NUMBERS))),
    "groups": (6, 7, 8, 11),
    "periods": (9, 10, 11),
    "total": (11,),
}

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
        weeks) or ``earlier`` (weeks 14-52), plus ``level`` and ``as_of``: the snapshot
        whose counts the cell shows (sticky numbers, module docstring point 4; NaT when
        the cell is not shown).
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

    def shown_at(self, cells: np.ndarray) -> pd.DatetimeIndex:
        """Snapshot (UTC) whose counts each given cell shows; NaT where not shown.

        A report is part of a cell's published numbers only if it was approved before
        this instant: other channels (Open311) tie a report to its cell only then.
        """
        lookup = dict(
            zip(self.atoms["cell"].astype(np.uint64).tolist(), self.atoms["as_of"], strict=True)
        )
        return pd.DatetimeIndex(
            [lookup.get(int(c), pd.NaT) for c in np.asarray(cells, np.uint64)], tz="UTC"
        )

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


def revealed_numbers(atoms: np.ndarray) -> np.ndarray:
    """The :data:`NUMBERS` of each row of an ``(n, 6)`` atom matrix (``(n, 12)``)."""
    atoms = np.asarray(atoms, dtype=np.int64).reshape(-1, len(ATOM_COLUMNS))
    rec, ear = atoms[:, 0::2], atoms[:, 1::2]
    return np.hstack(
        [
            atoms,
            rec + ear,
            rec.sum(axis=1, keepdims=True),
            ear.sum(axis=1, keepdims=True),
            atoms.sum(axis=1, keepdims=True),
        ]
    )


def _valid_levels(numbers: np.ndarray, k: int) -> dict[str, np.ndarray]:
    """Per level: may each row be published at it (every block 0 or ≥ k, total ≥ k)?"""
    ok = (numbers == 0) | (numbers >= k)
    total = numbers[:, 11] >= k
    return {
        "full": total & ok[:, 0:6].all(axis=1),
        "groups": total & ok[:, 6:9].all(axis=1),
        "periods": total & ok[:, 9:11].all(axis=1),
        "total": total,
    }


def cell_levels(atoms: pd.DataFrame, k: int) -> np.ndarray:
    """Publication level of each row of an atom table at one snapshot (module docstring)."""
    numbers = revealed_numbers(atoms[list(ATOM_COLUMNS)].to_numpy(np.int64))
    level = np.full(len(atoms), "none", dtype=object)
    for name, valid in reversed(list(_valid_levels(numbers, k).items())):
        level[valid] = name
    return level


def _weekly_steps(first: pd.Timestamp, as_of: pd.Timestamp, tz: str) -> np.ndarray:
    """Weekly snapshots (Monday 00:00 in ``tz``) from ``first``'s week to ``as_of``, and
    ``as_of`` itself when it is not one of them; UTC nanoseconds."""
    start = snapshot_time(first, "week", tz).tz_convert(tz).date()
    days = pd.date_range(start, as_of.tz_convert(tz).date(), freq="7D")
    steps = days.tz_localize(tz, nonexistent="shift_forward", ambiguous=False).tz_convert("UTC")
    out = steps.asi8[steps.asi8 <= as_of.value]
    if out.size == 0 or out[-1] != as_of.value:
        out = np.append(out, as_of.value)
    return out


def _count_events(
    steps: np.ndarray, occurred: np.ndarray, public: np.ndarray, col: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(step, atom column, ±1) of every change of a report's atom over the replay.

    A report counts at snapshot ``s`` when ``max(occurred, public) < s`` and it occurred at
    most 52 weeks before ``s``; it is *recent* while it occurred at most 13 weeks before.
    """
    week = pd.Timedelta(weeks=1).value
    first = np.searchsorted(steps, np.maximum(occurred, public), side="right")
    end_recent = np.searchsorted(steps, occurred + PERIODS[SHORT][1] * week, side="right")
    end_all = np.searchsorted(steps, occurred + PERIODS[LONG][1] * week, side="right")
    mid = np.maximum(first, end_recent)
    last = np.maximum(mid, end_all)
    idx = np.arange(occurred.size)
    step = np.concatenate([first, mid, mid, last])
    row = np.concatenate([idx, idx, idx, idx])
    column = np.concatenate([col, col, col + 1, col + 1])  # recent, then earlier (+1)
    delta = np.concatenate(
        [np.ones_like(idx), -np.ones_like(idx), np.ones_like(idx), -np.ones_like(idx)]
    )
    keep = (step < steps.size) & np.concatenate([first < mid, first < mid, mid < last, mid < last])
    return step[keep], np.stack([row[keep], column[keep]]), delta[keep]


def _replay(
    cell_index: np.ndarray,
    col: np.ndarray,
    occurred: np.ndarray,
    public: np.ndarray,
    steps: np.ndarray,
    n_cells: int,
    k: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Sticky publication over the replay (module docstring, point 4).

    Returns the shown atoms ``(n_cells, 6)``, the shown level and the instant (UTC ns,
    ``-1`` when hidden) each cell's shown numbers were taken at.
    """
    step, (row, column), delta = _count_events(steps, occurred, public, col)
    order = np.argsort(step, kind="stable")
    step, cells, column, delta = step[order], cell_index[row[order]], column[order], delta[order]
    current = np.zeros((n_cells, len(ATOM_COLUMNS)), np.int64)
    shown = np.zeros_like(current)
    level = np.full(n_cells, "none", dtype=object)
    taken_at = np.full(n_cells, -1, np.int64)
    last = np.full((n_cells, len(NUMBERS)), np.nan)
    bounds = np.flatnonzero(np.diff(step)) + 1
    for lo, hi in zip(np.r_[0, bounds], np.r_[bounds, step.size], strict=True):
        if lo == hi:
            continue
        np.add.at(current, (cells[lo:hi], column[lo:hi]), delta[lo:hi])
        idx = np.unique(cells[lo:hi])  # only changed cells can change their state
        numbers = revealed_numbers(current[idx])
        prev = last[idx]
        diff = np.abs(numbers - prev)
        ok = np.isnan(prev) | (diff == 0) | (diff >= k)
        chosen = np.full(idx.size, "", dtype=object)
        for name, valid in _valid_levels(numbers, k).items():
            fits = (chosen == "") & valid & ok[:, REVEALS[name]].all(axis=1)
            chosen[fits] = name
        hidden = numbers[:, 11] < k
        level[idx[hidden]] = "none"
        taken_at[idx[hidden]] = -1
        for name, revealed in REVEALS.items():
            cols = np.asarray(revealed, dtype=np.int64)
            sel = (chosen == name) & ~hidden
            if not sel.any():
                continue
            cells_sel = idx[sel]
            shown[cells_sel] = current[cells_sel]
            level[cells_sel] = name
            taken_at[cells_sel] = steps[step[lo]]
            last[np.ix_(cells_sel, cols)] = numbers[np.ix_(np.flatnonzero(sel), cols)]
    return shown, level, taken_at


def public_table(
    reports: pd.DataFrame,
    k: int = 3,
    res: int = 9,
    as_of: dt.datetime | pd.Timestamp | None = None,
    published_at: str | None = "published_at",
    tz: str = DEFAULT_TZ,
) -> PublicTable:
    """Aggregate approved reports into k-suppressed public cells with sticky numbers.

    Parameters
    ----------
    reports
        Report frame (at least ``cell``, ``category``, ``occurred_at``; ``status`` if
        present must be ``approved`` to count). Reports without a cell are ignored. Give
        the **whole history**, not only the last 52 weeks: the weekly snapshots are
        replayed from the first report (module docstring, point 4).
    k
        Minimum count of a published block (≥ 1; 1 disables suppression).
    res
        Public H3 resolution, one of :data:`PUBLIC_RES`.
    as_of
        Snapshot instant (see :func:`snapshot_time`); now when None.
    published_at
        Optional column with the instant each report became approved (public). Reports
        approved at or after a snapshot do not count in it.
    tz
        Time zone of the weekly snapshots of the replay.

    Returns
    -------
    PublicTable
    """
    if int(k) < 1:
        raise ValidationError(f"public_min_count (k) must be at least 1, got {k}")
    if int(res) not in PUBLIC_RES:
        raise ValidationError(f"public resolution must be one of {PUBLIC_RES}, got {res}")
    k, res = int(k), int(res)
    snap = snapshot_time(pd.Timestamp.now(tz="UTC") if as_of is None else as_of, "live")
    frame = reports
    mask = frame["cell"].to_numpy(np.uint64) != 0
    if "status" in frame.columns:
        mask &= (frame["status"].astype("string") == "approved").fillna(False).to_numpy(bool)
    occurred = pd.to_datetime(frame["occurred_at"], utc=True)
    mask &= (occurred < snap).fillna(False).to_numpy(bool)
    if published_at is not None and published_at in frame.columns:
        pub = pd.to_datetime(frame[published_at], utc=True)
        mask &= (pub < snap).fillna(False).to_numpy(bool)
        public = pub[mask].to_numpy("datetime64[ns]").astype(np.int64)
    else:
        public = np.full(int(mask.sum()), np.iinfo(np.int64).min)
    sel = frame.loc[mask]
    if sel.empty:
        atoms = pd.DataFrame(
            {"cell": np.zeros(0, np.uint64), **{c: np.zeros(0, np.int64) for c in ATOM_COLUMNS}}
        )
        atoms["level"] = np.zeros(0, dtype=object)
        atoms["as_of"] = pd.Series([], dtype="datetime64[ns, UTC]")
        return PublicTable(atoms=atoms, k=k, res=res, as_of=snap)
    occurred_ns = occurred[mask].to_numpy("datetime64[ns]").astype(np.int64)
    parents = cells_to_parent(sel["cell"].to_numpy(np.uint64), res)
    cells, cell_index = np.unique(parents, return_inverse=True)
    group_pos = {g: i for i, g in enumerate(GROUPS)}
    col = np.asarray([2 * group_pos[g] for g in category_to_group(sel["category"])], np.int64)
    first = pd.Timestamp(int(occurred_ns.min()), tz="UTC")
    steps = _weekly_steps(first, snap, tz)
    shown, level, taken_at = _replay(
        cell_index.astype(np.int64), col, occurred_ns, public, steps, cells.size, k
    )
    atoms = pd.DataFrame(shown, columns=list(ATOM_COLUMNS))
    atoms.insert(0, "cell", cells.astype(np.uint64))
    atoms["level"] = level
    atoms["as_of"] = pd.to_datetime(
        np.where(taken_at < 0, np.iinfo(np.int64).min, taken_at), utc=True
    )
    return PublicTable(atoms=atoms, k=k, res=res, as_of=snap)


def group_labels() -> Mapping[str, str]:
    """Swedish label of every public group code (``alla`` first)."""
    return {ALL: "Alla kategorier", **{g: label for g, (label, _c) in GROUPS.items()}}


def period_labels() -> Mapping[str, str]:
    """Swedish label of every public period code."""
    return {p: label for p, (label, _w) in PERIODS.items()}


__all__ = [
    "ALL",
    "ATOM_COLUMNS",
    "GROUPS",
    "GROUP_CODES",
    "LEVELS",
    "PERIODS",
    "NUMBERS",
    "PUBLIC_RES",
    "REVEALS",
    "SNAPSHOTS",
    "PublicTable",
    "allowed_levels",
    "category_to_group",
    "cell_levels",
    "check_filters",
    "group_labels",
    "period_labels",
    "public_table",
    "revealed_numbers",
    "snapshot_time",
]
