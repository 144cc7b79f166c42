"""Emerging hot spot analysis: Gi* per step + Mann-Kendall + 17 patterns.

For each location (cell) :class:`EmergingHotspots` computes the Gi* z/p series over all
steps (:class:`analysis.getis_ord.GetisOrdGiStar`), a Mann-Kendall trend test on the
z series (:mod:`analysis._mannkendall`) and a pattern code. Everything is vectorized
over locations (50,000 locations x 52 steps classify in well under a second).

Hot and cold steps
------------------
A step is *significant hot* when Gi* is significant (``q <= alpha``, after FDR when
asked) with ``z > 0`` **and** the k-ring holds at least ``min_step_count`` (default 3)
reports in that step: in a mostly empty town one or two reports already make their
neighbourhood "significant", and that is not a hotspot. A step is *significant cold* when
Gi* is significant with ``z < 0``.

Patterns (docs/domain.md, ArcGIS Pro / sfdep rules)
---------------------------------------------------
``n`` steps, hot share = hot steps / n, trend = Mann-Kendall on the z series at
``alpha`` (+1 increasing, -1 decreasing). Rules are tried in this order, each first for
hot and then for its cold mirror (hot <-> cold, increasing <-> decreasing); the first
that matches wins:

1. ``new``: the final step is the only significant hot step.
2. ``consecutive``: one uninterrupted run of hot steps ending at the final step, never
   hot before the run, hot share < ``hot_share``.
3. ``intensifying``: hot share >= ``hot_share``, final step hot, increasing trend.
4. ``persistent``: hot share >= ``hot_share``, no significant trend.
5. ``diminishing``: hot share >= ``hot_share``, final step hot, decreasing trend.
6. ``oscillating``: final step hot, some earlier step cold, hot share < ``hot_share``.
7. ``historical``: final step not hot, hot share >= ``hot_share``.
8. ``sporadic``: hot share < ``hot_share``, some hot step, no cold step.
9. ``no_pattern``.

``too_few_reports`` ("för få rapporter") is decided before all rules: the location's
k-ring holds fewer than ``min_total`` reports over the whole period, **or** reports in
fewer than ``min_steps_with_reports`` steps while the final step is not hot (a burst
happening *now* may still be ``new``; an old one-off burst is not a pattern). Sparse
small-town data is the normal case: then use 2- or 4-week steps, which the
explanations suggest.
"""

from __future__ import annotations

from typing import Any, Literal

import numpy as np
import numpy.typing as npt
import pandas as pd
import scipy.sparse as sp

from analysis._mannkendall import mann_kendall
from analysis.getis_ord import GI_PARAMS, GetisOrdGiStar, two_sided_p
from geo.errors import ValidationError

_RULES = (
    "new",
    "consecutive",
    "intensifying",
    "persistent",
    "diminishing",
    "oscillating",
    "historical",
    "sporadic",
)

#: All pattern codes; the index in this tuple is the integer code.
PATTERNS: tuple[str, ...] = (
    *(f"{r}_hot" for r in _RULES),
    *(f"{r}_cold" for r in _RULES),
    "no_pattern",
    "too_few_reports",
)
PATTERN_CODE: dict[str, int] = {p: i for i, p in enumerate(PATTERNS)}
NO_PATTERN = PATTERN_CODE["no_pattern"]
TOO_FEW = PATTERN_CODE["too_few_reports"]

_RULE_SV = {
    "new": "ny",
    "consecutive": "sammanhängande",
    "intensifying": "intensifierande",
    "persistent": "ihållande",
    "diminishing": "avtagande",
    "oscillating": "växlande",
    "historical": "historisk",
    "sporadic": "sporadisk",
}

#: Swedish label of each pattern.
PATTERN_LABELS_SV: dict[str, str] = {
    **{f"{r}_hot": f"{sv} hotspot" for r, sv in _RULE_SV.items()},
    **{f"{r}_cold": f"{sv} kallpunkt" for r, sv in _RULE_SV.items()},
    "no_pattern": "inget mönster",
    "too_few_reports": "för få rapporter",
}

