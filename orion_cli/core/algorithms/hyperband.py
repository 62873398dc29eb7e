"""Hyperband: brackets of successive halving over the fidelity, repeated, state in the trials."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from orion_cli.core.algorithms._common import check_int, check_seed, generator, is_pending
from orion_cli.core.algorithms._rungs import (
    any_pending,
    exhausted_configs,
    group_by,
    new_config,
    promotion,
    ranked,
    rungs_for,
    short_quota,
    trial_config,
)
from orion_cli.core.algorithms.base import Suggestion
from orion_cli.core.space import Space
from orion_cli.core.trial import Trial

Groups = dict[tuple[int, ...], list[Trial]]


class Hyperband:
    """Hyperband (Li et al. 2017), as Oríon's `hyperband`.

    With R rungs of budgets high / base ** k, bracket b (0 to R - 1) starts
    ceil(R / (R - b) * base ** (R - 1 - b)) configurations at rung b and keeps the best
    1 / base of each rung for the next one, once every trial of the rung has ended. A repetition
    runs every bracket; when a worker would wait for a rung to end, the next repetition starts
    instead (if `repetitions` allows). Promotions keep the configuration (same hash_params),
    record repetition, bracket and rung in the trial's meta, and name the trial they come from
    as parent so its working dir (checkpoints) is copied.

    When a finite space runs out of new configurations, a base rung holds what it got, and a
    rung short of its size promotes its best 1 / base (at least one) once its trials have
    ended, so every started bracket reaches its last rung and the search ends (as in Oríon).

    Options:
        seed: seeds the sampling of new configurations (with the number of trials).
        repetitions: how many times to run all brackets (None: until the trial budget).
    """

    name = "hyperband"

    def __init__(
        self, space: Space, *, seed: int | None = None, repetitions: int | None = None
    ) -> None:
        self.space = space
        self.seed = check_seed(seed)
        self.rungs = rungs_for(space, self.name)
        self.repetitions = (
            None if repetitions is None else check_int("repetitions", repetitions, 1)
        )
        top = self.rungs.count - 1
        self.sizes = {(b, r): self._size(b, r) for b in range(top + 1) for r in range(b, top + 1)}

    def _size(self, bracket: int, rung: int) -> int:
        """How many configurations rung `rung` of bracket `bracket` holds."""
        count, eta = self.rungs.count, self.rungs.eta
        s = count - 1 - bracket
        base = math.ceil(count / (s + 1) * eta**s)
        return max(1, int(base // eta ** (rung - bracket)))

    @property
    def options(self) -> dict[str, Any]:
        return {
            "seed": self.seed,
            "repetitions": self.repetitions,
        }

    def suggest(self, trials: Sequence[Trial], n: int) -> list[Suggestion]:
        rng = generator(self.seed, trials)
        groups = group_by(trials, ("repetition", "bracket", "rung"))
        configs = {trial_config(self.space, t) for t in trials}
        out: list[Suggestion] = []
        while len(out) < n:
            suggestion = self._promote(groups, configs) or self._start(groups, configs, rng)
            if suggestion is None:
                break
            out.append(suggestion)
            meta = suggestion.meta
            key = (meta["repetition"], meta["bracket"], meta["rung"])
            groups.setdefault(key, []).append(
                Trial(id="", experiment="", params=suggestion.params, meta=meta)
            )
        return out

    def _promote(self, groups: Groups, configs: set[str]) -> Suggestion | None:
        """The best trial of a finished rung that the next rung still lacks."""
        repetitions = sorted({key[0] for key in groups})
        top = self.rungs.count - 1
        exhausted = exhausted_configs(self.space, configs)
        for rep in repetitions:
            for bracket in range(top + 1):
                targets = self._targets(groups, rep, bracket, exhausted)
                for rung in range(top - 1, bracket - 1, -1):
                    found = self._promotable(groups, (rep, bracket, rung), targets)
                    if found is not None:
                        meta = {"repetition": rep, "bracket": bracket}
                        return promotion(self.space, self.rungs, found, rung + 1, meta)
        return None

    def _targets(self, groups: Groups, rep: int, bracket: int, exhausted: bool) -> list[int]:
        """How many configurations each rung of a bracket will hold, from its base rung up:
        the paper's sizes, or fewer once the space has no new configuration for the base rung
        (a finite space); a short rung promotes its best 1 / eta, and at least one."""
        size = self.sizes[(bracket, bracket)]
        base = len(groups.get((rep, bracket, bracket), []))
        targets = [min(size, base) if exhausted else size]
        for rung in range(bracket + 1, self.rungs.count):
            below, full = targets[-1], self.sizes[(bracket, rung - 1)]
            wanted = self.sizes[(bracket, rung)]
            targets.append(
                wanted if below >= full else min(wanted, short_quota(below, self.rungs.eta))
            )
        return targets

    def _promotable(
        self, groups: Groups, key: tuple[int, int, int], targets: list[int]
    ) -> Trial | None:
        rep, bracket, rung = key
        here = groups.get(key, [])
        above = groups.get((rep, bracket, rung + 1), [])
        wanted = targets[rung + 1 - bracket]
        if len(above) >= wanted or len(here) < targets[rung - bracket]:
            return None
        if any(is_pending(t) for t in here):
            return None
        promoted = {trial_config(self.space, t) for t in above}
        for trial in ranked(here)[:wanted]:
            if trial_config(self.space, trial) not in promoted:
                return trial
        return None

    def _start(
        self, groups: Groups, configs: set[str], rng: np.random.Generator
    ) -> Suggestion | None:
        """A new configuration in the first base rung not yet full, repetition by repetition."""
        last = max((key[0] for key in groups), default=0)
        for rep in range(last + 2):
            if self.repetitions is not None and rep >= self.repetitions:
                return None
            for bracket in range(self.rungs.count):
                if len(groups.get((rep, bracket, bracket), [])) < self.sizes[(bracket, bracket)]:
                    budget = self.rungs.budgets[bracket]
                    params = new_config(self.space, configs, rng, budget)
                    if params is None:
                        return None
                    meta = {"repetition": rep, "bracket": bracket, "rung": bracket}
                    return Suggestion(params, meta)
        return None

    def is_done(self, trials: Sequence[Trial]) -> bool:
        return not any_pending(trials) and not self.suggest(trials, 1)
