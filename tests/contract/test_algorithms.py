"""One contract for every algorithm in ALGORITHMS: in-space, no duplicates, determinism, ends."""

from __future__ import annotations

import math

import pytest

from orion_cli.core.algorithms import ALGORITHMS, make_algorithm
from orion_cli.core.algorithms._common import observed, trial_of
from orion_cli.core.space import Categorical, Fidelity, Integer, Real, Space
from orion_cli.core.trial import Status
from orion_cli.errors import AlgorithmError

NAMES = sorted(ALGORITHMS)
# small settings so that model-based algorithms leave their initial design within the tests
FAST = {
    "tpe": {"n_initial_points": 5},
    "gp": {"n_initial_points": 5},
    "gridsearch": {"n_values": 6},
}


def mixed_space() -> Space:
    return Space(
        (
            Real("lr", 1e-5, 1.0, log=True),
            Real("x", -5.0, 5.0),
            Integer("layers", 1, 8),
            Categorical("act", ("relu", "tanh", "gelu")),
            Fidelity("epochs", 1, 27, 3),
        )
    )


def finite_space() -> Space:
    return Space(
        (
            Integer("a", 0, 2),
            Categorical("b", ("x", "y", "z")),
            Fidelity("epochs", 1, 9, 3),
        )
    )


def objective(params: dict) -> float:
    act = {"relu": 0.0, "tanh": 0.5, "gelu": 1.0}.get(params.get("act"), 0.0)
    value = (params.get("x", 0) - 1.0) ** 2 + abs(math.log10(params.get("lr", 1e-2)) + 2) + act
    return value + 0.1 * params.get("layers", params.get("a", 0)) - 0.01 * params["epochs"]


def build(name: str, space: Space, seed: int = 3, **extra):
    return make_algorithm(space, {name: {"seed": seed, **FAST.get(name, {}), **extra}})


def run(algorithm, space: Space, n_trials: int, batch: int = 1) -> list:
    """Suggest and complete until `n_trials` trials exist or the algorithm stops."""
    trials: list = []
    while len(trials) < n_trials:
        suggestions = algorithm.suggest(trials, batch)
        if not suggestions:
            break
        for s in suggestions:
            trial = trial_of(space, s.params, "exp", meta=s.meta, parent=s.parent)
            trials.append(observed(trial, objective(s.params)))
    return trials


def keys(params_list) -> list[str]:
    return [repr(sorted(p.items())) for p in params_list]


@pytest.mark.parametrize("name", NAMES)
def test_suggestions_are_in_space_and_never_repeat(name):
    space = mixed_space()
    algorithm = build(name, space)
    trials = run(algorithm, space, 24, batch=3)
    assert len(trials) == 24
    assert all(t.params in space for t in trials)
    assert len(set(keys(t.params for t in trials))) == len(trials)
    more = algorithm.suggest(trials, 4)
    assert more and all(s.params in space for s in more)
    combined = keys([t.params for t in trials] + [s.params for s in more])
    assert len(set(combined)) == len(combined)


@pytest.mark.parametrize("name", NAMES)
def test_same_seed_and_history_give_the_same_suggestions(name):
    space = mixed_space()
    trials = run(build(name, space, seed=11), space, 15)
    first = build(name, space, seed=11).suggest(trials, 3)
    second = build(name, space, seed=11).suggest(trials, 3)
    assert [(s.params, s.meta, s.parent) for s in first] == [
        (s.params, s.meta, s.parent) for s in second
    ]
    assert build(name, space, seed=11).suggest([], 2) == build(name, space, seed=11).suggest([], 2)


@pytest.mark.parametrize("name", NAMES)
def test_pending_trials_are_never_suggested_again(name):
    space = mixed_space()
    algorithm = build(name, space)
    pending = []
    for _ in range(4):
        for s in algorithm.suggest(pending, 5):
            status = Status.RESERVED if len(pending) % 2 else Status.NEW
            pending.append(trial_of(space, s.params, "exp", status=status, meta=s.meta))
    assert len(pending) == 20
    more = algorithm.suggest(pending, 5)
    assert len(more) == 5
    all_keys = keys([t.params for t in pending] + [s.params for s in more])
    assert len(set(all_keys)) == len(all_keys)


@pytest.mark.parametrize("name", NAMES)
def test_pending_trials_after_history_still_give_distinct_points(name):
    space = mixed_space()
    algorithm = build(name, space)
    trials = run(algorithm, space, 12)
    for _ in range(3):
        for s in algorithm.suggest(trials, 4):
            trials.append(trial_of(space, s.params, "exp", status=Status.RESERVED, meta=s.meta))
    assert len(trials) == 24
    assert len(set(keys(t.params for t in trials))) == 24


@pytest.mark.parametrize("name", NAMES)
def test_finite_space_ends(name):
    space = finite_space()
    algorithm = build(name, space)
    trials = run(algorithm, space, 500, batch=2)
    assert algorithm.suggest(trials, 3) == []
    assert algorithm.is_done(trials)
    configs = {(t.params["a"], t.params["b"]) for t in trials}
    assert len(configs) == 9
    assert len(set(keys(t.params for t in trials))) == len(trials)


@pytest.mark.parametrize("name", NAMES)
def test_unknown_option_is_refused_with_the_valid_ones(name):
    with pytest.raises(AlgorithmError, match="valid options are .*seed"):
        make_algorithm(mixed_space(), {name: {"no_such_option": 1}})


@pytest.mark.parametrize("name", NAMES)
def test_bad_seed_is_a_user_error(name):
    with pytest.raises(AlgorithmError, match="seed"):
        make_algorithm(mixed_space(), {name: {"seed": "abc"}})


@pytest.mark.parametrize("name", NAMES)
def test_config_forms_and_resolved_options(name):
    space = mixed_space()
    for config in (name, {name: {"seed": 5}}, {"of_type": name, "seed": 5}, {name: None}):
        algorithm = make_algorithm(space, config)
        assert "seed" in algorithm.options
    assert make_algorithm(space, {name: {"seed": 5}}).options["seed"] == 5


def test_unknown_algorithm_lists_the_valid_names():
    with pytest.raises(AlgorithmError, match="choose one of .*random"):
        make_algorithm(mixed_space(), "no-such-algorithm")


@pytest.mark.parametrize("name", NAMES)
def test_resolved_options_build_the_same_algorithm_again(name):
    space = mixed_space()
    options = make_algorithm(space, {name: {"seed": 9}}).options
    assert make_algorithm(space, {name: options}).options == options