#: Patterns whose final step is significant hot.
HOT_NOW: frozenset[str] = frozenset(
    {"new_hot", "consecutive_hot", "intensifying_hot", "diminishing_hot", "oscillating_hot"}
)


def _side_rules(
    hot: npt.NDArray[np.bool_],
    cold: npt.NDArray[np.bool_],
    trend: npt.NDArray[np.int8],
    need: int,
) -> list[npt.NDArray[np.bool_]]:
    """The eight rules for one side (``hot`` is this side, ``cold`` the other)."""
    n_loc, n = hot.shape
    count = hot.sum(axis=1)
    cold_any = cold.any(axis=1)
    final = hot[:, -1] if n else np.zeros(n_loc, bool)
    share_hi = count >= need
    # length of the trailing run of hot steps
    not_hot_rev = ~hot[:, ::-1]
    trailing = np.where(not_hot_rev.any(axis=1), not_hot_rev.argmax(axis=1), n)
    return [
        final & (count == 1),
        final & (count == trailing) & ~share_hi,
        share_hi & final & (trend > 0),
        share_hi & (trend == 0),
        share_hi & final & (trend < 0),
        final & cold_any & ~share_hi,
        ~final & share_hi,
        ~share_hi & (count > 0) & ~cold_any,
    ]


def classify_patterns(
    hot: npt.ArrayLike,
    cold: npt.ArrayLike,
    trend: npt.ArrayLike,
    hot_share: float = 0.9,
    too_few: npt.ArrayLike | None = None,
) -> npt.NDArray[np.int8]:
    """Pattern code (index into :data:`PATTERNS`) of each location.

    Parameters
    ----------
    hot, cold
        Boolean (locations, steps): significant hot / cold steps.
    trend
        Mann-Kendall trend of the z series per location: +1, -1 or 0.
    hot_share
        Share of steps needed for persistent-type patterns (``ceil(hot_share * n)``
        steps, computed with a small tolerance so 0.9 x 10 is 9).
    too_few
        Locations to mark ``too_few_reports`` regardless of the rules.
    """
    h = np.asarray(hot, dtype=bool)
    c = np.asarray(cold, dtype=bool)
    if h.ndim != 2 or h.shape != c.shape:
        raise ValidationError("hot and cold must be 2-D arrays of the same shape")
    tr = np.asarray(trend).astype(np.int8).reshape(-1)
    n_loc, n = h.shape
    need = max(1, int(np.ceil(hot_share * n - 1e-9)))
    hot_rules = _side_rules(h, c, tr, need)
    cold_rules = _side_rules(c, h, (-tr).astype(np.int8), need)
    codes = np.full(n_loc, NO_PATTERN, dtype=np.int8)
    done = np.zeros(n_loc, dtype=bool)
    if too_few is not None:
        tf = np.asarray(too_few, dtype=bool).reshape(-1)
        codes[tf] = TOO_FEW
        done |= tf
    n_rules = len(_RULES)
    for r in range(n_rules):
        for side, rules in ((0, hot_rules), (1, cold_rules)):
            m = rules[r] & ~done
            codes[m] = r + side * n_rules
            done |= m
    return codes


