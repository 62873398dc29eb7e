"""Counts by status and the best trial of each experiment, kept up to date as trials change.

`orion status` and a worker's budget check want these figures, not every trial: keeping them
as each record changes makes asking for them cost the same at 30,000 trials as at 1,000.
Shared by the memory and journal storages; PostgreSQL keeps the same figures in its tables.
"""

from __future__ import annotations

import itertools
import math
from collections import Counter
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
    best trial changes or goes away, the best is found again by one scan, at the next ask.
    """

    def __init__(self) -> None:
        self._counts: dict[str, Counter[str]] = {}
        self._rank: dict[str, dict[str, int]] = {}
        self._best: dict[str, tuple[float, int, str] | None] = {}
        self._order = itertools.count()

    def changed(
        self, experiment: str, trial_id: str, old: Record | None, new: Record | None
    ) -> None:
        """Account for one trial going from `old` to `new` (None: absent)."""
        counts = self._counts.setdefault(experiment, Counter())
        ranks = self._rank.setdefault(experiment, {})
        if old is not None:
            counts[old["status"]] -= 1
        rank = 0
        if new is None:
            ranks.pop(trial_id, None)
        else:
            counts[new["status"]] += 1
            rank = ranks.setdefault(trial_id, next(self._order))
        if experiment not in self._best:
            return  # not known yet: found by a scan when asked
        best = self._best[experiment]
        if best is not None and best[2] == trial_id:
            del self._best[experiment]  # the best changed: scan again when asked
            return
        if new is not None and new["status"] == _COMPLETED:
            objective = record_objective(new)
            if objective is not None and (best is None or (objective, rank) < best[:2]):
                self._best[experiment] = (objective, rank, trial_id)

    def counts(self, experiment: str) -> dict[str, int]:
        counts = self._counts.get(experiment, Counter())
        return {status.value: counts.get(status.value, 0) for status in Status}

    def best(self, experiment: str, records: Mapping[str, Record]) -> str | None:
        """The id of the completed trial with the lowest objective, if any."""
        if experiment not in self._best:
            ranks = self._rank.get(experiment, {})
            found: tuple[float, int, str] | None = None
            for trial_id, record in records.items():
                if record["status"] != _COMPLETED:
                    continue
                objective = record_objective(record)
                if objective is None:
                    continue
                key = (objective, ranks.get(trial_id, 0), trial_id)
                if found is None or key < found:
                    found = key
            self._best[experiment] = found
        best = self._best[experiment]
        return None if best is None else best[2]
