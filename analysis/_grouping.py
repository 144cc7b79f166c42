"""Vectorised grouping helpers of the cube builder (no per-row Python objects)."""

from __future__ import annotations

from typing import Any, TypeVar

import numpy as np
import numpy.typing as npt
import pandas as pd
import scipy.sparse as sp

from geo.cells import cells_resolution, cells_to_parent
from geo.errors import ValidationError

FloatArray = npt.NDArray[np.float64]


def empty_detail() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "cell_index": pd.Series(dtype=np.int32),
            "step": pd.Series(dtype=np.int32),
            "category": pd.Series(dtype=object),
            "source": pd.Series(dtype=object),
            "reporter_org": pd.Series(dtype=object),
            "count": pd.Series(dtype=np.int64),
            "weight": pd.Series(dtype=np.float64),
        }
    )


IntKeys = TypeVar("IntKeys", npt.NDArray[np.int64], npt.NDArray[np.uint64])


def label_codes(values: npt.ArrayLike) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.object_]]:
    """Integer codes (``-1`` = missing) and the distinct values, in order of appearance."""
    codes, uniques = pd.factorize(pd.Series(np.asarray(values, dtype=object)), use_na_sentinel=True)
    return codes.astype(np.int64), np.asarray(uniques, dtype=object)


def sorted_unique(keys: IntKeys) -> IntKeys:
    """``np.unique`` by sorting (much faster than hashing for a million integer keys)."""
    if keys.size == 0:
        return keys
    k = np.sort(keys)
    first = np.ones(k.shape[0], dtype=bool)
    first[1:] = k[1:] != k[:-1]
    return k[first]


def bins_to_csr(
    rows: npt.NDArray[np.int64],
    cols: npt.NDArray[np.int64],
    shape: tuple[int, int],
    weights: npt.ArrayLike | None = None,
    dtype: Any = np.float64,
) -> sp.csr_matrix:
    """Sums of ``weights`` (default 1) per ``(row, col)`` bin as a CSR matrix (no zeros)."""
    data = np.ones(rows.shape[0], dtype) if weights is None else np.asarray(weights, dtype)
    out = sp.csr_matrix((data, (rows, cols)), shape=shape, dtype=dtype)
    out.sum_duplicates()
    out.eliminate_zeros()
    return out


