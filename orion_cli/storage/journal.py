"""The embedded default storage: an append-only JSON-lines journal in a directory.

Layout of the directory (created with its parents on the first write):
    journal.jsonl           one record a line; the last record of a key wins on replay:
                            {"k":"v","v":1} format header, {"k":"e",...experiment},
                            {"k":"t",...trial}, {"k":"h","e":EXP,"i":ID,"t":TIME} heartbeat,
                            {"k":"d","e":EXP,"ids":[...]} deletion
    journal.lock            the lock every writer holds while it appends
    suggest-<name>.lock     the suggest lock of each experiment
    journal.bad-*.jsonl     lines `orion db repair` set aside

Writers take the journal lock only to read the unseen tail (so that each compare-and-set is
decided on fresh state), decide, append their line(s) with one `os.write` on an `O_APPEND`
descriptor, and unlock. Nothing is fsynced on a normal write: the write reaches the page cache
before the lock is released, so every other process sees it, and only an OS crash (not a
killed process) can lose the last writes. `fsync=True` syncs each write: on the benchmark
machine (ext4 on a virtual disk) a write went from about 0.17 ms to 4 ms, 20 times slower,
which 50 workers sharing one lock would feel (tests/benchmarks/bench_storage.py).
Readers replay only the bytes they have not seen; the cost of an operation does not grow with
the number of stored trials. A last line without its newline (a writer killed mid-append) is
ignored by readers and cut off by the next writer: that record was never acknowledged. A bad
line anywhere else stops every command with the file and line number until `orion db repair`.

Compaction writes a snapshot (one line per live record) to a temporary file and moves it over
the journal with `os.replace`, under the lock. Every object keeps a descriptor of the file it
has read, so the inode cannot be reused, and re-reads from scratch when the path names another
inode. It runs automatically after a write when the journal is larger than `compact_threshold`
bytes (default 16 MiB) and more than twice the size of its live records (so a journal of
30,000 trials, about 12 MB live, is compacted past 24 MB); `orion db compact` runs it by hand.
Twice, not more: a trial leaves two or more records (registered already reserved by its worker,
ended, and one per heartbeat; three when another worker reserves it), and every cold read
(`orion status`, a new worker) replays the whole file.

Locks: by default `filelock.FileLock` (flock), released by the OS when the holder dies; it works
on local disks, NFSv4 and Lustre mounted with `-o flock`. On filesystems without flock (Lustre
without `-o flock`, some old NFS servers) set `ORION_JOURNAL_SOFT_LOCK=1` (or pass
`soft_lock=True`): a lock file created with O_EXCL that holds the pid, host and time of its
holder. The holder refreshes its mtime; a waiter breaks the lock when its holder is a dead
process of the same host, or when the file has not changed for the stale age (half the lock
timeout, between 1 and 30 s), so a killed holder never blocks others beyond the lock timeout.
Every process sharing a journal must use the same kind of lock.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import secrets
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

import filelock

from orion_cli.core.experiment import Experiment
from orion_cli.core.trial import Status, Trial
from orion_cli.errors import StorageError
from orion_cli.storage._locks import SoftLock, _acquire
from orion_cli.storage.base import AlreadyExists, LockTimeout, TrialSummary
from orion_cli.storage.memory import (
    Record,
    Records,
    experiment_from_record,
    gc_paused,
    not_found_experiment,
    not_found_trial,
    suggest_lock_timeout_message,
    trial_from_record,
)

JOURNAL = "journal.jsonl"
LOCK = "journal.lock"
FORMAT = 1
DEFAULT_COMPACT_THRESHOLD = 16 * 2**20
SOFT_LOCK_ENV = "ORION_JOURNAL_SOFT_LOCK"

_REQUIRED = {
    "v": ("v",),
    "e": ("name", "version"),
    "t": ("id", "experiment", "params", "status"),
    "h": ("e", "i", "t"),
    "d": ("e", "ids"),
}
_STATUSES = frozenset(status.value for status in Status)
_SAFE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._+-]{0,127}$")
_TRIAL_KEEP = frozenset({"k", "id", "experiment", "params", "status"})


def parse_record(line: str | bytes) -> Record:
    """One journal line as a record; ValueError says what is wrong with it."""
    try:
        record = json.loads(line)
    except json.JSONDecodeError as exc:
        raise ValueError(f"not JSON: {exc.msg} at column {exc.colno}") from None
    except UnicodeDecodeError:
        raise ValueError("not UTF-8") from None
    return check_record(record)


def parse_lines(lines: list[str]) -> list[Any] | None:
    """Every line parsed by one call of the JSON parser, or None if any line is not JSON.

    Parsing line by line spent most of a cold read in Python's per-call overhead; one array is
    parsed in C. On any error the caller parses line by line to name the bad one.
    """
    if not lines:
        return []
    try:
        values = json.loads("[" + ",".join(lines) + "]")
    except ValueError:
        return None
    return values if isinstance(values, list) and len(values) == len(lines) else None


def check_record(record: Any) -> Record:
    """A parsed line as a record; ValueError says what is wrong with it."""
    if not isinstance(record, dict):
        raise ValueError("not a JSON object")
    required = _REQUIRED.get(record.get("k"))  # type: ignore[arg-type]
    if required is None:
        raise ValueError(f"unknown record kind {record.get('k')!r}")
    missing = [name for name in required if name not in record]
    if missing:
        raise ValueError(f"record without {', '.join(missing)}")
    if record["k"] == "t" and record["status"] not in _STATUSES:
        raise ValueError(f"unknown trial status {record['status']!r}")
    return record


def apply_record(records: Records, record: Record) -> None:
    """Replay one parsed record onto `records`."""
    kind = record["k"]
    if kind == "t":
        records.put_trial(record)
    elif kind == "h":
        records.set_heartbeat(record["e"], record["i"], record["t"])
    elif kind == "e":
        records.put_experiment(record)
    elif kind == "d":
        records.delete(record["e"], record["ids"])


def encode_trial(record: Record) -> Record:
    """The trial record to write: empty and None fields are left out to keep lines short."""
    out = {"k": "t"}
    for key, value in record.items():
        if key in _TRIAL_KEEP or (value is not None and value != {} and value != []):
            out[key] = value
    out["k"] = "t"  # a stored record carries its kind already; any other value is replaced
    return out


def encode(record: Record) -> bytes:
    return (json.dumps(record, separators=(",", ":"), allow_nan=True) + "\n").encode()


def header() -> bytes:
    return encode({"k": "v", "v": FORMAT})


class CorruptJournal(StorageError):
    """A line of the journal, before its end, is not a record."""


def corrupt_line_error(path: Path, lineno: int, reason: str) -> CorruptJournal:
    where = path.parent
    return CorruptJournal(
        f"the journal {path} is corrupt at line {lineno} ({reason}): run "
        f"`orion db check --storage {where}` to see the damage and "
        f"`orion db repair --storage {where}` to set the bad lines aside"
    )


def write_error(directory: Path, exc: OSError) -> StorageError:
    reason = exc.strerror or str(exc)
    return StorageError(
        f"cannot write the storage at {directory}: {reason}: choose another --storage or fix "
        "the permissions"
    )


def soft_lock_from_env() -> bool:
    return os.environ.get(SOFT_LOCK_ENV, "").strip().lower() in {"1", "true", "yes", "on"}


def _safe_name(experiment: str) -> str:
    """A file-name-safe form of an experiment name (a hash for names that need one)."""
    if _SAFE_NAME.match(experiment):
        return experiment
    return "x" + hashlib.sha256(experiment.encode()).hexdigest()


class JournalStorage:
    """Experiments and trials in an append-only journal; safe across processes and hosts."""

    def __init__(
        self,
        directory: Path,
        lock_timeout: float = 60.0,
        soft_lock: bool | None = None,
        *,
        compact_threshold: int = DEFAULT_COMPACT_THRESHOLD,
        fsync: bool = False,
    ) -> None:
        self.directory = Path(directory)
        self.path = self.directory / JOURNAL
        self.url = str(self.directory)
        self.lock_timeout = lock_timeout
        self.soft_lock = soft_lock_from_env() if soft_lock is None else soft_lock
        self.compact_threshold = compact_threshold
        self.fsync = fsync
        self.stale_age = max(1.0, min(30.0, lock_timeout / 2))
        self._mutex = threading.RLock()
        self._flock = filelock.FileLock(str(self.directory / LOCK), thread_local=False)
        self._fd: int | None = None  # read descriptor on the journal file we have replayed
        self._wfd: int | None = None  # append descriptor on the same file
        self._directory_ok = False
        self._records: Records
        self._offset: int
        self._lines: int
        self._sizes: dict[tuple[str, ...], int]
        self._live_bytes: int
        self._reset_state()

    # -- experiments ---------------------------------------------------------------------
    def create_experiment(self, exp: Experiment) -> None:
        with self._transaction():
            if self._records.experiment(exp.name, exp.version) is not None:
                raise AlreadyExists(
                    f"experiment {exp.name!r} version {exp.version} exists already in "
                    f"{self.url}: fetch it instead of creating it"
                )
            self._append([{"k": "e", **exp.to_dict()}])

    def update_experiment(self, exp: Experiment) -> None:
        with self._transaction():
            if self._records.experiment(exp.name, exp.version) is None:
                raise not_found_experiment(exp.name, exp.version, self.url)
            self._append([{"k": "e", **exp.to_dict()}])

    def fetch_experiment(self, name: str, version: int | None = None) -> Experiment:
        with self._reading():
            record = self._records.experiment(name, version)
            if record is None:
                raise not_found_experiment(name, version, self.url)
            return experiment_from_record(record)

    def list_experiments(self) -> list[Experiment]:
        with self._reading():
            out = [experiment_from_record(r) for r in self._records.iter_experiments()]
        return sorted(out, key=lambda exp: (exp.name, exp.version))

    # -- trials --------------------------------------------------------------------------
    def register_trial(self, trial: Trial) -> bool:
        with self._transaction():
            if self._records.trial(trial.experiment, trial.id) is not None:
                return False
            self._append([encode_trial(trial.to_dict())])
            return True

    def fetch_trials(self, experiment: str, status: Status | None = None) -> list[Trial]:
        with self._reading():
            wanted = None if status is None else Status(status).value
            with gc_paused():
                everything = self._records.trial_objects(experiment)
            if wanted is None:
                return list(everything)
            return [t for t in everything if t.status.value == wanted]

    def summarize(self, experiment: str) -> TrialSummary:
        with self._reading():
            return self._records.summary(experiment)

    def fetch_trial(self, experiment: str, trial_id: str) -> Trial:
        with self._reading():
            record = self._records.trial(experiment, trial_id)
            if record is None:
                raise not_found_trial(experiment, trial_id, self.url)
            return trial_from_record(record)

    def reserve_trial(self, experiment: str, worker: str) -> Trial | None:
        with self._reading():
            if self._records.next_reservable(experiment) is None:
                return None  # nothing to take: no need to lock
        with self._transaction():
            record = self._records.reserve(experiment, worker, time.time())
            if record is None:
                return None
            self._append([encode_trial(record)])
            return trial_from_record(record)

    def update_trial(self, trial: Trial, *, expected: Status, owner: str | None = None) -> bool:
        with self._transaction():
            record = self._records.update(trial, expected, owner)
            if record is None:
                return False
            self._append([encode_trial(record)])
            return True

    def heartbeat(self, trial: Trial) -> bool:
        with self._transaction():
            if not self._records.holds(trial):
                return False
            self._append([{"k": "h", "e": trial.experiment, "i": trial.id, "t": time.time()}])
            return True

    def release_lost(self, experiment: str, timeout: float) -> list[Trial]:
        with self._reading():
            if not self._records.lost(experiment, time.time() - timeout):
                return []  # nothing lost: no need to lock
        with self._transaction():
            lost = self._records.lost(experiment, time.time() - timeout)
            if lost:
                self._append([encode_trial(record) for record in lost])
            return [trial_from_record(record) for record in lost]

    def delete_trials(self, experiment: str, ids: Sequence[str]) -> int:
        with self._transaction():
            present = [i for i in dict.fromkeys(ids) if self._records.trial(experiment, i)]
            if present:
                self._append([{"k": "d", "e": experiment, "ids": present}])
            return len(present)

    # -- locks ---------------------------------------------------------------------------
    @contextmanager
    def suggest_lock(self, experiment: str) -> Iterator[None]:
        self._ensure_directory()
        path = self.directory / f"suggest-{_safe_name(experiment)}.lock"
        lock = self._new_lock(path)
        try:
            _acquire(lock, self.lock_timeout, poll=0.005)
        except filelock.Timeout:
            raise LockTimeout(
                suggest_lock_timeout_message(experiment, self.lock_timeout)
            ) from None
        except OSError as exc:
            raise write_error(self.directory, exc) from None
        try:
            yield
        finally:
            lock.release()

    @contextmanager
    def journal_lock(self) -> Iterator[None]:
        """Hold the journal lock (and this object's mutex) without reading the journal.

        For maintenance (`orion db repair`) that must work on a journal that cannot be replayed.
        """
        with self._mutex:
            self._ensure_directory()
            lock = self._flock if not self.soft_lock else self._new_lock(self.directory / LOCK)
            try:
                _acquire(lock, self.lock_timeout, poll=0.001)
            except filelock.Timeout:
                raise LockTimeout(
                    f"could not take the journal lock {self.directory / LOCK} within "
                    f"{self.lock_timeout:g} s: another process holds it; raise --lock-timeout "
                    "(ORION_LOCK_TIMEOUT) or check for a stuck worker"
                ) from None
            except OSError as exc:
                raise write_error(self.directory, exc) from None
            try:
                yield
            finally:
                lock.release()

    def _new_lock(self, path: Path) -> filelock.FileLock | SoftLock:
        if self.soft_lock:
            return SoftLock(path, self.stale_age)
        return filelock.FileLock(str(path), thread_local=False)

    # -- compaction ----------------------------------------------------------------------
    def compact(self) -> tuple[int, int]:
        """Replace the journal by a snapshot of its live records; (bytes before, after)."""
        with self._transaction():
            before = self._offset
            self._compact_locked()
            return before, self._offset

    def _compact_locked(self) -> None:
        """Write the snapshot and move on to it; the records in memory are already its state."""
        lines = [header()]
        sizes: dict[tuple[str, ...], int] = {}
        for record in self._records.iter_experiments():
            lines.append(encode({**record, "k": "e"}))
            sizes["", record["name"], str(record["version"])] = len(lines[-1])
        for record in self._records.iter_trials():
            lines.append(encode(encode_trial(record)))
            sizes[record["experiment"], record["id"]] = len(lines[-1])
        replace_journal(self.path, lines)
        records = self._records
        self._open_reader()  # the snapshot we just wrote: the lock is still ours
        self._records = records
        self._offset, self._lines = sum(map(len, lines)), len(lines)
        self._sizes, self._live_bytes = sizes, sum(sizes.values())

    def _maybe_compact(self) -> None:
        if self._offset > self.compact_threshold and self._offset > 2 * self._live_bytes:
            self._compact_locked()

    # -- reading and writing the journal -------------------------------------------------
    @contextmanager
    def _reading(self) -> Iterator[None]:
        with self._mutex:
            try:
                self._refresh()
            except CorruptJournal as exc:
                # Read without the lock, a network filesystem may show a line before all its
                # bytes: only a bad line still there under the lock is damage.
                with ExitStack() as stack:
                    try:
                        stack.enter_context(self.journal_lock())
                    except StorageError:
                        raise exc from None
                    self._refresh()
            yield

    @contextmanager
    def _transaction(self) -> Iterator[None]:
        """Lock, catch up with the journal and cut off a torn tail; the body may append."""
        with self.journal_lock():
            self._refresh()
            if self._fd is not None and os.fstat(self._fd).st_size > self._offset:
                self._refresh()  # the tail may have become complete lines meanwhile
                os.ftruncate(self._writer(), self._offset)
            yield

    def _reset_state(self) -> None:
        self._records = Records()
        self._offset = 0  # bytes of the file replayed: always just after a newline
        self._lines = 0
        self._sizes = {}  # line size of each live record, by key
        self._live_bytes = 0

    def _close_files(self) -> None:
        for fd in (self._fd, self._wfd):
            if fd is not None:
                os.close(fd)
        self._fd = self._wfd = None

    def _refresh(self) -> None:
        """Replay the complete lines not seen yet; all of them when the file was replaced."""
        try:
            stat = os.stat(self.path)
        except FileNotFoundError:
            if self._fd is not None:  # the journal was removed by hand: start afresh
                self._close_files()
                self._reset_state()
            return
        except OSError as exc:
            raise StorageError(
                f"cannot read the storage at {self.directory}: {exc.strerror}: choose another "
                "--storage or fix the permissions"
            ) from None
        if self._fd is None or not _same_file(stat, os.fstat(self._fd)):
            self._open_reader()
        size = os.fstat(self._fd).st_size  # type: ignore[arg-type]
        if size < self._offset:  # truncated behind our back: replay from the start
            self._open_reader()
        if size > self._offset:
            with gc_paused():
                self._replay(os.pread(self._fd, size - self._offset, self._offset))  # type: ignore[arg-type]

    def _open_reader(self) -> None:
        self._close_files()
        self._reset_state()
        try:
            self._fd = os.open(self.path, os.O_RDONLY)
        except OSError as exc:
            raise StorageError(
                f"cannot read the journal {self.path}: {exc.strerror}: fix its permissions"
            ) from None

    def _replay(self, data: bytes) -> None:
        end = data.rfind(b"\n") + 1
        if end == 0:
            return  # only a torn or still-growing last line
        lineno = self._lines
        lines = _decode_lines(data[:end])
        parsed = parse_lines(lines)
        try:
            for index, line in enumerate(lines):
                lineno += 1
                record = parse_record(line) if parsed is None else check_record(parsed[index])
                self._apply(record, len(line) + 1)
        except (ValueError, KeyError, TypeError) as exc:
            raise corrupt_line_error(self.path, lineno, str(exc)) from None
        self._offset += end
        self._lines = lineno

    def _apply(self, record: Record, size: int) -> None:
        kind = record["k"]
        if kind == "v" and record["v"] != FORMAT:
            raise StorageError(
                f"the journal {self.path} has format {record['v']} and this orion_cli reads "
                f"format {FORMAT}: upgrade orion_cli to use this storage"
            )
        apply_record(self._records, record)
        if kind in ("t", "e"):
            key: tuple[str, ...] = (
                (record["experiment"], record["id"])
                if kind == "t"
                else ("", record["name"], str(record["version"]))
            )
            self._live_bytes += size - self._sizes.get(key, 0)
            self._sizes[key] = size
        elif kind == "d":
            for trial_id in record["ids"]:
                self._live_bytes -= self._sizes.pop((record["e"], trial_id), 0)

    def _writer(self) -> int:
        """The append descriptor on the file we replayed (the caller holds the lock)."""
        if self._wfd is None:
            try:
                self._wfd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
            except OSError as exc:
                raise write_error(self.directory, exc) from None
            if self._fd is None:
                self._fd = os.open(self.path, os.O_RDONLY)
        return self._wfd

    def _append(self, records: list[Record]) -> None:
        """Append `records` in one write and apply them (the caller holds the lock)."""
        lines = [encode(record) for record in records]
        fd = self._writer()
        if self._offset == 0:
            lines.insert(0, header())
            records = [{"k": "v", "v": FORMAT}, *records]
        data = b"".join(lines)
        try:
            written = 0
            while written < len(data):
                written += os.write(fd, data[written:])
            if self.fsync:
                os.fsync(fd)
        except OSError as exc:
            os.ftruncate(fd, self._offset)  # never leave half a record behind
            raise write_error(self.directory, exc) from None
        for record, line in zip(records, lines, strict=True):
            self._apply(record, len(line))
        self._offset += len(data)
        self._lines += len(lines)
        self._maybe_compact()

    def _ensure_directory(self) -> None:
        if self._directory_ok:
            return
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise write_error(self.directory, exc) from None
        if not os.access(self.directory, os.W_OK | os.X_OK):
            raise write_error(self.directory, PermissionError(13, "Permission denied"))
        self._directory_ok = True

    def close(self) -> None:
        with self._mutex:
            self._close_files()


def _decode_lines(data: bytes) -> list[str]:
    """The complete lines of `data`; a line that is not UTF-8 is a corrupt line."""
    try:
        return data.decode("utf-8").split("\n")[:-1]
    except UnicodeDecodeError:
        pass
    lines = data.split(b"\n")[:-1]
    for index, raw in enumerate(lines):
        try:
            raw.decode("utf-8")
        except UnicodeDecodeError:
            # the good lines before it are replayed, then the bad one is reported
            good = [line.decode("utf-8") for line in lines[:index]]
            return [*good, "\ufffd not UTF-8"]
    raise AssertionError("undecodable data without an undecodable line")


def _same_file(a: os.stat_result, b: os.stat_result) -> bool:
    return a.st_ino == b.st_ino and a.st_dev == b.st_dev


def replace_journal(path: Path, lines: Sequence[bytes]) -> None:
    """Atomically replace the journal by `lines` (the caller holds the journal lock)."""
    tmp = path.with_name(f"{path.name}.tmp-{os.getpid()}-{secrets.token_hex(4)}")
    try:
        with open(tmp, "wb") as handle:
            handle.writelines(lines)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise write_error(path.parent, exc) from None
    _fsync_directory(path.parent)


def _fsync_directory(directory: Path) -> None:
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass  # some filesystems cannot sync a directory; the rename is done all the same
    finally:
        os.close(fd)
