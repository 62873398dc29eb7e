"""Hyperband and ASHA: rung budgets, promotions that keep hash_params, no idle workers."""

from __future__ import annotations

import pytest

from orion_cli.core.algorithms import make_algorithm
from orion_cli.core.algorithms._common import observed, trial_of
from orion_cli.core.algorithms._rungs import rungs_for
from orion_cli.core.space import Fidelity, Real, Space
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
