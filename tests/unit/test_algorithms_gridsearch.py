"""Grid search: bounds included, log spacing, categoricals whole, thinning to the budget."""

from __future__ import annotations

import pytest

from orion_cli.core.algorithms import make_algorithm
from orion_cli.core.algorithms._common import observed, trial_of
from orion_cli.core.algorithms.gridsearch import grid_values
from orion_cli.core.space import Categorical, Fidelity, Integer, Real, Space
from orion_cli.errors import AlgorithmError


def test_real_grid_includes_both_bounds_evenly():
    assert grid_values(Real("x", -1.0, 1.0), 5) == [-1.0, -0.5, 0.0, 0.5, 1.0]


def test_log_real_grid_is_log_spaced():
    values = grid_values(Real("lr", 1e-4, 1.0, log=True), 5)
    assert values == pytest.approx([1e-4, 1e-3, 1e-2, 1e-1, 1.0])


def test_integer_grid_takes_every_value_when_small_and_spreads_otherwise():
    assert grid_values(Integer("n", 2, 5), 10) == [2, 3, 4, 5]
    values = grid_values(Integer("n", 0, 100), 5)
    assert values == [0, 25, 50, 75, 100]
    assert grid_values(Integer("n", 1, 1000, log=True), 4) == [1, 10, 100, 1000]


def test_categorical_grid_has_all_choices_and_fidelity_is_high():
    assert grid_values(Categorical("c", ("a", "b", "c")), 2) == ["a", "b", "c"]
    assert grid_values(Fidelity("e", 1, 81, 3), 5) == [81]


def _run_all(algorithm, space):
    trials = []
    while suggestions := algorithm.suggest(trials, 4):
        trials += [observed(trial_of(space, s.params), 0.0) for s in suggestions]
    return trials


def test_full_grid_is_visited_once_then_done():
    space = Space((Real("x", 0.0, 1.0), Categorical("c", ("a", "b")), Fidelity("e", 1, 9)))
    algorithm = make_algorithm(space, {"gridsearch": {"n_values": 3}})
    trials = _run_all(algorithm, space)
    points = sorted((t.params["x"], t.params["c"]) for t in trials)
    assert points == sorted((x, c) for x in (0.0, 0.5, 1.0) for c in ("a", "b"))
    assert all(t.params["e"] == 9 for t in trials)
    assert algorithm.is_done(trials)
    assert not algorithm.is_done(trials[:-1])


def test_grid_is_thinned_evenly_to_the_budget():
    space = Space((Real("x", 0.0, 1.0), Real("y", 0.0, 1.0)))
    algorithm = make_algorithm(space, {"gridsearch": {"n_values": 10, "max_trials": 30}})
    trials = _run_all(algorithm, space)
    assert len(trials) <= 30
    xs = sorted({t.params["x"] for t in trials})
    ys = sorted({t.params["y"] for t in trials})
    assert xs[0] == 0.0 and xs[-1] == 1.0 and ys[0] == 0.0 and ys[-1] == 1.0
    assert len(xs) * len(ys) == len(trials) and len(trials) >= 25


def test_categorical_grid_over_budget_keeps_evenly_spaced_points():
    space = Space((Categorical("a", tuple(range(10))), Categorical("b", tuple(range(10)))))
    algorithm = make_algorithm(space, {"gridsearch": {"max_trials": 20}})
    trials = _run_all(algorithm, space)
    assert len(trials) == 20
    assert {t.params["a"] for t in trials} == set(range(10))


def test_per_dimension_n_values_and_seeded_order():
    space = Space((Real("x", 0.0, 1.0), Real("y", 0.0, 1.0)))
    config = {"gridsearch": {"n_values": {"x": 2, "y": 5}, "seed": 4}}
    algorithm = make_algorithm(space, config)
    assert algorithm.size == 10
    first = [s.params for s in algorithm.suggest([], 10)]
    assert len({(p["x"], p["y"]) for p in first}) == 10
    natural = make_algorithm(space, {"gridsearch": {"n_values": {"x": 2, "y": 5}}})
    assert [s.params for s in natural.suggest([], 10)] != first


def test_bad_n_values_are_refused():
    space = Space((Real("x", 0.0, 1.0),))
    with pytest.raises(AlgorithmError, match="unknown dimensions"):
        make_algorithm(space, {"gridsearch": {"n_values": {"z": 3}}})
    with pytest.raises(AlgorithmError, match="n_values must be an integer"):
        make_algorithm(space, {"gridsearch": {"n_values": 0}})
