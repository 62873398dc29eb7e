"""`orion db rm` and `orion db upgrade` through the real executable."""

from __future__ import annotations

from tests.e2e.helpers import PYTHON, assert_one_error_line, copy_script, orion, status_json
from tests.pg import temporary_database


def test_rm_broken_trials_lets_a_broken_experiment_go_on(tmp_path):
    copy_script(tmp_path, "crash.py")
    proc = orion(
        "hunt",
        "-n",
        "b",
        "--exp-max-trials",
        "2",
        PYTHON,
        "crash.py",
        "-x~uniform(0, 1)",
        cwd=tmp_path,
    )
    assert proc.returncode == 3
    out = orion("db", "rm", "-n", "b", "--status", "broken", cwd=tmp_path, check=0).stdout
    assert out.strip() == "removed 3 broken trials of experiment b (version 1)"
    assert status_json(cwd=tmp_path)["experiments"][0]["counts"]["broken"] == 0
    copy_script(tmp_path)
    (tmp_path / "crash.py").write_text((tmp_path / "quadratic.py").read_text())
    orion("hunt", "-n", "b", cwd=tmp_path, check=0)
    assert status_json(cwd=tmp_path)["experiments"][0]["counts"]["completed"] == 2


def test_rm_errors(tmp_path):
    assert_one_error_line(
        orion("db", "rm", "-n", "nope", "--status", "broken", cwd=tmp_path),
        1,
        "no experiment 'nope'",
    )
    assert orion("db", "rm", "-n", "x", "--status", "completed", cwd=tmp_path).returncode == 2


def test_upgrade_on_postgresql_and_journal(tmp_path):
    out = orion("db", "upgrade", cwd=tmp_path, check=0).stdout
    assert out.startswith("nothing to upgrade")
    with temporary_database() as url:
        proc = orion("db", "upgrade", "--storage", url, cwd=tmp_path, check=0)
        assert "schema" in proc.stdout
