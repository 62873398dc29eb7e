"""The storage contract (orion_cli/storage/base.py), one suite for every backend."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from orion_cli.core.experiment import Experiment
from orion_cli.core.trial import Status, Trial, trial_id
from orion_cli.storage import AlreadyExists, LockTimeout, NotFound, open_storage

ROOT = Path(__file__).resolve().parents[2]


def make_trial(i: int, experiment: str = "exp", **fields) -> Trial:
    params = {"x": i, "name": f"p{i}"}
    fields.setdefault("submit_time", 1000.0 + i)
    return Trial(id=trial_id(experiment, params), experiment=experiment, params=params, **fields)


def objective(value: float) -> tuple[dict, ...]:
    return ({"name": "loss", "type": "objective", "value": value},)


# -- experiments ----------------------------------------------------------------------------
def test_create_then_fetch_experiment_keeps_every_field(storage):
    exp = Experiment(
        name="exp",
        space={"lr": "loguniform(1e-05, 1.0)"},
        algorithm={"random": {"seed": 3}},
        max_trials=10,
        commandline=("python", "train.py", "--lr~loguniform(1e-5, 1)"),
        metadata={"user": "me", "tags": ["a", "b"]},
        created=1234.5,
    )
    storage.create_experiment(exp)
    assert storage.fetch_experiment("exp") == exp
    assert storage.fetch_experiment("exp", 1) == exp


def test_create_existing_version_raises_already_exists(storage):
    storage.create_experiment(Experiment(name="exp"))
    with pytest.raises(AlreadyExists):
        storage.create_experiment(Experiment(name="exp", max_trials=5))
    assert storage.fetch_experiment("exp").max_trials is None


def test_fetch_experiment_returns_the_highest_version_unless_asked(storage):
    for version in (1, 3, 2):
        storage.create_experiment(Experiment(name="exp", version=version, max_trials=version))
    assert storage.fetch_experiment("exp").version == 3
    assert storage.fetch_experiment("exp", 2).max_trials == 2


def test_fetch_missing_experiment_raises_not_found(storage):
    with pytest.raises(NotFound):
        storage.fetch_experiment("nope")
    storage.create_experiment(Experiment(name="exp"))
    with pytest.raises(NotFound):
        storage.fetch_experiment("exp", 2)


def test_list_experiments_holds_every_version(storage):
    assert storage.list_experiments() == []
    storage.create_experiment(Experiment(name="b"))
    storage.create_experiment(Experiment(name="a"))
    storage.create_experiment(Experiment(name="a", version=2))
    listed = sorted((e.name, e.version) for e in storage.list_experiments())
    assert listed == [("a", 1), ("a", 2), ("b", 1)]


def test_update_experiment_replaces_the_record_and_needs_it_stored(storage):
    storage.create_experiment(Experiment(name="exp"))
    storage.update_experiment(Experiment(name="exp", max_trials=7, metadata={"k": 1}))
    assert storage.fetch_experiment("exp").max_trials == 7
    assert storage.fetch_experiment("exp").metadata == {"k": 1}
    with pytest.raises(NotFound):
        storage.update_experiment(Experiment(name="missing"))


# -- trials ---------------------------------------------------------------------------------
def test_register_trial_twice_returns_false_and_keeps_the_first(storage):
    trial = make_trial(1, meta={"rung": 0})
    assert storage.register_trial(trial) is True
    assert storage.register_trial(trial.with_(meta={"rung": 9})) is False
    assert storage.fetch_trials("exp") == [trial]


def test_fetch_trial_keeps_every_field_and_missing_raises_not_found(storage):
    trial = make_trial(
        1,
        status=Status.COMPLETED,
        worker="w1",
        results=objective(0.5),
        meta={"bracket": 1, "nested": {"a": [1, 2]}},
        parent="0" * 32,
        hash_params="h" * 32,
        start_time=1001.0,
        end_time=1002.0,
        heartbeat=1001.5,
        exit_code=0,
        message="done",
    )
    storage.register_trial(trial)
    assert storage.fetch_trial("exp", trial.id) == trial
    with pytest.raises(NotFound):
        storage.fetch_trial("exp", "f" * 32)
    with pytest.raises(NotFound):
        storage.fetch_trial("other", trial.id)


def test_fetch_trials_filters_by_experiment_and_status(storage):
    new, done = make_trial(1), make_trial(2, status=Status.COMPLETED, results=objective(1.0))
    elsewhere = make_trial(3, experiment="other")
    for trial in (new, done, elsewhere):
        storage.register_trial(trial)
    assert {t.id for t in storage.fetch_trials("exp")} == {new.id, done.id}
    assert storage.fetch_trials("exp", Status.COMPLETED) == [done]
    assert storage.fetch_trials("exp", Status.NEW) == [new]
    assert storage.fetch_trials("exp", Status.BROKEN) == []
    assert storage.fetch_trials("nothing") == []


def test_returned_trials_are_copies(storage):
    trial = make_trial(1, meta={"tags": ["a"]})
    storage.register_trial(trial)
    trial.params["x"] = 99
    trial.meta["tags"].append("b")
    fetched = storage.fetch_trial("exp", trial.id)
    fetched.params["x"] = 42
    fetched.meta["tags"].append("c")
    again = storage.fetch_trials("exp")[0]
    assert again.params["x"] == 1
    assert again.meta == {"tags": ["a"]}


def test_reserve_takes_interrupted_and_suspended_first_then_oldest_new(storage):
    trials = [
        make_trial(1, submit_time=30.0),
        make_trial(2, submit_time=10.0),
        make_trial(3, submit_time=20.0),
        make_trial(4, status=Status.INTERRUPTED, submit_time=50.0),
        make_trial(5, status=Status.SUSPENDED, submit_time=40.0),
        make_trial(6, status=Status.COMPLETED, submit_time=1.0),
        make_trial(7, status=Status.BROKEN, submit_time=1.0),
        make_trial(8, status=Status.RESERVED, worker="other", submit_time=1.0),
    ]
    for trial in trials:
        storage.register_trial(trial)
    order = []
    while (reserved := storage.reserve_trial("exp", "w1")) is not None:
        order.append(reserved.params["x"])
    assert order == [5, 4, 2, 3, 1]
    assert storage.reserve_trial("exp", "w1") is None


def test_reserve_sets_status_worker_start_time_and_heartbeat(storage):
    storage.register_trial(make_trial(1))
    before = time.time()
    reserved = storage.reserve_trial("exp", "w1")
    assert reserved is not None
    assert reserved.status is Status.RESERVED and reserved.worker == "w1"
    assert before - 1 <= reserved.start_time <= time.time() + 1
    assert before - 1 <= reserved.heartbeat <= time.time() + 1
    assert storage.fetch_trial("exp", reserved.id) == reserved


def test_reserve_returns_none_when_empty_and_stays_in_its_experiment(storage):
    assert storage.reserve_trial("exp", "w1") is None
    storage.register_trial(make_trial(1, experiment="other"))
    assert storage.reserve_trial("exp", "w1") is None
    assert storage.reserve_trial("other", "w1").experiment == "other"


def test_update_trial_is_a_compare_and_set_on_status(storage):
    storage.register_trial(make_trial(1))
    reserved = storage.reserve_trial("exp", "w1")
    done = reserved.with_(status=Status.COMPLETED, results=objective(0.1), end_time=2000.0)
    assert storage.update_trial(done, expected=Status.NEW) is False
    assert storage.fetch_trial("exp", reserved.id) == reserved
    assert storage.update_trial(done, expected=Status.RESERVED) is True
    assert storage.fetch_trial("exp", reserved.id) == done
    broken = reserved.with_(status=Status.BROKEN)
    assert storage.update_trial(broken, expected=Status.RESERVED) is False
    assert storage.fetch_trial("exp", reserved.id).objective == 0.1


def test_update_trial_with_a_stale_owner_changes_nothing(storage):
    storage.register_trial(make_trial(1))
    reserved = storage.reserve_trial("exp", "w1")
    done = reserved.with_(status=Status.COMPLETED, results=objective(0.1))
    assert storage.update_trial(done, expected=Status.RESERVED, owner="w2") is False
    assert storage.fetch_trial("exp", reserved.id).status is Status.RESERVED
    assert storage.update_trial(done, expected=Status.RESERVED, owner="w1") is True


def test_update_of_a_missing_trial_returns_false(storage):
    assert storage.update_trial(make_trial(1), expected=Status.NEW) is False
    assert storage.fetch_trials("exp") == []


def test_heartbeat_refreshes_until_the_trial_is_taken_over(storage):
    storage.register_trial(make_trial(1))
    mine = storage.reserve_trial("exp", "w1")
    time.sleep(0.02)
    assert storage.heartbeat(mine) is True
    assert storage.fetch_trial("exp", mine.id).heartbeat > mine.heartbeat
    time.sleep(0.02)
    lost = storage.release_lost("exp", timeout=0.0)
    assert [(t.id, t.status, t.worker) for t in lost] == [(mine.id, Status.INTERRUPTED, None)]
    assert storage.heartbeat(mine) is False
    theirs = storage.reserve_trial("exp", "w2")
    assert theirs.id == mine.id and theirs.worker == "w2"
    assert storage.heartbeat(mine) is False
    assert storage.heartbeat(theirs) is True
    late = mine.with_(status=Status.COMPLETED, results=objective(3.0))
    assert storage.update_trial(late, expected=Status.RESERVED, owner="w1") is False
    assert storage.fetch_trial("exp", mine.id).worker == "w2"


def test_a_trial_registered_reserved_belongs_to_its_worker_at_once(storage):
    """A worker registers the trial it runs as reserved (one write): nobody else reserves it."""
    now = time.time()
    mine = make_trial(1, status=Status.RESERVED, worker="w1", start_time=now, heartbeat=now)
    assert storage.register_trial(mine) is True
    storage.register_trial(make_trial(2))
    assert storage.reserve_trial("exp", "w2").id == make_trial(2).id
    assert storage.reserve_trial("exp", "w3") is None
    stored = storage.fetch_trial("exp", mine.id)
    assert (stored.status, stored.worker) == (Status.RESERVED, "w1")
    assert abs(stored.heartbeat - now) < 5 and abs(stored.start_time - now) < 5
    assert storage.heartbeat(mine) is True
    assert storage.release_lost("exp", 60) == []
    done = stored.with_(status=Status.COMPLETED, results=objective(1.0), end_time=time.time())
    assert storage.update_trial(done, expected=Status.RESERVED, owner="w1") is True
    assert storage.fetch_trial("exp", mine.id).status is Status.COMPLETED


def test_heartbeat_of_an_ended_or_missing_trial_is_false(storage):
    storage.register_trial(make_trial(1, status=Status.COMPLETED, worker="w1"))
    assert storage.heartbeat(make_trial(1, status=Status.RESERVED, worker="w1")) is False
    assert storage.heartbeat(make_trial(2, status=Status.RESERVED, worker="w1")) is False


def test_release_lost_only_takes_reserved_trials_with_an_old_heartbeat(storage):
    for i in (1, 2, 3):
        storage.register_trial(make_trial(i))
    old = storage.reserve_trial("exp", "w1")
    fresh = storage.reserve_trial("exp", "w2")
    time.sleep(0.6)
    assert storage.heartbeat(fresh) is True
    assert storage.release_lost("exp", timeout=60.0) == []
    lost = storage.release_lost("exp", timeout=0.3)
    assert [t.id for t in lost] == [old.id]
    assert storage.fetch_trial("exp", old.id).status is Status.INTERRUPTED
    assert storage.fetch_trial("exp", old.id).worker is None
    assert storage.fetch_trial("exp", fresh.id).status is Status.RESERVED
    assert storage.fetch_trials("exp", Status.NEW)[0].params["x"] == 3
    assert storage.reserve_trial("exp", "w3").id == old.id


def test_delete_trials_counts_what_it_removed(storage):
    trials = [make_trial(i) for i in range(4)]
    for trial in trials:
        storage.register_trial(trial)
    storage.register_trial(make_trial(0, experiment="other"))
    assert storage.delete_trials("exp", [trials[0].id, trials[1].id, "f" * 32]) == 2
    assert {t.id for t in storage.fetch_trials("exp")} == {trials[2].id, trials[3].id}
    assert len(storage.fetch_trials("other")) == 1
    with pytest.raises(NotFound):
        storage.fetch_trial("exp", trials[0].id)
    assert storage.register_trial(trials[0]) is True
    assert storage.delete_trials("exp", []) == 0


# -- the suggest lock -----------------------------------------------------------------------
def _stores(storage_url: str, count: int, lock_timeout: float) -> list:
    """`count` handles on one storage: one shared object for memory, else one each."""
    if storage_url == "memory:":
        return [open_storage(storage_url, lock_timeout=lock_timeout)] * count
    return [open_storage(storage_url, lock_timeout=lock_timeout) for _ in range(count)]


def summary_of_a_scan(storage, experiment: str) -> tuple[dict, str | None, list]:
    """What summarize must give, worked out from every trial."""
    trials = storage.fetch_trials(experiment)
    counts = {status.value: sum(t.status is status for t in trials) for status in Status}
    best = None
    for trial in trials:
        objective = trial.objective if trial.status is Status.COMPLETED else None
        if objective is not None and (best is None or objective < best.objective):
            best = trial
    reserved = sorted(t.id for t in trials if t.status is Status.RESERVED)
    return counts, None if best is None else best.id, reserved


def test_summarize_keeps_counts_best_and_reserved_through_every_change(storage):
    def check() -> None:
        summary = storage.summarize("exp")
        counts, best, reserved = summary_of_a_scan(storage, "exp")
        assert dict(summary.counts) == counts
        assert (summary.best.id if summary.best else None) == best
        assert [t.id for t in summary.reserved] == reserved

    empty = storage.summarize("exp")
    assert set(empty.counts) == {s.value for s in Status} and not any(empty.counts.values())
    assert empty.best is None and empty.reserved == ()
    for i in range(8):
        storage.register_trial(make_trial(i))
    check()
    values = [3.0, 1.0, float("nan"), 1.0, 5.0, None]  # a tie, a NaN, no objective
    for value in values:
        trial = storage.reserve_trial("exp", "w")
        results = () if value is None else objective(value)
        done = trial.with_(status=Status.COMPLETED, results=results)
        assert storage.update_trial(done, expected=Status.RESERVED, owner="w")
        check()
    first_of_tie = storage.summarize("exp").best
    assert first_of_tie.objective == 1.0 and first_of_tie.id == make_trial(1).id
    held = storage.reserve_trial("exp", "w")
    broken = storage.reserve_trial("exp", "w").with_(status=Status.BROKEN)
    assert storage.update_trial(broken, expected=Status.RESERVED)
    check()
    assert [t.id for t in storage.summarize("exp").reserved] == [held.id]
    storage.delete_trials("exp", [first_of_tie.id])  # the best goes: the tie's other wins
    check()
    assert storage.summarize("exp").best.id == make_trial(3).id
    assert storage.release_lost("exp", -1.0)  # the held trial is lost at once
    check()
    assert storage.summarize("other").counts["interrupted"] == 0


def test_suggest_lock_is_a_mutual_exclusion(storage_url):
    stores = _stores(storage_url, 4, lock_timeout=10.0)
    inside, overlaps, entries = [], [], []

    def work(store) -> None:
        for _ in range(5):
            with store.suggest_lock("exp"):
                if inside:
                    overlaps.append(1)
                inside.append(1)
                time.sleep(0.005)
                entries.append(1)
                inside.pop()

    threads = [threading.Thread(target=work, args=(store,)) for store in stores]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert overlaps == [] and len(entries) == 20
    for store in set(stores):
        store.close()


def test_suggest_lock_times_out_while_held_and_is_per_experiment(storage_url):
    holder, waiter = _stores(storage_url, 2, lock_timeout=0.3)
    taken, done = threading.Event(), threading.Event()

    def hold() -> None:
        with holder.suggest_lock("exp"):
            taken.set()
            done.wait(20)

    thread = threading.Thread(target=hold)
    thread.start()
    try:
        assert taken.wait(10)
        with (
            pytest.raises(LockTimeout, match="suggest lock of experiment 'exp'"),
            waiter.suggest_lock("exp"),
        ):
            pass
        with waiter.suggest_lock("other"):
            pass
    finally:
        done.set()
        thread.join(20)
    with waiter.suggest_lock("exp"):
        pass


# -- several processes ----------------------------------------------------------------------
WORKER = r"""
import json, os, sys, time
from orion_cli.core.trial import Status
from orion_cli.storage import open_storage

