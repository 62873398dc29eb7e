"""The dict-backed storage for tests and one-shot Python use, and the record index it shares
with the journal.

`Records` holds experiments and trials as plain dicts with the indexes that keep every
operation flat in the number of stored trials (a heap of reservable trials, the set of reserved
ones), and decides each compare-and-set; `MemoryStorage` applies the decisions under a
`threading.RLock`, `JournalStorage` appends them to its journal first.
"""

from __future__ import annotations

import gc
import heapq
import itertools
import threading
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from orion_cli.core.experiment import Experiment
from orion_cli.core.trial import RESERVABLE, Status, Trial
from orion_cli.storage.base import AlreadyExists, LockTimeout, NotFound, TrialSummary
from orion_cli.storage.summary import Tally

Record = dict[str, Any]

_RESERVABLE = frozenset(status.value for status in RESERVABLE)
# Interrupted and suspended trials are re-run before new ones (the contract of reserve_trial).
_FIRST = frozenset({Status.INTERRUPTED.value, Status.SUSPENDED.value})
_RESERVED = Status.RESERVED.value


def copy_json(value: Any) -> Any:
    """A deep copy of a JSON-like value (tuples become lists), much faster than deepcopy."""
    if isinstance(value, dict):
        return {key: copy_json(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [copy_json(item) for item in value]
    return value


_SCALARS = (str, int, float, bool)
_STATUS = {status.value: status for status in Status}
_TRIAL_FIELDS = frozenset(Trial.__dataclass_fields__)


def _copy_dict(value: dict[str, Any]) -> dict[str, Any]:
    """A deep copy of a dict; the common flat dict of scalars takes the fast path."""
    for item in value.values():
        if item is not None and type(item) not in _SCALARS:
            return copy_json(value)  # type: ignore[no-any-return]
    return value.copy()


def trial_from_record(record: Record) -> Trial:
    """A Trial that shares no mutable object with the stored record.

    Builds the Trial directly rather than through `Trial.from_dict` because `fetch_trials` of
    a large experiment spends most of its time here.
    """
    fields = {key: value for key, value in record.items() if key in _TRIAL_FIELDS}
    fields["status"] = _STATUS[record["status"]]
    fields["params"] = _copy_dict(record["params"])
    fields["meta"] = _copy_dict(record.get("meta") or {})
    fields["results"] = tuple(_copy_dict(result) for result in record.get("results") or ())
    return Trial(**fields)


@contextmanager
def gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while building many small acyclic objects.

    Reading 30,000 trials creates ~10 objects each; the collector would otherwise run
    hundreds of times over the growing heap for nothing (the objects form no cycles).
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def experiment_from_record(record: Record) -> Experiment:
    """An Experiment that shares no mutable object with the stored record."""
    return Experiment.from_dict(copy_json(record))


def not_found_experiment(name: str, version: int | None, url: str) -> NotFound:
    what = f"experiment {name!r}" + ("" if version is None else f" version {version}")
    return NotFound(f"no {what} in the storage {url}: check the name with `orion list`")


def not_found_trial(experiment: str, trial_id: str, url: str) -> NotFound:
    return NotFound(
        f"no trial {trial_id} in experiment {experiment!r} of the storage {url}: "
        "check the id with `orion status`"
    )


class Records:
    """Experiments and trials as dicts, indexed so that reserve and release stay flat."""

    def __init__(self) -> None:
        self.experiments: dict[str, dict[int, Record]] = {}
        self.trials: dict[str, dict[str, Record]] = {}
        self._queue: dict[str, list[tuple[Any, ...]]] = {}
        self._reserved: dict[str, set[str]] = {}
        self._seq = itertools.count()
        # experiment -> {id: Trial}, in the order of `trials`, and the ids whose record changed
        # since their Trial was built: fetch_trials rebuilds only those.
        self._built: dict[str, dict[str, Trial]] = {}
        self._dirty: dict[str, set[str]] = {}
        self._tally = Tally()

    def summary(self, experiment: str) -> TrialSummary:
        """Counts, best and reserved trials, from figures kept as the records changed."""
        records = self.trials.get(experiment, {})
        best = self._tally.best(experiment, records)
        return TrialSummary(
            counts=self._tally.counts(experiment),
            best=None if best is None else trial_from_record(records[best]),
            reserved=tuple(
                trial_from_record(records[i]) for i in sorted(self._reserved.get(experiment, ()))
            ),
        )

    def trial_objects(self, experiment: str) -> Iterable[Trial]:
        """Every Trial of an experiment, each built once per change of its record.

        fetch_trials of a large experiment would otherwise rebuild every Trial on every call,
        so that each operation of a worker would cost more as trials accumulate. Trials are
        frozen values shared between callers: never mutate their dicts (use `Trial.with_`).
        """
        records = self.trials.get(experiment, {})
        built = self._built.setdefault(experiment, {})
        dirty = self._dirty.pop(experiment, set())
        for trial_id in dirty:
            record = records.get(trial_id)
            if record is not None:
                built[trial_id] = trial_from_record(record)
        if len(built) != len(records):  # first call: build in the order of the records
            built = {tid: built.get(tid) or trial_from_record(r) for tid, r in records.items()}
            self._built[experiment] = built
        return built.values()

    def _changed(self, experiment: str, trial_id: str) -> None:
        if experiment in self._built:
            self._dirty.setdefault(experiment, set()).add(trial_id)

    # -- state -------------------------------------------------------------------------
    def put_experiment(self, record: Record) -> None:
        self.experiments.setdefault(record["name"], {})[int(record["version"])] = record

    def experiment(self, name: str, version: int | None = None) -> Record | None:
        versions = self.experiments.get(name)
        if not versions:
            return None
        return versions.get(max(versions) if version is None else version)

    def trial(self, experiment: str, trial_id: str) -> Record | None:
        return self.trials.get(experiment, {}).get(trial_id)

    def put_trial(self, record: Record) -> None:
        experiment, trial_id, status = record["experiment"], record["id"], record["status"]
        trials = self.trials.setdefault(experiment, {})
        self._tally.changed(experiment, trial_id, trials.get(trial_id), record)
        trials[trial_id] = record
        self._changed(experiment, trial_id)
        reserved = self._reserved.setdefault(experiment, set())
        if status == _RESERVED:
            reserved.add(trial_id)
        else:
            reserved.discard(trial_id)
        if status in _RESERVABLE:
            submit = record.get("submit_time")
            # seq is unique, so the tuple comparison never reaches the fields after it.
            entry = (
                0 if status in _FIRST else 1,
                submit is None,
                submit or 0.0,
                next(self._seq),
                trial_id,
                status,
                submit,
            )
            heapq.heappush(self._queue.setdefault(experiment, []), entry)

    def set_heartbeat(self, experiment: str, trial_id: str, when: float) -> None:
        record = self.trial(experiment, trial_id)
        if record is not None:
            record["heartbeat"] = when
            self._changed(experiment, trial_id)

    def delete(self, experiment: str, ids: Iterable[str]) -> int:
        trials = self.trials.get(experiment, {})
        reserved = self._reserved.get(experiment, set())
        deleted = 0
        for trial_id in ids:
            record = trials.pop(trial_id, None)
            if record is not None:
                self._tally.changed(experiment, trial_id, record, None)
                self._built.get(experiment, {}).pop(trial_id, None)
                reserved.discard(trial_id)
                deleted += 1
        return deleted

    def iter_trials(self) -> Iterator[Record]:
        for trials in self.trials.values():
            yield from trials.values()

    def iter_experiments(self) -> Iterator[Record]:
        for versions in self.experiments.values():
            yield from versions.values()

    # -- decisions: the records to store, or None when the compare-and-set fails ---------
    def next_reservable(self, experiment: str) -> Record | None:
        """The trial reserve_trial must take next; stale heap entries are dropped lazily."""
        queue = self._queue.get(experiment)
        trials = self.trials.get(experiment, {})
        while queue:
            *_, trial_id, status, submit = queue[0]
            record = trials.get(trial_id)
            if (
                record is not None
                and record["status"] == status
                and record.get("submit_time") == submit
            ):
                return record
            heapq.heappop(queue)
        return None

    def reserve(self, experiment: str, worker: str, now: float) -> Record | None:
        record = self.next_reservable(experiment)
        if record is None:
            return None
        changes = {"status": _RESERVED, "worker": worker, "start_time": now, "heartbeat": now}
        return {**record, **changes}

    def update(self, trial: Trial, expected: Status, owner: str | None) -> Record | None:
        stored = self.trial(trial.experiment, trial.id)
        if stored is None or stored["status"] != Status(expected).value:
            return None
        if owner is not None and stored.get("worker") != owner:
            return None
        return trial.to_dict()

    def holds(self, trial: Trial) -> bool:
        """Whether `trial` is still reserved by `trial.worker` (the heartbeat's condition)."""
        stored = self.trial(trial.experiment, trial.id)
        return (
            stored is not None
            and stored["status"] == _RESERVED
            and trial.worker is not None
            and stored.get("worker") == trial.worker
        )

    def lost(self, experiment: str, older_than: float) -> list[Record]:
        """The reserved trials whose heartbeat is older than `older_than`, as interrupted."""
        out = []
        trials = self.trials.get(experiment, {})
        for trial_id in sorted(self._reserved.get(experiment, ())):
            record = trials[trial_id]
            beat = record.get("heartbeat") or record.get("start_time") or 0.0
            if beat < older_than:
                out.append({**record, "status": Status.INTERRUPTED.value, "worker": None})
        return out


class MemoryStorage:
    """Experiments and trials in this process only; safe across threads."""

    def __init__(self, lock_timeout: float = 60.0) -> None:
        self.url = "memory:"
        self.lock_timeout = lock_timeout
        self._records = Records()
        self._mutex = threading.RLock()
        self._suggest_locks: dict[str, threading.Lock] = {}

    def create_experiment(self, exp: Experiment) -> None:
        with self._mutex:
            if self._records.experiment(exp.name, exp.version) is not None:
                raise AlreadyExists(
                    f"experiment {exp.name!r} version {exp.version} exists already in "
                    f"{self.url}: fetch it instead of creating it"
                )
            self._records.put_experiment(exp.to_dict())

    def update_experiment(self, exp: Experiment) -> None:
        with self._mutex:
            if self._records.experiment(exp.name, exp.version) is None:
                raise not_found_experiment(exp.name, exp.version, self.url)
            self._records.put_experiment(exp.to_dict())

    def fetch_experiment(self, name: str, version: int | None = None) -> Experiment:
        with self._mutex:
            record = self._records.experiment(name, version)
            if record is None:
                raise not_found_experiment(name, version, self.url)
            return experiment_from_record(record)

    def list_experiments(self) -> list[Experiment]:
        with self._mutex:
            records = list(self._records.iter_experiments())
            out = [experiment_from_record(record) for record in records]
        return sorted(out, key=lambda exp: (exp.name, exp.version))

    def register_trial(self, trial: Trial) -> bool:
        with self._mutex:
            if self._records.trial(trial.experiment, trial.id) is not None:
                return False
            self._records.put_trial(trial.to_dict())
            return True

    def fetch_trials(self, experiment: str, status: Status | None = None) -> list[Trial]:
        with self._mutex:
            wanted = None if status is None else Status(status).value
            everything = self._records.trial_objects(experiment)
            if wanted is None:
                return list(everything)
            return [t for t in everything if t.status.value == wanted]

    def summarize(self, experiment: str) -> TrialSummary:
        with self._mutex:
            return self._records.summary(experiment)

    def fetch_trial(self, experiment: str, trial_id: str) -> Trial:
        with self._mutex:
            record = self._records.trial(experiment, trial_id)
            if record is None:
                raise not_found_trial(experiment, trial_id, self.url)
            return trial_from_record(record)

    def reserve_trial(self, experiment: str, worker: str) -> Trial | None:
        with self._mutex:
            record = self._records.reserve(experiment, worker, time.time())
            if record is None:
                return None
            self._records.put_trial(record)
            return trial_from_record(record)

    def update_trial(self, trial: Trial, *, expected: Status, owner: str | None = None) -> bool:
        with self._mutex:
            record = self._records.update(trial, expected, owner)
            if record is None:
                return False
            self._records.put_trial(record)
            return True

    def heartbeat(self, trial: Trial) -> bool:
        with self._mutex:
            if not self._records.holds(trial):
                return False
            self._records.set_heartbeat(trial.experiment, trial.id, time.time())
            return True

    def release_lost(self, experiment: str, timeout: float) -> list[Trial]:
        with self._mutex:
            lost = self._records.lost(experiment, time.time() - timeout)
            for record in lost:
                self._records.put_trial(record)
            return [trial_from_record(record) for record in lost]

    def delete_trials(self, experiment: str, ids: Sequence[str]) -> int:
        with self._mutex:
            return self._records.delete(experiment, ids)

    @contextmanager
    def suggest_lock(self, experiment: str) -> Iterator[None]:
        with self._mutex:
            lock = self._suggest_locks.setdefault(experiment, threading.Lock())
        if not lock.acquire(timeout=max(self.lock_timeout, 0.0)):
            raise LockTimeout(suggest_lock_timeout_message(experiment, self.lock_timeout))
        try:
            yield
        finally:
            lock.release()

    def close(self) -> None:
        """Nothing to release: the records live as long as this object."""


def suggest_lock_timeout_message(experiment: str, timeout: float) -> str:
    return (
        f"could not take the suggest lock of experiment {experiment!r} within {timeout:g} s: "
        "another worker holds it; raise --lock-timeout (ORION_LOCK_TIMEOUT) or check for a "
        "stuck worker"
    )
