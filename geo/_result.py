"""The outcome of an import: counts per outcome, reason and precision."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from geo.schema import (
    Precision,
)

PRECISIONS = tuple(p.value for p in Precision)


@dataclass
class IngestResult:
    """Counts of one import (and, for :func:`ingest_frame`, the outcome of every row)."""

    read: int = 0
    stored: int = 0
    duplicates: int = 0
    quarantined: int = 0
    reasons: dict[str, int] = field(default_factory=dict)
    precision: dict[str, int] = field(default_factory=lambda: dict.fromkeys(PRECISIONS, 0))
    placed_from_text: int | None = None
    kommuner: list[str] = field(default_factory=list)
    import_id: int | None = None
    resumed_from: int = 0
    format: str | None = None
    encoding: str | None = None
    delimiter: str | None = None
    seconds: float = 0.0
    #: Problems that kept rows from being processed at all (retries).
    problems: list[str] = field(default_factory=list)
    #: Per input row (same index as the input): outcome (stored | duplicate | quarantined),
    #: report_id, reason, detail, quarantine_id. Only filled by :func:`ingest_frame`.
    outcomes: pd.DataFrame | None = None

    @property
    def stored_ids(self) -> list[int]:
        """Ids of the reports stored by this call (needs :attr:`outcomes`)."""
        if self.outcomes is None:
            return []
        ok = self.outcomes["outcome"] == "stored"
        return [int(i) for i in self.outcomes.loc[ok, "report_id"]]

    def counts(self) -> dict[str, Any]:
        """The counters as a JSON object (also what an import run records)."""
        out: dict[str, Any] = {
            "read": self.read,
            "stored": self.stored,
            "duplicates": self.duplicates,
            "quarantined": self.quarantined,
            "reasons": dict(sorted(self.reasons.items())),
            "precision": {p: int(self.precision.get(p, 0)) for p in PRECISIONS},
        }
        if self.placed_from_text is not None:
            out["placed_from_text"] = self.placed_from_text
        return out

    def to_dict(self) -> dict[str, Any]:
        """The ``--json`` output of ``lagesbild ingest``."""
        return self.counts()

    def add(self, other: dict[str, Any]) -> None:
        """Add the counters of a batch (a :meth:`counts` dict without ``read``)."""
        self.stored += int(other.get("stored", 0))
        self.duplicates += int(other.get("duplicates", 0))
        self.quarantined += int(other.get("quarantined", 0))
        reasons = Counter(self.reasons)
        reasons.update(other.get("reasons", {}))
        self.reasons = {k: int(v) for k, v in reasons.items() if v}
        for p, n in other.get("precision", {}).items():
            self.precision[p] = self.precision.get(p, 0) + int(n)
        if "placed_from_text" in other:
            self.placed_from_text = (self.placed_from_text or 0) + int(other["placed_from_text"])
        self.kommuner = sorted(set(self.kommuner) | set(other.get("kommuner", [])))

    @classmethod
    def from_counts(cls, counts: dict[str, Any]) -> IngestResult:
        """Rebuild a result from an import run's recorded counts."""
        res = cls(read=int(counts.get("read", 0)))
        res.add(counts)
        return res


__all__ = ["IngestResult", "PRECISIONS"]
