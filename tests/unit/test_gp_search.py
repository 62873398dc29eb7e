"""gp's model of a space (encoding, Hamming distance), its objective warp and its search."""

from __future__ import annotations

import numpy as np
import pytest

from orion_cli.core.algorithms import make_algorithm
from orion_cli.core.algorithms._common import observed, trial_of
from orion_cli.core.algorithms._gp_search import Encoding, maximize_log_ei
from orion_cli.core.algorithms.gaussian_process import GP, warp
from orion_cli.core.space import Categorical, Fidelity, Integer, Real, Space

SPACE = Space(
    (
        Categorical("opt", ("sgd", "adam", "rmsprop", "adagrad")),
        Integer("layers", 1, 10),
        Integer("width", 8, 200, log=True),
        Integer("seed", 0, 5000),
        Real("lr", 1e-5, 1.0, log=True),
        Real("x", -2.0, 3.0),
        Fidelity("epochs", 1, 9, 3),
    )
)


def test_encoding_round_trips_every_kind_of_dimension():
    enc = Encoding.of(SPACE)
    rng = np.random.default_rng(0)
    params = [SPACE.sample(rng) | {"epochs": 9} for _ in range(30)]
    x = enc.encode([trial_of(SPACE, p) for p in params])
    # searched columns by name: layers, lr, opt, seed, width, x; an integer with more than
    # _MAX_GRID values is searched as continuous
    assert [bool(c) for c in enc.categorical] == [False, False, True, False, False, False]
    assert [g is None for g in enc.grids] == [False, True, False, True, False, True]
    assert set(x[:, 2]) <= {0.0, 1.0, 2.0, 3.0}
    for row, p in zip(x, params, strict=True):
        assert enc.decode(row) == pytest.approx(p)


def test_candidates_are_snapped_onto_the_values_a_dimension_allows():
    enc = Encoding.of(SPACE)
    x = enc.from_cube(np.random.default_rng(1).random((200, 6)))
    for j, grid in enumerate(enc.grids):
        if grid is not None:
            assert np.isin(x[:, j], grid).all()
    assert np.all((x[:, 5] >= 0) & (x[:, 5] <= 1))


def test_categorical_choices_are_all_equally_far_apart():
    x = np.array([[0.0, 0.5], [1.0, 0.5], [3.0, 0.5]])
    y = np.array([0.0, 1.0, -1.0])
    gp = GP.build(x, y, np.array([True, False]), np.array([1.0, 1.0]), 1.0, np.full(3, 1e-6))
    mean_1, _ = gp.predict(np.array([[2.0, 0.5]]))
    # choice 2 is no nearer to choice 3 than to choice 0: a new choice predicts the prior mean
    # pulled equally by every observation, whatever the choice indices
    mean_2, _ = gp.predict(np.array([[5.0, 0.5]]))
    assert mean_1 == pytest.approx(mean_2)


def test_warp_is_monotone_standardized_and_tames_a_heavy_tail():
    y = np.concatenate([np.linspace(0.0, 1.0, 40), [50.0, 400.0, 3000.0]])
    w = warp(y)
    assert np.all(np.diff(w[np.argsort(y)]) > 0)
    assert w.mean() == pytest.approx(0.0, abs=1e-9) and w.std() == pytest.approx(1.0)
    plain = (y - y.mean()) / y.std()
    # the 40 ordinary values are no longer squeezed into a sliver of the range
    assert np.ptp(w[:40]) > 5 * np.ptp(plain[:40])


@pytest.mark.parametrize("y", [[1.0], [2.0, 2.0, 2.0], [1.0, 3.0]])
def test_warp_of_degenerate_histories_is_finite(y):
    w = warp(np.array(y))
    assert np.all(np.isfinite(w)) and len(w) == len(y)


def test_the_search_returns_allowed_points_best_first():
    enc = Encoding.of(SPACE)
    rng = np.random.default_rng(2)
    x = enc.from_cube(rng.random((25, 6)))
    y = warp(np.sin(3 * x[:, 5]) + (x[:, 2] == 2))
    gp = GP.fit(x, y, enc.categorical)
    ranked = maximize_log_ei(gp, float(y.min()), x[np.argmin(y)], enc, rng, 256, 4)
    assert len(ranked) == 4 + 256
    for point in ranked[:4]:
        for j, grid in enumerate(enc.grids):
            if grid is not None:
                assert point[j] in grid
        assert enc.decode(point) | {"epochs": 9} in SPACE


def test_an_unordered_categorical_and_an_integer_are_solved():
    # the best choice is the last one and the worst sits in the middle: an ordered encoding of
    # the choices would make the best look like a neighbour of the worst
    space = Space((Categorical("c", ("a", "b", "c", "d", "e")), Integer("n", 1, 20)))
    cost = {"a": 0.3, "b": 2.0, "c": 3.0, "d": 2.0, "e": 0.0}

    def f(p: dict) -> float:
        return cost[p["c"]] + 0.1 * (p["n"] - 13) ** 2

    algorithm = make_algorithm(space, {"gp": {"seed": 0, "n_initial_points": 6}})
    trials: list = []
    for _ in range(25):
        params = algorithm.suggest(trials, 1)[0].params
        trials.append(observed(trial_of(space, params), f(params)))
    assert min(t.objective for t in trials) == 0.0


def test_hyperparameters_of_a_long_history_are_fitted_on_a_subset():
    rng = np.random.default_rng(3)
    x = rng.random((400, 2))
    y = warp(np.sin(6 * x[:, 0]))
    gp = GP.fit(x, y)
    assert len(gp.x) == 400 and gp.scales[1] > 3 * gp.scales[0]
    mean, _ = gp.predict(x[:20])
    assert mean == pytest.approx(gp.y[:20], abs=0.05)
