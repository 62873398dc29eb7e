"""Locks of the journal storage beyond flock: `SoftLock`, for filesystems without flock.

See journal.py ("Locks") for when each is used; every process sharing a journal must use the
same kind.
"""

from __future__ import annotations

import json
import os
import secrets
import socket
import threading
import time
from contextlib import suppress
from pathlib import Path
from typing import Any

import filelock


class SoftLock:
    """A lock file made with O_EXCL, for filesystems without flock; stale holders are broken.

    The file holds {"pid", "host", "time", "token"} of its holder, whose thread refreshes the
    mtime every stale_age/4 seconds. A waiter breaks the lock when the holder is a dead process
    on this host, or when the file has stayed unchanged for `stale_age` seconds of the waiter's
    own clock (so clocks of different hosts need not agree).
    """

    def __init__(self, path: Path, stale_age: float, poll_interval: float = 0.02) -> None:
        self.path = path
        self.stale_age = stale_age
        self.poll_interval = poll_interval
        self._token: str | None = None
        self._stop: threading.Event | None = None

    def acquire(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        seen: tuple[Any, ...] | None = None
        seen_since = time.monotonic()
        while not self._try_create():
            holder = self._read(self.path)
            if holder is None:
                continue  # released between our attempt and our look: try again at once
            if holder != seen:
                seen, seen_since = holder, time.monotonic()
            if self._dead_local(holder[0]) or time.monotonic() - seen_since >= self.stale_age:
                self._break(holder)
                continue
            if time.monotonic() >= deadline:
                raise filelock.Timeout(str(self.path))
            time.sleep(self.poll_interval)
        self._stop = threading.Event()
        threading.Thread(target=self._keep_fresh, args=(self._stop,), daemon=True).start()

    def release(self) -> None:
        if self._stop is not None:
            self._stop.set()
        holder = self._read(self.path)
        # Only remove our own file: after a break, the file belongs to someone else.
        if holder is not None and holder[0].get("token") == self._token:
            self._unlink(self.path)
        self._token = self._stop = None

    def _try_create(self) -> bool:
        try:
            fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        except FileExistsError:
            return False
        token = secrets.token_hex(8)
        owner = {"pid": os.getpid(), "host": socket.gethostname(), "time": time.time()}
        try:
            os.write(fd, json.dumps({**owner, "token": token}).encode())
        finally:
            os.close(fd)
        self._token = token
        return True

    @staticmethod
    def _read(path: Path) -> tuple[dict[str, Any], int, int] | None:
        """(content, inode, mtime_ns) of the lock file, or None when there is none."""
        try:
            with open(path, "rb") as handle:
                stat = os.fstat(handle.fileno())
                raw = handle.read(4096)
        except FileNotFoundError:
            return None
        try:
            content = json.loads(raw)
        except ValueError:
            content = {}
        if not isinstance(content, dict):
            content = {}
        return content, stat.st_ino, stat.st_mtime_ns

    @staticmethod
    def _dead_local(content: dict[str, Any]) -> bool:
        if content.get("host") != socket.gethostname() or not isinstance(content.get("pid"), int):
            return False
        try:
            os.kill(content["pid"], 0)
        except ProcessLookupError:
            return True
        except PermissionError:
            return False
        return False

    def _break(self, holder: tuple[Any, ...]) -> None:
        """Remove the stale lock file, unless someone else is already breaking it."""
        breaker = self.path.with_name(self.path.name + ".break")
        try:
            fd = os.open(breaker, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        except FileExistsError:
            try:
                if time.time() - breaker.stat().st_mtime > max(self.stale_age, 10.0):
                    self._unlink(breaker)  # a breaker died while breaking
            except FileNotFoundError:
                pass
            time.sleep(self.poll_interval)
            return
        try:
            if self._read(self.path) == holder:
                self._unlink(self.path)
        finally:
            os.close(fd)
            self._unlink(breaker)

    def _keep_fresh(self, stop: threading.Event) -> None:
        while not stop.wait(self.stale_age / 4):
            try:
                os.utime(self.path)
            except OSError:
                return

    @staticmethod
    def _unlink(path: Path) -> None:
        with suppress(FileNotFoundError):
            os.unlink(path)


def _acquire(lock: filelock.FileLock | SoftLock, timeout: float, poll: float) -> None:
    """Take a lock, polling every `poll` seconds while another process holds it.

    filelock polls every 50 ms by default: with many workers each waiting on locks held for
    well under a millisecond, that sleep, not the work, set the pace.
    """
    if isinstance(lock, SoftLock):
        lock.acquire(timeout)
    else:
        lock.acquire(timeout=timeout, poll_interval=poll)
