"""Options and data shaping shared by several commands."""

from __future__ import annotations

import time
from typing import Any

import click

from orion_cli.core.experiment import Experiment
from orion_cli.core.trial import Status, Trial
from orion_cli.storage import redact_url

storage_option = click.option(
    "--storage",
    metavar="URL",
    default=None,
    help="Where experiments live: a directory (the embedded journal), file:PATH, "
    "postgresql://user@host/db or memory:. Default: $ORION_STORAGE, else "
    "~/.local/share/orion_cli.",
)
json_option = click.option(
    "--json", "as_json", is_flag=True, help="Print one JSON document on stdout instead of tables."
)


def status_entry(
    exp: Experiment, trials: list[Trial], with_trials: bool = False, heartbeat: float = 60.0
) -> dict[str, Any]:
    """One experiment as `orion status --json` shows it.

    A reserved trial is counted as lost when its heartbeat is older than 3 heartbeats (the
    interval of the workers, `--heartbeat`/`ORION_HEARTBEAT`, default 60 s).
    """
    from orion_cli.client.stats import trial_stats

    stats = trial_stats(trials)
    oldest = time.time() - 3 * heartbeat
    entry: dict[str, Any] = {
        "name": exp.name,
        "version": exp.version,
        "counts": stats["counts"],
        "lost": sum(
            1
            for t in trials
            if t.status is Status.RESERVED and t.heartbeat is not None and t.heartbeat < oldest
        ),
        "best": stats["best"],
        "max_trials": exp.max_trials,
        "working_dir": exp.working_dir,
    }
    if with_trials:
        entry["trials"] = [
            {
                "id": t.id,
                "status": t.status.value,
                "params": t.params,
                "objective": t.objective,
                "working_dir": t.working_dir,
            }
            for t in sorted(trials, key=lambda t: t.submit_time or 0)
        ]
    return entry


def info_entry(client: Any, trials: list[Trial]) -> dict[str, Any]:
    """One experiment as `orion info --json` shows it."""
    stats = client.stats(trials)
    ((algo_name, _),) = client.experiment.algorithm.items()
    return {
        "name": client.name,
        "version": client.version,
        "space": dict(client.experiment.space),
        "algorithm": {algo_name: client.algorithm.options},
        "max_trials": client.max_trials,
        "max_broken": client.max_broken,
        "working_dir": client.working_dir,
        "storage": redact_url(getattr(client.storage, "url", "")),
        "commandline": list(client.experiment.commandline),
        "counts": stats["counts"],
        "best": stats["best"],
    }