def distinct_to_csr(
    rows: npt.NDArray[np.int64],
    cols: npt.NDArray[np.int64],
    shape: tuple[int, int],
    codes: npt.NDArray[np.int64],
    n_labels: int,
) -> sp.csr_matrix:
    """Distinct non-missing ``codes`` (``-1`` = missing) per ``(row, col)`` bin, CSR int32."""
    ok = codes >= 0
    n_lab = max(n_labels, 1)
    key = sorted_unique((rows[ok] * shape[1] + cols[ok]) * n_lab + codes[ok])
    b = key // n_lab
    return bins_to_csr(b // max(shape[1], 1), b % max(shape[1], 1), shape, dtype=np.int32)


def distinct_per_bin(
    bins: npt.NDArray[np.int64], n_bins: int, codes: npt.NDArray[np.int64], n_labels: int
) -> npt.NDArray[np.int64]:
    """Number of distinct non-missing label ``codes`` (``-1`` = missing) in each bin."""
    ok = codes >= 0
    if not ok.any():
        return np.zeros(n_bins, np.int64)
    n_lab = max(n_labels, 1)
    key = sorted_unique(bins[ok] * n_lab + codes[ok])
    return np.bincount(key // n_lab, minlength=n_bins)


def group_rows(
    parts: list[tuple[npt.NDArray[np.int64], int]], weight: FloatArray
) -> tuple[list[npt.NDArray[np.int64]], npt.NDArray[np.int64], FloatArray]:
    """Group rows by several integer codes (each ``0 <= code < radix``).

    Returns the codes of each group (sorted by the composite key), its row count and the
    sum of ``weight``. The composite key is a mixed-radix int64 (checked not to overflow).
    """
    total = 1
    for _, radix in parts:
        total *= max(int(radix), 1)
    if total >= 2**62:
        raise ValidationError("too many distinct values to group reports")
    key = np.zeros(weight.shape[0], dtype=np.int64)
    for codes, radix in parts:
        key = key * max(int(radix), 1) + codes
    order = np.argsort(key, kind="stable")
    sk = key[order]
    if sk.size == 0:
        return [np.zeros(0, np.int64) for _ in parts], np.zeros(0, np.int64), np.zeros(0)
    first = np.flatnonzero(np.r_[True, sk[1:] != sk[:-1]])
    counts = np.diff(np.r_[first, sk.shape[0]]).astype(np.int64)
    sums = np.add.reduceat(weight[order], first)
    uniq = sk[first]
    decoded: list[npt.NDArray[np.int64]] = []
    for _, radix in reversed(parts):
        r = max(int(radix), 1)
        decoded.append(uniq % r)
        uniq = uniq // r
    return decoded[::-1], counts, sums


def group_sums(matrix: sp.csr_matrix, groups: list[npt.NDArray[np.int64]]) -> npt.NDArray[Any]:
    """Row sums of ``matrix`` over each group of rows (one row per group), in one product.

    The rows of a group are added in the group's order, as ``matrix[g].sum(axis=0)`` does.
    """
    T = matrix.shape[1]
    if not groups:
        return np.zeros((0, T), dtype=matrix.dtype)
    rows = np.concatenate(groups)
    zone = np.repeat(np.arange(len(groups)), [g.size for g in groups])
    member = sp.csr_matrix(
        (np.ones(rows.size, dtype=matrix.dtype), (zone, rows)),
        shape=(len(groups), matrix.shape[0]),
    )
    return np.asarray((member @ matrix).toarray()).reshape(len(groups), T)


def detail_frame(
    first_name: str,
    first_values: npt.NDArray[Any],
    step: npt.NDArray[np.int64],
    cat: tuple[npt.NDArray[np.int64], npt.NDArray[np.object_]],
    src: tuple[npt.NDArray[np.int64], npt.NDArray[np.object_]],
    org: tuple[npt.NDArray[np.int64], npt.NDArray[np.object_]],
    weight: FloatArray,
) -> pd.DataFrame:
    """Counts and weights per (first, step, category, source, reporter) without groupby."""
    if np.asarray(first_values).dtype.kind in "iu":
        first_codes = np.asarray(first_values, dtype=np.int64)
        first_uniques = np.arange(int(first_codes.max()) + 1 if first_codes.size else 0)
    else:
        codes_, uniq_ = pd.factorize(pd.Series(np.asarray(first_values, dtype=object)), sort=True)
        first_codes, first_uniques = codes_.astype(np.int64), np.asarray(uniq_, dtype=object)
    parts = [(first_codes, len(first_uniques)), (step.astype(np.int64), int(step.max()) + 1)]
    labels = []
    for codes, uniques in (cat, src, org):
        n_u = len(uniques)
        parts.append((np.where(codes < 0, n_u, codes), n_u + 1))  # missing -> extra code
        labels.append(np.r_[uniques, np.array([None], dtype=object)])
    (fc, st, cc, sc, oc), counts, sums = group_rows(parts, weight)
    frame = pd.DataFrame(
        {
            first_name: first_uniques[fc],
            "step": st.astype(np.int32),
            "category": labels[0][cc],
            "source": labels[1][sc],
            "reporter_org": labels[2][oc],
            "count": counts,
            "weight": sums,
        }
    )
    return frame  # already ordered by (first, step, ...): the composite key is sorted


def none_for_na(values: npt.ArrayLike) -> npt.NDArray[np.object_]:
    """Object array with every missing value (NaN, NA, None) as ``None``."""
    out = np.asarray(values, dtype=object).copy()
    out[pd.isna(out)] = None
    return out


def cell_universe(cells: Any, res: int) -> tuple[npt.NDArray[np.uint64], npt.NDArray[np.object_]]:
    """Sorted unique cells at ``res`` with their locality from a frame or an array."""
    if isinstance(cells, pd.DataFrame):
        if "cell" not in cells.columns:
            raise ValidationError("cell universe frame needs a 'cell' column")
        arr = np.asarray(cells["cell"].to_numpy(), dtype=np.uint64)
        loc = (
            cells["locality"].astype(object).to_numpy()
            if "locality" in cells.columns
            else np.full(arr.shape[0], None, dtype=object)
        )
    else:
        arr = np.asarray(cells, dtype=np.uint64)
        loc = np.full(arr.shape[0], None, dtype=object)
    keep = arr != 0
    arr, loc = arr[keep], loc[keep]
    if arr.size:
        r = cells_resolution(arr)
        if r < res:
            raise ValidationError(
                f"cell universe is at res {r}, coarser than the analysis res {res}"
            )
        if r > res:
            arr = cells_to_parent(arr, res)
    order = np.argsort(arr, kind="stable")
    arr, loc = arr[order], loc[order]
    first = np.ones(arr.shape[0], dtype=bool)
    first[1:] = arr[1:] != arr[:-1]
    return arr[first], none_for_na(loc)[first]


__all__ = [
    "cell_universe",
    "bins_to_csr",
    "detail_frame",
    "distinct_per_bin",
    "distinct_to_csr",
    "empty_detail",
    "group_rows",
    "group_sums",
    "label_codes",
    "none_for_na",
    "sorted_unique",
]
