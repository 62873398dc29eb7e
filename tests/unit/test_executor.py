"""ExitWatcher: children's exits, seen through pidfds or, where refused, through threads."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest

from orion_cli.executor import ExitWatcher


def sleeper(seconds: float) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-c", f"import time; time.sleep({seconds})"])


def drain(watcher: ExitWatcher[str], count: int) -> list[str]:
    seen: list[str] = []
    deadline = time.monotonic() + 30
    while len(seen) < count and time.monotonic() < deadline:
        item = watcher.next(0.2)
        if item is not None:
            seen.append(item)
    return seen


@pytest.mark.parametrize("pidfds", [True, False], ids=["pidfd", "threads"])
def test_children_come_out_in_the_order_they_exit_and_are_reaped(monkeypatch, pidfds):
    if pidfds and not hasattr(os, "pidfd_open"):
        pytest.skip("no pidfd_open on this system")
    if not pidfds:
        monkeypatch.delattr(os, "pidfd_open", raising=False)
    watcher: ExitWatcher[str] = ExitWatcher()
    procs = {"slow": sleeper(0.8), "fast": sleeper(0.0), "mid": sleeper(0.4)}
    for name, proc in procs.items():
        watcher.add(proc, name)
    assert drain(watcher, 3) == ["fast", "mid", "slow"]
    assert all(proc.returncode == 0 for proc in procs.values())
    watcher.close()


def test_a_child_refused_a_pidfd_is_watched_by_a_thread_beside_the_others(monkeypatch):
    if not hasattr(os, "pidfd_open"):
        pytest.skip("no pidfd_open on this system")
    watcher: ExitWatcher[str] = ExitWatcher()
    watcher.add(sleeper(0.6), "pidfd")
    real = os.pidfd_open

    def refuse(pid: int, flags: int = 0) -> int:
        raise OSError(38, "Function not implemented")

    monkeypatch.setattr(os, "pidfd_open", refuse)
    watcher.add(sleeper(0.1), "thread")
    monkeypatch.setattr(os, "pidfd_open", real)
    assert drain(watcher, 2) == ["thread", "pidfd"]


def test_next_waits_its_timeout_when_nothing_exits():
    watcher: ExitWatcher[str] = ExitWatcher()
    proc = sleeper(5)
    watcher.add(proc, "long")
    started = time.monotonic()
    assert watcher.next(0.3) is None
    assert time.monotonic() - started >= 0.29
    proc.kill()
    assert drain(watcher, 1) == ["long"]
    watcher.close()
