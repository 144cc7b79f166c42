"""Learned forecast: features from the past only, Poisson gradient boosting."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from analysis._forecast_data import EventSeries
from analysis.learned import LearnedForecast, past_features

Series = Callable[[np.ndarray], EventSeries]


def _counts(seed: int = 0, T: int = 40) -> np.ndarray:
    rng = np.random.default_rng(seed)
    rate = rng.gamma(0.5, 0.6, size=(50, 1))
    return rng.poisson(np.broadcast_to(rate, (50, T))).astype(float)


def test_shuffling_the_future_changes_no_feature_and_no_forecast(weekly_series: Series) -> None:
    counts = _counts()
    origin = 30
    shuffled = counts.copy()
    rng = np.random.default_rng(9)
    shuffled[:, origin:] = rng.permutation(shuffled[:, origin:].T).T[
        rng.permutation(counts.shape[0])
    ]
    assert not np.array_equal(shuffled, counts)
    X, _ = past_features(weekly_series(counts))
    Xs, _ = past_features(weekly_series(shuffled))
    # features of steps up to the origin see only steps before it
    np.testing.assert_array_equal(X[: origin + 1], Xs[: origin + 1])
    assert not np.array_equal(X[origin + 2 :], Xs[origin + 2 :])
    # and the forecast made at the origin is the same whatever the future holds
    a = LearnedForecast(max_iter=30).fit(weekly_series(counts).window(0, origin))
    b = LearnedForecast(max_iter=30).fit(weekly_series(shuffled).window(0, origin))
    np.testing.assert_array_equal(a.risk_, b.risk_)


def test_learned_forecast_ranks_high_rate_cells_first(weekly_series: Series) -> None:
    counts = _counts(seed=3)
    model = LearnedForecast(max_iter=50, min_samples_leaf=20).fit(weekly_series(counts))
    rate = counts.mean(axis=1)
    top = np.argsort(-model.risk_)[:5]
    assert rate[top].mean() > 2 * rate.mean()
    assert abs(model.risk_.sum() - rate.sum()) < 0.5 * rate.sum()
    assert "own_13w" in model.feature_names_
