"""How trials end: broken (with why), interrupted, Ctrl-C / SIGTERM, too many broken."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path

import pytest

from tests.e2e.helpers import ORION, PYTHON, copy_script, hunt_json, orion, status_json


def test_crash_breaks_trials_then_exit_3_with_how_to_go_on(tmp_path):
    copy_script(tmp_path, "crash.py")
    proc = orion(
        "hunt",
        "-n",
        "bad",
        "--exp-max-trials",
        "10",
        PYTHON,
        "crash.py",
        "-x~uniform(0, 1)",
        cwd=tmp_path,
    )
    assert proc.returncode == 3, proc.stderr
    assert "Traceback" not in proc.stderr
    assert proc.stderr.count("broke: exited with code 4") == 3
    assert "stderr: ValueError: the model diverged" in proc.stderr
    assert "logs: " in proc.stderr
    last = proc.stderr.strip().splitlines()[-1]
    assert last.startswith("error: 3 trials of experiment 'bad' broke")
    assert "--exp-max-broken" in last and "orion db rm -n bad --status broken" in last
    data = status_json("--all", cwd=tmp_path)["experiments"][0]
    assert data["counts"]["broken"] == 3 and data["counts"]["completed"] == 0
    # Running it again stops at once: the experiment is broken.
    again = orion("hunt", "-n", "bad", cwd=tmp_path)
    assert again.returncode == 3
    assert status_json(cwd=tmp_path)["experiments"][0]["counts"]["broken"] == 3


@pytest.mark.parametrize(
    ("mode", "reason"),
    [
        ("none", "wrote no results file"),
        ("garbage", "results file is not valid JSON"),
        ("nan", "the objective must be a finite number"),
        ("noobjective", "exactly one result of type 'objective', got 0"),
        ("string", "the objective must be a finite number, got 'low'"),
    ],
)
def test_bad_results_break_the_trial_with_the_reason(tmp_path, mode, reason):
    copy_script(tmp_path, "results.py")
    proc = orion(
        "hunt",
        "-n",
        "r",
        "--exp-max-trials",
        "1",
        "--exp-max-broken",
        "1",
        PYTHON,
        "results.py",
        "--mode",
        mode,
        "-x~uniform(0, 1)",
        cwd=tmp_path,
    )
    assert proc.returncode == 3
    assert reason in proc.stderr, proc.stderr


def test_interrupt_code_marks_interrupted_and_exits_130(tmp_path):
    copy_script(tmp_path, "interrupt.py")
    proc = orion(
        "hunt",
        "-n",
        "intr",
        "--exp-max-trials",
        "3",
        PYTHON,
        "interrupt.py",
        "-x~uniform(0, 1)",
        cwd=tmp_path,
    )
    assert proc.returncode == 130, proc.stderr
    assert "interrupted: trial" in proc.stderr and "Traceback" not in proc.stderr
    counts = status_json(cwd=tmp_path)["experiments"][0]["counts"]
    assert counts["interrupted"] == 1 and counts["broken"] == 0
    # A custom code: the script's own exit code 130 is then an ordinary failure.
    proc = orion(
        "hunt",
        "-n",
        "intr2",
        "--exp-max-trials",
        "1",
        "--exp-max-broken",
        "1",
        "--interrupt-signal-code",
        "99",
        PYTHON,
        "interrupt.py",
        "-x~uniform(0, 1)",
        cwd=tmp_path,
        env={"ORION_INTERRUPT_CODE": "99"},
    )
    assert proc.returncode == 130  # ORION_INTERRUPT_CODE reaches the child: it exits 99


def _wait_for(predicate, timeout=20.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return False


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_signal_stops_children_marks_interrupted_and_resume_reruns(tmp_path, sig):
    copy_script(tmp_path, "sleeper.py")
    storage = os.environ["ORION_STORAGE"]
    proc = subprocess.Popen(
        [
            ORION,
            "hunt",
            "-n",
            "sig",
            "--exp-max-trials",
            "2",
            "--n-workers",
            "2",
            "--kill-grace",
            "2",
            PYTHON,
            "sleeper.py",
            "-x~uniform(0, 1)",
        ],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    work = Path(storage) / "work" / "sig"
    assert _wait_for(lambda: len(list(work.glob("*/started"))) == 2)
    pids = [int(p.read_text().split()[0]) for p in work.glob("*/started")]
    proc.send_signal(sig)
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 130, err
    assert f"interrupted: stopped by {sig.name}" in err and "Traceback" not in err
    for pid in pids:
        assert _wait_for(lambda pid=pid: not _alive(pid), 5), f"child {pid} survived"
    counts = status_json(cwd=tmp_path)["experiments"][0]["counts"]
    assert counts["interrupted"] == 2
    ids_before = {p.parent.name for p in work.glob("*/started")}
    entry = hunt_json(
        "-n", "sig", PYTHON, "sleeper.py", "-x~uniform(0, 1)", "--sleep", "0", cwd=tmp_path
    )
    assert entry["counts"]["completed"] == 2 and entry["counts"]["interrupted"] == 0
    # the interrupted trials themselves were re-run, in their own directories
    assert {p.parent.name for p in work.glob("*/started")} == ids_before
    for started in work.glob("*/started"):
        assert len(started.read_text().split()) == 2


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:  # a zombie is not alive
        with open(f"/proc/{pid}/stat") as handle:
            return handle.read().split()[2] != "Z"
    except OSError:
        return False


def test_broken_trial_message_names_working_dir(tmp_path):
    copy_script(tmp_path, "crash.py")
    proc = orion(
        "hunt",
        "-n",
        "one",
        "--exp-max-trials",
        "1",
        "--exp-max-broken",
        "1",
        "--json",
        PYTHON,
        "crash.py",
        "-x~uniform(0, 1)",
        cwd=tmp_path,
    )
    assert proc.returncode == 3
    assert proc.stdout == ""
    trial = status_json("--all", cwd=tmp_path)["experiments"][0]["trials"][0]
    assert f"logs: {trial['working_dir']}" in proc.stderr
    assert Path(trial["working_dir"], "stderr.log").read_text().count("diverged") == 1
    assert (
        json.loads(orion("info", "-n", "one", "--json", cwd=tmp_path, check=0).stdout)["data"][
            "counts"
        ]["broken"]
        == 1
    )
