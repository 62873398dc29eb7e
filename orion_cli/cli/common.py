"""Options and data shaping shared by several commands."""

from __future__ import annotations

import time
from typing import Any

import click

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
    client: Any, trials: list[Trial], with_trials: bool = False, heartbeat: float | None = None
) -> dict[str, Any]:
    """One experiment as `orion status --json` shows it.

    A reserved trial is counted as lost when its heartbeat is older than 3 heartbeats (the
    interval of the workers, `--heartbeat`/`ORION_HEARTBEAT`, default 60 s).
    """
    stats = client.stats(trials)
    lost_after = 3 * (client.heartbeat if heartbeat is None else heartbeat)
    now = time.time()
    entry: dict[str, Any] = {
        "name": client.name,
        "version": client.version,
        "counts": stats["counts"],
        "lost": sum(
            1
            for t in trials
            if t.status is Status.RESERVED
            and t.heartbeat is not None
            and now - t.heartbeat > lost_after
        ),
        "best": stats["best"],
        "max_trials": client.max_trials,
        "working_dir": client.working_dir,
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
