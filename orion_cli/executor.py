"""Launch one trial as a subprocess (no shell, its own process group) and read its outcome."""

from __future__ import annotations

import contextlib
import json
import math
import os
import queue
import select
import shutil
import signal
import subprocess
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Generic, TypeVar

from orion_cli.core.trial import Status
from orion_cli.errors import ScriptError

RESULTS_FILE = "results.json"
STDOUT_FILE = "stdout.log"
STDERR_FILE = "stderr.log"
_TAIL_LINES = 5
T = TypeVar("T")


@dataclass(frozen=True)
class Outcome:
    """How a trial ended: completed (with results), broken (with why) or interrupted."""

    status: Status
    results: tuple[dict[str, Any], ...] = ()
    exit_code: int | None = None
    message: str | None = None


def check_command(argv: Sequence[str], cwd: str | None = None) -> None:
    """Refuse, before any trial, a command whose program or script is missing or not runnable."""
    if not argv:
        raise ScriptError(
            "no command to run: give the script after the options, e.g. "
            "`orion hunt -n exp python train.py --lr~'loguniform(1e-5, 1.0)'`"
        )
    base = Path(cwd or ".")
    program = argv[0]
    if os.sep in program:
        path = base / program
        if not path.is_file():
            raise ScriptError(f"script {program!r} not found: check the path (from {base})")
        if not os.access(path, os.X_OK):
            raise ScriptError(
                f"script {program!r} is not executable: run `chmod +x {program}` or launch it "
                f"with its interpreter, e.g. `python {program}`"
            )
    elif shutil.which(program) is None:
        raise ScriptError(f"program {program!r} not found on PATH: check its name or give a path")
    if _is_interpreter(program) and len(argv) > 1 and not argv[1].startswith("-"):
        script = base / argv[1]
        if not script.is_file():
            raise ScriptError(f"script {argv[1]!r} not found: check the path (from {base})")


def _is_interpreter(program: str) -> bool:
    name = Path(program).name
    return name.startswith(("python", "pypy")) or name in {"bash", "sh", "Rscript", "julia"}


def launch(
    argv: Sequence[str], *, env: Mapping[str, str], cwd: str | None, working_dir: Path
) -> subprocess.Popen[bytes]:
    """Start the child in its own process group, its output going to its working dir."""
    with contextlib.suppress(FileNotFoundError):
        (working_dir / RESULTS_FILE).unlink()
    full_env = {**os.environ, **env}
    with (
        open(working_dir / STDOUT_FILE, "ab") as out,
        open(working_dir / STDERR_FILE, "ab") as err,
    ):
        return subprocess.Popen(
            list(argv),
            cwd=cwd,
            env=full_env,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=err,
            start_new_session=True,
        )


def stop(proc: subprocess.Popen[bytes], grace: float) -> None:
    """SIGTERM the child's process group, then SIGKILL it after `grace` seconds."""
    _signal_group(proc, signal.SIGTERM)
    deadline = time.monotonic() + grace
    while proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)
    if proc.poll() is None:
        _signal_group(proc, signal.SIGKILL)
        proc.wait()
    else:
        # The leader is gone; make sure nothing it left in its group survives.
        _signal_group(proc, signal.SIGKILL)


def _signal_group(proc: subprocess.Popen[bytes], sig: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, sig)


def outcome(exit_code: int, working_dir: Path, interrupt_code: int) -> Outcome:
    """Read what the child left: its exit code and its results file."""
    if exit_code == interrupt_code:
        return Outcome(Status.INTERRUPTED, exit_code=exit_code, message="interrupted")
    if exit_code != 0:
        return Outcome(Status.BROKEN, exit_code=exit_code, message=_describe_exit(exit_code))
    path = working_dir / RESULTS_FILE
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return Outcome(
            Status.BROKEN,
            exit_code=0,
            message="exited 0 but wrote no results file (call "
            "orion_cli.client.report_objective(value), or write JSON to $ORION_RESULTS_PATH)",
        )
    except OSError as exc:
        return Outcome(Status.BROKEN, exit_code=0, message=f"cannot read its results: {exc}")
    results, problem = parse_results(text)
    if problem is not None:
        return Outcome(Status.BROKEN, exit_code=0, message=problem)
    return Outcome(Status.COMPLETED, results=results, exit_code=0)


