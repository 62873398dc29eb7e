"""The Storage protocol: the contract every backend keeps, tested by tests/contract.

Contract:
- `create_experiment` raises `AlreadyExists` when (name, version) is stored already.
- `fetch_experiment(name)` returns the highest version; a missing record raises `NotFound`.
- `register_trial` stores the trial as given, whatever its status, and returns False when a
  trial with that id is stored already (a lost race). A worker registers the trial it runs
  at once as reserved by itself (one write, not two); a backend with a clock of its own may
  set that trial's `start_time` and `heartbeat` to its now, as `reserve_trial` does.
- `reserve_trial` atomically moves one reservable trial (new, interrupted, suspended; oldest
  `submit_time` first, interrupted and suspended before new) to `reserved`, sets its `worker`,
  `start_time` and `heartbeat` to now, and returns it; None when there is none. Two workers
  never reserve the same trial.
- `update_trial(trial, expected=S, owner=W)` stores `trial` (all its fields) only when the stored
  trial has status S and, when W is given, worker W; otherwise it returns False and changes
  nothing (compare-and-set).
- `heartbeat(trial)` refreshes the heartbeat of a trial still reserved by `trial.worker`;
  False when the trial is no longer reserved by that worker (it was lost and taken over).
- `release_lost(experiment, timeout)` moves every reserved trial whose heartbeat is older than
  `timeout` seconds to `interrupted` (worker cleared) and returns them.
- `summarize(experiment)` returns the counts by status, the best completed trial (lowest
  objective, ties to the first registered) and the reserved trials, at a cost that does not
  grow with the number of trials (a backend keeps these figures as trials change).
- `suggest_lock(experiment)` is a per-experiment mutual exclusion across processes and machines;
  it waits at most `lock_timeout` (given when the storage is opened) and then raises
  `LockTimeout`; a lock held by a dead process is released or expires.
- Nothing a backend does rewrites the whole database on a write.
- Returned trials are frozen values that a backend may share between calls: callers never
  mutate their dicts (they make changed copies with `Trial.with_`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Protocol

from orion_cli.core.experiment import Experiment
from orion_cli.core.trial import Status, Trial
from orion_cli.errors import StorageError


class NotFound(StorageError):
    """The record asked for is not stored."""


class AlreadyExists(StorageError):
    """A record with that key is stored already."""


class LockTimeout(StorageError):
    """The suggest lock could not be taken in time."""


@dataclass(frozen=True)
class TrialSummary:
    """What `orion status` shows of an experiment, without reading every trial."""

    counts: Mapping[str, int]  # every status value, 0 included
    best: Trial | None  # the completed trial with the lowest objective
    reserved: tuple[Trial, ...]  # to tell the lost ones by their heartbeat


class Storage(Protocol):
    """What every backend offers; see the module docstring for the contract."""

    url: str

    def create_experiment(self, exp: Experiment) -> None: ...

    def update_experiment(self, exp: Experiment) -> None: ...

    def fetch_experiment(self, name: str, version: int | None = None) -> Experiment: ...

    def list_experiments(self) -> list[Experiment]: ...

    def register_trial(self, trial: Trial) -> bool: ...

    def fetch_trials(self, experiment: str, status: Status | None = None) -> list[Trial]: ...

    def fetch_trial(self, experiment: str, trial_id: str) -> Trial: ...

    def reserve_trial(self, experiment: str, worker: str) -> Trial | None: ...

    def update_trial(
        self, trial: Trial, *, expected: Status, owner: str | None = None
    ) -> bool: ...

    def heartbeat(self, trial: Trial) -> bool: ...

    def release_lost(self, experiment: str, timeout: float) -> list[Trial]: ...

    def delete_trials(self, experiment: str, ids: Sequence[str]) -> int: ...

    def summarize(self, experiment: str) -> TrialSummary: ...

    def suggest_lock(self, experiment: str) -> AbstractContextManager[None]: ...

    def close(self) -> None: ...
