"""Every user error: one line on stderr, exit 1 (2 for usage), no traceback, nothing written."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.e2e.helpers import PYTHON, assert_one_error_line, copy_script, orion


def _storage() -> Path:
    return Path(os.environ["ORION_STORAGE"])


@pytest.mark.parametrize(
    ("args", "needles"),
    [
        (["hunt", PYTHON, "quadratic.py", "-x~uniform(0, 1)"], ["no experiment name", "-n NAME"]),
        (["hunt", "-n", "e", PYTHON, "quadratic.py", "-x", "0.5"], ["no prior in the command"]),
        (["hunt", "-n", "e", PYTHON, "quadratic.py", "-x~uniform(1, 0)"], ["-x~'uniform(1, 0)'"]),
        (
            ["hunt", "-n", "e", PYTHON, "quadratic.py", "-x~loguniform(0, 1)"],
            ["-x~'loguniform(0, 1)'"],
        ),
        (["hunt", "-n", "e", PYTHON, "quadratic.py", "-x~unifrom(0, 1)"], ["unifrom"]),
        (
            ["hunt", "-n", "e", PYTHON, "quadratic.py", "-x~uniform(0, 1)", "-x~uniform(0, 2)"],
            ["x"],
        ),
        (["hunt", "-n", "e", PYTHON, "quadratic.py", "-x~__import__('os').system('id')"], ["-x~"]),
        (
            ["hunt", "-n", "e", PYTHON, "missing.py", "-x~uniform(0, 1)"],
            ["script 'missing.py' not found"],
        ),
        (
            ["hunt", "-n", "e", "no-such-program-xyz", "-x~uniform(0, 1)"],
            ["program 'no-such-program-xyz' not found on PATH"],
        ),
        (
            ["hunt", "-n", "e", "./quadratic.py", "-x~uniform(0, 1)"],
            ["is not executable", "chmod +x"],
        ),
        (
            ["hunt", "-n", "../escape", PYTHON, "quadratic.py", "-x~uniform(0, 1)"],
            ["invalid experiment name '../escape'"],
        ),
        (
            ["hunt", "-n", "e", "-c", "nope.yaml", PYTHON, "quadratic.py", "-x~uniform(0, 1)"],
            ["cannot read config file nope.yaml"],
        ),
        (
            ["hunt", "-n", "e", "-c", "broken.yaml", PYTHON, "quadratic.py", "-x~uniform(0, 1)"],
            ["broken.yaml is not valid YAML at line"],
        ),
        (
            ["hunt", "-n", "e", "-c", "typo.yaml", PYTHON, "quadratic.py", "-x~uniform(0, 1)"],
            ["unknown key experiment.max_trails"],
        ),
        (
            ["hunt", "-n", "e", "--algorithm", "nope", PYTHON, "quadratic.py", "-x~uniform(0, 1)"],
            ["unknown algorithm 'nope'", "random"],
        ),
        (
            [
                "hunt",
                "-n",
                "e",
                PYTHON,
                "quadratic.py",
                "--config",
                "none.yaml",
                "-x~uniform(0, 1)",
            ],
            ["cannot read the script config none.yaml"],
        ),
        (["hunt", "-n", "nosuch"], ["no experiment named 'nosuch'"]),
        (
            [
                "hunt",
                "-n",
                "e",
                "--exp-max-trail",
                "3",
                PYTHON,
                "quadratic.py",
                "-x~uniform(0, 1)",
            ],
            ["unknown option '--exp-max-trail' before the command"],
        ),
        (["info", "-n", "nosuch"], ["no experiment 'nosuch'"]),
        (["status", "-n", "nosuch"], ["no experiment 'nosuch'"]),
    ],
)
def test_user_errors_are_one_line_exit_1_and_write_nothing(tmp_path, args, needles):
    copy_script(tmp_path)
    (tmp_path / "broken.yaml").write_text("experiment: [unclosed\n")
    (tmp_path / "typo.yaml").write_text("experiment:\n  max_trails: 3\n")
    proc = orion(*args, cwd=tmp_path)
    assert_one_error_line(proc, 1, *needles)
    assert not _storage().exists(), "a refused command wrote to the storage"


def test_debug_shows_the_traceback(tmp_path):
    copy_script(tmp_path)
    proc = orion(
        "--debug", "hunt", "-n", "e", PYTHON, "quadratic.py", "-x~uniform(1, 0)", cwd=tmp_path
    )
    assert proc.returncode == 1
    assert "Traceback" in proc.stderr and "PriorSyntaxError" in proc.stderr
    proc = orion(
        "hunt", "--debug", "-n", "e", PYTHON, "quadratic.py", "-x~uniform(1, 0)", cwd=tmp_path
    )
    assert proc.returncode == 1 and "Traceback" in proc.stderr


def test_usage_errors_exit_2(tmp_path):
    proc = orion("hunt", "--n-workers", "0", "-n", "e", "python", "x.py", cwd=tmp_path)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    proc = orion("frobnicate", cwd=tmp_path)
    assert proc.returncode == 2
    assert not _storage().exists()


def test_unwritable_storage_is_a_clear_error(tmp_path):
    copy_script(tmp_path)
    # /proc refuses new directories even to root, so this holds for any user.
    target = "/proc/orion-cli-cannot-write/store"
    proc = orion(
        "hunt",
        "-n",
        "e",
        "--storage",
        target,
        PYTHON,
        "quadratic.py",
        "-x~uniform(0, 1)",
        cwd=tmp_path,
    )
    assert_one_error_line(proc, 1, target)


def test_storage_that_is_a_file_is_a_clear_error(tmp_path):
    copy_script(tmp_path)
    (tmp_path / "afile").write_text("not a directory")
    proc = orion(
        "hunt",
        "-n",
        "e",
        "--storage",
        str(tmp_path / "afile"),
        PYTHON,
        "quadratic.py",
        "-x~uniform(0, 1)",
        cwd=tmp_path,
    )
    assert_one_error_line(proc, 1, "afile")


def test_changed_space_is_refused_naming_the_differences(tmp_path):
    copy_script(tmp_path)
    orion(
        "hunt",
        "-n",
        "e",
        "--exp-max-trials",
        "1",
        PYTHON,
        "quadratic.py",
        "-x~uniform(0, 1)",
        cwd=tmp_path,
        check=0,
    )
    proc = orion(
        "hunt",
        "-n",
        "e",
        PYTHON,
        "quadratic.py",
        "-x~uniform(0, 2)",
        "--y~randint(0, 3)",
        cwd=tmp_path,
    )
    assert_one_error_line(
        proc,
        1,
        "another search space",
        "x: uniform(0.0, 1.0) -> uniform(0.0, 2.0)",
        "new dimension y~randint(0, 3)",
    )


def test_help_of_every_command(tmp_path):
    for command in ("hunt", "status", "list", "info", "db"):
        proc = orion(command, "--help", cwd=tmp_path, check=0)
        assert "Usage: orion" in proc.stdout
    top = orion("--help", cwd=tmp_path, check=0).stdout
    for command in ("hunt", "status", "list", "info", "db"):
        assert command in top
    assert orion("--version", cwd=tmp_path, check=0).stdout.startswith("orion, version")
