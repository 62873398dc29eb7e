"""`orion db`: check, repair and compact the journal storage."""

from __future__ import annotations

from pathlib import Path

import click

from orion_cli.cli.common import storage_option
from orion_cli.errors import StorageError, UserError
from orion_cli.storage import default_storage_url, maintenance, redact_url


@click.group(name="db")
def db() -> None:
    """Look after the storage: check, repair and compact the journal."""


def journal_directory(command: str, storage: str | None) -> Path:
    """The journal directory named by --storage, or a UserError for other backends."""
    url = storage or default_storage_url()
    directory = maintenance.journal_directory(url)
    if directory is None:
        raise UserError(
            f"orion db {command} works on the journal storage only, and {redact_url(url)!r} "
            "is not one: pass --storage with the directory of a journal"
        )
    return directory


@db.command()
@storage_option
def check(storage: str | None) -> None:
    """Count the records of the journal and list its bad lines, without changing it."""
    directory = journal_directory("check", storage)
    report = maintenance.check(directory)
    for line in maintenance.describe(report):
        click.echo(line)
    if not report.sound:
        raise StorageError(
            f"the journal {report.path} has {maintenance.count(len(report.bad_lines), 'bad line')}"
            f": run `orion db repair --storage {directory}` to move them aside"
        )


@db.command()
@storage_option
def repair(storage: str | None) -> None:
    """Move the bad lines of the journal into journal.bad-<time>.jsonl next to it."""
    directory = journal_directory("repair", storage)
    report = maintenance.repair(directory)
    if report.bad_file is None:
        click.echo(f"nothing to repair: the {report.kept} lines of {report.path} are sound")
        return
    moved = maintenance.count(report.moved, "bad line")
    click.echo(f"moved {moved} of {report.path} to {report.bad_file}")
    click.echo(f"kept {maintenance.count(report.kept, 'line')}")


@db.command()
@storage_option
def compact(storage: str | None) -> None:
    """Rewrite the journal as a snapshot of its live records (safe while workers run)."""
    directory = journal_directory("compact", storage)
    before, after = maintenance.compact(directory)
    click.echo(f"compacted {directory / 'journal.jsonl'}: {before} bytes -> {after} bytes")


@db.command()
@storage_option
def upgrade(storage: str | None) -> None:
    """Upgrade the schema of a PostgreSQL storage to this version of orion_cli."""
    url = storage or default_storage_url()
    if not url.startswith(("postgresql://", "postgres://")):
        click.echo(f"nothing to upgrade: {redact_url(url)} is a journal, which has no schema")
        return
    from orion_cli.storage.postgresql import upgrade_schema

    click.echo(upgrade_schema(url))


@db.command(name="rm")
@click.option("-n", "--name", required=True, help="The experiment.")
@click.option("--version", type=click.IntRange(min=1), default=None, help="Default: latest.")
@click.option(
    "--status",
    "statuses",
    multiple=True,
    required=True,
    type=click.Choice(["broken", "interrupted", "suspended", "new"]),
    help="Remove the trials with this status (repeat for several).",
)
@storage_option
def rm(name: str, version: int | None, statuses: tuple[str, ...], storage: str | None) -> None:
    """Remove trials of an experiment by status, e.g. the broken ones before running again.

    Their working directories are kept on disk.
    """
    from orion_cli.core.experiment import check_name
    from orion_cli.errors import ExperimentNotFound
    from orion_cli.storage import NotFound, open_storage

    check_name(name)
    store = open_storage(storage)
    try:
        try:
            exp = store.fetch_experiment(name, version)
        except NotFound:
            raise ExperimentNotFound(
                f"no experiment {name!r} in {redact_url(store.url)}: check the name with "
                "`orion list`"
            ) from None
        ids = [t.id for t in store.fetch_trials(exp.id) if t.status.value in statuses]
        removed = store.delete_trials(exp.id, ids)
    finally:
        store.close()
    which = " or ".join(statuses)
    click.echo(f"removed {removed} {which} trials of experiment {name} (version {exp.version})")