class EmergingHotspots:
    """Emerging hot spot analysis of a :class:`analysis.cube.SpaceTimeCube`.

    Parameters
    ----------
    alpha
        Significance level of Gi* and of the Mann-Kendall trend.
    hot_share
        Share of steps for persistent, intensifying, diminishing and historical.
    min_steps_with_reports, min_total
        ``too_few_reports`` rule (see module docstring).
    min_step_count
        Reports needed in the k-ring for a significant step to count as hot.
    recurring_m, recurring_n
        ``recurring_`` = hot in at least ``m`` of the last ``n`` steps.
    k, window, time_lag, permutations, seed, fdr
        Passed to :class:`analysis.getis_ord.GetisOrdGiStar`.

    Attributes
    ----------
    gistar_ : GetisOrdGiStar
        The fitted Gi* (``z_``, ``p_``, ``q_``, ``significant_`` per cell and step).
    z_, p_, q_ : ndarray (n, T)
        Gi* z, two-sided p and the p used for significance.
    hot_, cold_ : bool ndarray (n, T)
        Significant hot / cold steps as defined above.
    ring_counts_ : ndarray (n, T)
        Reports in each cell's k-ring per step.
    rows_, compact_hot_, compact_cold_, compact_ring_
        Row of each cell in the compact Gi* results (:mod:`analysis.getis_ord`) and
        the hot/cold steps and k-ring counts per row; ``hot_``, ``cold_`` and
        ``ring_counts_`` expand them to (n, T).
    tau_, tau_p_, trend_ : ndarray (n,)
        Mann-Kendall tau, p-value and trend (+1/0/-1) of each z series (0, 1 and 0 for
        ``too_few_reports`` cells, whose pattern does not depend on a trend).
    pattern_code_ : int8 ndarray (n,)
        Index into :data:`PATTERNS`.
    pattern_ : object ndarray (n,)
        Pattern code strings.
    too_few_ : bool ndarray (n,)
    recurring_ : bool ndarray (n,)
    hot_share_ : ndarray (n,)
    """

    def __init__(
        self,
        alpha: float = 0.05,
        hot_share: float = 0.9,
        min_steps_with_reports: int = 2,
        min_total: int = 5,
        min_step_count: int = 3,
        recurring_m: int = 2,
        recurring_n: int = 8,
        k: int = 1,
        window: Literal["cube", "step"] = "cube",
        time_lag: int = 0,
        permutations: int = 0,
        seed: int | None = 0,
        fdr: bool = False,
    ) -> None:
        self.alpha = alpha
        self.hot_share = hot_share
        self.min_steps_with_reports = min_steps_with_reports
        self.min_total = min_total
        self.min_step_count = min_step_count
        self.recurring_m = recurring_m
        self.recurring_n = recurring_n
        self.k = k
        self.window = window
        self.time_lag = time_lag
        self.permutations = permutations
        self.seed = seed
        self.fdr = fdr

    @classmethod
    def from_config(cls, config: object) -> EmergingHotspots:
        """Build from an :class:`analysis.config.AnalysisConfig`."""
        names = (
            "hot_share",
            "min_steps_with_reports",
            "min_total",
            "min_step_count",
            "recurring_m",
            "recurring_n",
            *GI_PARAMS,
        )
        return cls(**{n: getattr(config, n) for n in names})

    def fit(self, cube: object) -> EmergingHotspots:
        """Classify every cell of ``cube`` (needs ``values``, ``counts``, ``weights(k)``).

        The work is done once per row of the compact Gi* results (every cell with
        reports in its k-ring, one row per cardinality for the empty rest; see
        :mod:`analysis.getis_ord`), so a city's empty cells cost nothing.
        """
        if not 0 < self.hot_share <= 1:
            raise ValidationError("hot_share must be in (0, 1]", context="EmergingHotspots")
        if not 1 <= self.recurring_m <= self.recurring_n:
            raise ValidationError("recurring needs 1 <= m <= n", context="EmergingHotspots")
        W = cube.weights(self.k)  # type: ignore[attr-defined]
        ring_all = sp.csr_matrix(W @ _sparse_counts(cube))
        ring_all.eliminate_zeros()
        gi = GetisOrdGiStar(**{n: getattr(self, n) for n in GI_PARAMS}).fit(
            cube,  # type: ignore[arg-type]
            keep_rows=np.diff(ring_all.indptr) > 0,
        )
        rows = gi.rows_
        first = np.empty(gi.row_weight_.shape[0], dtype=np.int64)
        first[rows[::-1]] = np.arange(rows.shape[0])[::-1]  # a cell of each row
        ring = ring_all[first].astype(np.float32).toarray()  # counts: exact in float32
        c = self.classify(gi.compact_z_, gi.compact_significant_, ring)

        self.gistar_ = gi
        self.rows_ = rows
        self.compact_hot_ = c["hot"]
        self.compact_cold_ = c["cold"]
        self.compact_ring_ = ring
        self.ring_total_ = c["ring_total"][rows]
        self.steps_with_reports_ = c["steps_with_reports"][rows]
        self.tau_ = c["tau"][rows]
        self.tau_p_ = c["tau_p"][rows]
        self.trend_ = c["trend"][rows]
        self.too_few_ = c["too_few"][rows]
        self.pattern_code_ = c["pattern_code"][rows]
        self.pattern_ = np.asarray(PATTERNS, dtype=object)[self.pattern_code_]
        self.hot_share_ = c["hot_share"][rows]
        self.recurring_ = c["recurring"][rows]
        return self

    def classify(
        self,
        z: npt.NDArray[np.float64],
        significant: npt.NDArray[np.bool_],
        ring: npt.NDArray[Any],
    ) -> dict[str, npt.NDArray[Any]]:
        """Hot/cold steps, trend and pattern of locations from their Gi* results.

        ``z``, ``significant`` and ``ring`` (k-ring report counts) are (locations, steps);
        returns arrays per location (``hot``, ``cold``: per location and step). Used by
        :meth:`fit` and, for a tenant computed in parts, by :mod:`analysis.partition`.
        """
        hot = significant & (z > 0) & (ring >= self.min_step_count)
        cold = significant & (z < 0)
        ring_total = ring.sum(axis=1)
        steps_with = (ring > 0).sum(axis=1)
        n_steps = z.shape[1]
        final_hot = hot[:, -1] if n_steps else np.zeros(z.shape[0], bool)
        too_few = (ring_total < self.min_total) | (
            (steps_with < self.min_steps_with_reports) & ~final_hot
        )
        # the trend decides patterns only where there are enough reports
        tau, tau_p = np.zeros(z.shape[0]), np.ones(z.shape[0])
        trend = np.zeros(z.shape[0], np.int8)
        tested = np.flatnonzero(~too_few)
        tau[tested], tau_p[tested], trend[tested] = _mann_kendall_rows(z[tested], self.alpha)
        last = min(self.recurring_n, n_steps)
        return {
            "hot": hot,
            "cold": cold,
            "ring_total": ring_total,
            "steps_with_reports": steps_with,
            "tau": tau,
            "tau_p": tau_p,
            "trend": trend,
            "too_few": too_few,
            "pattern_code": classify_patterns(hot, cold, trend, self.hot_share, too_few),
            "hot_share": hot.sum(axis=1) / max(n_steps, 1),
            "recurring": hot[:, n_steps - last :].sum(axis=1) >= self.recurring_m,
        }

    @property
    def z_(self) -> npt.NDArray[np.float64]:
        """Gi* z-scores (n, T)."""
        return self.gistar_.z_

    @property
    def p_(self) -> npt.NDArray[np.float64]:
        """Two-sided normal p-values (n, T)."""
        return self.gistar_.p_

    @property
    def q_(self) -> npt.NDArray[np.float64]:
        """The p-values significance is judged on (n, T)."""
        return self.gistar_.q_

    @property
    def hot_(self) -> npt.NDArray[np.bool_]:
        """Significant hot steps (n, T)."""
        return self.compact_hot_[self.rows_]

    @property
    def cold_(self) -> npt.NDArray[np.bool_]:
        """Significant cold steps (n, T)."""
        return self.compact_cold_[self.rows_]

    @property
    def ring_counts_(self) -> npt.NDArray[np.float64]:
        """Reports in each cell's k-ring per step (n, T)."""
        return self.compact_ring_[self.rows_]

    def last_step(self) -> dict[str, npt.NDArray[Any]]:
        """Final-step ``z``, ``p``, ``q`` and ``hot`` of every cell (length n each)."""
        gi, rows = self.gistar_, self.rows_
        z = gi.compact_z_[:, -1]
        return {
            "z": z[rows],
            "p": two_sided_p(z)[rows],
            "q": gi.q_column(-1)[rows],
            "hot": self.compact_hot_[:, -1][rows],
        }

    def to_frame(self, cube: object) -> pd.DataFrame:
        """One row per cell: pattern, final-step z/p, trend and evidence counts."""
        from geo.cells import cells_to_strings

        last = self.last_step()
        rows = self.rows_
        labels = np.asarray([PATTERN_LABELS_SV[p] for p in PATTERNS], dtype=object)
        count = np.asarray(_sparse_counts(cube).sum(axis=1)).ravel()
        values = getattr(cube, "sparse", None)
        weighted = (
            np.asarray(values("values").sum(axis=1)).ravel()
            if values is not None
            else np.asarray(cube.values).sum(axis=1)  # type: ignore[attr-defined]
        )
        return pd.DataFrame(
            {
                "cell": cells_to_strings(cube.cells),  # type: ignore[attr-defined]
                "locality": getattr(cube, "locality", np.full(rows.shape[0], None)),
                "pattern": self.pattern_,
                "pattern_sv": labels[self.pattern_code_],
                "z": last["z"],
                "p": last["p"],
                "q": last["q"],
                "hot": last["hot"],
                "recurring": self.recurring_,
                "tau": self.tau_,
                "tau_p": self.tau_p_,
                "trend": self.trend_,
                "hot_steps": self.compact_hot_.sum(axis=1)[rows],
                "cold_steps": self.compact_cold_.sum(axis=1)[rows],
                "hot_share": self.hot_share_,
                "ring_total": self.ring_total_,
                "steps_with_reports": self.steps_with_reports_,
                "count": count,
                "weighted": weighted,
            }
        )


