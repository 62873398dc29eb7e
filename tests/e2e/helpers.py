"""Run the real `orion` executable on tiny scripts copied into tmp_path."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

SCRIPTS = Path(__file__).parent / "scripts"
ORION = str(Path(sys.executable).parent / "orion")
PYTHON = sys.executable


def copy_script(tmp_path: Path, name: str = "quadratic.py") -> Path:
    dest = tmp_path / name
    shutil.copy(SCRIPTS / name, dest)
    return dest


def orion(
    *args: str,
    cwd: Path,
    env: dict[str, str] | None = None,
    timeout: float = 120,
    check: int | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run `orion ARGS` and return the finished process (stdout and stderr as text)."""
    full_env = {**os.environ, **(env or {})}
    proc = subprocess.run(
        [ORION, *args],
        cwd=cwd,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
    )
    if check is not None:
        assert proc.returncode == check, (proc.returncode, proc.stdout, proc.stderr)
    return proc


def hunt_json(
    *args: str, cwd: Path, env: dict[str, str] | None = None, check: int = 0
) -> dict[str, Any]:
    proc = orion("hunt", "--json", *args, cwd=cwd, env=env, check=check)
    doc = json.loads(proc.stdout)
    assert doc["schema"] == 1 and doc["command"] == "hunt"
    (entry,) = doc["data"]["experiments"]
    return entry


def status_json(*args: str, cwd: Path) -> dict[str, Any]:
    proc = orion("status", "--json", *args, cwd=cwd, check=0)
    doc = json.loads(proc.stdout)
    assert doc["schema"] == 1 and doc["command"] == "status"
    return doc["data"]


def assert_one_error_line(proc: subprocess.CompletedProcess[str], code: int, *needles: str) -> str:
    """The command failed with `code`, one `error:` line, no traceback, and says `needles`."""
    assert proc.returncode == code, (proc.returncode, proc.stdout, proc.stderr)
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert "Traceback" not in proc.stderr, proc.stderr
    errors = [line for line in lines if line.startswith("error: ")]
    assert len(errors) == 1, proc.stderr
    for needle in needles:
        assert needle in errors[0], (needle, errors[0])
    return errors[0]
