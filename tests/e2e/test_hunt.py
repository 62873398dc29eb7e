"""`orion hunt` end to end: real executable, real scripts, real storage."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

from tests.e2e.helpers import PYTHON, copy_script, hunt_json, orion, status_json


def _records(entry: dict) -> list[dict]:
    root = Path(entry["working_dir"])
    return [json.loads(p.read_text()) for p in sorted(root.glob("*/record.json"))]


def test_hunt_runs_exactly_max_trials_and_reports_best(tmp_path):
    copy_script(tmp_path)
    entry = hunt_json(
        "-n",
        "exp",
        "--exp-max-trials",
        "5",
        PYTHON,
        "quadratic.py",
        "-x~uniform(0, 1)",
        cwd=tmp_path,
    )
    assert entry["counts"]["completed"] == 5
    assert sum(entry["counts"].values()) == 5
    assert entry["best"]["objective"] == min(
        (t["params"]["x"] - 0.3) ** 2
        for t in status_json("--all", cwd=tmp_path)["experiments"][0]["trials"]
    )
    assert entry["reason"] == "done"


def test_child_gets_options_as_spelled_env_cwd_and_logs(tmp_path):
    copy_script(tmp_path, "echo_args.py")
    entry = hunt_json(
        "-n",
        "exp",
        "--exp-max-trials",
        "2",
        PYTHON,
        "echo_args.py",
        "--lr~loguniform(1e-5, 1.0)",
        "-x~uniform(-1, 1)",
        "--layers~randint(1, 4)",
        "--note",
        "a~b",
        "--out~/data",
        '{"a": {"b": 1}}',
        "--epochs",
        "3",
        cwd=tmp_path,
    )
    records = _records(entry)
    assert len(records) == 2
    for record in records:
        argv = record["argv"]
        assert argv[0] == "--lr" and float(argv[1]) > 0
        assert argv[2] == "-x" and -1 <= float(argv[3]) <= 1
        assert argv[4] == "--layers" and argv[5] in {"1", "2", "3"}
        assert argv[6:] == ["--note", "a~b", "--out~/data", '{"a": {"b": 1}}', "--epochs", "3"]
        assert record["cwd"] == str(tmp_path)
        env = record["env"]
        trial_dir = Path(env["ORION_WORKING_DIR"])
        assert trial_dir.parent == Path(entry["working_dir"])
        assert trial_dir.name == env["ORION_TRIAL_ID"]
        assert env["ORION_RESULTS_PATH"] == str(trial_dir / "results.json")
        assert env["ORION_EXPERIMENT_NAME"] == "exp"
        assert env["ORION_EXPERIMENT_VERSION"] == "1"
        assert env["ORION_INTERRUPT_CODE"] == "130"
        assert env["ORION_EXPERIMENT_ID"]
        assert "hello from the trial" in (trial_dir / "stdout.log").read_text()
        assert "a line on stderr" in (trial_dir / "stderr.log").read_text()


def test_orion_prefix_form_and_templates(tmp_path):
    copy_script(tmp_path, "echo_args.py")
    entry = hunt_json(
        "-n",
        "tpl",
        "--exp-max-trials",
        "1",
        PYTHON,
        "echo_args.py",
        "--lr",
        "orion~uniform(0, 1)",
        "--id={trial.id}",
        "--dir",
        "{trial.working_dir}/ckpt",
        "--exp",
        "{exp.name}-v{exp.version}",
        "--hash",
        "{trial.hash_params}",
        "--root",
        "{exp.working_dir}",
        "--keep",
        "{not.a.template}",
        cwd=tmp_path,
    )
    (record,) = _records(entry)
    argv = record["argv"]
    env = record["env"]
    assert argv[0] == "--lr" and 0 <= float(argv[1]) <= 1
    assert argv[2] == f"--id={env['ORION_TRIAL_ID']}"
    assert argv[3:5] == ["--dir", f"{env['ORION_WORKING_DIR']}/ckpt"]
    assert argv[5:7] == ["--exp", "tpl-v1"]
    assert argv[7] == "--hash" and len(argv[8]) == 32 and argv[8] != env["ORION_TRIAL_ID"]
    assert argv[9:11] == ["--root", entry["working_dir"]]
    assert argv[11:] == ["--keep", "{not.a.template}"]


def test_executable_script_and_program_on_path(tmp_path):
    script = copy_script(tmp_path)
    text = script.read_text()
    script.write_text(f"#!{sys.executable}\n{text}")
    script.chmod(0o755)
    entry = hunt_json(
        "-n", "exe", "--exp-max-trials", "2", "./quadratic.py", "-x~uniform(0, 1)", cwd=tmp_path
    )
    assert entry["counts"]["completed"] == 2
    bindir = tmp_path / "bin"
    bindir.mkdir()
    (bindir / "quad").symlink_to(script)
    env = {"PATH": f"{bindir}{os.pathsep}{os.environ['PATH']}"}
    entry = hunt_json(
        "-n", "onpath", "--exp-max-trials", "2", "quad", "-x~uniform(0, 1)", cwd=tmp_path, env=env
    )
    assert entry["counts"]["completed"] == 2


def test_resume_continues_and_stored_command_is_reused(tmp_path):
    copy_script(tmp_path)
    cmd = [PYTHON, "quadratic.py", "-x~uniform(0, 1)"]
    first = hunt_json("-n", "exp", "--exp-max-trials", "3", *cmd, cwd=tmp_path)
    assert first["counts"]["completed"] == 3
    again = hunt_json("-n", "exp", *cmd, cwd=tmp_path)
    assert again["counts"]["completed"] == 3  # done: nothing more ran
    more = hunt_json("-n", "exp", "--exp-max-trials", "5", cwd=tmp_path)
    assert more["counts"]["completed"] == 5
    ids = [t["id"] for t in status_json("--all", cwd=tmp_path)["experiments"][0]["trials"]]
    assert len(ids) == len(set(ids)) == 5


def test_init_only_creates_and_runs_nothing(tmp_path):
    copy_script(tmp_path)
    entry = hunt_json(
        "-n",
        "exp",
        "--init-only",
        "--exp-max-trials",
        "3",
        PYTHON,
        "quadratic.py",
        "-x~uniform(0, 1)",
        cwd=tmp_path,
    )
    assert entry["reason"] == "initialized"
    assert sum(entry["counts"].values()) == 0
    info = json.loads(orion("info", "-n", "exp", "--json", cwd=tmp_path, check=0).stdout)["data"]
    assert info["max_trials"] == 3
    assert info["space"] == {"x": "uniform(0.0, 1.0)"}


def test_same_seed_gives_same_trials_and_finite_space_ends(tmp_path):
    copy_script(tmp_path)
    params = []
    for store in ("a", "b"):
        hunt_json(
            "-n",
            "seeded",
            "--storage",
            str(tmp_path / store),
            "--seed",
            "7",
            "--exp-max-trials",
            "4",
            PYTHON,
            "quadratic.py",
            "-x~uniform(0, 1)",
            cwd=tmp_path,
        )
        data = json.loads(
            orion(
                "status",
                "--json",
                "--all",
                "--storage",
                str(tmp_path / store),
                cwd=tmp_path,
                check=0,
            ).stdout
        )["data"]
        params.append(sorted(t["params"]["x"] for t in data["experiments"][0]["trials"]))
    assert params[0] == params[1]
    entry = hunt_json(
        "-n",
        "finite",
        "--exp-max-trials",
        "50",
        PYTHON,
        "quadratic.py",
        "-x~choices([0.1, 0.3])",
        "--y~randint(0, 3)",
        cwd=tmp_path,
    )
    assert entry["counts"]["completed"] == 6
    assert entry["reason"] == "done"


def test_n_workers_runs_trials_at_once(tmp_path):
    copy_script(tmp_path)
    entry = hunt_json(
        "-n",
        "par",
        "--exp-max-trials",
        "6",
        "--n-workers",
        "3",
        PYTHON,
        "quadratic.py",
        "-x~uniform(0, 1)",
        "--sleep",
        "0.3",
        cwd=tmp_path,
    )
    assert entry["counts"]["completed"] == 6
    trials = status_json("--all", cwd=tmp_path)["experiments"][0]["trials"]
    assert len(trials) == 6


def test_config_file_and_precedence(tmp_path):
    copy_script(tmp_path)
    (tmp_path / "exp.yaml").write_text(
        "experiment:\n  name: fromfile\n  max_trials: 2\n  algorithm: {random: {seed: 3}}\n"
        "worker:\n  n_workers: 2\nstorage: ./store-from-file\n"
    )
    entry = hunt_json("-c", "exp.yaml", PYTHON, "quadratic.py", "-x~uniform(0, 1)", cwd=tmp_path)
    assert entry["name"] == "fromfile" and entry["counts"]["completed"] == 2
    assert (tmp_path / "store-from-file").is_dir()
    # env < -c file < flags
    entry = hunt_json(
        "-c",
        "exp.yaml",
        "-n",
        "flagname",
        "--exp-max-trials",
        "1",
        PYTHON,
        "quadratic.py",
        "-x~uniform(0, 1)",
        cwd=tmp_path,
        env={"ORION_EXP_MAX_TRIALS": "4"},
    )
    assert entry["name"] == "flagname" and entry["counts"]["completed"] == 1
    (tmp_path / "nomax.yaml").write_text("experiment:\n  name: envmax\n")
    entry = hunt_json(
        "-c",
        "nomax.yaml",
        PYTHON,
        "quadratic.py",
        "-x~uniform(0, 1)",
        cwd=tmp_path,
        env={"ORION_EXP_MAX_TRIALS": "3"},
    )
    assert entry["counts"]["completed"] == 3


def test_script_config_files_are_rendered_per_trial(tmp_path):
    (tmp_path / "train.py").write_text(
        "import json, os, sys\n"
        "from orion_cli.client import report_objective\n"
        "path = sys.argv[sys.argv.index('--config') + 1]\n"
        "text = open(path).read()\n"
        "out = os.path.join(os.environ['ORION_WORKING_DIR'], 'seen.txt')\n"
        "open(out, 'w').write(path + '\\n' + text)\n"
        "report_objective(1.0)\n"
    )
    (tmp_path / "c.yaml").write_text(
        "model:\n  lr: orion~loguniform(1e-5, 1.0)\n  depth: 3\n"
        "layers: ['orion~randint(1, 4)', 5]\nrun: '{trial.id}'\n"
    )
    (tmp_path / "c.json").write_text('{"opt": {"momentum": "orion~uniform(0, 1)"}, "k": 1}')
    (tmp_path / "c.txt").write_text("dropout = drop~uniform(0, 0.5)\nname = {exp.name}\n")
    for fname in ("c.yaml", "c.json", "c.txt"):
        original = (tmp_path / fname).read_text()
        entry = hunt_json(
            "-n",
            fname.replace(".", "-"),
            "--exp-max-trials",
            "2",
            PYTHON,
            "train.py",
            "--config",
            fname,
            "--seed~randint(0, 100)",
            cwd=tmp_path,
        )
        assert entry["counts"]["completed"] == 2
        assert (tmp_path / fname).read_text() == original
        for seen in Path(entry["working_dir"]).glob("*/seen.txt"):
            path, _, text = seen.read_text().partition("\n")
            assert Path(path).parent == seen.parent and Path(path).name == fname
            assert "orion~" not in text and "~uniform" not in text
    info = json.loads(orion("info", "-n", "c-yaml", "--json", cwd=tmp_path, check=0).stdout)
    assert set(info["data"]["space"]) == {"model/lr", "layers/0", "seed"}


def test_trials_keep_the_users_blas_threading(tmp_path):
    (tmp_path / "env.py").write_text(
        "import json, os\n"
        "from orion_cli.client import report_objective\n"
        "names = ('OPENBLAS_NUM_THREADS', 'OMP_NUM_THREADS', 'MKL_NUM_THREADS')\n"
        "seen = {n: os.environ.get(n) for n in names}\n"
        "open(os.path.join(os.environ['ORION_WORKING_DIR'], 'env.json'), 'w').write("
        "json.dumps(seen))\n"
        "report_objective(1.0)\n"
    )
    env = {k: v for k, v in os.environ.items() if "NUM_THREADS" not in k}
    env["OMP_NUM_THREADS"] = "7"
    import subprocess

    from tests.e2e.helpers import ORION

    proc = subprocess.run(
        [
            ORION,
            "hunt",
            "--json",
            "-n",
            "blas",
            "--exp-max-trials",
            "1",
            PYTHON,
            "env.py",
            "-x~uniform(0, 1)",
        ],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stderr
    (seen,) = [
        json.loads(p.read_text())
        for p in Path(json.loads(proc.stdout)["data"]["experiments"][0]["working_dir"]).glob(
            "*/env.json"
        )
    ]
    assert seen == {"OPENBLAS_NUM_THREADS": None, "OMP_NUM_THREADS": "7", "MKL_NUM_THREADS": None}
