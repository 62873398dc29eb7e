"""`orion status`, `orion list` and `orion info`: what the storage holds."""

from __future__ import annotations

import click

from orion_cli.cli import debug_option
from orion_cli.cli.common import info_entry, json_option, status_entry, storage_option


def _experiments(store, name: str | None, version: int | None = None):  # type: ignore[no-untyped-def]
    """The experiment named (latest version unless given), or the latest version of each."""
    from orion_cli.core.experiment import check_name
    from orion_cli.errors import ExperimentNotFound
    from orion_cli.storage import NotFound, redact_url

    if name is not None:
        check_name(name)
        try:
            return [store.fetch_experiment(name, version)]
        except NotFound:
            which = name if version is None else f"{name} version {version}"
            raise ExperimentNotFound(
                f"no experiment {which!r} in {redact_url(store.url)}: check the name with "
                "`orion list`"
            ) from None
    latest = {}
    for exp in store.list_experiments():
        if exp.name not in latest or exp.version > latest[exp.name].version:
            latest[exp.name] = exp
    return [exp for _, exp in sorted(latest.items())]


@click.command()
@click.option("-n", "--name", default=None, help="Only this experiment.")
@click.option("--all", "show_all", is_flag=True, help="List every trial too.")
@storage_option
@json_option
@debug_option
def status(name: str | None, show_all: bool, storage: str | None, as_json: bool) -> None:
    """Counts of trials by status and the best objective of each experiment."""
    from orion_cli import render
    from orion_cli.config import resolve
    from orion_cli.storage import open_storage

    heartbeat = resolve({}).heartbeat
    store = open_storage(storage)
    try:
        entries = [
            status_entry(
                exp,
                store.summarize(exp.id),
                store.fetch_trials(exp.id) if show_all else None,
                heartbeat,
            )
            for exp in _experiments(store, name)
        ]
    finally:
        store.close()
    if as_json:
        render.emit_json("status", {"experiments": entries})
    else:
        render.status_tables(entries)


@click.command(name="list")
@storage_option
@json_option
@debug_option
def list_experiments(storage: str | None, as_json: bool) -> None:
    """The experiments in the storage."""
    from orion_cli import render
    from orion_cli.storage import open_storage

    store = open_storage(storage)
    entries = [
        {"name": e.name, "version": e.version}
        for e in sorted(store.list_experiments(), key=lambda e: (e.name, e.version))
    ]
    if as_json:
        render.emit_json("list", {"experiments": entries})
    else:
        render.list_table(entries)


@click.command()
@click.option("-n", "--name", required=True, help="The experiment.")
@click.option("--version", type=click.IntRange(min=1), default=None, help="Default: latest.")
@storage_option
@json_option
@debug_option
def info(name: str, version: int | None, storage: str | None, as_json: bool) -> None:
    """Everything about one experiment: space, algorithm, budget, command, best trial."""
    from orion_cli import render
    from orion_cli.client.experiment import get_experiment

    with get_experiment(name, version, storage=storage) as client:
        data = info_entry(client, client.fetch_trials())
    if as_json:
        render.emit_json("info", data)
    else:
        render.info_table(data)
