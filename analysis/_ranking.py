"""Flagging the riskiest cells with ties scored by their expected value.

When the cut-off of a coverage falls inside a group of cells with equal risk, a forecast
has not said which of them to flag. Every such cell is then flagged with the same
probability ``r / t`` (``r`` places left for ``t`` tied cells), and the events and area it
brings count with that weight: the expected score over all orders of the tied cells, never
one arbitrary order.
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]


def flag_count(order_area: FloatArray, target: float) -> int:
    """Cells of the shortest prefix whose cumulative area reaches ``target`` (1 .. len)."""
    cum = np.cumsum(order_area)
    if cum.size == 0:
        return 0
    # relative tolerance: an exact multiple of the cell area must not take one cell more
    m = int(np.searchsorted(cum, target * (1 - 1e-12), side="left")) + 1
    return min(max(m, 1), int(cum.size))


def flag_weights(risk: npt.ArrayLike, m: int) -> FloatArray:
    """Probability that each cell is among the ``m`` flagged ones (ties share the rest).

    Cells above the cut-off value weigh 1, cells at it ``r / t``, cells below 0; NaN risk
    ranks last. The weights sum to ``m``.
    """
    return flag_weights_many(risk, (m,))[0]


def flag_weights_many(risk: npt.ArrayLike, ms: tuple[int, ...]) -> list[FloatArray]:
    """:func:`flag_weights` for each of ``ms`` on one risk, with one partial sort."""
    r = np.asarray(risk, dtype=np.float64)
    r = np.where(np.isnan(r), -np.inf, r)
    sizes = [min(int(m), r.size) for m in ms]
    kth = sorted({r.size - m for m in sizes if m > 0})
    part = np.partition(r, kth) if kth and r.size else r
    out = []
    for m in sizes:
        w = np.zeros(r.size)
        if m > 0 and r.size:
            cut = part[r.size - m]  # the m-th largest value
            above = r > cut
            tied = r == cut
            w[above] = 1.0
            w[tied] = (m - int(above.sum())) / int(tied.sum())
        out.append(w)
    return out


def caught_many(
    risk: npt.ArrayLike, ms: tuple[int, ...], rows: npt.ArrayLike, counts: npt.ArrayLike
) -> list[float]:
    """Expected events caught by flagging each of ``ms`` riskiest cells.

    The same as ``[w @ y for w in flag_weights_many(risk, ms)]`` for the counts ``y``
    that are ``counts`` at ``rows`` and 0 elsewhere, without building the weights: only
    the cells with events are looked at (a city's week has events in few of its cells).
    """
    r = np.asarray(risk, dtype=np.float64)
    if np.isnan(r).any():  # (a risk without NaN is used as it is: no copy)
        r = np.where(np.isnan(r), -np.inf, r)
    idx = np.asarray(rows, dtype=np.int64)
    y = np.asarray(counts, dtype=np.float64)
    sizes = [min(int(m), r.size) for m in ms]
    kth = sorted({r.size - m for m in sizes if m > 0})
    part = np.partition(r, kth) if kth and r.size else r
    at = r[idx]
    out = []
    for m in sizes:
        if m <= 0 or not r.size:
            out.append(0.0)
            continue
        cut = part[r.size - m]  # the m-th largest value
        above, tied = at > cut, at == cut
        caught = float(y[above].sum())
        if tied.any():
            n_above = int(np.count_nonzero(r > cut))
            n_tied = int(np.count_nonzero(r == cut))
            caught += float(y[tied].sum()) * ((m - n_above) / n_tied)
        out.append(caught)
    return out


def expected_capture(
    risk: npt.ArrayLike, actual: npt.ArrayLike, area: npt.ArrayLike, target_area: float
) -> tuple[float, float, int]:
    """Expected events and area caught by flagging ``target_area`` of the riskiest cells.

    Returns ``(n, a, m)``: expected events ``n`` in the flagged cells, their expected area
    ``a`` and the number of flagged cells ``m`` (set by the area rule on the risk order).
    """
    r = np.asarray(risk, dtype=np.float64)
    y = np.asarray(actual, dtype=np.float64)
    ar = np.asarray(area, dtype=np.float64)
    if ar.size and float(ar.min()) == float(ar.max()):
        m = flag_count(ar, target_area)  # equal areas: the order leaves the prefix sums alone
    else:
        order = np.argsort(-np.where(np.isnan(r), -np.inf, r), kind="stable")
        m = flag_count(ar[order], target_area)
    w = flag_weights(r, m)
    return float(w @ y), float(w @ ar), m


def n_star(actual: npt.ArrayLike, m: int) -> float:
    """Most events any ``m`` cells hold: the sum of the ``m`` largest counts (PEI*'s ``n*``).

    ``actual`` may hold only the cells with events (the others hold 0).
    """
    y = np.asarray(actual, dtype=np.float64)
    m = min(int(m), y.size)
    if m <= 0:
        return 0.0
    return float(np.partition(y, y.size - m)[y.size - m :].sum())


def capture_scores(
    n: float, N: float, n_star: float, m: int, a: float, A: float
) -> dict[str, float]:
    """Hit rate ``n / N``, PAI and PEI* ``n / n*`` from caught events and flagged area.

    NaN where undefined (no events, or ``n* = 0``).
    """
    hit = n / N if N > 0 else math.nan
    pai = hit / (a / A) if N > 0 and a > 0 else math.nan
    pei = n / n_star if n_star > 0 else math.nan
    return {
        "n": n,
        "N": N,
        "n_star": n_star,
        "cells": float(m),
        "area_m2": a,
        "hit_rate": hit,
        "pai": pai,
        "pei_star": pei,
    }


__all__ = [
    "capture_scores",
    "caught_many",
    "expected_capture",
    "flag_count",
    "flag_weights",
    "flag_weights_many",
    "n_star",
]
