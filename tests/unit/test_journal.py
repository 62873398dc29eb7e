"""The journal storage: torn and corrupt lines, incremental reads, compaction, locks, db."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from orion_cli.cli.db import db
from orion_cli.core.experiment import Experiment
from orion_cli.core.trial import Status, Trial, trial_id
from orion_cli.errors import StorageError, UserError
from orion_cli.storage import LockTimeout, open_storage
from orion_cli.storage import journal as journal_module
from orion_cli.storage.journal import JournalStorage
from orion_cli.storage.maintenance import check

ROOT = Path(__file__).resolve().parents[2]


def make_trial(i: int, experiment: str = "exp") -> Trial:
    params = {"x": i}
    return Trial(
        id=trial_id(experiment, params), experiment=experiment, params=params, submit_time=i
    )


def fill(directory: Path, count: int) -> JournalStorage:
    store = JournalStorage(directory, lock_timeout=5.0)
    for i in range(count):
        assert store.register_trial(make_trial(i))
    return store


def lines_of(directory: Path) -> list[bytes]:
    return (directory / "journal.jsonl").read_bytes().split(b"\n")


# -- torn and corrupt lines -----------------------------------------------------------------
def test_a_torn_last_line_is_ignored_then_cut_off_by_the_next_writer(tmp_path):
    fill(tmp_path, 3).close()
    with open(tmp_path / "journal.jsonl", "ab") as handle:
        handle.write(b'{"k":"t","id":"dead","experiment":"exp","par')
    reader = JournalStorage(tmp_path)
    assert len(reader.fetch_trials("exp")) == 3
    assert check(tmp_path).torn_tail > 0
    assert reader.register_trial(make_trial(3))
    data = (tmp_path / "journal.jsonl").read_bytes()
    assert b"dead" not in data and data.endswith(b"\n")
    assert check(tmp_path).torn_tail == 0 and check(tmp_path).sound
    assert len(JournalStorage(tmp_path).fetch_trials("exp")) == 4


def test_a_corrupt_line_inside_the_journal_names_the_file_and_line(tmp_path):
    fill(tmp_path, 4).close()
    lines = lines_of(tmp_path)
    lines[2] = b'{"k":"t","id":'  # line 3: header, trial 0, (this), trial 2, trial 3
    (tmp_path / "journal.jsonl").write_bytes(b"\n".join(lines))
    before = (tmp_path / "journal.jsonl").read_bytes()
    store = JournalStorage(tmp_path)
    with pytest.raises(StorageError) as info:
        store.fetch_trials("exp")
    assert str(info.value) == (
        f"the journal {tmp_path / 'journal.jsonl'} is corrupt at line 3 (not JSON: Expecting "
        f"value at column 15): run `orion db check --storage {tmp_path}` to see the damage and "
        f"`orion db repair --storage {tmp_path}` to set the bad lines aside"
    )
    with pytest.raises(StorageError, match="corrupt at line 3"):
        store.register_trial(make_trial(9))
    assert (tmp_path / "journal.jsonl").read_bytes() == before


def test_a_record_of_an_unknown_kind_is_a_corrupt_line(tmp_path):
    fill(tmp_path, 1).close()
    with open(tmp_path / "journal.jsonl", "ab") as handle:
        handle.write(b'{"k":"zz"}\n')
    with pytest.raises(StorageError, match="corrupt at line 3 \\(unknown record kind 'zz'\\)"):
        JournalStorage(tmp_path).fetch_trials("exp")


def test_a_journal_of_a_newer_format_asks_for_an_upgrade(tmp_path):
    (tmp_path / "journal.jsonl").write_bytes(b'{"k":"v","v":99}\n')
    with pytest.raises(StorageError, match="has format 99 .*: upgrade orion_cli"):
        JournalStorage(tmp_path).list_experiments()


# -- reading and writing --------------------------------------------------------------------
def test_a_second_object_reads_only_the_bytes_appended_since(tmp_path, monkeypatch):
    writer, reader = fill(tmp_path, 100), JournalStorage(tmp_path)
    assert len(reader.fetch_trials("exp")) == 100
    sizes: list[int] = []
    real_pread = os.pread

    def spy(fd: int, size: int, offset: int) -> bytes:
        sizes.append(size)
        return real_pread(fd, size, offset)

    monkeypatch.setattr(journal_module.os, "pread", spy)
    before = (tmp_path / "journal.jsonl").stat().st_size
    writer.register_trial(make_trial(100))
    added = (tmp_path / "journal.jsonl").stat().st_size - before
    assert len(reader.fetch_trials("exp")) == 101
    assert sizes == [added]
    assert reader.fetch_trials("exp") and sizes == [added]  # nothing new: nothing read


def test_writes_only_append(tmp_path):
    store = fill(tmp_path, 5)
    path = tmp_path / "journal.jsonl"
    inode, before = path.stat().st_ino, path.read_bytes()
    trial = store.reserve_trial("exp", "w1")
    store.heartbeat(trial)
    store.update_trial(trial.with_(status=Status.COMPLETED), expected=Status.RESERVED)
    store.delete_trials("exp", [make_trial(4).id])
    after = path.read_bytes()
    assert path.stat().st_ino == inode and after.startswith(before)
    kinds = [json.loads(line)["k"] for line in after[len(before) :].splitlines()]
    assert kinds == ["t", "h", "t", "d"]


def test_reading_a_missing_directory_finds_nothing_and_creates_nothing(tmp_path):
    store = JournalStorage(tmp_path / "absent")
    assert store.list_experiments() == [] and store.fetch_trials("exp") == []
    assert not (tmp_path / "absent").exists()
    store.create_experiment(Experiment(name="exp"))
    assert (tmp_path / "absent" / "journal.jsonl").is_file()


def test_an_unwritable_directory_is_a_storage_error(tmp_path):
    (tmp_path / "file").write_text("")
    target = tmp_path / "file" / "store"
    store = open_storage(str(target))
    with pytest.raises(StorageError) as info:
        store.create_experiment(Experiment(name="exp"))
    assert str(info.value) == (
        f"cannot write the storage at {target}: Not a directory: choose another --storage "
        "or fix the permissions"
    )


# -- compaction -----------------------------------------------------------------------------
def test_compaction_keeps_every_record_and_other_readers_follow_it(tmp_path):
    store = fill(tmp_path, 50)
    store.create_experiment(Experiment(name="exp", max_trials=50))
    for _ in range(20):
        trial = store.reserve_trial("exp", "w1")
        store.heartbeat(trial)
        store.update_trial(trial.with_(status=Status.COMPLETED), expected=Status.RESERVED)
    store.delete_trials("exp", [make_trial(49).id])
    reader = JournalStorage(tmp_path)
    snapshot = reader.fetch_trials("exp")
    size = (tmp_path / "journal.jsonl").stat().st_size
    before, after = store.compact()
    assert before == size and after < before
    assert (tmp_path / "journal.jsonl").stat().st_size == after
    assert reader.fetch_trials("exp") == snapshot
    assert JournalStorage(tmp_path).fetch_trials("exp") == snapshot
    store.register_trial(make_trial(100))
    assert len(reader.fetch_trials("exp")) == 50
    assert reader.fetch_experiment("exp").max_trials == 50


def test_automatic_compaction_bounds_the_journal(tmp_path):
    store = JournalStorage(tmp_path, compact_threshold=4000)
    store.register_trial(make_trial(1))
    trial = store.reserve_trial("exp", "w1")
    for _ in range(300):
        assert store.heartbeat(trial)
    assert (tmp_path / "journal.jsonl").stat().st_size < 4000 + 200
    fresh = JournalStorage(tmp_path).fetch_trial("exp", trial.id)
    assert fresh.status is Status.RESERVED and fresh.heartbeat > trial.heartbeat


def test_compaction_keeps_the_journal_within_twice_its_live_records(tmp_path):
    # A trial's life writes three records (registered, reserved, completed): a journal that
    # waited for 4x its live size would never compact and every cold read would replay it all.
    store = JournalStorage(tmp_path, compact_threshold=2000)
    for i in range(200):
        store.register_trial(make_trial(i))
        trial = store.reserve_trial("exp", "w1")
        done = trial.with_(
            status=Status.COMPLETED,
            results=({"name": "o", "type": "objective", "value": float(i)},),
        )
        assert store.update_trial(done, expected=Status.RESERVED, owner="w1")
    size = (tmp_path / "journal.jsonl").stat().st_size
    copy = tmp_path / "copy"
    copy.mkdir()
    shutil.copy(tmp_path / "journal.jsonl", copy / "journal.jsonl")
    JournalStorage(copy).compact()
    live = (copy / "journal.jsonl").stat().st_size
    assert size <= 2 * live + 1000, (size, live)
    assert len(JournalStorage(tmp_path).fetch_trials("exp", Status.COMPLETED)) == 200


WORKER = r"""
import sys
from pathlib import Path
from orion_cli.core.trial import Status, Trial
from orion_cli.storage.journal import JournalStorage

