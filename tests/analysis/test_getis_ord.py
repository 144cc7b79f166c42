"""Gi*: agreement with esda, global windows, space-time lag, permutations and FDR."""

from __future__ import annotations

import warnings

import esda
import libpysal
import numpy as np
import pytest
from scipy.stats import norm

from analysis.cube import SpaceTimeCube
from analysis.getis_ord import GetisOrdGiStar, fdr_bh
from geo.cells import cells_to_disks, cells_to_neighbour_pairs, points_to_cells
from geo.errors import ValidationError


def _cells(k: int = 5, res: int = 9) -> np.ndarray:
    c = points_to_cells([59.7577], [18.6990], res)
    _, disk = cells_to_disks(c, k)
    return np.unique(disk)


def _libpysal_w(cells: np.ndarray, k: int = 1, include_self: bool = False) -> libpysal.weights.W:
    i, j = cells_to_neighbour_pairs(cells, k=k, include_self=include_self)
    neighbours: dict[int, list[int]] = {a: [] for a in range(cells.shape[0])}
    for a, b in zip(i.tolist(), j.tolist(), strict=True):
        neighbours[a].append(b)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return libpysal.weights.W(neighbours)


@pytest.fixture(scope="module")
def cube() -> SpaceTimeCube:
    cells = _cells()
    rng = np.random.default_rng(7)
    values = rng.poisson(0.6, size=(cells.size, 6)).astype(float)
    hot = [
        10,
        *np.flatnonzero(
            SpaceTimeCube.from_arrays(cells, np.zeros(cells.size)).weights(1)[10].toarray()[0]
        ),
    ]
    values[hot, :] += 5  # a hotspot: a cell and its ring
    values[:, 3] *= 1.7  # a busier week
    return SpaceTimeCube.from_arrays(cells, values)


@pytest.mark.parametrize("k", [1, 2])
@pytest.mark.parametrize("include_self", [False, True])
def test_matches_esda_g_local_star_per_step(
    cube: SpaceTimeCube, k: int, include_self: bool
) -> None:
    gi = GetisOrdGiStar(k=k, window="step").fit(cube)
    w = _libpysal_w(cube.cells, k=k, include_self=include_self)
    for t in range(cube.n_steps):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ref = esda.G_Local(cube.values[:, t], w, star=True, transform="B", permutations=0)
        np.testing.assert_allclose(gi.z_[:, t], ref.Zs, rtol=0, atol=1e-9)
        # our p is two-sided; esda's p_norm is one-sided
        np.testing.assert_allclose(gi.p_[:, t], 2 * ref.p_norm, rtol=0, atol=1e-12)


def test_cube_window_uses_all_cells_and_steps(cube: SpaceTimeCube) -> None:
    gi = GetisOrdGiStar(window="cube").fit(cube)
    Y = cube.values
    W = cube.weights(1).toarray()
    N = Y.size
    S = W @ Y
    c = W.sum(axis=1)[:, None]
    z = (S - c * Y.mean()) / (Y.std() * np.sqrt(c * (N - c) / (N - 1)))
    np.testing.assert_allclose(gi.z_, z, atol=1e-12)
    assert gi.n_window_ == N


def test_steady_hotspot_has_flat_z_series_with_cube_window() -> None:
    cells = _cells(k=4)
    cube0 = SpaceTimeCube.from_arrays(cells, np.zeros((cells.size, 10)))
    W = cube0.weights(1)
    rng = np.random.default_rng(3)
    values = np.repeat(rng.poisson(0.5, size=(cells.size, 1)).astype(float), 10, axis=1)
    h = 5
    values[h] += 6.0
    ring = W[h].indices
    elsewhere = np.setdiff1d(np.arange(cells.size), ring)
    values[elsewhere, 7] += rng.poisson(2.0, size=elsewhere.size)  # the rest of town changes
    cube = SpaceTimeCube.from_arrays(cells, values)
    z_cube = GetisOrdGiStar(window="cube").fit(cube).z_
    z_step = GetisOrdGiStar(window="step").fit(cube).z_
    assert np.ptp(z_cube[h]) < 1e-12
    assert z_cube[h, 0] > 0.5
    assert np.ptp(z_step[h]) > 0.5  # per-step windows move with the rest of the map


def test_space_time_lag_matches_explicit_neighbourhood(cube: SpaceTimeCube) -> None:
    lag = 2
    gi = GetisOrdGiStar(window="cube", time_lag=lag).fit(cube)
    Y = cube.values
    W = cube.weights(1).toarray()
    n, T = Y.shape
    N = n * T
    ybar, s = Y.mean(), Y.std()
    for t in range(T):
        steps = range(max(0, t - lag), t + 1)
        S = sum(W @ Y[:, u] for u in steps)
        c = W.sum(axis=1) * len(steps)
        z = (S - c * ybar) / (s * np.sqrt(c * (N - c) / (N - 1)))
        np.testing.assert_allclose(gi.z_[:, t], z, atol=1e-12)


def test_permutations_seeded_and_folded_two_sided(cube: SpaceTimeCube) -> None:
    a = GetisOrdGiStar(window="step", permutations=199, seed=5).fit(cube)
    b = GetisOrdGiStar(window="step", permutations=199, seed=5).fit(cube)
    np.testing.assert_array_equal(a.p_sim_, b.p_sim_)
    assert (a.p_sim_ > 0).all() and (a.p_sim_ <= 1).all()
    # the planted hotspot (a cell and its ring) is extreme in every step
    assert a.p_sim_[10].max() <= 2 * 2 / 200 + 1e-12
    # pseudo p agrees roughly with the normal approximation
    assert np.corrcoef(a.p_sim_.ravel(), a.p_.ravel())[0, 1] > 0.6
    c = GetisOrdGiStar(window="cube", permutations=99, seed=1).fit(cube)
    assert c.p_sim_.shape == cube.values.shape


