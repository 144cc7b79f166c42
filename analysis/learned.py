"""A learned forecast: Poisson gradient boosting on features of the past only.

:class:`LearnedForecast` (``"learned"``) is scikit-learn's
:class:`~sklearn.ensemble.HistGradientBoostingRegressor` with Poisson loss. Row ``(i, t)``
is cell ``i`` at step ``t``; its target is the cell's count in step ``t`` and its features
come from steps before ``t`` only (:func:`past_features`):

* the cell's recency-weighted mean count per step at half-lives of 1, 4, 13 and 52 weeks;
* the same means over the cell's k=1 and k=2 rings (neighbours only);
* steps since the cell's last event (capped at the history length) and the history length;
* season: the day of the year of step ``t`` (sine and cosine) and, for steps shorter than
  a week, the weekday.

The model is trained by rolling origin inside the training window (every step with at
least one step of history is a target) and predicts the step after the window.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
from sklearn.ensemble import HistGradientBoostingRegressor

from analysis._forecast_data import EventSeries
from analysis.forecast import _Forecast
from geo.errors import ValidationError

FloatArray = npt.NDArray[np.float64]

#: Half-lives (weeks) of the recency-weighted means.
HALF_LIVES_WEEKS = (1.0, 4.0, 13.0, 52.0)


def past_features(series: EventSeries) -> tuple[npt.NDArray[np.float32], list[str]]:
    """Features of every cell for every step ``t = 0 .. T`` from steps ``< t`` only.

    Returns
    -------
    (X, names)
        ``X`` has shape ``(T + 1, n_cells, n_features)``; ``X[t]`` describes step ``t``
        (``X[T]`` the step after the series) and depends only on ``counts[:, :t]``.
    """
    counts = series.counts
    n, T = counts.shape
    step_w = series.step_weeks
    decay = np.array([0.5 ** (step_w / h) for h in HALF_LIVES_WEEKS])
    W1 = series.weights(1, include_self=False)
    W2 = series.weights(2, include_self=False)
    deg1 = np.maximum(np.asarray(W1.sum(axis=1)).ravel(), 1.0)
    deg2 = np.maximum(np.asarray(W2.sum(axis=1)).ravel(), 1.0)
    h = len(HALF_LIVES_WEEKS)
    names = [f"own_{x:g}w" for x in HALF_LIVES_WEEKS]
    names += [f"ring1_{x:g}w" for x in HALF_LIVES_WEEKS]
    names += [f"ring2_{x:g}w" for x in HALF_LIVES_WEEKS]
    names += ["since_last", "history", "season_sin", "season_cos", "weekday"]
    X = np.zeros((T + 1, n, len(names)), dtype=np.float32)
    s = np.zeros((n, h))
    norm = np.zeros(h)
    since = np.zeros(n)
    starts = pd.DatetimeIndex(series.edges)
    for t in range(T + 1):
        if t > 0:
            c = counts[:, t - 1]
            s = s * decay + c[:, None]
            norm = norm * decay + 1.0
            since = np.where(c > 0, 0.0, since + 1.0)
        mean = s / np.where(norm > 0, norm, 1.0)
        X[t, :, 0:h] = mean
        X[t, :, h : 2 * h] = (W1 @ mean) / deg1[:, None]
        X[t, :, 2 * h : 3 * h] = (W2 @ mean) / deg2[:, None]
        X[t, :, 3 * h] = np.minimum(since if t > 0 else 0.0, t)
        X[t, :, 3 * h + 1] = t
        start = starts[t] if t < len(starts) else starts[-1] + series.step
        angle = 2 * np.pi * (start.dayofyear / 365.25)
        X[t, :, 3 * h + 2] = np.sin(angle)
        X[t, :, 3 * h + 3] = np.cos(angle)
        X[t, :, 3 * h + 4] = start.weekday() if step_w < 1 else 0
    return X, names


class LearnedForecast(_Forecast):
    """Poisson gradient boosting on past-only features, trained by rolling origin.

    Parameters
    ----------
    max_iter, learning_rate, max_leaf_nodes, min_samples_leaf
        Passed to :class:`~sklearn.ensemble.HistGradientBoostingRegressor`.
    max_rows
        Training rows above this number are sampled (seeded, uniformly).
    seed
        Seed of the sample and the model.
    """

    name = "learned"
    expected_count = True

    def __init__(
        self,
        max_iter: int = 100,
        learning_rate: float = 0.1,
        max_leaf_nodes: int = 15,
        min_samples_leaf: int = 200,
        max_rows: int = 300_000,
        seed: int = 0,
    ) -> None:
        self.max_iter = max_iter
        self.learning_rate = learning_rate
        self.max_leaf_nodes = max_leaf_nodes
        self.min_samples_leaf = min_samples_leaf
        self.max_rows = max_rows
        self.seed = seed

    def fit(self, data: Any) -> LearnedForecast:
        series = self._series(data)
        if series.n_steps < 2:
            raise ValidationError(
                "the learned forecast needs at least 2 steps", context="LearnedForecast"
            )
        X, names = past_features(series)
        n, T = series.counts.shape
        # targets: steps 1 .. T-1 (each has at least one step of history)
        Xtr = X[1:T].reshape(-1, len(names))
        y = series.counts[:, 1:T].T.reshape(-1)
        rng = np.random.default_rng(int(self.seed))
        if y.size > int(self.max_rows):
            pick = rng.choice(y.size, int(self.max_rows), replace=False)
            Xtr, y = Xtr[pick], y[pick]
        model = HistGradientBoostingRegressor(
            loss="poisson",
            max_iter=int(self.max_iter),
            learning_rate=float(self.learning_rate),
            max_leaf_nodes=int(self.max_leaf_nodes),
            min_samples_leaf=int(self.min_samples_leaf),
            early_stopping=False,
            random_state=int(self.seed),
        )
        if y.sum() > 0:
            model.fit(Xtr, y)
            risk = model.predict(X[T])
        else:
            risk = np.zeros(n)
        self.model_ = model
        self.feature_names_ = names
        self._done(series, np.asarray(risk, dtype=np.float64))
        return self


__all__ = ["HALF_LIVES_WEEKS", "LearnedForecast", "past_features"]
