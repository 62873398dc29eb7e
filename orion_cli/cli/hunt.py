"""`orion hunt`: create or resume an experiment and run its trials."""

from __future__ import annotations

import os
import signal
import time
from typing import Any

import click

from orion_cli.cli import debug_option
from orion_cli.cli.common import json_option, status_entry, storage_option
from orion_cli.errors import UserError

_SETTINGS = {
    "ignore_unknown_options": True,
    "allow_interspersed_args": False,
    "help_option_names": ["-h", "--help"],
}


@click.command(context_settings=_SETTINGS)
@click.option("-n", "--name", default=None, help="Experiment name (created on first use).")
@click.option(
    "-c",
    "--config",
    "config_file",
    default=None,
    metavar="FILE",
    help="YAML options in Oríon's layout (experiment:, worker:, storage:).",
)
@storage_option
@click.option(
    "--exp-max-trials",
    "--max-trials",
    "max_trials",
    type=click.IntRange(min=0),
    default=None,
    help="Stop once this many trials completed (stored).",
)
@click.option(
    "--exp-max-broken",
    "max_broken",
    type=click.IntRange(min=1),
    default=None,
    help="Stop once this many trials broke (stored; default 3).",
)
@click.option(
    "--worker-max-trials",
    type=click.IntRange(min=0),
    default=None,
    help="This run completes at most this many trials.",
)
@click.option(
    "--worker-max-broken",
    type=click.IntRange(min=1),
    default=None,
    help="This run stops once this many of its trials broke.",
)
@click.option(
    "--n-workers",
    type=click.IntRange(min=1),
    default=None,
    help="Trials run at once by this process (default 1).",
)
@click.option(
    "--idle-timeout",
    type=click.FloatRange(min=0),
    default=None,
    help="Seconds to wait for work before stopping (default 60).",
)
@click.option(
    "--heartbeat",
    type=click.FloatRange(min=0.05),
    default=None,
    help="Seconds between heartbeats of running trials (default 60).",
)
@click.option(
    "--kill-grace",
    type=click.FloatRange(min=0),
    default=None,
    help="Seconds between SIGTERM and SIGKILL when stopping trials (default 10).",
)
@click.option(
    "--interrupt-signal-code",
    "interrupt_code",
    type=click.IntRange(1, 255),
    default=None,
    help="Exit code by which a trial says it was interrupted (130).",
)
@click.option(
    "--lock-timeout",
    type=click.FloatRange(min=0),
    default=None,
    help="Seconds to wait for the experiment's suggest lock (default 60).",
)
@click.option("--working-dir", default=None, help="Experiment working dir (stored).")
@click.option("--algorithm", default=None, help="Algorithm name (stored; default random).")
@click.option("--seed", type=int, default=None, help="Seed of the algorithm (stored).")
@click.option(
    "--user-script-config",
    default=None,
    help="Name of the script's config-file option (default: config).",
)
@click.option("--init-only", is_flag=True, help="Create the experiment, run nothing.")
@json_option
@debug_option
@click.argument("command", nargs=-1, type=click.UNPROCESSED)
def hunt(
    command: tuple[str, ...],
    config_file: str | None,
    as_json: bool,
    init_only: bool,
    seed: int | None,
    **flags: Any,
) -> None:
    """Run trials of COMMAND, a script whose arguments carry priors.

    \b
    orion hunt -n exp --exp-max-trials 20 python train.py --lr~'loguniform(1e-5, 1.0)'
    orion hunt -n exp            # resume with the stored command
    """
    _single_threaded_numpy()  # before anything imports numpy
    from orion_cli import config as configuration

    cfg = configuration.resolve(flags, config_file)
    if not cfg.name:
        raise UserError("no experiment name: give one with -n NAME (or experiment.name in -c)")
    algorithm = _algorithm(cfg.algorithm, seed)
    run_hunt(cfg, command, algorithm, as_json=as_json, init_only=init_only)


def _algorithm(algorithm: Any, seed: int | None) -> Any:
    if seed is None:
        return algorithm
    from orion_cli.core.algorithms import DEFAULT_ALGORITHM, normalize

    ((name, options),) = normalize(algorithm or DEFAULT_ALGORITHM).items()
    return {name: {**options, "seed": seed}}


_BLAS_THREADS = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")


