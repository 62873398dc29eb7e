"""Hyperband and ASHA: rung budgets, promotions that keep hash_params, no idle workers."""

from __future__ import annotations

import pytest

from orion_cli.core.algorithms import make_algorithm
from orion_cli.core.algorithms._common import observed, trial_of
from orion_cli.core.algorithms._rungs import rungs_for
from orion_cli.core.space import Categorical, Fidelity, Integer, Real, Space
from orion_cli.core.trial import Status
from orion_cli.errors import AlgorithmError

SPACE = Space((Real("x", 0.0, 1.0), Fidelity("epochs", 1, 9, 3)))


def f(params: dict) -> float:
    return (params["x"] - 0.3) ** 2


def new_trials(space: Space, suggestions) -> list:
    return [trial_of(space, s.params, "e", meta=s.meta, parent=s.parent) for s in suggestions]


def complete(trials: list) -> list:
    return [observed(t, f(t.params)) if t.status is Status.NEW else t for t in trials]


def test_rungs_come_from_low_high_and_base():
    assert rungs_for(Space((Fidelity("e", 1, 81, 3),)), "asha").budgets == (1, 3, 9, 27, 81)
    assert rungs_for(Space((Fidelity("e", 1, 100, 4),)), "asha").budgets == (2, 6, 25, 100)
    assert rungs_for(Space((Fidelity("e", 0.5, 4.0, 2),)), "asha").budgets == (0.5, 1, 2, 4)


@pytest.mark.parametrize("name", ["asha", "hyperband"])
def test_a_space_without_fidelity_is_a_clear_error(name):
    with pytest.raises(AlgorithmError, match="needs one fidelity dimension"):
        make_algorithm(Space((Real("x", 0.0, 1.0),)), name)


def test_asha_promotes_the_best_of_three_keeping_hash_params():
    algorithm = make_algorithm(SPACE, {"asha": {"seed": 1}})
    trials = complete(new_trials(SPACE, algorithm.suggest([], 3)))
    assert {t.params["epochs"] for t in trials} == {1}
    (promoted,) = algorithm.suggest(trials, 1)
    best = min(trials, key=lambda t: t.objective)
    assert promoted.parent == best.id
    assert promoted.params == {**best.params, "epochs": 3}
    assert promoted.meta == {"bracket": 0, "rung": 1}
    child = new_trials(SPACE, [promoted])[0]
    assert child.hash_params == best.hash_params and child.id != best.id


def test_asha_starts_new_configurations_instead_of_waiting():
    algorithm = make_algorithm(SPACE, {"asha": {"seed": 1}})
    trials = new_trials(SPACE, algorithm.suggest([], 3))
    trials = complete(trials[:2]) + trials[2:]  # one still pending: nothing to promote yet
    more = algorithm.suggest(trials, 4)
    assert len(more) == 4
    assert all(s.meta == {"bracket": 0, "rung": 0} and s.params["epochs"] == 1 for s in more)


def test_asha_brackets_start_at_their_own_rung():
    space = Space((Real("x", 0.0, 1.0), Fidelity("epochs", 1, 27, 3)))
    algorithm = make_algorithm(space, {"asha": {"seed": 2, "num_brackets": 3}})
    suggestions = algorithm.suggest([], 13)
    by_bracket = {}
    for s in suggestions:
        by_bracket.setdefault(s.meta["bracket"], set()).add(s.params["epochs"])
    assert by_bracket == {0: {1}, 1: {3}, 2: {9}}


def test_asha_with_repetitions_ends_when_its_rungs_are_full():
    algorithm = make_algorithm(SPACE, {"asha": {"seed": 3, "repetitions": 1}})
    trials: list = []
    while suggestions := algorithm.suggest(trials, 2):
        trials = complete(trials + new_trials(SPACE, suggestions))
    counts = [sum(t.meta["rung"] == r for t in trials) for r in range(3)]
    assert counts == [9, 3, 1]
    assert algorithm.is_done(trials)
    top = next(t for t in trials if t.meta["rung"] == 2)
    assert top.params["epochs"] == 9 and top.parent is not None


def test_hyperband_bracket_sizes_follow_the_paper():
    space = Space((Real("x", 0.0, 1.0), Fidelity("epochs", 1, 81, 3)))
    sizes = make_algorithm(space, "hyperband").sizes
    assert [sizes[(0, r)] for r in range(5)] == [81, 27, 9, 3, 1]
    assert [sizes[(1, r)] for r in range(1, 5)] == [34, 11, 3, 1]
    assert [sizes[(2, r)] for r in range(2, 5)] == [15, 5, 1]
    assert [sizes[(3, r)] for r in range(3, 5)] == [8, 2]
    assert sizes[(4, 4)] == 5


