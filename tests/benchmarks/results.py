"""Write one named section of tests/benchmarks/RESULTS.md, with the machine, date and command."""

from __future__ import annotations

import os
import platform
import sys
import time
from pathlib import Path

RESULTS = Path(__file__).parent / "RESULTS.md"


def header(title: str, elapsed: float | None = None, notes: tuple[str, ...] = ()) -> list[str]:
    took = "" if elapsed is None else f" (took {elapsed:.0f} s)"
    script = Path(sys.argv[0]).name
    return [
        f"## {title}",
        "",
        f"- date: {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}",
        f"- machine: {platform.machine()}, {os.cpu_count()} cores, {platform.platform()}, "
        f"Python {platform.python_version()}",
        f"- command: `python tests/benchmarks/{script} {' '.join(sys.argv[1:])}`{took}",
        *(f"- {note}" for note in notes),
        "",
    ]


def write_section(name: str, lines: list[str]) -> Path:
    """Replace (or add) the section `name` of RESULTS.md, keeping the others."""
    old = RESULTS.read_text() if RESULTS.exists() else ""
    start, end = f"<!-- {name}:start -->", f"<!-- {name}:end -->"
    head, found, rest = old.partition(start)
    tail = rest.partition(end)[2] if found else ""
    if not head.strip():
        head = "# Benchmark results\n\nWritten by `make bench`; each section by its own script.\n"
    body = "\n".join([start, *lines, end])
    RESULTS.write_text(head.rstrip() + "\n\n" + body + "\n" + tail.lstrip("\n"))
    return RESULTS
