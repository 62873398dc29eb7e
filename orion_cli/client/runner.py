"""Keep N trials running, collect their outcomes, stop on budget, broken trials or a signal."""

from __future__ import annotations

import contextlib
import shutil
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from orion_cli import executor
from orion_cli.client.experiment import ExperimentClient
from orion_cli.core.cmdline import render_commandline
from orion_cli.core.scriptconfig import ConfigTemplate, render_config
from orion_cli.core.trial import Status, Trial
from orion_cli.errors import ExperimentBroken, Interrupted

_TICK = 0.2


@dataclass(frozen=True)
class RunOptions:
    """What bounds this run (not the experiment)."""

    n_workers: int = 1
    worker_max_trials: int | None = None
    worker_max_broken: int | None = None
    idle_timeout: float = 60.0
    kill_grace: float = 10.0
    interrupt_code: int = 130


@dataclass
class Running:
    trial: Trial
    proc: Any
    working_dir: Path
    started: float


@dataclass
class RunSummary:
    """What this run did and why it stopped."""

    completed: int = 0
    broken: int = 0
    interrupted: int = 0
    lost: int = 0
    reason: str = "done"
    started: float = field(default_factory=time.time)


class Events(Protocol):
    """What the runner tells the display."""

    def started(self, trial: Trial) -> None: ...

    def ended(self, trial: Trial, outcome: executor.Outcome, detail: list[str]) -> None: ...

    def note(self, text: str) -> None: ...


@dataclass(frozen=True)
class Command:
    """The user's command and script config, ready to render for one trial."""

    argv: tuple[str, ...]
    cwd: str
    user_script_config: str = "config"
    config_template: ConfigTemplate | None = None
    config_name: str | None = None


def context_for(client: ExperimentClient, trial: Trial) -> dict[str, str]:
    """The values of the argv templates ({exp.name}, {trial.id}, ...) for one trial."""
    return {
        "exp.name": client.name,
        "exp.version": str(client.version),
        "exp.working_dir": client.working_dir,
        "trial.id": trial.id,
        "trial.working_dir": trial.working_dir or str(Path(client.working_dir) / trial.id),
        "trial.hash_params": trial.hash_params,
    }


def prepare_trial_working_dir(client: ExperimentClient, trial: Trial) -> Path:
    """Create the trial's directory; a promoted trial starts from a copy of its parent's."""
    path = Path(trial.working_dir or Path(client.working_dir) / trial.id)
    if not path.exists() and trial.parent:
        parent = Path(client.working_dir) / trial.parent
        if parent.is_dir():
            shutil.copytree(
                parent,
                path,
                ignore=shutil.ignore_patterns(
                    executor.RESULTS_FILE, executor.STDOUT_FILE, executor.STDERR_FILE
                ),
            )
    path.mkdir(parents=True, exist_ok=True)
    return path


def trial_env(
    client: ExperimentClient, trial: Trial, working_dir: Path, interrupt_code: int
) -> dict[str, str]:
    """The child protocol's environment (DESIGN.md §2)."""
    return {
        "ORION_EXPERIMENT_ID": client.id,
        "ORION_EXPERIMENT_NAME": client.name,
        "ORION_EXPERIMENT_VERSION": str(client.version),
        "ORION_TRIAL_ID": trial.id,
        "ORION_WORKING_DIR": str(working_dir),
        "ORION_RESULTS_PATH": str(working_dir / executor.RESULTS_FILE),
        "ORION_INTERRUPT_CODE": str(interrupt_code),
    }


def render(
    command: Command, client: ExperimentClient, trial: Trial, working_dir: Path
) -> list[str]:
    """The argv of one trial; its script config copy is written into its working dir."""
    context = context_for(client, trial)
    copy = None
    if command.config_template is not None and command.config_name:
        copy = str(working_dir / command.config_name)
        text = render_config(command.config_template, trial.params, context)
        Path(copy).write_text(text, encoding="utf-8")
    return render_commandline(
        command.argv,
        trial.params,
        context,
        config_copy=copy,
        user_script_config=command.user_script_config,
    )


