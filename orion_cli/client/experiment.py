"""ExperimentClient and build_experiment: the one path shared by `orion hunt` and Python users."""

from __future__ import annotations

import getpass
import math
import os
import socket
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from operator import attrgetter
from pathlib import Path
from typing import Any

from orion_cli import __version__
from orion_cli.client.stats import trial_stats
from orion_cli.core.algorithms import make_algorithm, normalize
from orion_cli.core.experiment import Experiment, check_name, diff
from orion_cli.core.priors import build_space
from orion_cli.core.space import Space
from orion_cli.core.trial import ENDED, RESERVABLE, Status, Trial, hash_params, trial_id
from orion_cli.errors import (
    CompletedExperiment,
    ExperimentBroken,
    ExperimentConflict,
    ExperimentNotFound,
    TrialLost,
    UserError,
    WaitingForTrials,
)
from orion_cli.executor import parse_results
from orion_cli.storage import NotFound, Storage, default_storage_url, open_storage
from orion_cli.storage.base import AlreadyExists

DEFAULT_HEARTBEAT = 60.0
LOST_AFTER = 3  # heartbeats: a reserved trial silent for this many intervals is lost


def _open(storage: Storage | str | Mapping[str, Any] | None, lock_timeout: float | None):
    if storage is None or isinstance(storage, (str, Mapping)):
        from orion_cli.config import storage_url

        url = storage_url(storage) if isinstance(storage, Mapping) else storage
        kwargs = {} if lock_timeout is None else {"lock_timeout": lock_timeout}
        return open_storage(url or default_storage_url(), **kwargs), True
    return storage, False


def default_working_dir(storage_url: str, name: str) -> str:
    """A persistent folder beside the storage: `<journal dir>/work/<name>`."""
    if storage_url.startswith(("postgresql://", "postgres://", "memory:")):
        base = Path(default_storage_url_local())
    else:
        base = Path(storage_url[5:] if storage_url.startswith("file:") else storage_url)
    return str((base.expanduser() / "work" / name).absolute())


def default_storage_url_local() -> str:
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return str(Path(base) / "orion_cli")


def build_experiment(
    name: str,
    space: Mapping[str, str] | None = None,
    algorithm: Any = None,
    max_trials: int | None = None,
    max_broken: int | None = None,
    storage: Storage | str | Mapping[str, Any] | None = None,
    working_dir: str | None = None,
    *,
    commandline: tuple[str, ...] | list[str] | None = None,
    user_script_config: str | None = None,
    metadata: Mapping[str, Any] | None = None,
    heartbeat: float = DEFAULT_HEARTBEAT,
    lock_timeout: float | None = None,
    worker: str | None = None,
) -> ExperimentClient:
    """Create the experiment `name`, or resume it when it exists with the same space.

    Raises:
        ExperimentNotFound: it does not exist and no space was given.
        ExperimentConflict: it exists with another space or algorithm.
    """
    check_name(name)
    _check_budget("max_trials", max_trials, allow_none=True)
    _check_budget("max_broken", max_broken, allow_none=True)
    wanted = _Wanted(
        name,
        space,
        algorithm,
        max_trials,
        max_broken,
        working_dir,
        tuple(commandline or ()),
        user_script_config,
        dict(metadata or {}),
    )
    store, owned = _open(storage, lock_timeout)
    try:
        exp = _create_or_resume(store, wanted)
    except BaseException:
        if owned:
            store.close()
        raise
    return ExperimentClient(exp, store, heartbeat=heartbeat, worker=worker, owns_storage=owned)


create_experiment = build_experiment


def _check_budget(name: str, value: Any, *, allow_none: bool) -> None:
    if value is None and allow_none:
        return
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise UserError(f"{name} must be a whole number >= 0, got {value!r}: fix the value")


@dataclass(frozen=True)
class _Wanted:
    """What build_experiment was asked for (None: keep what is stored, or the default)."""

    name: str
    space: Mapping[str, str] | None
    algorithm: Any
    max_trials: int | None
    max_broken: int | None
    working_dir: str | None
    commandline: tuple[str, ...]
    user_script_config: str | None
    metadata: dict[str, Any]