def test_hyperband_waits_for_a_whole_rung_then_promotes_its_best():
    algorithm = make_algorithm(SPACE, {"hyperband": {"seed": 5}})
    base = new_trials(SPACE, algorithm.suggest([], 9))
    assert all(t.meta == {"repetition": 0, "bracket": 0, "rung": 0} for t in base)
    trials = complete(base[:8]) + base[8:]
    busy = algorithm.suggest(trials, 2)
    assert [s.meta["bracket"] for s in busy] == [1, 1]  # other brackets go on meanwhile
    trials = complete(trials + new_trials(SPACE, busy))
    promoted = [s for s in algorithm.suggest(trials, 5) if s.meta["bracket"] == 0]
    best = sorted((t for t in trials if t.meta["bracket"] == 0), key=lambda t: t.objective)[:3]
    assert [s.parent for s in promoted] == [t.id for t in best]
    assert all(s.params["epochs"] == 3 and s.meta["rung"] == 1 for s in promoted)


def test_hyperband_repetitions_end_the_search():
    algorithm = make_algorithm(SPACE, {"hyperband": {"seed": 6, "repetitions": 2}})
    trials: list = []
    while suggestions := algorithm.suggest(trials, 3):
        trials = complete(trials + new_trials(SPACE, suggestions))
    per_rep = [9 + 3 + 1 + 5 + 1 + 3 for _ in range(2)]
    assert len(trials) == sum(per_rep)
    assert {t.meta["repetition"] for t in trials} == {0, 1}
    assert algorithm.is_done(trials)


def run_to_the_end(algorithm, space: Space, objective, per_call: int = 2) -> list:
    """Suggest, complete every trial, until the algorithm suggests nothing (at most 200 trials)."""
    trials: list = []
    while len(trials) < 200 and (suggestions := algorithm.suggest(trials, per_call)):
        trials += new_trials(space, suggestions)
        trials = [
            observed(t, objective(t.params)) if t.status is Status.NEW else t for t in trials
        ]
    return trials


FINITE_SPACES = [
    Space((Categorical("opt", ("a", "b", "c")), Fidelity("epochs", 1, 9, 3))),
    Space(
        (Integer("layers", 1, 2), Categorical("act", ("relu", "tanh")), Fidelity("e", 1, 27, 3))
    ),
]


def finite_objective(params: dict) -> float:
    score = {"a": 1.0, "b": 0.5, "c": 2.0, "relu": 0.2, "tanh": 0.4}
    value = sum(score.get(v, 0.0) for v in params.values() if isinstance(v, str))
    return value + 0.1 * params.get("layers", 0)


@pytest.mark.parametrize("name", ["hyperband", "asha"])
@pytest.mark.parametrize("space", FINITE_SPACES, ids=["categorical", "integer-categorical"])
def test_a_finite_space_too_small_for_a_rung_still_promotes_to_the_top_and_ends(name, space):
    algorithm = make_algorithm(space, {name: {"seed": 4}})
    trials = run_to_the_end(algorithm, space, finite_objective)
    assert algorithm.is_done(trials)
    assert len({t.hash_params for t in trials}) == space.cardinality  # all it could start
    fid = space.fidelity
    top = [t for t in trials if t.params[fid.name] == fid.high]
    best = min(trials, key=lambda t: (t.objective, t.params[fid.name]))
    assert best.hash_params in {t.hash_params for t in top}  # the best config reached the top
    assert all(t.parent is not None for t in top)
    assert len(trials) < 2 * space.cardinality * len(rungs_for(space, name).budgets)


def test_hyperband_short_rung_waits_for_its_pending_trials_before_promoting():
    space = FINITE_SPACES[0]
    algorithm = make_algorithm(space, {"hyperband": {"seed": 4}})
    base = new_trials(space, algorithm.suggest([], 5))
    assert len(base) == 3  # the space holds 3 configurations, the rung wants 9
    trials = [observed(t, finite_objective(t.params)) for t in base[:2]] + base[2:]
    assert algorithm.suggest(trials, 1) == []  # nothing to start, nothing to promote yet
    assert not algorithm.is_done(trials)
    trials = trials[:2] + [observed(base[2], finite_objective(base[2].params))]
    (promoted,) = algorithm.suggest(trials, 3)
    assert promoted.params == {"opt": "b", "epochs": 3} and promoted.meta["rung"] == 1
