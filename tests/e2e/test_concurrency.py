"""Many `orion hunt` processes on one experiment and one storage: exact, and self-healing."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from collections import Counter
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.e2e.helpers import ORION, PYTHON, copy_script, orion
from tests.pg import temporary_database


@contextmanager
def _storage(kind: str, tmp_path: Path):
    if kind == "journal":
        yield str(tmp_path / "shared-store")
    else:
        with temporary_database() as url:
            yield url


def _spawn(args: list[str], tmp_path: Path, env: dict[str, str]) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [ORION, *args],
        cwd=tmp_path,
        env={**os.environ, **env},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _runs(log: Path) -> list[dict]:
    return [json.loads(line) for line in log.read_text().splitlines()]


@pytest.mark.parametrize("kind", ["journal", "postgresql"])
def test_six_processes_two_workers_each_run_every_trial_once(tmp_path, kind):
    copy_script(tmp_path, "logged.py")
    log = tmp_path / "runs.log"
    env = {"RUN_LOG": str(log), "SLEEP_LOW": "0.001", "SLEEP_HIGH": "1.5"}
    with _storage(kind, tmp_path) as url:
        args = [
            "hunt",
            "-n",
            "crowd",
            "--storage",
            url,
            "--exp-max-trials",
            "30",
            "--n-workers",
            "2",
            "--idle-timeout",
            "60",
            "--json",
            PYTHON,
            "logged.py",
            "-x~uniform(0, 1)",
        ]
        procs = [_spawn(args, tmp_path, env) for _ in range(6)]
        outputs = [p.communicate(timeout=180) for p in procs]
        for proc, (_, err) in zip(procs, outputs, strict=True):
            assert proc.returncode == 0, err
        status = json.loads(
            orion("status", "--json", "--all", "--storage", url, cwd=tmp_path, check=0).stdout
        )["data"]["experiments"][0]
    runs = _runs(log)
    by_trial = Counter(r["trial"] for r in runs)
    assert max(by_trial.values()) == 1, "a trial ran twice"
    by_params = Counter(json.dumps(r["argv"]) for r in runs)
    assert max(by_params.values()) == 1, "a parameter set ran twice"
    assert status["counts"]["completed"] == 30
    assert len(runs) == 30, "a worker started a trial beyond the budget"
    assert {t["id"] for t in status["trials"]} == set(by_trial)


def test_paused_worker_loses_its_trial_and_never_overwrites_the_new_owner(tmp_path):
    copy_script(tmp_path, "logged.py")
    log = tmp_path / "runs.log"
    store = str(tmp_path / "store")
    base = [
        "hunt",
        "-n",
        "pause",
        "--storage",
        store,
        "--exp-max-trials",
        "1",
        "--heartbeat",
        "0.2",
        "--idle-timeout",
        "30",
        PYTHON,
        "logged.py",
        "-x~uniform(0, 1)",
    ]
    first = _spawn(
        base,
        tmp_path,
        {"RUN_LOG": str(log), "REPORT": "111", "SLEEP_LOW": "1.5", "SLEEP_HIGH": "1.5"},
    )
    deadline = time.monotonic() + 20
    while not (log.exists() and log.read_text()) and time.monotonic() < deadline:
        time.sleep(0.02)
    first.send_signal(signal.SIGSTOP)  # a paused job: its heartbeat goes stale
    try:
        second = _spawn(
            base,
            tmp_path,
            {"RUN_LOG": str(log), "REPORT": "222", "SLEEP_LOW": "0.1", "SLEEP_HIGH": "0.1"},
        )
        out2, err2 = second.communicate(timeout=60)
        assert second.returncode == 0, err2
    finally:
        first.send_signal(signal.SIGCONT)
    out1, err1 = first.communicate(timeout=60)
    assert first.returncode == 0, err1
    assert "taken over" in err1
    trials = json.loads(
        orion("status", "--json", "--all", "--storage", store, cwd=tmp_path, check=0).stdout
    )["data"]["experiments"][0]["trials"]
    assert len(trials) == 1
    assert trials[0]["status"] == "completed" and trials[0]["objective"] == 222.0
    runs = _runs(log)
    assert [r["report"] for r in runs] == ["111", "222"]
    assert runs[0]["trial"] == runs[1]["trial"]  # re-run in the same trial directory


def test_sigterm_then_sigkill_after_grace_for_a_child_that_ignores_it(tmp_path):
    (tmp_path / "stubborn.py").write_text(
        "import os, signal, time\n"
        "signal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
        "open(os.path.join(os.environ['ORION_WORKING_DIR'], 'pid'), 'w').write(str(os.getpid()))\n"
        "time.sleep(60)\n"
    )
    store = tmp_path / "store"
    proc = _spawn(
        [
            "hunt",
            "-n",
            "stub",
            "--storage",
            str(store),
            "--kill-grace",
            "0.5",
            PYTHON,
            "stubborn.py",
            "-x~uniform(0, 1)",
        ],
        tmp_path,
        {},
    )
    deadline = time.monotonic() + 20
    while not list(store.glob("work/stub/*/pid")) and time.monotonic() < deadline:
        time.sleep(0.02)
    (pid_file,) = list(store.glob("work/stub/*/pid"))
    started = time.monotonic()
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 130
    assert time.monotonic() - started < 10
    pid = int(pid_file.read_text())
    with pytest.raises(ProcessLookupError):
        for _ in range(50):
            os.kill(pid, 0)
            time.sleep(0.05)
    counts = json.loads(
        orion("status", "--json", "--storage", str(store), cwd=tmp_path, check=0).stdout
    )["data"]["experiments"][0]["counts"]
    assert counts["interrupted"] == 1


def test_killed_worker_loses_nothing_else_and_its_trial_is_rerun_in_place(tmp_path):
    copy_script(tmp_path, "logged.py")
    log = tmp_path / "runs.log"
    store = str(tmp_path / "store")
    env = {"RUN_LOG": str(log), "SLEEP_LOW": "0.05", "SLEEP_HIGH": "0.05"}
    orion(
        "hunt",
        "-n",
        "k",
        "--storage",
        store,
        "--exp-max-trials",
        "2",
        PYTHON,
        "logged.py",
        "-x~uniform(0, 1)",
        cwd=tmp_path,
        env=env,
        check=0,
    )
    slow = {**env, "SLEEP_LOW": "30", "SLEEP_HIGH": "30"}
    victim = _spawn(
        ["hunt", "-n", "k", "--storage", store, "--exp-max-trials", "3", "--heartbeat", "0.2"],
        tmp_path,
        slow,
    )
    deadline = time.monotonic() + 20
    while len(_runs(log)) < 3 and time.monotonic() < deadline:
        time.sleep(0.02)
    victim.kill()  # SIGKILL: no chance to clean up; its child runs on, orphaned
    victim.wait()
    time.sleep(0.8)  # more than 3 heartbeats of 0.2 s
    status = json.loads(
        orion(
            "status",
            "--json",
            "--storage",
            store,
            cwd=tmp_path,
            env={"ORION_HEARTBEAT": "0.2"},
            check=0,
        ).stdout
    )
    entry = status["data"]["experiments"][0]
    assert entry["counts"]["completed"] == 2 and entry["counts"]["reserved"] == 1
    assert entry["lost"] == 1
    entry = json.loads(
        orion(
            "hunt",
            "-n",
            "k",
            "--storage",
            store,
            "--heartbeat",
            "0.2",
            "--json",
            cwd=tmp_path,
            env=env,
            check=0,
        ).stdout
    )
    entry = entry["data"]["experiments"][0]
    assert entry["counts"]["completed"] == 3 and entry["counts"]["reserved"] == 0
    runs = _runs(log)
    assert len(runs) == 4 and runs[2]["trial"] == runs[3]["trial"]
    assert len({r["trial"] for r in runs}) == 3