mode, url, timeout = sys.argv[1], sys.argv[2], float(sys.argv[3])
store = open_storage(url, lock_timeout=timeout)
print("ready", flush=True)
sys.stdin.readline()
if mode == "reserve":
    got = []
    while (trial := store.reserve_trial("race", f"w{os.getpid()}")) is not None:
        got.append(trial.id)
    print(json.dumps(got), flush=True)
elif mode == "complete":
    won = []
    for trial in store.fetch_trials("race"):
        done = trial.with_(status=Status.COMPLETED, message=str(os.getpid()))
        if store.update_trial(done, expected=Status.RESERVED, owner="owner"):
            won.append(trial.id)
    print(json.dumps([os.getpid(), won]), flush=True)
elif mode == "hold":
    with store.suggest_lock("race"):
        print("held", flush=True)
        time.sleep(120)
"""


def spawn(mode: str, url: str, count: int, timeout: float = 30.0) -> list[subprocess.Popen]:
    """Start `count` workers and return once each has opened the storage."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", WORKER, mode, url, str(timeout)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            env=env,
        )
        for _ in range(count)
    ]
    for proc in procs:
        assert proc.stdout.readline().strip() == "ready"
    return procs


def go(procs: list[subprocess.Popen]) -> list[object]:
    """Release the workers at once and return what each printed last."""
    for proc in procs:
        proc.stdin.write("go\n")
        proc.stdin.flush()
    outputs = [proc.communicate(timeout=60)[0] for proc in procs]
    assert [proc.returncode for proc in procs] == [0] * len(procs)
    return [json.loads(out.strip().splitlines()[-1]) for out in outputs]


