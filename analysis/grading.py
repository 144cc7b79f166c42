"""Suggested 5-grade assessment (placeholder, completed below)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class GradingRules:
    """Thresholds of the suggested grade."""

    recent_steps: int = 1