def parse_results(text: str) -> tuple[tuple[dict[str, Any], ...], str | None]:
    """The results list, or what is wrong with it."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        return (), f"results file is not valid JSON ({exc})"
    if not isinstance(data, list) or not all(isinstance(r, dict) for r in data):
        return (), 'results file must hold a JSON list of {"name", "type", "value"} objects'
    objectives = [r for r in data if r.get("type") == "objective"]
    if len(objectives) != 1:
        return (), f"results need exactly one result of type 'objective', got {len(objectives)}"
    value = objectives[0].get("value")
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        return (), f"the objective must be a finite number, got {value!r}"
    return tuple(data), None


def _describe_exit(code: int) -> str:
    if code < 0:
        try:
            name = signal.Signals(-code).name
        except ValueError:
            name = f"signal {-code}"
        return f"killed by {name}"
    return f"exited with code {code}"


def stderr_tail(working_dir: Path, lines: int = _TAIL_LINES) -> list[str]:
    """The last lines of the child's stderr, for a broken trial's message."""
    path = working_dir / STDERR_FILE
    try:
        with open(path, "rb") as handle:
            handle.seek(0, os.SEEK_END)
            size = handle.tell()
            handle.seek(max(0, size - 4096))
            tail = handle.read().decode("utf-8", errors="replace")
    except OSError:
        return []
    return [line for line in tail.splitlines() if line.strip()][-lines:]


class ExitWatcher(Generic[T]):
    """Tells when children exit, without a thread per child where the system allows it.

    On Linux each child gets a pidfd (readable once it exits), all polled by the caller's
    thread: starting a watcher thread per trial cost about 1.5 ms of a busy machine's time.
    Elsewhere, or if a pidfd cannot be opened, a daemon thread waits for that child.
    """

    def __init__(self) -> None:
        usable = hasattr(os, "pidfd_open") and hasattr(select, "poll")
        self._poll: Any = select.poll() if usable else None
        self._fds: dict[int, tuple[subprocess.Popen[bytes], T]] = {}
        self._done: queue.Queue[T] = queue.Queue()
        self._threads = 0

    def add(self, proc: subprocess.Popen[bytes], item: T) -> None:
        """Watch `proc`; `item` comes out of `next` once it has exited (and been reaped)."""
        if self._poll is not None:
            try:
                fd = os.pidfd_open(proc.pid)
            except OSError:
                pass  # an old kernel or a sandbox that refuses it: a thread does the waiting
            else:
                self._fds[fd] = (proc, item)
                self._poll.register(fd, select.POLLIN)
                return
        self._threads += 1
        threading.Thread(target=self._wait, args=(proc, item), daemon=True).start()

    def _wait(self, proc: subprocess.Popen[bytes], item: T) -> None:
        proc.wait()
        self._done.put(item)

    def next(self, timeout: float) -> T | None:
        """The item of a child that exited, waiting at most `timeout` seconds; else None."""
        deadline = time.monotonic() + timeout
        while True:
            with contextlib.suppress(queue.Empty):
                item = self._done.get_nowait()
                self._threads -= 1
                return item
            left = max(deadline - time.monotonic(), 0.0)
            if self._fds:
                # With threads watching too, poll in slices so that their exits are seen soon.
                ready = self._poll.poll(1000 * (min(left, 0.02) if self._threads else left))
                if ready:
                    return self._reap(ready[0][0])
            elif self._threads:
                with contextlib.suppress(queue.Empty):
                    item = self._done.get(timeout=left)
                    self._threads -= 1
                    return item
            else:
                time.sleep(left)  # nothing to watch: just the wait the caller asked for
            if time.monotonic() >= deadline:
                return None

    def _reap(self, fd: int) -> T:
        proc, item = self._fds.pop(fd)
        self._poll.unregister(fd)
        os.close(fd)
        proc.wait()
        return item

    def close(self) -> None:
        """Stop watching; children still running are left alone."""
        for fd in list(self._fds):
            self._poll.unregister(fd)
            os.close(fd)
        self._fds.clear()