def test_zero_neighbourhood_is_not_extreme_under_permutation() -> None:
    cells = _cells(k=4)
    values = np.zeros((cells.size, 1))
    values[:3, 0] = 1.0
    cube = SpaceTimeCube.from_arrays(cells, values)
    gi = GetisOrdGiStar(window="step", permutations=99, seed=0).fit(cube)
    zero = np.asarray(cube.weights(1) @ values).ravel() == 0
    # ties count in both tails: an all-zero neighbourhood is ordinary, not significant
    assert (gi.p_sim_[zero, 0] > 0.5).all()


def _bh_reference(p: np.ndarray, alpha: float) -> np.ndarray:
    """Benjamini-Hochberg straight from the definition (step-up on sorted p)."""
    m = p.size
    order = np.argsort(p)
    k_max = 0
    for rank, idx in enumerate(order, start=1):
        if p[idx] <= rank / m * alpha:
            k_max = rank
    out = np.zeros(m, dtype=bool)
    out[order[:k_max]] = True
    return out


def test_fdr_bh_matches_definition() -> None:
    rng = np.random.default_rng(11)
    for _ in range(20):
        p = np.concatenate([rng.uniform(0, 0.01, 5), rng.uniform(0, 1, 40)])
        for alpha in (0.01, 0.05, 0.2):
            np.testing.assert_array_equal(fdr_bh(p) <= alpha, _bh_reference(p, alpha))
    # hand computation: m = 4, p = (0.01, 0.04, 0.03, 0.5)
    q = fdr_bh([0.01, 0.04, 0.03, 0.5])
    np.testing.assert_allclose(q, [0.04, 0.04 * 4 / 3, 0.04 * 4 / 3, 0.5])
    both = fdr_bh(np.array([[0.01, 0.5], [0.04, 0.01]]), axis=0)
    np.testing.assert_allclose(both, [[0.02, 0.5], [0.04, 0.02]])
    with_nan = fdr_bh([0.01, np.nan, 0.02])
    assert np.isnan(with_nan[1]) and with_nan[0] == pytest.approx(0.02)


def test_significance_uses_fdr_within_each_step(cube: SpaceTimeCube) -> None:
    plain = GetisOrdGiStar(window="step", alpha=0.05).fit(cube)
    fdr = GetisOrdGiStar(window="step", alpha=0.05, fdr=True).fit(cube)
    for t in range(cube.n_steps):
        np.testing.assert_array_equal(fdr.significant_[:, t], _bh_reference(plain.p_[:, t], 0.05))
    assert fdr.significant_.sum() <= plain.significant_.sum()
    np.testing.assert_array_equal(plain.significant_, plain.p_ <= 0.05)
    np.testing.assert_allclose(plain.p_, 2 * norm.sf(np.abs(plain.z_)))
    assert (plain.hot_ == plain.significant_ & (plain.z_ > 0)).all()


def test_constant_cube_gives_zero_z() -> None:
    cells = _cells(k=2)
    gi = GetisOrdGiStar().fit(SpaceTimeCube.from_arrays(cells, np.ones((cells.size, 3))))
    assert (gi.z_ == 0).all() and (gi.p_ == 1).all() and not gi.significant_.any()


def test_nothing_significant_with_fdr() -> None:
    # no z reaches the critical value: the FDR step has nothing to rank (used to fail)
    cells = _cells(k=2)
    values = np.ones((cells.size, 3))
    values[0, 1] = 2.0
    gi = GetisOrdGiStar(window="step", fdr=True).fit(SpaceTimeCube.from_arrays(cells, values))
    assert np.abs(gi.z_).max() < 1.96 and not gi.significant_.any()


def test_invalid_parameters() -> None:
    cells = _cells(k=1)
    cube = SpaceTimeCube.from_arrays(cells, np.ones((cells.size, 2)))
    with pytest.raises(ValidationError) as err:
        GetisOrdGiStar(window="year", time_lag=-1, alpha=2).fit(cube)  # type: ignore[arg-type]
    assert len(err.value.problems) == 4
    with pytest.raises(ValidationError):
        GetisOrdGiStar(window="step", time_lag=1).fit(cube)


def test_compact_rows_give_the_same_results_as_the_full_arrays() -> None:
    cells = _cells(k=8)
    rng = np.random.default_rng(3)
    values = np.zeros((cells.size, 12))
    busy = rng.choice(cells.size, 15, replace=False)  # most cells stay empty
    values[busy] = rng.poisson(4.0, (15, 12))
    cube = SpaceTimeCube.from_arrays(cells, values)
    gi = GetisOrdGiStar(k=1, fdr=True).fit(cube)
    # empty neighbourhoods share one row per cardinality
    assert gi.row_weight_.shape[0] < cells.size // 2
    assert gi.row_weight_.sum() == cells.size
    # the expanded results are those of the statistic on every cell
    W = cube.weights(1)
    S = W @ values
    c = np.asarray(W.sum(axis=1)).ravel()[:, None]
    N = values.size
    z = (S - c * values.mean()) / (values.std() * np.sqrt(c * (N - c) / (N - 1)))
    np.testing.assert_allclose(gi.z_, z, rtol=0, atol=1e-9)
    np.testing.assert_allclose(gi.local_sum_, S, rtol=0, atol=1e-9)
    q = fdr_bh(2 * norm.sf(np.abs(z)), axis=0)
    np.testing.assert_allclose(gi.q_, q, rtol=0, atol=1e-12)
    np.testing.assert_array_equal(gi.significant_, q <= 0.05)
    assert gi.significant_.any()