store = JournalStorage(Path(sys.argv[1]), lock_timeout=30)
name = sys.argv[2]
for i in range(40):
    store.register_trial(Trial(id=f"{name}-{i}", experiment="exp", params={"i": i}))
while (trial := store.reserve_trial("exp", name)) is not None:
    store.heartbeat(trial)
    done = trial.with_(status=Status.COMPLETED, message=name)
    assert store.update_trial(done, expected=Status.RESERVED, owner=name)
"""


def run_workers(directory: Path, count: int, env: dict[str, str] | None = None):
    env = {**os.environ, "PYTHONPATH": str(ROOT), **(env or {})}
    return [
        subprocess.Popen([sys.executable, "-c", WORKER, str(directory), f"w{i}"], env=env)
        for i in range(count)
    ]


def test_compacting_in_a_loop_while_four_workers_write_loses_nothing(tmp_path):
    store = JournalStorage(tmp_path, lock_timeout=30)
    workers = run_workers(tmp_path, 4)
    compactions = 0
    while any(worker.poll() is None for worker in workers):
        store.compact()
        compactions += 1
        time.sleep(0.005)
    assert [worker.wait() for worker in workers] == [0, 0, 0, 0]
    assert compactions > 1
    trials = JournalStorage(tmp_path).fetch_trials("exp")
    assert len(trials) == 160
    assert {t.status for t in trials} == {Status.COMPLETED}
    assert store.fetch_trials("exp") == trials


# -- the soft lock --------------------------------------------------------------------------
def write_holder(path: Path, pid: int, host: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    owner = {"pid": pid, "host": host, "time": time.time(), "token": "x"}
    path.write_text(json.dumps(owner))


def dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_the_environment_selects_the_soft_lock(tmp_path, monkeypatch):
    assert JournalStorage(tmp_path).soft_lock is False
    monkeypatch.setenv("ORION_JOURNAL_SOFT_LOCK", "1")
    store = JournalStorage(tmp_path)
    assert store.soft_lock is True
    store.register_trial(make_trial(1))
    with store.suggest_lock("exp"):
        assert (tmp_path / "suggest-exp.lock").is_file()
    assert not (tmp_path / "suggest-exp.lock").exists()
    assert not (tmp_path / "journal.lock").exists()


def test_a_soft_lock_of_a_dead_local_process_is_broken_at_once(tmp_path):
    write_holder(tmp_path / "suggest-exp.lock", dead_pid(), socket.gethostname())
    store = JournalStorage(tmp_path, lock_timeout=0.5, soft_lock=True)
    with store.suggest_lock("exp"):
        content = json.loads((tmp_path / "suggest-exp.lock").read_text())
        assert content["pid"] == os.getpid()


def test_a_soft_lock_left_unchanged_for_the_stale_age_is_broken(tmp_path):
    write_holder(tmp_path / "suggest-exp.lock", 1, "another-host.invalid")
    waiter = JournalStorage(tmp_path, lock_timeout=0.5, soft_lock=True)  # stale age 1 s
    with pytest.raises(LockTimeout):
        waiter.suggest_lock("exp").__enter__()
    patient = JournalStorage(tmp_path, lock_timeout=3.0, soft_lock=True)
    patient.stale_age = 1.0
    with patient.suggest_lock("exp"):
        assert json.loads((tmp_path / "suggest-exp.lock").read_text())["pid"] == os.getpid()


def test_a_live_soft_lock_holder_keeps_its_lock_past_the_stale_age(tmp_path):
    holder = JournalStorage(tmp_path, lock_timeout=2.0, soft_lock=True)  # stale age 1 s
    taken, done = threading.Event(), threading.Event()

    def hold() -> None:
        with holder.suggest_lock("exp"):
            taken.set()
            done.wait(10)

    thread = threading.Thread(target=hold)
    thread.start()
    assert taken.wait(5)
    waiter = JournalStorage(tmp_path, lock_timeout=1.8, soft_lock=True)
    waiter.stale_age = 1.0
    try:
        with pytest.raises(LockTimeout, match="suggest lock of experiment 'exp' within 1.8 s"):
            waiter.suggest_lock("exp").__enter__()
    finally:
        done.set()
        thread.join(5)


def test_processes_sharing_a_soft_lock_journal_lose_nothing(tmp_path):
    workers = run_workers(tmp_path, 3, env={"ORION_JOURNAL_SOFT_LOCK": "1"})
    assert [worker.wait(60) for worker in workers] == [0, 0, 0]
    trials = JournalStorage(tmp_path).fetch_trials("exp")
    assert len(trials) == 120 and {t.status for t in trials} == {Status.COMPLETED}


# -- orion db -------------------------------------------------------------------------------
def damaged_journal(directory: Path) -> Path:
    fill(directory, 3).close()
    path = directory / "journal.jsonl"
    with open(path, "ab") as handle:
        handle.write(b"garbage\n")
    with open(path, "ab") as handle:
        handle.write(b'{"k":"t","id":"a","experiment":"exp","params":{},"status":"new"}\n{"k":')
    return path


def test_db_check_reports_a_sound_journal(tmp_path):
    fill(tmp_path, 2).close()
    result = CliRunner().invoke(db, ["check", "--storage", str(tmp_path)])
    assert result.exit_code == 0
    size = (tmp_path / "journal.jsonl").stat().st_size
    assert result.output.splitlines() == [
        f"journal: {tmp_path / 'journal.jsonl'} ({size} bytes, 3 lines)",
        "records: 1 headers, 0 experiments, 2 trials, 0 heartbeats, 0 deletions",
        "live: 0 experiments, 2 trials",
        "ok",
    ]


def test_db_check_lists_bad_lines_and_repair_sets_them_aside(tmp_path):
    path = damaged_journal(tmp_path)
    runner = CliRunner()
    result = runner.invoke(db, ["check", "--storage", f"file:{tmp_path}"])
    assert result.exit_code == 1
    assert isinstance(result.exception, StorageError)
    assert str(result.exception) == (
        f"the journal {path} has 1 bad line: run `orion db repair --storage {tmp_path}` to "
        "move them aside"
    )
    assert "bad line 5: not JSON: Expecting value at column 1" in result.output
    assert "torn last line: 5 bytes without a newline" in result.output

    result = runner.invoke(db, ["repair", "--storage", str(tmp_path)])
    assert result.exit_code == 0, result.output
    (bad_file,) = tmp_path.glob("journal.bad-*.jsonl")
    assert result.output.splitlines() == [
        f"moved 2 bad lines of {path} to {bad_file}",
        "kept 5 lines",
    ]
    assert bad_file.read_bytes() == b'garbage\n{"k":\n'
    assert len(JournalStorage(tmp_path).fetch_trials("exp")) == 4
    result = runner.invoke(db, ["repair", "--storage", str(tmp_path)])
    assert result.output == f"nothing to repair: the 5 lines of {path} are sound\n"


def test_db_compact_reports_the_sizes(tmp_path):
    store = fill(tmp_path, 2)
    trial = store.reserve_trial("exp", "w1")
    for _ in range(10):
        store.heartbeat(trial)
    before = (tmp_path / "journal.jsonl").stat().st_size
    result = CliRunner().invoke(db, ["compact", "--storage", str(tmp_path)])
    after = (tmp_path / "journal.jsonl").stat().st_size
    assert result.exit_code == 0 and after < before
    assert result.output == (
        f"compacted {tmp_path / 'journal.jsonl'}: {before} bytes -> {after} bytes\n"
    )


@pytest.mark.parametrize("command", ["check", "repair", "compact"])
def test_db_commands_refuse_other_storages(command):
    result = CliRunner().invoke(db, [command, "--storage", "postgresql://me:secret@db/orion"])
    assert isinstance(result.exception, UserError)
    assert str(result.exception) == (
        f"orion db {command} works on the journal storage only, and "
        "'postgresql://me:***@db/orion' is not one: pass --storage with the directory of a "
        "journal"
    )


def test_db_check_without_a_journal_says_so(tmp_path, monkeypatch):
    monkeypatch.setenv("ORION_STORAGE", str(tmp_path / "none"))
    result = CliRunner().invoke(db, ["check"])
    assert str(result.exception) == (
        f"no journal at {tmp_path / 'none' / 'journal.jsonl'}: check --storage (a journal "
        "directory)"
    )


def test_the_suggest_lock_of_an_odd_experiment_name_stays_in_the_directory(tmp_path):
    store = JournalStorage(tmp_path / "store", lock_timeout=0.3)
    with store.suggest_lock("../escape/name"):
        (lock,) = (tmp_path / "store").glob("suggest-*.lock")
        assert lock.parent == tmp_path / "store" and "escape" not in lock.name
    assert not (tmp_path / "escape").exists()


def test_a_writer_killed_while_writing_leaves_a_usable_journal(tmp_path):
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    code = (
        "import sys\nfrom pathlib import Path\n"
        "from orion_cli.core.trial import Trial\n"
        "from orion_cli.storage.journal import JournalStorage\n"
        "store = JournalStorage(Path(sys.argv[1]))\n"
        "print('ready', flush=True)\n"
        "for i in range(10**6):\n"
        "    store.register_trial(Trial(id=str(i), experiment='exp', params={'i': i}))\n"
    )
    writer = subprocess.Popen(
        [sys.executable, "-c", code, str(tmp_path)], stdout=subprocess.PIPE, env=env
    )
    assert writer.stdout.readline() == b"ready\n"
    time.sleep(0.3)
    writer.kill()
    writer.wait(10)
    store = JournalStorage(tmp_path, lock_timeout=5.0)
    count = len(store.fetch_trials("exp"))
    assert count > 0
    assert store.register_trial(make_trial(-1))
    assert len(JournalStorage(tmp_path).fetch_trials("exp")) == count + 1
    assert check(tmp_path).sound and check(tmp_path).torn_tail == 0


def test_db_compact_refuses_a_damaged_journal(tmp_path):
    path = damaged_journal(tmp_path)
    before = path.read_bytes()
    result = CliRunner().invoke(db, ["compact", "--storage", str(tmp_path)])
    assert isinstance(result.exception, StorageError)
    assert str(result.exception).startswith(f"the journal {path} is corrupt at line 5 (not JSON")
    assert path.read_bytes() == before


def test_a_synced_journal_reads_back_the_same(tmp_path):
    store = JournalStorage(tmp_path, fsync=True)
    store.register_trial(make_trial(1))
    reserved = store.reserve_trial("exp", "w1")
    assert JournalStorage(tmp_path).fetch_trials("exp") == [reserved]


def test_a_writer_waits_for_the_journal_lock_at_most_the_lock_timeout(tmp_path):
    holder, writer = JournalStorage(tmp_path), JournalStorage(tmp_path, lock_timeout=0.2)
    holder.register_trial(make_trial(0))
    with holder.journal_lock():
        with pytest.raises(LockTimeout) as info:
            writer.register_trial(make_trial(1))
        assert len(writer.fetch_trials("exp")) == 1  # readers never wait for the lock
    assert str(info.value) == (
        f"could not take the journal lock {tmp_path / 'journal.lock'} within 0.2 s: another "
        "process holds it; raise --lock-timeout (ORION_LOCK_TIMEOUT) or check for a stuck worker"
    )
    assert writer.register_trial(make_trial(1))