class Runner:
    """Runs the trials of one experiment as subprocesses, n at a time."""

    def __init__(
        self, client: ExperimentClient, command: Command, options: RunOptions, events: Events
    ) -> None:
        self.client = client
        self.command = command
        self.options = options
        self.events = events
        self.summary = RunSummary()
        self._running: dict[str, Running] = {}
        self._exits: executor.ExitWatcher[Running] = executor.ExitWatcher()
        self._stop_signal: int | None = None

    def request_stop(self, signum: int) -> None:
        """Called from a signal handler: stop at the next tick."""
        self._stop_signal = signum

    # -- the loop --------------------------------------------------------------------------
    def run(self) -> RunSummary:
        idle_since: float | None = None
        try:
            while True:
                self._check_stop()
                self._drop_lost()
                self._fill()
                if self._running:
                    idle_since = None
                    self._wait_one()
                    continue
                reason = self._why_stop()
                if reason is not None:
                    self.summary.reason = reason
                    return self.summary
                idle_since = idle_since or time.monotonic()
                if time.monotonic() - idle_since > self.options.idle_timeout:
                    self.summary.reason = "idle"
                    return self.summary
                self._sleep(_TICK)
        except BaseException:
            self._stop_all()
            raise
        finally:
            self._exits.close()

    def _limit_reached(self) -> bool:
        done = self.summary.completed + len(self._running)
        limit = self.options.worker_max_trials
        return limit is not None and done >= limit

    def _fill(self) -> None:
        while len(self._running) < self.options.n_workers and not self._limit_reached():
            self._check_stop()
            trial = self.client.acquire(self.options.n_workers - len(self._running))
            if trial is None:
                return
            self._start(trial)

    def _start(self, trial: Trial) -> None:
        try:
            working_dir = prepare_trial_working_dir(self.client, trial)
            argv = render(self.command, self.client, trial, working_dir)
            env = trial_env(self.client, trial, working_dir, self.options.interrupt_code)
            proc = executor.launch(argv, env=env, cwd=self.command.cwd, working_dir=working_dir)
        except OSError as exc:
            self.client.fail(trial, f"could not be launched: {exc}")
            self.summary.broken += 1
            self.events.ended(trial, executor.Outcome(Status.BROKEN, message=str(exc)), [])
            self._check_broken()
            return
        running = Running(trial, proc, working_dir, time.monotonic())
        self._running[trial.id] = running
        self._exits.add(proc, running)
        self.events.started(trial)

    def _wait_one(self) -> None:
        running = self._exits.next(_TICK)
        if running is None:
            return
        if self._running.pop(running.trial.id, None) is None:
            return  # already handled (lost or stopped)
        self._finish(running)

    def _finish(self, running: Running) -> None:
        code = running.proc.returncode
        outcome = executor.outcome(code, running.working_dir, self.options.interrupt_code)
        trial = running.trial
        if self.client.is_lost(trial):
            self.summary.lost += 1
            self.events.note(
                f"trial {trial.id} was taken over by another worker: its outcome is not stored"
            )
            return
        if outcome.status is Status.COMPLETED:
            trial = self.client.observe(trial, list(outcome.results))
            self.summary.completed += 1
            self.events.ended(trial, outcome, [])
        elif outcome.status is Status.INTERRUPTED:
            trial = self.client.release(trial, Status.INTERRUPTED)
            self.summary.interrupted += 1
            self.events.ended(trial, outcome, [])
            raise Interrupted(
                f"trial {trial.id} exited with the interrupt code "
                f"{self.options.interrupt_code}: run the same command to resume"
            )
        else:
            trial = self.client.fail(trial, outcome.message or "broken", outcome.exit_code)
            self.summary.broken += 1
            self.events.ended(trial, outcome, executor.stderr_tail(running.working_dir))
            self._check_broken()

    def _check_broken(self) -> None:
        broken = len(self.client.fetch_trials(Status.BROKEN))
        limit = self.client.max_broken
        worker_limit = self.options.worker_max_broken
        if broken >= limit or (worker_limit is not None and self.summary.broken >= worker_limit):
            self.summary.reason = "broken"
            which = (
                (
                    f"{broken} trials of experiment {self.client.name!r} broke "
                    f"(--exp-max-broken {limit})"
                )
                if broken >= limit
                else (
                    f"{self.summary.broken} trials broke in this worker "
                    f"(--worker-max-broken {worker_limit})"
                )
            )
            raise ExperimentBroken(
                f"{which}: fix the script (see stderr.log in the broken trials' directories), "
                f"then raise --exp-max-broken or remove the broken trials with "
                f"`orion db rm -n {self.client.name} --status broken`, and run again"
            )

    def _why_stop(self) -> str | None:
        trials = self.client.fetch_trials()
        if self.client.is_done_given(trials):
            return "done"
        if self._limit_reached():
            return "worker_max_trials"
        if sum(1 for t in trials if t.status is Status.BROKEN) >= self.client.max_broken:
            self._check_broken()
        return None

    # -- lost trials and stopping -----------------------------------------------------------
    def _drop_lost(self) -> None:
        for tid, running in list(self._running.items()):
            if self.client.is_lost(running.trial):
                self._running.pop(tid, None)
                executor.stop(running.proc, self.options.kill_grace)
                self.summary.lost += 1
                self.events.note(
                    f"trial {tid} was lost (heartbeat too old) and taken over by "
                    "another worker: stopped its process here"
                )

    def _check_stop(self) -> None:
        if self._stop_signal is None:
            return
        import signal

        name = signal.Signals(self._stop_signal).name
        self._stop_all()
        self.summary.reason = "interrupted"
        raise Interrupted(
            f"stopped by {name}: its running trials were marked interrupted; "
            "run the same command to resume"
        )

    def _stop_all(self) -> None:
        running, self._running = list(self._running.values()), {}
        threads = [
            threading.Thread(target=executor.stop, args=(r.proc, self.options.kill_grace))
            for r in running
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        for r in running:
            with contextlib.suppress(Exception):
                self.client.release(r.trial, Status.INTERRUPTED)
                self.summary.interrupted += 1

    def _sleep(self, seconds: float) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline and self._stop_signal is None:
            time.sleep(min(0.05, seconds))


def load_command(
    argv: Sequence[str],
    cwd: str,
    user_script_config: str,
    read_text: Callable[[str], str] | None = None,
) -> tuple[Command, dict[str, str]]:
    """Parse the user's argv and its script config file -> (Command, priors)."""
    from orion_cli.core.cmdline import parse_commandline
    from orion_cli.core.scriptconfig import config_format, merge_priors, parse_config
    from orion_cli.errors import ConfigError

    parsed = parse_commandline(argv, user_script_config)
    priors: Mapping[str, str] = parsed.priors
    template = None
    name = None
    if parsed.config_path is not None:
        path = Path(cwd) / parsed.config_path
        try:
            text = read_text(str(path)) if read_text else path.read_text(encoding="utf-8")
        except OSError as exc:
            raise ConfigError(
                f"cannot read the script config {parsed.config_path}: "
                f"{exc.strerror}: check the path given to "
                f"--{user_script_config}"
            ) from None
        template = parse_config(text, config_format(str(path)))
        priors = merge_priors(parsed.priors, template.priors)
        name = Path(parsed.config_path).name
    command = Command(tuple(argv), cwd, user_script_config, template, name)
    return command, dict(priors)
