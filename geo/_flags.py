"""First failing reason and its Swedish detail per row, set by vectorised checks."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from geo._staging import STR
from geo.schema import Reason


class _Flags:
    """First failing reason and its detail per row."""

    def __init__(self, index: pd.Index) -> None:
        self.reason = pd.Series(None, index=index, dtype=object)
        self.detail = pd.Series(None, index=index, dtype=object)

    @property
    def ok(self) -> pd.Series:
        return self.reason.isna()

    def flag(self, mask: pd.Series | np.ndarray, reason: Reason, detail: Any) -> None:
        m = pd.Series(np.asarray(mask, dtype=bool), index=self.reason.index) & self.ok
        if not m.any():
            return
        if callable(detail):  # computed only when some row fails
            detail = detail()
        self.reason[m] = reason.value
        if isinstance(detail, pd.Series):  # the whole frame's or only the failing rows'
            self.detail[m] = detail.reindex(self.reason.index[m.to_numpy()]).astype(object)
        else:
            self.detail[m] = detail


def _constant(value: str | None, index: pd.Index) -> pd.Series:
    return pd.Series(value, index=index, dtype=object)


def _quote(values: pd.Series) -> pd.Series:
    return "'" + values.astype(STR).fillna("") + "'"
