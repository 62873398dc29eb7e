"""`orion status`, `list`, `info`: tables for people, one JSON document for scripts."""

from __future__ import annotations

import json
import subprocess
import sys

from tests.e2e.helpers import PYTHON, copy_script, hunt_json, orion


def _hunt(tmp_path, name="exp", n="3"):
    copy_script(tmp_path)
    return hunt_json(
        "-n",
        name,
        "--exp-max-trials",
        n,
        "--seed",
        "1",
        PYTHON,
        "quadratic.py",
        "-x~uniform(0, 1)",
        "--y~randint(0, 2)",
        cwd=tmp_path,
    )


def test_status_json_shape_and_all_trials(tmp_path):
    _hunt(tmp_path)
    _hunt(tmp_path, "other", "2")
    doc = json.loads(orion("status", "--json", cwd=tmp_path, check=0).stdout)
    assert doc["schema"] == 1 and doc["command"] == "status"
    names = [e["name"] for e in doc["data"]["experiments"]]
    assert names == ["exp", "other"]
    entry = doc["data"]["experiments"][0]
    assert {"name", "version", "counts", "best"} <= set(entry)
    assert "trials" not in entry
    assert entry["counts"]["completed"] == 3
    assert set(entry["best"]) == {"id", "objective", "params"}
    full = json.loads(
        orion("status", "-n", "exp", "--all", "--json", cwd=tmp_path, check=0).stdout
    )["data"]["experiments"]
    assert len(full) == 1
    trials = full[0]["trials"]
    assert len(trials) == 3
    for trial in trials:
        assert set(trial) == {"id", "status", "params", "objective", "working_dir"}
        assert set(trial["params"]) == {"x", "y"}
        assert isinstance(trial["params"]["y"], int)
    best = min(trials, key=lambda t: t["objective"])
    assert full[0]["best"]["id"] == best["id"]


def test_list_and_info_json(tmp_path):
    _hunt(tmp_path)
    doc = json.loads(orion("list", "--json", cwd=tmp_path, check=0).stdout)
    assert doc == {
        "schema": 1,
        "command": "list",
        "data": {"experiments": [{"name": "exp", "version": 1}]},
    }
    info = json.loads(orion("info", "-n", "exp", "--json", cwd=tmp_path, check=0).stdout)["data"]
    assert set(info) >= {
        "name",
        "version",
        "space",
        "algorithm",
        "max_trials",
        "max_broken",
        "working_dir",
        "storage",
        "commandline",
        "counts",
        "best",
    }
    assert info["space"] == {"x": "uniform(0.0, 1.0)", "y": "randint(0, 2)"}
    ((name, options),) = info["algorithm"].items()
    assert name == "tpe" and options["seed"] == 1  # the default algorithm, all options shown
    assert "n_initial_points" in options
    assert info["max_trials"] == 3 and info["max_broken"] == 3
    assert info["commandline"][1:] == ["quadratic.py", "-x~uniform(0, 1)", "--y~randint(0, 2)"]


def test_tables_and_summary_for_people(tmp_path):
    copy_script(tmp_path)
    proc = orion(
        "hunt",
        "-n",
        "exp",
        "--exp-max-trials",
        "2",
        PYTHON,
        "quadratic.py",
        "-x~uniform(0, 1)",
        cwd=tmp_path,
        check=0,
    )
    assert "experiment exp (version 1): done" in proc.stdout
    assert "best trial" in proc.stdout and "working dir:" in proc.stdout
    # stderr is not a terminal here: plain progress lines
    assert proc.stderr.count("completed: objective") == 2
    table = orion("status", cwd=tmp_path, check=0).stdout
    assert "exp" in table and "completed" in table
    assert "exp" in orion("list", cwd=tmp_path, check=0).stdout
    info = orion("info", "-n", "exp", cwd=tmp_path, check=0).stdout
    assert "uniform(0.0, 1.0)" in info and "max_trials" in info
    empty = orion("status", "--storage", str(tmp_path / "empty"), cwd=tmp_path, check=0)
    assert "no experiments" in empty.stdout


def test_importing_the_client_in_a_child_is_cheap():
    code = (
        "import sys, orion_cli.client as c; c.report_objective; "
        "print(sorted(m for m in ('numpy', 'rich', 'click', 'yaml') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
