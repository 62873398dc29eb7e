"""Check, repair and compact a journal storage (the library side of `orion db`)."""

from __future__ import annotations

import os
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from orion_cli.errors import StorageError
from orion_cli.storage.journal import (
    JOURNAL,
    JournalStorage,
    apply_record,
    parse_record,
    replace_journal,
    write_error,
)
from orion_cli.storage.memory import Record, Records

MAX_SHOWN = 50  # bad lines listed by `describe`; the report holds them all
KIND_NAMES = {
    "v": "headers",
    "e": "experiments",
    "t": "trials",
    "h": "heartbeats",
    "d": "deletions",
}


@dataclass(frozen=True)
class BadLine:
    """A line of the journal that is not a record."""

    number: int
    reason: str
    text: bytes


@dataclass(frozen=True)
class CheckReport:
    """What `check` found in a journal."""

    path: Path
    size: int
    lines: int
    kinds: dict[str, int] = field(default_factory=dict)
    experiments: int = 0
    trials: int = 0
    bad_lines: tuple[BadLine, ...] = ()
    torn_tail: int = 0  # bytes after the last newline

    @property
    def sound(self) -> bool:
        return not self.bad_lines


@dataclass(frozen=True)
class RepairReport:
    """What `repair` did: the lines it set aside and where."""

    path: Path
    kept: int
    moved: int
    bad_file: Path | None


def journal_directory(url: str) -> Path | None:
    """The directory of a journal storage URL; None for other backends."""
    if url.startswith(("memory:", "postgresql://", "postgres://")):
        return None
    return Path(url[len("file:") :] if url.startswith("file:") else url).expanduser()


def _journal_path(directory: Path) -> Path:
    path = Path(directory) / JOURNAL
    if not path.is_file():
        raise StorageError(f"no journal at {path}: check --storage (a journal directory)")
    return path


Scanned = tuple[int, bytes, Record | None, str]


def _scan(data: bytes) -> tuple[list[Scanned], bytes, Records]:
    """Each complete line as (number, raw, record or None, reason), the torn tail, the state.

    A line is bad when it is not a record or cannot be replayed onto the lines before it.
    """
    end = data.rfind(b"\n") + 1
    records: Records = Records()
    out: list[Scanned] = []
    for number, raw in enumerate(data[:end].split(b"\n")[:-1], start=1):
        try:
            record = parse_record(raw)
        except ValueError as exc:
            out.append((number, raw, None, str(exc)))
            continue
        try:
            apply_record(records, record)
        except (KeyError, TypeError, ValueError) as exc:
            out.append((number, raw, None, f"cannot be replayed ({exc})"))
            continue
        out.append((number, raw, record, ""))
    return out, data[end:], records


def check(directory: Path) -> CheckReport:
    """Read the journal of `directory` without locking it and report what it holds.

    Raises:
        StorageError: there is no journal in `directory`, or it cannot be read.
    """
    path = _journal_path(directory)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise StorageError(
            f"cannot read the journal {path}: {exc.strerror}: fix its permissions"
        ) from None
    scanned, tail, records = _scan(data)
    kinds = Counter(record["k"] for _, _, record, _ in scanned if record is not None)
    bad = [BadLine(n, reason, raw) for n, raw, record, reason in scanned if record is None]
    return CheckReport(
        path=path,
        size=len(data),
        lines=len(scanned),
        kinds=dict(kinds),
        experiments=sum(1 for _ in records.iter_experiments()),
        trials=sum(1 for _ in records.iter_trials()),
        bad_lines=tuple(bad),
        torn_tail=len(tail),
    )


def repair(directory: Path, lock_timeout: float = 60.0) -> RepairReport:
    """Move the bad lines (and a torn tail) into `journal.bad-<time>.jsonl`, keep the rest.

    The journal is rewritten atomically under its lock; nothing is dropped: every line taken
    out of the journal is in the bad file, which `orion db repair` names.
    """
    path = _journal_path(directory)
    with JournalStorage(Path(directory), lock_timeout=lock_timeout).journal_lock():
        data = path.read_bytes()
        scanned, tail, _ = _scan(data)
        good = [raw + b"\n" for _, raw, record, _ in scanned if record is not None]
        bad = [raw + b"\n" for _, raw, record, _ in scanned if record is None]
        if tail:
            bad.append(tail + b"\n")
        if not bad:
            return RepairReport(path, kept=len(good), moved=0, bad_file=None)
        stamp = time.strftime("%Y%m%dT%H%M%S", time.gmtime())
        bad_file = path.with_name(f"journal.bad-{stamp}-{os.getpid()}.jsonl")
        try:
            with open(bad_file, "xb") as handle:
                handle.writelines(bad)
                handle.flush()
                os.fsync(handle.fileno())
        except OSError as exc:
            raise write_error(path.parent, exc) from None
        replace_journal(path, good)
    return RepairReport(path, kept=len(good), moved=len(bad), bad_file=bad_file)


def compact(directory: Path, lock_timeout: float = 60.0) -> tuple[int, int]:
    """Compact the journal of `directory`; (bytes before, bytes after).

    Raises:
        StorageError: no journal there, or it has bad lines (run `repair` first).
    """
    _journal_path(directory)
    storage = JournalStorage(Path(directory), lock_timeout=lock_timeout)
    try:
        return storage.compact()
    finally:
        storage.close()


def describe(report: CheckReport) -> list[str]:
    """The lines `orion db check` prints for a report."""
    kinds = ", ".join(f"{report.kinds.get(k, 0)} {name}" for k, name in KIND_NAMES.items())
    lines = [
        f"journal: {report.path} ({report.size} bytes, {report.lines} lines)",
        f"records: {kinds}",
        f"live: {report.experiments} experiments, {report.trials} trials",
    ]
    for bad in report.bad_lines[:MAX_SHOWN]:
        lines.append(f"bad line {bad.number}: {bad.reason}")
    if len(report.bad_lines) > MAX_SHOWN:
        lines.append(f"... and {count(len(report.bad_lines) - MAX_SHOWN, 'more bad line')}")
    if report.torn_tail:
        lines.append(
            f"torn last line: {report.torn_tail} bytes without a newline (a writer was killed; "
            "the next write cuts it off)"
        )
    lines.append("ok" if report.sound else count(len(report.bad_lines), "bad line"))
    return lines


def count(number: int, noun: str) -> str:
    """`1 bad line`, `2 bad lines`."""
    return f"{number} {noun}" if number == 1 else f"{number} {noun}s"
