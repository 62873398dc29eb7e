"""Configuration layers: defaults < global file < ORION_* env < -c file < flags."""

from __future__ import annotations

import pytest

from orion_cli.config import Config, from_yaml, resolve, storage_url
from orion_cli.errors import ConfigError


def test_defaults():
    cfg = resolve({}, None, environ={})
    assert cfg == Config()
    assert cfg.max_broken is None and cfg.n_workers == 1 and cfg.heartbeat == 60.0


def test_layers_in_order(tmp_path, monkeypatch):
    glob = tmp_path / "cfg" / "orion_cli" / "config.yaml"
    glob.parent.mkdir(parents=True)
    glob.write_text(
        "worker:\n  n_workers: 2\n  heartbeat: 5\n  idle_timeout: 7\n"
        "experiment:\n  max_trials: 10\n"
    )
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "cfg"))
    local = tmp_path / "local.yaml"
    local.write_text("worker:\n  heartbeat: 6\nexperiment:\n  max_trials: 20\n")
    env = {"ORION_HEARTBEAT": "9", "ORION_N_WORKERS": "3", "ORION_EXP_MAX_TRIALS": "15"}
    cfg = resolve({"max_trials": 30, "idle_timeout": None}, str(local), environ=env)
    assert cfg.idle_timeout == 7  # global file only
    assert cfg.n_workers == 3  # env over global
    assert cfg.heartbeat == 6  # -c over env
    assert cfg.max_trials == 30  # flag over everything


def test_orion_layout_and_aliases():
    data = {
        "experiment": {
            "name": "e",
            "algorithms": {"random": {"seed": 2}},
            "max_broken": 5,
            "working_dir": "/w",
            "user_script_config": "cfg",
        },
        "worker": {
            "max_trials": 4,
            "max_broken": 2,
            "interrupt_signal_code": 99,
            "kill_grace": 1,
            "lock_timeout": 3,
        },
        "storage": {"database": {"type": "pickleddb", "host": "/db"}},
    }
    out = from_yaml(data, "x.yaml")
    assert out == {
        "name": "e",
        "algorithm": {"random": {"seed": 2}},
        "max_broken": 5,
        "working_dir": "/w",
        "user_script_config": "cfg",
        "worker_max_trials": 4,
        "worker_max_broken": 2,
        "interrupt_code": 99,
        "kill_grace": 1.0,
        "lock_timeout": 3.0,
        "storage": "/db",
    }


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"experimnt": {}}, "unknown section 'experimnt'"),
        ({"algorithm": "tpe"}, "'algorithm' belongs under experiment:"),
        ({"algorithms": {"tpe": {}}}, "'algorithms' belongs under experiment:"),
        ({"n_workers": 2}, "'n_workers' belongs under worker:"),
        ({"worker": {"n_worker": 2}}, "unknown key worker.n_worker"),
        ({"worker": {"n_workers": "many"}}, "worker.n_workers='many': expected a whole number"),
        ({"worker": {"n_workers": 0}}, "expected a whole number >= 1"),
        ({"worker": {"heartbeat": -1}}, "expected a number of seconds >= 0"),
        ({"experiment": []}, "section 'experiment' must be a mapping"),
        ({"storage": {"database": {"type": "mongodb"}}}, "cannot read the storage"),
    ],
)
def test_bad_config_is_one_clear_line(data, message):
    with pytest.raises(ConfigError, match=message.replace("(", r"\(").replace(")", r"\)")):
        from_yaml(data, "x.yaml")


def test_bad_environment_value_names_the_variable():
    with pytest.raises(ConfigError, match="ORION_N_WORKERS='x': expected a whole number"):
        resolve({}, None, environ={"ORION_N_WORKERS": "x"})


def test_storage_forms():
    assert storage_url("/a") == "/a"
    assert storage_url({"type": "memory"}) == "memory:"
    assert storage_url({"database": {"type": "postgresql", "host": "postgresql://u@h/d"}}) == (
        "postgresql://u@h/d"
    )
    assert resolve({}, None, environ={"ORION_DB_ADDRESS": "/old"}).storage == "/old"