@pytest.fixture
def shared_url(storage_url):
    if storage_url == "memory:":
        pytest.skip("a memory storage lives in one process")
    return storage_url


def test_processes_racing_to_reserve_take_each_trial_once(shared_url):
    store = open_storage(shared_url)
    ids = {t.id for t in (make_trial(i, experiment="race") for i in range(200))}
    for i in range(200):
        assert store.register_trial(make_trial(i, experiment="race"))
    taken = [trial for got in go(spawn("reserve", shared_url, 6)) for trial in got]
    assert len(taken) == len(set(taken)) == 200
    assert set(taken) == ids
    assert len(store.fetch_trials("race", Status.RESERVED)) == 200
    summary = store.summarize("race")
    assert summary.counts["reserved"] == 200 and summary.counts["new"] == 0
    assert len(summary.reserved) == 200
    store.close()


def test_processes_racing_to_complete_a_trial_one_wins(shared_url):
    store = open_storage(shared_url)
    for i in range(40):
        store.register_trial(make_trial(i, experiment="race"))
        assert store.reserve_trial("race", "owner") is not None
    results = go(spawn("complete", shared_url, 2))
    won = {pid: set(ids) for pid, ids in results}
    first, second = won.values()
    assert not first & second
    assert len(first | second) == 40
    for trial in store.fetch_trials("race"):
        assert trial.status is Status.COMPLETED
        assert trial.id in won[int(trial.message)]
    summary = store.summarize("race")
    assert summary.counts["completed"] == 40 and summary.counts["reserved"] == 0
    store.close()


def test_a_killed_holder_of_the_suggest_lock_does_not_block_others(shared_url):
    (holder,) = spawn("hold", shared_url, 1)
    try:
        holder.stdin.write("go\n")
        holder.stdin.flush()
        assert holder.stdout.readline().strip() == "held"
        waiter = open_storage(shared_url, lock_timeout=0.3)
        with pytest.raises(LockTimeout), waiter.suggest_lock("race"):
            pass
        waiter.close()
    finally:
        holder.kill()
        holder.wait(10)
    store = open_storage(shared_url, lock_timeout=5.0)
    with store.suggest_lock("race"):
        pass
    store.close()


def test_two_handles_on_one_storage_see_each_other_writes(shared_url):
    first, second = open_storage(shared_url), open_storage(shared_url)
    first.create_experiment(Experiment(name="exp"))
    assert second.fetch_experiment("exp").name == "exp"
    first.register_trial(make_trial(1))
    reserved = second.reserve_trial("exp", "w2")
    assert reserved is not None and first.reserve_trial("exp", "w1") is None
    second.update_trial(reserved.with_(status=Status.COMPLETED), expected=Status.RESERVED)
    assert first.fetch_trial("exp", reserved.id).status is Status.COMPLETED
    first.close()
    second.close()
