"""The Python API: build_experiment, ExperimentClient, get_experiment, report_*."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from orion_cli.client import build_experiment, create_experiment, get_experiment, workon
from orion_cli.core.trial import Status
from orion_cli.errors import (
    CompletedExperiment,
    ExperimentBroken,
    ExperimentConflict,
    ExperimentNotFound,
    TrialLost,
    UserError,
    WaitingForTrials,
)

SPACE = {"x": "uniform(0, 1)", "model/lr": "loguniform(1e-5, 1.0)"}


@pytest.fixture(params=["memory", "journal"])
def storage(request, tmp_path):
    return "memory:" if request.param == "memory" else str(tmp_path / "store")


def test_workon_runs_max_trials_and_finds_the_best(storage):
    exp = build_experiment(
        "e", space=SPACE, algorithm={"random": {"seed": 1}}, max_trials=8, storage=storage
    )
    seen = []

    def fn(x, **rest):
        seen.append(rest["model/lr"])
        return (x - 0.3) ** 2

    assert exp.workon(fn) == 8
    trials = exp.fetch_trials()
    assert len(trials) == 8 and all(t.status is Status.COMPLETED for t in trials)
    assert exp.is_done
    best = exp.stats()["best"]
    assert best["objective"] == min(t.objective for t in trials)
    assert set(best["params"]) == {"x", "model/lr"}
    assert all(t.working_dir and t.working_dir.endswith(t.id) for t in trials)
    assert len(seen) == 8
    exp.close()


def test_suggest_observe_release_by_hand(storage):
    exp = create_experiment("e", space=SPACE, max_trials=2, storage=storage)
    trial = exp.suggest()
    assert trial.status is Status.RESERVED and trial in exp.fetch_trials(Status.RESERVED)
    released = exp.release(trial)
    assert released.status is Status.INTERRUPTED
    again = exp.suggest()
    assert again.id == trial.id  # interrupted trials run first
    done = exp.observe(
        again,
        [
            {"name": "loss", "type": "objective", "value": 0.5},
            {"name": "acc", "type": "statistic", "value": 0.9},
        ],
    )
    assert done.status is Status.COMPLETED and done.objective == 0.5
    assert done.results[1]["name"] == "acc"
    other = exp.suggest()
    exp.observe(other, 0.25)
    with pytest.raises(CompletedExperiment):
        exp.suggest()
    with pytest.raises(TrialLost, match="no longer reserved"):
        exp.observe(other, 1.0)
    exp.close()


def test_observe_refuses_bad_results(storage):
    exp = build_experiment("e", space=SPACE, storage=storage)
    trial = exp.suggest()
    for bad in (float("nan"), [{"name": "a", "type": "statistic", "value": 1}], "low"):
        with pytest.raises(UserError, match="results"):
            exp.observe(trial, bad)
    assert exp.fetch_trials(Status.RESERVED)[0].id == trial.id
    exp.close()


def test_workon_breaks_trials_on_exceptions_then_stops(storage):
    exp = build_experiment("e", space=SPACE, max_broken=2, storage=storage)

    def fn(**params):
        raise RuntimeError("diverged")

    with pytest.raises(ExperimentBroken, match="diverged"):
        exp.workon(fn)
    broken = exp.fetch_trials(Status.BROKEN)
    assert len(broken) == 2 and broken[0].message == "RuntimeError: diverged"
    assert exp.is_broken
    exp.close()


def test_resume_same_space_and_refuse_another(tmp_path):
    url = str(tmp_path / "store")
    first = build_experiment("e", space=SPACE, max_trials=3, storage=url)
    first.workon(lambda **p: 1.0)
    first.close()
    resumed = build_experiment("e", space=SPACE, max_trials=5, storage=url)
    assert resumed.max_trials == 5 and resumed.version == 1
    assert resumed.workon(lambda **p: 1.0) == 2
    resumed.close()
    with pytest.raises(ExperimentConflict, match="dimension x: uniform"):
        build_experiment("e", space={**SPACE, "x": "uniform(0, 2)"}, storage=url)
    with pytest.raises(ExperimentConflict, match="uses algorithm"):
        build_experiment("e", space=SPACE, algorithm="gridsearch", storage=url)
    reader = get_experiment("e", storage=url)
    assert len(reader.fetch_trials()) == 5
    with pytest.raises(UserError, match="read-only"):
        reader.suggest()
    reader.close()


def test_errors_of_build_and_get(tmp_path):
    url = str(tmp_path / "store")
    with pytest.raises(ExperimentNotFound, match="no experiment named 'nope'"):
        build_experiment("nope", storage=url)
    with pytest.raises(ExperimentNotFound):
        get_experiment("nope", storage=url)
    with pytest.raises(UserError, match="invalid experiment name"):
        build_experiment("a/../b", space=SPACE, storage=url)
    with pytest.raises(UserError, match="max_trials"):
        build_experiment("e", space=SPACE, max_trials=-1, storage=url)
    with pytest.raises(UserError, match="no dimension"):
        build_experiment("e", space={}, storage=url)


def test_waiting_for_trials_when_the_rest_is_held_elsewhere(tmp_path):
    url = str(tmp_path / "store")
    a = build_experiment("e", space=SPACE, max_trials=1, storage=url)
    b = build_experiment("e", storage=url)
    held = a.suggest()
    with pytest.raises(WaitingForTrials):
        b.suggest()
    a.observe(held, 1.0)
    with pytest.raises(CompletedExperiment):
        b.suggest()
    a.close()
    b.close()


def test_module_level_workon_in_memory():
    exp = workon(lambda x: abs(x - 0.5), space={"x": "uniform(0, 1)"}, max_trials=4)
    assert exp.stats()["trials_completed"] == 4


def _run_child(code: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env={"PATH": "/usr/bin:/bin", **env},
    )


def test_report_functions_write_the_results_file_once(tmp_path):
    path = tmp_path / "results.json"
    code = (
        "from orion_cli.client import report_objective, report_results\n"
        "report_objective(0.5, name='loss')\n"
        "try:\n    report_results([])\nexcept RuntimeWarning as e:\n    print('twice:', e)\n"
    )
    proc = _run_child(code, {"ORION_RESULTS_PATH": str(path), "PYTHONPATH": _root()})
    assert "twice: results were already reported" in proc.stdout, proc.stderr
    assert json.loads(path.read_text()) == [{"name": "loss", "type": "objective", "value": 0.5}]
    code = (
        "from orion_cli.client import report_bad_trial\n"
        "report_bad_trial(data=[{'name': 'why', 'type': 'statistic', 'value': 1}])\n"
    )
    _run_child(code, {"ORION_RESULTS_PATH": str(path), "PYTHONPATH": _root()})
    assert json.loads(path.read_text())[0] == {
        "name": "objective",
        "type": "objective",
        "value": 1e10,
    }
    # outside a sweep the results are printed
    proc = _run_child(
        "from orion_cli.client import report_objective\nreport_objective(2)\n",
        {"PYTHONPATH": _root()},
    )
    assert json.loads(proc.stdout) == [{"name": "objective", "type": "objective", "value": 2}]
    proc = _run_child(
        "from orion_cli.client import interrupt_trial\ninterrupt_trial()\n",
        {"PYTHONPATH": _root(), "ORION_INTERRUPT_CODE": "77"},
    )
    assert proc.returncode == 77


def _root() -> str:
    import orion_cli

    return str(__import__("pathlib").Path(orion_cli.__file__).parent.parent)


def test_gridsearch_is_thinned_to_the_budget(tmp_path):
    exp = build_experiment(
        "g",
        space={"x": "uniform(0, 1)", "y": "uniform(0, 1)"},
        algorithm="gridsearch",
        max_trials=6,
        storage=str(tmp_path / "s"),
    )
    assert exp.experiment.algorithm == {"gridsearch": {"max_trials": 6}}
    assert exp.workon(lambda x, y: x + y) == 6
    xs = sorted({t.params["x"] for t in exp.fetch_trials()})
    assert xs[0] == 0.0 and xs[-1] == 1.0  # the grid keeps both bounds
    exp.close()


class CountingStorage:
    """A storage that counts the calls made to it, to pin down the writes per trial."""

    def __init__(self, inner):
        self.inner = inner
        self.calls: dict[str, int] = {}

    def __getattr__(self, name):
        attr = getattr(self.inner, name)
        if not callable(attr):
            return attr

        def counted(*args, **kwargs):
            self.calls[name] = self.calls.get(name, 0) + 1
            return attr(*args, **kwargs)

        return counted


def test_a_new_trial_costs_one_write_and_one_read_to_end(tmp_path):
    from orion_cli.storage import open_storage

    store = CountingStorage(open_storage(str(tmp_path / "store")))
    exp = build_experiment(
        "e", space=SPACE, algorithm={"random": {"seed": 1}}, max_trials=3, storage=store
    )
    store.calls.clear()
    trial = exp.suggest()
    assert trial.status is Status.RESERVED and trial.worker == exp.worker
    assert store.calls.get("register_trial") == 1
    assert "reserve_trial" not in store.calls  # nothing reservable: no reservation attempt
    stored = store.inner.fetch_trial(exp.id, trial.id)
    assert (stored.status, stored.worker) == (Status.RESERVED, exp.worker)
    store.calls.clear()
    done = exp.observe(trial, 0.5)
    assert "fetch_trial" not in store.calls and store.calls.get("update_trial") == 1
    assert store.inner.fetch_trial(exp.id, trial.id) == done
    assert done.status is Status.COMPLETED and done.objective == 0.5
    released = exp.release(exp.suggest())
    store.calls.clear()
    assert exp.suggest().id == released.id  # an interrupted trial is reserved, not re-made
    assert store.calls.get("reserve_trial") == 1 and "register_trial" not in store.calls
    exp.close()