def _single_threaded_numpy() -> None:
    """Load numpy with one BLAS thread, without passing that setting on to the trials.

    The algorithms do small linear algebra: a pool of BLAS threads made `gp` 4 to 17 times
    slower on 2 cores. BLAS reads these variables when it loads, so they are set just for the
    import and then removed again: the user's script keeps its own threading.
    """
    added = [name for name in _BLAS_THREADS if name not in os.environ]
    for name in added:
        os.environ[name] = "1"
    try:
        import numpy  # noqa: F401
    finally:
        for name in added:
            os.environ.pop(name, None)


def run_hunt(
    cfg: Any, command: tuple[str, ...], algorithm: Any, *, as_json: bool, init_only: bool
) -> None:
    from orion_cli import render
    from orion_cli.client.experiment import build_experiment
    from orion_cli.client.runner import Runner, RunOptions, load_command
    from orion_cli.executor import check_command

    cwd = os.getcwd()
    script_config = cfg.user_script_config or "config"
    priors = None
    if command and command[0].startswith("-"):
        raise UserError(
            f"unknown option {command[0]!r} before the command: check `orion hunt --help`; "
            "the command starts with the program to run, e.g. python train.py"
        )
    if command:
        check_command(command, cwd)
        parsed_command, priors = load_command(command, cwd, script_config)
        if not priors:
            raise UserError(
                "no prior in the command: annotate an argument, e.g. --lr~'loguniform(1e-5, 1.0)'"
            )
    client = build_experiment(
        cfg.name,
        space=priors,
        algorithm=algorithm,
        max_trials=cfg.max_trials,
        max_broken=cfg.max_broken,
        storage=cfg.storage,
        working_dir=cfg.working_dir,
        commandline=command or None,
        user_script_config=script_config,
        heartbeat=cfg.heartbeat,
        lock_timeout=cfg.lock_timeout,
        metadata={"cwd": cwd},
    )
    with client:
        if not command:
            stored = client.experiment.commandline
            if not stored:
                raise UserError(f"experiment {cfg.name!r} has no stored command: give one")
            check_command(stored, cwd)
            parsed_command, _ = load_command(stored, cwd, client.experiment.user_script_config)
        start = time.monotonic()
        options = RunOptions(
            n_workers=cfg.n_workers,
            worker_max_trials=cfg.worker_max_trials,
            worker_max_broken=cfg.worker_max_broken,
            idle_timeout=cfg.idle_timeout,
            kill_grace=cfg.kill_grace,
            interrupt_code=cfg.interrupt_code,
        )
        trials = client.fetch_trials()
        stats = client.stats(trials)
        best = stats["best"]["objective"] if stats["best"] else None
        display = render.HuntDisplay(client.name, client.max_trials, stats["counts"], best)
        runner = Runner(client, parsed_command, options, display)
        if not init_only:
            with display, _signals(runner):
                runner.run()
        reason = "initialized" if init_only else runner.summary.reason
        _report(client, runner, reason, time.monotonic() - start, as_json)


def _report(client: Any, runner: Any, reason: str, elapsed: float, as_json: bool) -> None:
    from orion_cli import render

    entry = status_entry(
        client.experiment, client.storage.summarize(client.id), heartbeat=client.heartbeat
    )
    entry["reason"] = reason
    if as_json:
        render.emit_json("hunt", {"experiments": [entry]})
        return
    run = {
        "reason": reason,
        "completed": runner.summary.completed,
        "broken": runner.summary.broken,
        "interrupted": runner.summary.interrupted,
        "elapsed": elapsed,
    }
    render.summary(entry, run)
    if reason == "idle":
        render.error_line(
            "note",
            "stopped after --idle-timeout without a trial to run: the "
            "rest of the budget is held by other workers",
        )


class _signals:
    """SIGINT and SIGTERM ask the runner to stop its trials and exit 130."""

    def __init__(self, runner: Any) -> None:
        self.runner = runner
        self.previous: dict[int, Any] = {}

    def __enter__(self) -> None:
        for sig in (signal.SIGINT, signal.SIGTERM):
            self.previous[sig] = signal.signal(sig, self._handle)

    def _handle(self, signum: int, frame: Any) -> None:
        self.runner.request_stop(signum)

    def __exit__(self, *exc: object) -> None:
        for sig, handler in self.previous.items():
            signal.signal(sig, handler)