def _sparse(cube: Any, name: str) -> sp.csr_matrix:
    """One of the cube's (n, T) arrays as CSR (stored sparse, or a dense stand-in)."""
    sparse_of = getattr(cube, "sparse", None)
    if sparse_of is not None:
        return sp.csr_matrix(sparse_of(name))
    return sp.csr_matrix(np.asarray(getattr(cube, name), dtype=float))


def _sparse_counts(cube: object) -> sp.csr_matrix:
    """The cube's report counts (or its values) as a float CSR matrix."""
    stored = getattr(cube, "sparse", None) is not None
    name = "counts" if stored or getattr(cube, "counts", None) is not None else "values"
    return sp.csr_matrix(_sparse(cube, name), dtype=np.float64)


def _mann_kendall_rows(
    z: npt.NDArray[np.float64], alpha: float, block: int = 8192
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64], npt.NDArray[np.int8]]:
    """Mann-Kendall tau, p and trend of each row, in cache-sized blocks of rows."""
    m = z.shape[0]
    tau, p = np.zeros(m), np.ones(m)
    trend = np.zeros(m, np.int8)
    for lo in range(0, m, block):
        mk = mann_kendall(z[lo : lo + block], alpha=alpha)
        tau[lo : lo + block], p[lo : lo + block], trend[lo : lo + block] = mk.tau, mk.p, mk.trend
    return tau, p, trend


def pattern_text_sv(pattern: str, step_weeks: int = 1) -> str:
    """Plain-Swedish sentence for a pattern, mentioning longer steps when data is thin."""
    label = PATTERN_LABELS_SV.get(pattern, pattern)
    if pattern == "too_few_reports":
        tip = (
            "prova längre perioder (2 eller 4 veckor)"
            if step_weeks < 4
            else "även med perioder om 4 veckor"
        )
        return f"för få rapporter för att se ett mönster ({tip})"
    return label


__all__ = [
    "HOT_NOW",
    "PATTERNS",
    "PATTERN_CODE",
    "PATTERN_LABELS_SV",
    "EmergingHotspots",
    "classify_patterns",
    "pattern_text_sv",
]
