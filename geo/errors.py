"""Exception hierarchy of lagesbild.

Every error raised on purpose by the packages derives from :class:`LagesbildError`.
Subclasses also inherit the matching builtin, so callers that only know Python's
exceptions (``ValueError``, ``LookupError``) still catch them.
"""

from __future__ import annotations

from collections.abc import Iterable


class LagesbildError(Exception):
    """Root of every lagesbild error."""


class ValidationError(LagesbildError, ValueError):
    """Input that does not satisfy a documented schema.

    Parameters
    ----------
    problems
        Every problem found, one human-readable line each. Validation collects all
        problems first and raises once, so a user can fix a file in one pass.
    context
        Optional prefix naming what was validated (file, layer, frame).
    """

    def __init__(self, problems: Iterable[str] | str, context: str | None = None) -> None:
        if isinstance(problems, str):
            problems = [problems]
        self.problems: list[str] = list(problems)
        self.context = context
        head = f"{context}: " if context else ""
        if len(self.problems) == 1:
            msg = head + self.problems[0]
        else:
            msg = (
                head
                + f"{len(self.problems)} problems:\n"
                + "\n".join(f"  - {p}" for p in self.problems)
            )
        super().__init__(msg)


class BoundaryError(ValidationError):
    """Boundary input (polygons, layers, fields) that cannot be used."""


class MappingError(ValidationError):
    """A column mapping (TOML) that does not fit the input."""


class NotFoundError(LagesbildError, LookupError):
    """A named thing (kommun, locality, report, user) does not exist."""


class ConfigError(LagesbildError, ValueError):
    """Configuration that is missing or inconsistent."""


class GeocodingError(LagesbildError, RuntimeError):
    """A geocoder could not be reached or answered with an error."""


class DuplicateKeyError(LagesbildError):
    """A row with this key (idempotency key, receipt…) is stored already."""
