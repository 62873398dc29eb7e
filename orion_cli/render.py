"""Output: rich tables and progress for people on a terminal, one JSON document for --json.

The only two consoles live here: stdout for data, stderr for everything else.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Mapping, Sequence
from functools import lru_cache
from typing import Any

SCHEMA = 1


@lru_cache(maxsize=1)
def out():  # type: ignore[no-untyped-def]
    from rich.console import Console

    return Console(highlight=False, soft_wrap=True)


@lru_cache(maxsize=1)
def err():  # type: ignore[no-untyped-def]
    from rich.console import Console

    return Console(stderr=True, highlight=False, soft_wrap=True)


def esc(text: Any) -> str:
    from rich.markup import escape

    return escape(str(text))


def emit_json(command: str, data: Any) -> None:
    """The one JSON document of a --json command, on stdout."""
    sys.stdout.write(
        json.dumps({"schema": SCHEMA, "command": command, "data": data}, default=str) + "\n"
    )
    sys.stdout.flush()


def error_line(prefix: str, message: str) -> None:
    """`error: <what>: <what to do>` on stderr, plain (never markup)."""
    sys.stderr.write(f"{prefix}: {message}\n")
    sys.stderr.flush()


def fmt_value(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.6g}"
    return str(value)


def fmt_params(params: Mapping[str, Any]) -> str:
    return ", ".join(f"{k}={fmt_value(v)}" for k, v in params.items())


def _counts_text(counts: Mapping[str, int]) -> str:
    order = ("completed", "broken", "reserved", "interrupted", "new", "suspended")
    return " · ".join(f"{counts.get(k, 0)} {k}" for k in order if counts.get(k, 0)) or "no trials"


def status_tables(entries: Sequence[Mapping[str, Any]]) -> None:
    """`orion status`: one row per experiment, and with --all one table of trials each."""
    from rich.table import Table

    console = out()
    if not entries:
        console.print("no experiments in this storage")
        return
    table = Table(title="experiments", title_justify="left")
    for column in (
        "name",
        "version",
        "completed",
        "broken",
        "running",
        "lost",
        "pending",
        "best objective",
    ):
        table.add_column(column, justify="left" if column == "name" else "right")
    for entry in entries:
        counts = entry["counts"]
        best = entry.get("best")
        pending = counts.get("new", 0) + counts.get("interrupted", 0) + counts.get("suspended", 0)
        table.add_row(
            esc(entry["name"]),
            str(entry["version"]),
            str(counts.get("completed", 0)),
            str(counts.get("broken", 0)),
            str(counts.get("reserved", 0)),
            str(entry.get("lost", 0)),
            str(pending),
            "-" if best is None else fmt_value(best["objective"]),
        )
    console.print(table)
    for entry in entries:
        if "trials" in entry:
            trials_table(entry)


def trials_table(entry: Mapping[str, Any]) -> None:
    from rich.table import Table

    table = Table(title=f"{esc(entry['name'])} v{entry['version']}", title_justify="left")
    for column in ("id", "status", "objective", "params"):
        table.add_column(column)
    for trial in entry["trials"]:
        objective = trial.get("objective")
        table.add_row(
            trial["id"][:12],
            trial["status"],
            "-" if objective is None else fmt_value(objective),
            esc(fmt_params(trial["params"])),
        )
    out().print(table)


def list_table(entries: Sequence[Mapping[str, Any]]) -> None:
    from rich.table import Table

    if not entries:
        out().print("no experiments in this storage")
        return
    table = Table(box=None)
    table.add_column("name")
    table.add_column("version", justify="right")
    for entry in entries:
        table.add_row(esc(entry["name"]), str(entry["version"]))
    out().print(table)


def info_table(info: Mapping[str, Any]) -> None:
    from rich.table import Table

    table = Table(
        show_header=False, box=None, title=f"experiment {esc(info['name'])}", title_justify="left"
    )
    table.add_column("key", style="bold")
    table.add_column("value")
    table.add_row("version", str(info["version"]))
    for name, prior in info["space"].items():
        table.add_row(f"space/{esc(name)}", esc(prior))
    table.add_row("algorithm", esc(json.dumps(info["algorithm"])))
    for key in ("max_trials", "max_broken", "working_dir", "storage"):
        table.add_row(key, esc(info[key]))
    table.add_row("commandline", esc(" ".join(info["commandline"])))
    table.add_row("trials", esc(_counts_text(info["counts"])))
    best = info.get("best")
    if best is not None:
        table.add_row("best", esc(f"{best['id']}  objective={fmt_value(best['objective'])}"))
        table.add_row("best params", esc(fmt_params(best["params"])))
    out().print(table)


def summary(entry: Mapping[str, Any], run: Mapping[str, Any]) -> None:
    """The end of `orion hunt`, on stdout."""
    console = out()
    state = run["reason"]
    console.print(
        f"experiment [bold]{esc(entry['name'])}[/] (version {entry['version']}): {esc(state)}"
    )
    console.print(f"  trials: {esc(_counts_text(entry['counts']))}")
    console.print(
        f"  this run: {run['completed']} completed, {run['broken']} broken, "
        f"{run['interrupted']} interrupted in {run['elapsed']:.1f} s"
    )
    best = entry.get("best")
    if best is None:
        console.print("  best: none yet")
    else:
        console.print(f"  best trial {best['id']}: objective {fmt_value(best['objective'])}")
        for name, value in best["params"].items():
            console.print(f"    {esc(name)} = {esc(fmt_value(value))}")
    console.print(f"  working dir: {esc(entry.get('working_dir', ''))}")


class HuntDisplay:
    """Progress of a hunt on stderr: a live line on a terminal, plain lines otherwise."""

    def __init__(
        self,
        name: str,
        max_trials: int | None,
        counts: Mapping[str, int],
        best: float | None,
        quiet: bool = False,
    ) -> None:
        self.name = name
        self.max_trials = max_trials
        self.completed = counts.get("completed", 0)
        self.broken = counts.get("broken", 0)
        self.running = 0
        self.best = best
        self.quiet = quiet
        self.start = time.monotonic()
        self.console = err()
        self.live: Any = None

    def __enter__(self) -> HuntDisplay:
        if self.console.is_terminal and not self.quiet:
            from rich.live import Live

            self.live = Live(
                self._line(), console=self.console, refresh_per_second=4, transient=True
            )
            self.live.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self.live is not None:
            self.live.stop()

    def _line(self) -> str:
        total = f"/{self.max_trials}" if self.max_trials is not None else ""
        best = "-" if self.best is None else fmt_value(self.best)
        return (
            f"[bold]{esc(self.name)}[/] completed {self.completed}{total} · broken "
            f"{self.broken} · running {self.running} · best {esc(best)} · "
            f"{time.monotonic() - self.start:.1f} s"
        )

    def _refresh(self) -> None:
        if self.live is not None:
            self.live.update(self._line())

    def started(self, trial: Any) -> None:
        self.running += 1
        self._refresh()

    def ended(self, trial: Any, outcome: Any, detail: list[str]) -> None:
        self.running = max(0, self.running - 1)
        status = trial.status.value
        if status == "completed":
            self.completed += 1
            objective = trial.objective
            if objective is not None and (self.best is None or objective < self.best):
                self.best = objective
            if self.live is None and not self.quiet:
                self.plain(
                    f"trial {trial.id[:12]} completed: objective "
                    f"{fmt_value(objective)} ({self.completed} done, best "
                    f"{fmt_value(self.best)})"
                )
        elif status == "broken":
            self.broken += 1
            lines = [f"trial {trial.id} broke: {outcome.message}"]
            lines += [f"  stderr: {line}" for line in detail]
            lines.append(f"  logs: {trial.working_dir}")
            for line in lines:
                self.plain(line)
        elif status == "interrupted":
            self.plain(f"trial {trial.id} interrupted")
        self._refresh()

    def note(self, text: str) -> None:
        self.plain(text)

    def plain(self, text: str) -> None:
        if self.live is not None:
            self.console.print(esc(text))
        else:
            sys.stderr.write(text + "\n")
            sys.stderr.flush()
