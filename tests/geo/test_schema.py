"""Report schema: conform and validate."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from geo.errors import ValidationError
from geo.schema import (
    CATEGORY_CODES,
    REPORT_COLUMNS,
    SERIOUS_CATEGORIES,
    Precision,
    Source,
    conform_reports,
    empty_reports,
    validate_reports,
)


def minimal(n: int = 3) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "kommun": ["norrtalje"] * n,
            "source": ["actor", "citizen", "patrol"][:n],
            "occurred_at": pd.date_range("2026-11-10 20:00", periods=n, freq="h", tz="UTC"),
            "category": ["skadegorelse", "klotter", "otrygg_plats"][:n],
        }
    )


def test_empty_reports_has_documented_dtypes() -> None:
    frame = empty_reports()
    assert list(frame.columns) == list(REPORT_COLUMNS)
    assert {c: str(t) for c, t in frame.dtypes.items()} == REPORT_COLUMNS
    validate_reports(frame)


def test_conform_adds_missing_columns_with_defaults() -> None:
    frame = minimal()
    frame["extra"] = 1
    out = conform_reports(frame)
    assert list(out.columns) == list(REPORT_COLUMNS)
    assert (out["cell"] == 0).all() and out["cell"].dtype == np.uint64
    assert (out["status"] == "approved").all()
    assert out["lat"].isna().all() and out["id"].isna().all()
    assert str(out["occurred_at"].dt.tz) == "UTC"


def test_conform_converts_timestamps_with_offset_to_utc() -> None:
    frame = minimal(1)
    frame["occurred_at"] = ["2026-11-10T21:30:00+01:00"]
    out = conform_reports(frame)
    assert out["occurred_at"].iloc[0] == pd.Timestamp("2026-11-10 20:30", tz="UTC")


def test_conform_missing_required_columns_lists_all() -> None:
    with pytest.raises(ValidationError) as info:
        conform_reports(pd.DataFrame({"kommun": ["x"]}))
    err = info.value
    assert len(err.problems) == 3
    assert all(c in str(err) for c in ("source", "occurred_at", "category"))
    assert isinstance(err, ValueError)


def test_validate_collects_every_problem() -> None:
    frame = conform_reports(minimal())
    frame.loc[0, "lat"], frame.loc[0, "lon"] = 95.0, 18.0
    frame["precision"] = pd.array(["locality", "exact", "point"], dtype="string")
    frame.loc[2, "source"] = "twitter"
    frame["cell"] = np.array([123, 0, 0], dtype=np.uint64)
    with pytest.raises(ValidationError) as info:
        validate_reports(frame)
    text = str(info.value)
    assert len(info.value.problems) == 4
    assert "outside WGS84" in text and "'exact'" in text and "'twitter'" in text
    assert "must not have an H3 cell" in text


def test_coarse_precision_never_has_a_cell() -> None:
    assert Precision.POINT.has_cell and Precision.STREET.has_cell
    assert not Precision.LOCALITY.has_cell and not Precision.KOMMUN.has_cell
    assert [s.value for s in Source] == ["actor", "citizen", "patrol", "police"]


def test_categories() -> None:
    assert len(CATEGORY_CODES) == 13 and "otrygg_plats" in CATEGORY_CODES
    assert set(SERIOUS_CATEGORIES) == {"brand", "vald_hot"}
