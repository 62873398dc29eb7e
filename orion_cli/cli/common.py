"""Options and data shaping shared by several commands."""

from __future__ import annotations

import time
from typing import Any

import click

from orion_cli.core.experiment import Experiment
from orion_cli.core.trial import Trial
from orion_cli.storage import redact_url
from orion_cli.storage.base import TrialSummary

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
    exp: Experiment,
    summary: TrialSummary,
    trials: list[Trial] | None = None,
    heartbeat: float = 60.0,
) -> dict[str, Any]:
    """One experiment as `orion status --json` shows it (`trials`: list them too).

    A reserved trial is counted as lost when its heartbeat is older than 3 heartbeats (the
    interval of the workers, `--heartbeat`/`ORION_HEARTBEAT`, default 60 s).
    """
    oldest = time.time() - 3 * heartbeat
    best = summary.best
    entry: dict[str, Any] = {
        "name": exp.name,
        "version": exp.version,
        "counts": dict(summary.counts),
        "lost": sum(
            1 for t in summary.reserved if t.heartbeat is not None and t.heartbeat < oldest
        ),
        "best": None
        if best is None
        else {"id": best.id, "objective": best.objective, "params": best.params},
        "max_trials": exp.max_trials,
        "working_dir": exp.working_dir,
    }
    if trials is not None:
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
