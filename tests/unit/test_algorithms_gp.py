"""GP Bayesian optimization: the model, log EI, pending points, and the missing-scipy error."""

from __future__ import annotations

import builtins
import sys

import numpy as np
import pytest
from scipy.optimize import approx_fprime
from scipy.stats import norm

from orion_cli.core.algorithms import make_algorithm
from orion_cli.core.algorithms._common import observed, trial_of
from orion_cli.core.algorithms.gaussian_process import GP, log_h_ei, neg_log_posterior, sq_diffs
from orion_cli.core.space import Categorical, Integer, Real, Space
from orion_cli.core.trial import Status
from orion_cli.errors import AlgorithmError
from tests.unit.quadratic2d import SPACE, quadratic, random_history


def test_log_h_ei_matches_the_closed_form_and_stays_finite_in_the_tail():
    z = np.array([-8.0, -2.0, -1.0, 0.0, 1.5])
    expected = np.log(norm.pdf(z) + z * norm.cdf(z))
    assert log_h_ei(z) == pytest.approx(expected, rel=1e-9)
    tail = log_h_ei(np.array([-50.0, -1e3]))
    assert np.all(np.isfinite(tail)) and tail[1] < tail[0]


def test_marginal_likelihood_gradient_is_exact():
    rng = np.random.default_rng(0)
    x = rng.random((20, 3))
    y = np.sin(5 * x[:, 0]) + x[:, 1]
    y = (y - y.mean()) / y.std()
    sq = sq_diffs(x, x, np.zeros(3, dtype=bool))
    theta = np.array([1.0, 0.3, -0.4, 0.2, -4.0])
    numeric = approx_fprime(theta, lambda t: neg_log_posterior(t, sq, y)[0], 1e-6)
    assert neg_log_posterior(theta, sq, y)[1] == pytest.approx(numeric, rel=1e-4, abs=1e-4)


def test_fitted_length_scales_find_the_irrelevant_dimension():
    rng = np.random.default_rng(1)
    x = rng.random((40, 2))
    y = np.sin(6 * x[:, 0])
    gp = GP.fit(x, (y - y.mean()) / y.std())
    assert gp.scales[1] > 3 * gp.scales[0]
    mean, sd = gp.predict(x[:5])
    assert mean == pytest.approx(gp.y[:5], abs=0.05) and np.all(sd < 0.1)


def test_log_ei_gradient_matches_finite_differences():
    rng = np.random.default_rng(2)
    x = rng.random((15, 2))
    y = (x**2).sum(axis=1)
    gp = GP.fit(x, (y - y.mean()) / y.std())
    point = np.array([0.3, 0.6])
    best = float(gp.y.min())
    value, grad = gp.log_ei_and_grad(point[None, :], best)
    numeric = approx_fprime(point, lambda p: gp.log_ei_and_grad(p[None, :], best)[0][0], 1e-7)
    assert grad[0] == pytest.approx(numeric, rel=1e-3, abs=1e-3)


def test_gp_converges_on_a_quadratic_much_better_than_random():
    def run(name: str) -> float:
        algorithm = make_algorithm(SPACE, {name: {"seed": 0}})
        trials: list = []
        for _ in range(25):
            params = algorithm.suggest(trials, 1)[0].params
            trials.append(observed(trial_of(SPACE, params), quadratic(params)))
        return min(t.objective for t in trials)

    assert run("gp") < 0.01 < run("random")


def test_pending_points_get_distinct_spread_suggestions():
    algorithm = make_algorithm(SPACE, {"gp": {"seed": 3, "n_initial_points": 5}})
    trials = random_history(8)
    alone = algorithm.suggest(trials, 1)[0].params
    busy = trials + [trial_of(SPACE, alone, status=Status.RESERVED)]
    batch = [s.params for s in algorithm.suggest(busy, 4)]
    points = np.array([[p["x"], p["y"]] for p in batch + [alone]])
    gaps = np.hypot(*(points[:, None, :] - points[None, :, :]).transpose(2, 0, 1))
    assert gaps[np.triu_indices(5, 1)].min() > 0.01


def test_integer_and_categorical_dimensions_are_decoded_into_the_space():
    space = Space(
        (Integer("n", 1, 9), Categorical("c", ("a", "b")), Real("lr", 1e-4, 1.0, log=True))
    )
    algorithm = make_algorithm(space, {"gp": {"seed": 1, "n_initial_points": 4}})
    trials: list = []
    for _ in range(10):
        params = algorithm.suggest(trials, 1)[0].params
        assert params in space
        value = abs(params["n"] - 3) + (params["c"] == "b") + abs(np.log10(params["lr"]) + 2)
        trials.append(observed(trial_of(space, params), value))


def test_missing_scipy_is_a_one_line_error_naming_the_extra(monkeypatch):
    for name in list(sys.modules):
        if name == "scipy" or name.startswith("scipy.") or name.endswith("algorithms.gp"):
            monkeypatch.delitem(sys.modules, name)
    for name in ("orion_cli.core.algorithms.gaussian_process",):
        monkeypatch.delitem(sys.modules, name, raising=False)
    real_import = builtins.__import__

    def no_scipy(name, *args, **kwargs):
        if name == "scipy" or name.startswith("scipy."):
            raise ModuleNotFoundError(f"No module named {name!r}", name="scipy")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_scipy)
    with pytest.raises(AlgorithmError, match=r"needs the optional dependency 'scipy'.*\[gp\]"):
        make_algorithm(SPACE, "gp")
