"""Counts by status and the best trial of each experiment, kept up to date as trials change.

`orion status` and a worker's budget check want these figures, not every trial: keeping them
as each record changes makes asking for them cost the same at 30,000 trials as at 1,000.
Shared by the memory and journal storages; PostgreSQL keeps the same figures in its tables.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from orion_cli.core.trial import Status

Record = dict[str, Any]
_COMPLETED = Status.COMPLETED.value


def record_objective(record: Mapping[str, Any]) -> float | None:
    """What `Trial.objective` gives for this record: the first finite `objective` result."""
    for result in record.get("results") or ():
        if result.get("type") == "objective":
            value = result.get("value")
            if isinstance(value, (int, float)) and math.isfinite(value):
                return float(value)
    return None


class Tally:
    """Per experiment: trials by status, and the completed trial with the lowest objective.

    Ties go to the trial registered first, as a scan of the trials in order finds it. When the
    best trial changes or goes away, or another reaches its objective, the best is found again
    by one scan, at the next ask. Replaying a journal calls `changed` for every record: it is
    kept to a few dict operations.
    """

    def __init__(self) -> None:
        self._counts: dict[str, dict[str, int]] = {}
        self._best: dict[str, tuple[float, str] | None] = {}

    def changed(
        self, experiment: str, trial_id: str, old: Record | None, new: Record | None
    ) -> None:
        """Account for one trial going from `old` to `new` (None: absent)."""
        counts = self._counts.get(experiment)
        if counts is None:
            counts = self._counts[experiment] = {}
        if old is not None:
            counts[old["status"]] -= 1
        if new is not None:
            status = new["status"]
            counts[status] = counts.get(status, 0) + 1
        if experiment not in self._best:
            return  # not known yet: found by a scan when asked
        best = self._best[experiment]
        if best is not None and best[1] == trial_id:
            del self._best[experiment]  # the best changed: scan again when asked
        elif new is not None and new["status"] == _COMPLETED:
            objective = record_objective(new)
            if objective is None or (best is not None and objective > best[0]):
                return
            if best is not None and objective == best[0]:
                del self._best[experiment]  # a tie: the first registered wins, found by a scan
            else:
                self._best[experiment] = (objective, trial_id)

    def counts(self, experiment: str) -> dict[str, int]:
        counts = self._counts.get(experiment, {})
        return {status.value: counts.get(status.value, 0) for status in Status}

    def best(self, experiment: str, records: Mapping[str, Record]) -> str | None:
        """The id of the completed trial with the lowest objective, if any.

        `records` are the experiment's trials in the order they were registered.
        """
        if experiment not in self._best:
            found: tuple[float, str] | None = None
            for trial_id, record in records.items():
                if record["status"] != _COMPLETED:
                    continue
                objective = record_objective(record)
                if objective is not None and (found is None or objective < found[0]):
                    found = (objective, trial_id)
            self._best[experiment] = found
        best = self._best[experiment]
        return None if best is None else best[1]
