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