def _create_or_resume(store: Storage, wanted: _Wanted) -> Experiment:
    for attempt in range(2):
        try:
            existing = store.fetch_experiment(wanted.name)
        except NotFound:
            existing = None
        if existing is not None:
            return _resume(store, existing, wanted)
        if wanted.space is None:
            raise ExperimentNotFound(
                f"no experiment named {wanted.name!r} in {_safe_url(store)}: give a command "
                "with priors (or a space) to create it, or check the name with `orion list`"
            )
        exp = _new_experiment(store, wanted)
        try:
            store.create_experiment(exp)
            return exp
        except AlreadyExists:
            if attempt:
                raise
    raise UserError(f"experiment {wanted.name!r} keeps changing: retry")  # pragma: no cover


def _safe_url(store: Storage) -> str:
    from orion_cli.storage import redact_url

    return redact_url(getattr(store, "url", "the storage"))


def _new_experiment(store: Storage, wanted: _Wanted) -> Experiment:
    assert wanted.space is not None
    parsed = build_space(dict(wanted.space))
    algo_config = normalize(wanted.algorithm)
    grid = algo_config.get("gridsearch")
    if grid is not None and grid.get("max_trials") is None and wanted.max_trials:
        grid["max_trials"] = wanted.max_trials  # thin the grid to the budget
    make_algorithm(parsed, algo_config)  # refuse unknown names and options before storing
    url = getattr(store, "url", default_storage_url())
    meta = {
        "user": _user(),
        "host": socket.gethostname(),
        "orion_version": __version__,
        **wanted.metadata,
    }
    working_dir = wanted.working_dir
    return Experiment(
        name=wanted.name,
        version=1,
        space=parsed.priors(),
        algorithm=algo_config,
        max_trials=wanted.max_trials,
        max_broken=3 if wanted.max_broken is None else wanted.max_broken,
        working_dir=str(Path(working_dir).expanduser().absolute())
        if working_dir
        else default_working_dir(url, wanted.name),
        commandline=wanted.commandline,
        user_script_config=wanted.user_script_config or "config",
        metadata=meta,
        created=time.time(),
    )


def _user() -> str:
    try:
        return getpass.getuser()
    except Exception:  # no user name in some containers
        return "unknown"


def _resume(store: Storage, exp: Experiment, wanted: _Wanted) -> Experiment:
    if wanted.space is not None:
        priors = build_space(dict(wanted.space)).priors()
        differences = diff(exp, exp.with_(space=priors))
        if differences:
            raise ExperimentConflict(
                f"experiment {exp.name!r} exists with another search space "
                f"({'; '.join(differences)}): use a new name with -n, or the same priors to "
                "resume it"
            )
    if wanted.algorithm is not None and normalize(wanted.algorithm) != exp.algorithm:
        asked = normalize(wanted.algorithm)
        same_name = set(asked) == set(exp.algorithm) and not next(iter(asked.values()))
        if not same_name:
            raise ExperimentConflict(
                f"experiment {exp.name!r} uses algorithm {exp.algorithm}, not {asked}: "
                "resume it without --algorithm, or use a new name with -n"
            )
    changes: dict[str, Any] = {}
    if wanted.max_trials is not None and wanted.max_trials != exp.max_trials:
        changes["max_trials"] = wanted.max_trials
    if wanted.max_broken is not None and wanted.max_broken != exp.max_broken:
        changes["max_broken"] = wanted.max_broken
    if wanted.working_dir:
        working_dir = str(Path(wanted.working_dir).expanduser().absolute())
        if working_dir != exp.working_dir:
            changes["working_dir"] = working_dir
    if wanted.commandline and not exp.commandline:
        changes["commandline"] = wanted.commandline
    if changes:
        exp = exp.with_(**changes)
        store.update_experiment(exp)
    return exp


def get_experiment(
    name: str, version: int | None = None, storage: Storage | str | None = None
) -> ExperimentClient:
    """Open an existing experiment read-only."""
    check_name(name)
    store, owned = _open(storage, None)
    try:
        exp = store.fetch_experiment(name, version)
    except NotFound:
        if owned:
            store.close()
        which = name if version is None else f"{name} version {version}"
        raise ExperimentNotFound(
            f"no experiment {which!r} in {_safe_url(store)}: check the name with `orion list`"
        ) from None
    return ExperimentClient(exp, store, read_only=True, owns_storage=owned)


