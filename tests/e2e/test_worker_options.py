"""Options that bound one run (not the experiment), the working dir, and the terminal display."""

from __future__ import annotations

import json
import os
import pty
import subprocess
from pathlib import Path

from tests.e2e.helpers import ORION, PYTHON, copy_script, hunt_json, orion


def test_worker_max_trials_stops_this_run_only(tmp_path):
    copy_script(tmp_path)
    entry = hunt_json(
        "-n",
        "w",
        "--exp-max-trials",
        "5",
        "--worker-max-trials",
        "2",
        PYTHON,
        "quadratic.py",
        "-x~uniform(0, 1)",
        cwd=tmp_path,
    )
    assert entry["counts"]["completed"] == 2 and entry["reason"] == "worker_max_trials"
    info = json.loads(orion("info", "-n", "w", "--json", cwd=tmp_path, check=0).stdout)["data"]
    assert info["max_trials"] == 5  # the run's limit is not stored
    entry = hunt_json("-n", "w", cwd=tmp_path)
    assert entry["counts"]["completed"] == 5 and entry["reason"] == "done"


def test_worker_max_broken_stops_this_run_with_exit_3(tmp_path):
    copy_script(tmp_path, "crash.py")
    proc = orion(
        "hunt",
        "-n",
        "wb",
        "--exp-max-broken",
        "10",
        "--worker-max-broken",
        "1",
        PYTHON,
        "crash.py",
        "-x~uniform(0, 1)",
        cwd=tmp_path,
    )
    assert proc.returncode == 3
    assert "1 trials broke in this worker (--worker-max-broken 1)" in proc.stderr


def test_working_dir_flag_is_stored_and_used(tmp_path):
    copy_script(tmp_path)
    target = tmp_path / "my-runs"
    entry = hunt_json(
        "-n",
        "wd",
        "--exp-max-trials",
        "2",
        "--working-dir",
        str(target),
        PYTHON,
        "quadratic.py",
        "-x~uniform(0, 1)",
        cwd=tmp_path,
    )
    assert entry["working_dir"] == str(target)
    assert len([p for p in target.iterdir() if (p / "stdout.log").exists()]) == 2
    info = json.loads(orion("info", "-n", "wd", "--json", cwd=tmp_path, check=0).stdout)["data"]
    assert info["working_dir"] == str(target)


def test_default_working_dir_is_beside_the_storage(tmp_path):
    copy_script(tmp_path)
    entry = hunt_json(
        "-n",
        "beside",
        "--exp-max-trials",
        "1",
        PYTHON,
        "quadratic.py",
        "-x~uniform(0, 1)",
        cwd=tmp_path,
    )
    assert Path(entry["working_dir"]) == Path(os.environ["ORION_STORAGE"]) / "work" / "beside"


def test_storage_flag_on_every_command(tmp_path):
    copy_script(tmp_path)
    store = str(tmp_path / "elsewhere")
    hunt_json(
        "-n",
        "s",
        "--storage",
        store,
        "--exp-max-trials",
        "1",
        PYTHON,
        "quadratic.py",
        "-x~uniform(0, 1)",
        cwd=tmp_path,
    )
    for command in (["status"], ["list"], ["info", "-n", "s"]):
        doc = json.loads(
            orion(*command, "--json", "--storage", store, cwd=tmp_path, check=0).stdout
        )
        assert "s" in json.dumps(doc["data"])
    default = json.loads(orion("list", "--json", cwd=tmp_path, check=0).stdout)
    assert default["data"]["experiments"] == []


def test_progress_on_a_terminal_is_a_live_display(tmp_path):
    copy_script(tmp_path)
    leader, follower = pty.openpty()
    proc = subprocess.Popen(
        [
            ORION,
            "hunt",
            "-n",
            "tty",
            "--exp-max-trials",
            "3",
            PYTHON,
            "quadratic.py",
            "-x~uniform(0, 1)",
            "--sleep",
            "0.3",
        ],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=follower,
        text=True,
        env={**os.environ, "TERM": "xterm", "COLUMNS": "120"},
    )
    os.close(follower)
    out, _ = proc.communicate(timeout=60)
    chunks = []
    while True:
        try:
            data = os.read(leader, 65536)
        except OSError:
            break
        if not data:
            break
        chunks.append(data)
    os.close(leader)
    err = b"".join(chunks).decode(errors="replace")
    assert proc.returncode == 0
    assert "completed" in err and "running" in err and "best" in err
    assert "\x1b[" in err  # rich redraws the line in place
    assert "trial " not in err  # no per-trial plain lines on a terminal
    assert "experiment tty (version 1): done" in out
