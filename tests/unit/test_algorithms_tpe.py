"""TPE: beats random search, models categoricals natively, avoids pending points."""

from __future__ import annotations

import numpy as np
import pytest

from orion_cli.core.algorithms import make_algorithm
from orion_cli.core.algorithms._common import observed, trial_of
from orion_cli.core.algorithms.parzen import Parzen, normal_cdf, ramp_weights
from orion_cli.core.space import Categorical, Integer, Space
from orion_cli.core.trial import Status
from orion_cli.errors import AlgorithmError
from tests.unit.quadratic2d import SPACE, quadratic, random_history


def best_after(name: str, seed: int, budget: int, space: Space = SPACE, f=quadratic) -> float:
    algorithm = make_algorithm(space, {name: {"seed": seed}})
    trials: list = []
    for _ in range(budget):
        params = algorithm.suggest(trials, 1)[0].params
        trials.append(observed(trial_of(space, params), f(params)))
    return min(t.objective for t in trials)


def test_tpe_beats_random_search_on_a_quadratic():
    tpe = [best_after("tpe", seed, 40) for seed in range(3)]
    rnd = [best_after("random", seed, 40) for seed in range(3)]
    assert np.median(tpe) < np.median(rnd) / 3


def test_tpe_learns_the_best_categorical_choice_and_integer():
    space = Space((Categorical("c", ("a", "b", "c", "d")), Integer("n", 0, 200)))

    def f(p: dict) -> float:
        return {"a": 3.0, "b": 0.0, "c": 2.0, "d": 5.0}[p["c"]] + abs(p["n"] - 70) / 20

    algorithm = make_algorithm(space, {"tpe": {"seed": 1}})
    trials: list = []
    for _ in range(40):
        params = algorithm.suggest(trials, 1)[0].params
        trials.append(observed(trial_of(space, params), f(params)))
    late = [t.params for t in trials[20:]]
    assert sum(p["c"] == "b" for p in late) >= 12
    assert min(f(t.params) for t in trials) < 0.5


def test_pending_trials_push_suggestions_away():
    algorithm = make_algorithm(SPACE, {"tpe": {"seed": 2, "n_initial_points": 5}})
    trials = random_history(20)
    alone = algorithm.suggest(trials, 1)[0].params
    near = [
        trial_of(SPACE, {"x": alone["x"] + dx, "y": alone["y"] + dy}, status=Status.RESERVED)
        for dx in (-0.2, 0.0, 0.2)
        for dy in (-0.2, 0.2)
    ]
    moved = algorithm.suggest(trials + near, 1)[0].params
    gap = np.hypot(moved["x"] - alone["x"], moved["y"] - alone["y"])
    assert gap > 0.05


def test_a_batch_spreads_out_instead_of_piling_on_one_point():
    algorithm = make_algorithm(SPACE, {"tpe": {"seed": 4, "n_initial_points": 5}})
    trials: list = []
    for _ in range(15):
        params = algorithm.suggest(trials, 1)[0].params
        trials.append(observed(trial_of(SPACE, params), quadratic(params)))
    batch = [s.params for s in algorithm.suggest(trials, 8)]
    points = np.array([[p["x"], p["y"]] for p in batch])
    distances = np.hypot(*(points[:, None, :] - points[None, :, :]).transpose(2, 0, 1))
    assert distances[np.triu_indices(8, 1)].min() > 1e-3


def test_ramp_weights_follow_orion():
    assert list(ramp_weights(3, False, 25)) == [1.0, 1.0, 1.0]
    weights = ramp_weights(30, False, 25)
    assert weights[0] == pytest.approx(1 / 30) and list(weights[-25:]) == [1.0] * 25
    assert np.all(np.diff(weights[:5]) > 0)
    assert list(ramp_weights(30, True, 25)) == [1.0] * 30


def test_parzen_samples_stay_in_the_unit_cube_and_density_is_normalized():
    num = np.array([[0.0, 1.0], [0.999, 0.5]])
    parzen = Parzen.build(
        num, np.zeros((2, 0), dtype=int), [], np.ones(2), 1.0, np.array([0.3, 0.3])
    )
    points, _ = parzen.sample(np.random.default_rng(0), 500)
    assert points.min() >= 0.0 and points.max() <= 1.0
    grid = (np.stack(np.meshgrid(np.linspace(0, 1, 201), np.linspace(0, 1, 201)), -1)).reshape(
        -1, 2
    )
    density = np.exp(parzen.log_pdf(grid, np.zeros((len(grid), 0), dtype=int)))
    assert density.mean() == pytest.approx(1.0, rel=0.03)


def test_normal_cdf_is_accurate():
    z = np.array([-3.0, -1.0, 0.0, 0.5, 2.0])
    expected = [0.0013499, 0.1586553, 0.5, 0.6914625, 0.9772499]
    assert normal_cdf(z) == pytest.approx(expected, abs=1e-6)


@pytest.mark.parametrize(
    ("option", "value"),
    [("gamma", 1.5), ("n_initial_points", 0), ("prior_weight", -1), ("equal_weight", "yes")],
)
def test_bad_option_values_are_user_errors(option, value):
    with pytest.raises(AlgorithmError, match=option):
        make_algorithm(SPACE, {"tpe": {option: value}})


def test_options_show_every_resolved_value():
    options = make_algorithm(SPACE, "tpe").options
    assert set(options) == {
        "seed",
        "n_initial_points",
        "n_ei_candidates",
        "gamma",
        "equal_weight",
        "prior_weight",
        "full_weight_num",
    }