def as_results(value: Any) -> tuple[dict[str, Any], ...]:
    """A number or a results list -> validated results."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        value = [{"name": "objective", "type": "objective", "value": value}]
    import json

    try:
        text = json.dumps(value)
    except (TypeError, ValueError) as exc:
        raise UserError(f"results must be a number or a JSON-able list: {exc}") from exc
    results, problem = parse_results(text)
    if problem is not None:
        raise UserError(f"invalid results: {problem}")
    return results


class ExperimentClient:
    """An experiment in a storage: suggest, observe, release, fetch_trials, workon."""

    def __init__(
        self,
        experiment: Experiment,
        storage: Storage,
        *,
        read_only: bool = False,
        heartbeat: float = DEFAULT_HEARTBEAT,
        worker: str | None = None,
        owns_storage: bool = False,
    ) -> None:
        self._exp = experiment
        self.storage = storage
        self.read_only = read_only
        self.heartbeat = heartbeat
        self.worker = worker or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
        self._owns_storage = owns_storage
        self._space: Space | None = None
        self._algorithm: Any = None
        self._lock = threading.RLock()
        self._held: dict[str, Trial] = {}
        self._lost: set[str] = set()
        self._last_release = 0.0
        self._pacemaker: threading.Thread | None = None
        self._closing = threading.Event()

    # -- the experiment -------------------------------------------------------------------
    @property
    def experiment(self) -> Experiment:
        return self._exp

    @property
    def name(self) -> str:
        return self._exp.name

    @property
    def version(self) -> int:
        return self._exp.version

    @property
    def id(self) -> str:
        return self._exp.id

    @property
    def max_trials(self) -> int | None:
        return self._exp.max_trials

    @property
    def max_broken(self) -> int:
        return self._exp.max_broken

    @property
    def working_dir(self) -> str:
        return self._exp.working_dir or ""

    @property
    def space(self) -> Space:
        if self._space is None:
            self._space = build_space(self._exp.space)
        return self._space

    @property
    def algorithm(self) -> Any:
        """The algorithm instance (stateless: rebuilt from the trials at every call)."""
        if self._algorithm is None:
            self._algorithm = make_algorithm(self.space, self._exp.algorithm)
        return self._algorithm

    def refresh(self) -> Experiment:
        """Re-read the experiment record (another process may have raised its budget)."""
        self._exp = self.storage.fetch_experiment(self._exp.name, self._exp.version)
        return self._exp

    # -- trials ---------------------------------------------------------------------------
    def fetch_trials(self, status: Status | str | None = None) -> list[Trial]:
        with self._lock:
            wanted = None if status is None else Status(status)
            return self.storage.fetch_trials(self.id, wanted)

    def stats(self, trials: list[Trial] | None = None) -> dict[str, Any]:
        """Counts by status and the best trial (of `trials`, else as the storage keeps them)."""
        if trials is not None:
            return trial_stats(trials)
        summary = self.storage.summarize(self.id)
        best = summary.best
        return {
            "counts": dict(summary.counts),
            "trials_completed": summary.counts[Status.COMPLETED.value],
            "best": None
            if best is None
            else {"id": best.id, "objective": best.objective, "params": best.params},
        }

    @staticmethod
    def _counts(trials: list[Trial]) -> Counter[Status]:
        return Counter(map(attrgetter("status"), trials))

    def budget_left(self, trials: list[Trial], counts: Counter[Status] | None = None) -> float:
        if self._exp.max_trials is None:
            return math.inf
        counts = self._counts(trials) if counts is None else counts
        return self._exp.max_trials - counts[Status.COMPLETED] - counts[Status.RESERVED]

    def too_many_broken(self, trials: list[Trial], counts: Counter[Status] | None = None) -> bool:
        counts = self._counts(trials) if counts is None else counts
        return counts[Status.BROKEN] >= self._exp.max_broken

    def is_done_given(self, trials: list[Trial]) -> bool:
        counts = self._counts(trials)
        if self._exp.max_trials is not None and counts[Status.COMPLETED] >= self._exp.max_trials:
            return True
        pending = sum(n for status, n in counts.items() if status not in ENDED)
        return not pending and self.algorithm.is_done(trials)

    @property
    def is_done(self) -> bool:
        return self.is_done_given(self.fetch_trials())

    @property
    def is_broken(self) -> bool:
        return len(self.fetch_trials(Status.BROKEN)) >= self._exp.max_broken

    # -- reserving ------------------------------------------------------------------------
    def _writable(self) -> None:
        if self.read_only:
            raise UserError(
                f"experiment {self.name!r} was opened read-only (get_experiment): "
                "use build_experiment to run trials"
            )

    def acquire(self, slots: int = 1) -> Trial | None:
        """Reserve a trial to run: a reservable one, else a new suggestion. None: nothing now.

        The budget check and the reservation happen under the experiment's suggest lock, so
        that the workers never start more trials than the budget. When the algorithm must be
        asked, it is asked once for up to `slots` trials (the free slots of this worker, within
        the budget); the ones not reserved now stay new for the next call or another worker.
        """
        self._writable()
        with self._lock:
            self.release_lost()
            with self.storage.suggest_lock(self.id):
                trials = self.storage.fetch_trials(self.id)
                counts = self._counts(trials)
                left = self.budget_left(trials, counts)
                if left <= 0 or self.too_many_broken(trials, counts):
                    return None
                trial = None
                if any(counts[status] for status in RESERVABLE):
                    trial = self.storage.reserve_trial(self.id, self.worker)
                if trial is None:
                    trial = self._produce(trials, int(min(max(slots, 1), left)))
            if trial is not None:
                self._hold(trial)
            return trial

    def _produce(self, trials: list[Trial], n: int) -> Trial | None:
        """Ask the algorithm for up to `n` trials; the first is registered reserved by us.

        Registering the trial this worker runs as already reserved costs one write instead
        of two (register, then reserve). The others are registered new, for the next call or
        another worker. Called under the suggest lock, after no reservable trial was found.
        """
        algorithm = self.algorithm
        if algorithm.is_done(trials):
            return None
        mine: Trial | None = None
        now = time.time()
        fidelity = self.space.fidelity
        for suggestion in algorithm.suggest(trials, n):
            tid = trial_id(self.id, suggestion.params)
            trial = Trial(
                id=tid,
                experiment=self.id,
                params=dict(suggestion.params),
                meta=dict(suggestion.meta),
                parent=suggestion.parent,
                hash_params=hash_params(suggestion.params, fidelity.name if fidelity else None),
                submit_time=now,
                working_dir=str(Path(self.working_dir) / tid),
            )
            if mine is None:
                trial = trial.with_(
                    status=Status.RESERVED, worker=self.worker, start_time=now, heartbeat=now
                )
                if self.storage.register_trial(trial):
                    mine = trial
            else:
                self.storage.register_trial(trial)
        return mine

    def suggest(self) -> Trial:
        """Reserve a trial for this process (Oríon's client.suggest)."""
        trial = self.acquire()
        if trial is not None:
            return trial
        trials = self.fetch_trials()
        if self.is_done_given(trials):
            raise CompletedExperiment(f"experiment {self.name!r} is done")
        if sum(1 for t in trials if t.status is Status.BROKEN) >= self.max_broken:
            raise ExperimentBroken(f"experiment {self.name!r} has too many broken trials")
        raise WaitingForTrials(
            f"experiment {self.name!r}: nothing to run now, other workers hold the rest"
        )

    def _hold(self, trial: Trial) -> None:
        self._held[trial.id] = trial
        if self._pacemaker is None and self.heartbeat > 0:
            self._pacemaker = threading.Thread(target=self._beat, daemon=True, name="pacemaker")
            self._pacemaker.start()

    def _beat(self) -> None:
        while not self._closing.wait(self.heartbeat):
            self.beat_once()

    def beat_once(self) -> None:
        """Refresh the heartbeat of every trial held; note the ones lost to another worker."""
        with self._lock:
            for trial in list(self._held.values()):
                if not self.storage.heartbeat(trial):
                    self._lost.add(trial.id)
                    self._held.pop(trial.id, None)

    def is_lost(self, trial: Trial) -> bool:
        """True when another worker took this trial over (our heartbeat was too old)."""
        return trial.id in self._lost

    def release_lost(self, force: bool = False) -> list[Trial]:
        """Send back to `interrupted` the reserved trials whose heartbeat is too old."""
        if self.read_only or self.heartbeat <= 0:
            return []
        now = time.monotonic()
        if not force and now - self._last_release < self.heartbeat:
            return []
        self._last_release = now
        with self._lock:
            return self.storage.release_lost(self.id, LOST_AFTER * self.heartbeat)

    # -- ending trials --------------------------------------------------------------------
    def _end(self, trial: Trial, **changes: Any) -> Trial:
        self._writable()
        with self._lock:
            # The trial as reserved is what is stored: only its heartbeat changed since.
            current = self._held.pop(trial.id, None) or self.storage.fetch_trial(self.id, trial.id)
            updated = current.with_(end_time=time.time(), **changes)
            if not self.storage.update_trial(updated, expected=Status.RESERVED, owner=self.worker):
                self._lost.add(trial.id)
                raise TrialLost(
                    f"trial {trial.id} is no longer reserved by this worker (it was lost and "
                    "taken over): its outcome was not stored"
                )
            return updated

    def observe(self, trial: Trial, results: Any) -> Trial:
        """Store the results of a trial this process reserved: it becomes completed."""
        return self._end(
            trial, status=Status.COMPLETED, results=as_results(results), exit_code=0, message=None
        )

    def fail(self, trial: Trial, message: str, exit_code: int | None = None) -> Trial:
        """Mark a reserved trial broken, with why."""
        return self._end(trial, status=Status.BROKEN, message=message, exit_code=exit_code)

    def release(self, trial: Trial, status: str | Status = "interrupted") -> Trial:
        """Give back a reserved trial: interrupted or suspended trials run again later."""
        status = Status(status)
        if status in (Status.RESERVED, Status.NEW):
            raise UserError(
                f"cannot release a trial as {status.value}: use interrupted, "
                "suspended, broken or completed"
            )
        changes: dict[str, Any] = {"status": status}
        if status in RESERVABLE:
            changes.update(worker=None, heartbeat=None)
        return self._end(trial, **changes)

    def workon(
        self, fn: Callable[..., Any], max_trials: int | None = None, max_broken: int | None = None
    ) -> int:
        """Run `fn(**params)` in this process on trial after trial; returns how many completed.

        `fn` returns a number (the objective) or a results list. An exception in `fn` breaks
        the trial; the experiment stops once `max_broken` trials broke.
        """
        limit = math.inf if max_trials is None else max_trials
        broken_limit = self.max_broken if max_broken is None else max_broken
        done = broken = 0
        while done < limit:
            try:
                trial = self.suggest()
            except (CompletedExperiment, WaitingForTrials):
                break
            try:
                value = fn(**trial.params)
            except KeyboardInterrupt:
                self.release(trial)
                raise
            except Exception as exc:  # the user's function failed: the trial is broken
                self.fail(trial, f"{type(exc).__name__}: {exc}")
                broken += 1
                if broken >= broken_limit:
                    raise ExperimentBroken(
                        f"{broken} trials broke in workon (last: {type(exc).__name__}: {exc})"
                    ) from exc
                continue
            self.observe(trial, value)
            done += 1
        return done

    def close(self) -> None:
        self._closing.set()
        if self._owns_storage:
            self.storage.close()

    def __enter__(self) -> ExperimentClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def workon(
    fn: Callable[..., Any],
    space: Mapping[str, str],
    name: str = "loop",
    algorithm: Any = None,
    max_trials: int | None = None,
    **kwargs: Any,
) -> ExperimentClient:
    """Optimize `fn` over `space` in memory (Oríon's `workon`); returns the experiment client."""
    client = build_experiment(
        name, space=space, algorithm=algorithm, max_trials=max_trials, storage="memory:", **kwargs
    )
    client.workon(fn, max_trials=max_trials)
    return client
