"""What Hyperband and ASHA share: rung budgets from the fidelity, rung groups, promotions."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from orion_cli.core.algorithms._common import is_pending, unseen_points, with_fidelity
from orion_cli.core.algorithms.base import Suggestion
from orion_cli.core.space import Fidelity, Space
from orion_cli.core.trial import Status, Trial, hash_params
from orion_cli.errors import AlgorithmError


@dataclass(frozen=True)
class Rungs:
    """The fidelity budgets of successive rungs: high / eta ** k down to at least low."""

    fidelity: Fidelity
    budgets: tuple[float, ...]
    eta: float

    @property
    def count(self) -> int:
        return len(self.budgets)


def rungs_for(space: Space, algorithm: str) -> Rungs:
    """The rungs of `space`'s fidelity; an AlgorithmError if the space has none."""
    fid = space.fidelity
    if fid is None:
        raise AlgorithmError(
            f"algorithm {algorithm!r} needs one fidelity dimension: add a prior such as "
            "--epochs~'fidelity(1, 81, base=3)' or pick another algorithm"
        )
    if fid.low <= 0 or fid.base <= 1:
        raise AlgorithmError(
            f"algorithm {algorithm!r} needs a fidelity with low > 0 and base > 1, got "
            f"{fid.prior()}: change the fidelity prior"
        )
    count = int(math.floor(math.log(fid.high / fid.low) / math.log(fid.base) + 1e-9)) + 1
    budgets: list[float] = []
    for k in range(count - 1, -1, -1):
        budget = fid.cast(fid.high / fid.base**k)
        if budget not in budgets:
            budgets.append(budget)
    return Rungs(fid, tuple(budgets), float(fid.base))


def config_key(space: Space, params: dict[str, Any]) -> str:
    """The key of a configuration: hash_params, equal for all fidelities of one configuration."""
    fid = space.fidelity
    return hash_params(params, None if fid is None else fid.name)


def trial_config(space: Space, trial: Trial) -> str:
    """A trial's configuration key (its stored hash_params when it has one)."""
    return trial.hash_params or config_key(space, trial.params)


def group_by(
    trials: Sequence[Trial], fields: tuple[str, ...]
) -> dict[tuple[int, ...], list[Trial]]:
    """Trials by the integer `fields` of their meta (trials without them are left out)."""
    groups: dict[tuple[int, ...], list[Trial]] = {}
    for trial in trials:
        values = [trial.meta.get(f) for f in fields]
        if all(isinstance(v, int) and not isinstance(v, bool) for v in values):
            groups.setdefault(tuple(int(v) for v in values if v is not None), []).append(trial)
    return groups


def ranked(trials: Sequence[Trial]) -> list[Trial]:
    """The completed trials with an objective, best first (ties keep history order)."""
    done = [t for t in trials if t.status is Status.COMPLETED and t.objective is not None]
    return sorted(done, key=lambda t: t.objective if t.objective is not None else math.inf)


def any_pending(trials: Sequence[Trial]) -> bool:
    return any(is_pending(t) for t in trials)


def exhausted_configs(space: Space, configs: set[str]) -> bool:
    """True when a finite space has no configuration left that is not in `configs`."""
    return len(configs) >= space.cardinality


def short_quota(count: int, eta: float) -> int:
    """How many of the `count` trials of a rung that can no longer fill go up: the best
    1 / eta of them, and at least one, so that the bracket still reaches its last rung."""
    return max(1, int(count // eta)) if count else 0


def promotion(
    space: Space, rungs: Rungs, trial: Trial, rung: int, meta: dict[str, Any]
) -> Suggestion:
    """`trial`'s configuration at the budget of `rung`, its working dir copied from `trial`."""
    params = with_fidelity(space, trial.params, rungs.budgets[rung])
    return Suggestion(params, {**meta, "rung": rung}, parent=trial.id)


def new_config(
    space: Space, configs: set[str], rng: np.random.Generator, budget: float
) -> dict[str, Any] | None:
    """A prior sample whose configuration is not in `configs` (added to it), at `budget`."""
    for _ in range(100):
        params = with_fidelity(space, space.sample(rng), budget)
        key = config_key(space, params)
        if key not in configs:
            configs.add(key)
            return params
    return _enumerated_config(space, configs, rng, budget)


def _enumerated_config(
    space: Space, configs: set[str], rng: np.random.Generator, budget: float
) -> dict[str, Any] | None:
    """In a finite space, an unseen configuration found by enumeration (None when all seen)."""
    searched = Space(space.searched)
    for params in unseen_points(searched, set(), rng, int(min(searched.cardinality, 1e5))):
        full = with_fidelity(space, params, budget)
        key = config_key(space, full)
        if key not in configs:
            configs.add(key)
            return full
    return None
