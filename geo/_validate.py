"""Helpers that collect validation problems and raise one error."""

from __future__ import annotations

from collections.abc import Iterable

import pandas as pd

from geo.errors import ValidationError


class Problems:
    """Collects problems and raises a single :class:`ValidationError`.

    Examples
    --------
    >>> p = Problems("reports.csv")
    >>> p.check(False, "column 'lat' missing")
    >>> p.raise_if_any()  # doctest: +SKIP
    """

    def __init__(self, context: str | None = None, error: type[ValidationError] = ValidationError):
        self.context = context
        self.error = error
        self.items: list[str] = []

    def add(self, message: str) -> None:
        self.items.append(message)

    def check(self, ok: bool, message: str) -> None:
        if not ok:
            self.items.append(message)

    def __bool__(self) -> bool:
        return bool(self.items)

    def raise_if_any(self) -> None:
        if self.items:
            raise self.error(self.items, context=self.context)


def require_columns(
    frame: pd.DataFrame, columns: Iterable[str], problems: Problems, what: str = "frame"
) -> None:
    """Record one problem per column of ``columns`` missing from ``frame``."""
    for col in columns:
        if col not in frame.columns:
            problems.add(f"{what}: column '{col}' is missing")
