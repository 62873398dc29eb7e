"""Counts and the best trial of an experiment: light enough for `orion status` (no numpy)."""

from __future__ import annotations

from collections import Counter
from operator import attrgetter
from typing import Any

from orion_cli.core.trial import Status, Trial


def best_trial(trials: list[Trial]) -> Trial | None:
    """The completed trial with the lowest objective."""
    best: Trial | None = None
    for trial in trials:
        if trial.status is Status.COMPLETED:
            objective = trial.objective
            if objective is not None and (best is None or objective < best.objective):  # type: ignore[operator]
                best = trial
    return best


def trial_stats(trials: list[Trial]) -> dict[str, Any]:
    """Counts by status and the best trial (id, objective, params)."""
    counts = Counter(map(attrgetter("status"), trials))
    best = best_trial(trials)
    return {
        "counts": {s.value: counts.get(s, 0) for s in Status},
        "trials_completed": counts.get(Status.COMPLETED, 0),
        "best": None
        if best is None
        else {"id": best.id, "objective": best.objective, "params": best.params},
    }
