"""What a user script calls to report its results (Oríon's child protocol); standard library only.

Inside a sweep, `ORION_RESULTS_PATH` names the file to write: a JSON list of
`{"name", "type", "value"}` holding exactly one result of type `objective`. Outside a sweep the
results are printed instead, so the script still runs by hand.
"""

from __future__ import annotations

import json
import math
import os
import sys

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing costs the child a few ms at import: annotations only
    from typing import Any

_reported = False


def _results_path() -> str | None:
    return os.environ.get("ORION_RESULTS_PATH") or None


def is_orion_on() -> bool:
    """True when this process runs as a trial of a sweep."""
    return _results_path() is not None


def interrupt_trial() -> None:
    """Stop this trial as interrupted: the sweep runs it again later."""
    sys.exit(int(os.environ.get("ORION_INTERRUPT_CODE", "130")))


def report_objective(objective: float, name: str = "objective") -> None:
    """Report the value to minimize."""
    report_results([{"name": name, "type": "objective", "value": objective}])


def report_bad_trial(
    objective: float = 1e10, name: str = "objective", data: list[dict[str, Any]] | None = None
) -> None:
    """Report a trial that went wrong on purpose with a bad objective (and optional data)."""
    report_results([{"name": name, "type": "objective", "value": objective}, *(data or [])])


def report_results(data: list[dict[str, Any]]) -> None:
    """Report a list of results; exactly one must be of type `objective`. Only once per run."""
    global _reported
    if _reported:
        raise RuntimeWarning("results were already reported once for this trial")
    _check(data)
    path = _results_path()
    if path is None:
        print(json.dumps(data))
    else:
        tmp = f"{path}.tmp"
        with open(tmp, "w", encoding="utf-8") as handle:
            json.dump(data, handle)
        os.replace(tmp, path)
    _reported = True


def _check(data: Any) -> None:
    if not isinstance(data, list) or not all(isinstance(r, dict) for r in data):
        raise TypeError("results must be a list of dicts with keys name, type and value")
    objectives = [r for r in data if r.get("type") == "objective"]
    if len(objectives) != 1:
        raise ValueError(f"results need exactly one objective, got {len(objectives)}")
    value = objectives[0].get("value")
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ValueError(f"the objective must be a finite number, got {value!r}")
