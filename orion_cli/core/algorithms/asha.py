"""ASHA: asynchronous successive halving; promote when possible, else start a configuration."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from orion_cli.core.algorithms._common import check_int, check_seed, generator, is_pending
from orion_cli.core.algorithms._rungs import (
    Rungs,
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


class ASHA:
    """Asynchronous Successive Halving (Li et al. 2018), as Oríon's `asha`.

    Rungs have budgets high / base ** k of the fidelity dimension. Bracket b starts new
    configurations at rung b. A configuration is promoted to the next rung as soon as it is in
    the best 1 / base of the completed trials of its rung; when nothing can be promoted a new
    configuration starts in a base rung, so no worker waits. A promotion keeps the
    configuration (same hash_params), records bracket and rung in the trial's meta, and names
    the trial it comes from as parent so that its working dir (checkpoints) is copied.
    When a finite space runs out of new configurations, a rung that can no longer grow (every
    trial of it and of the rungs below has ended) promotes its best 1 / base, at least one, so
    the best configuration still reaches the last rung and the search ends.

    Options:
        seed: seeds the sampling of new configurations (with the number of trials).
        num_rungs: how many rungs (default: as many as the fidelity's low, high, base allow).
        num_brackets: how many brackets (1 to the number of rungs).
        repetitions: None runs forever (the trial budget stops it); k caps rung r of bracket b at
            k * base ** (top - r) configurations, after which the algorithm is done.
    """

    name = "asha"

    def __init__(
        self,
        space: Space,
        *,
        seed: int | None = None,
        num_rungs: int | None = None,
        num_brackets: int = 1,
        repetitions: int | None = None,
    ) -> None:
        self.space = space
        self.seed = check_seed(seed)
        rungs = rungs_for(space, self.name)
        if num_rungs is not None:
            check_int("num_rungs", num_rungs, 1)
            rungs = Rungs(rungs.fidelity, rungs.budgets[-num_rungs:], rungs.eta)
        self.rungs = rungs
        self.num_rungs = rungs.count
        self.num_brackets = check_int("num_brackets", num_brackets, 1)
        if self.num_brackets > self.num_rungs:
            raise ValueError(f"num_brackets must be at most {self.num_rungs} (the rungs)")
        self.repetitions = (
            None if repetitions is None else check_int("repetitions", repetitions, 1)
        )

    @property
    def options(self) -> dict[str, Any]:
        return {
            "seed": self.seed,
            "num_rungs": self.num_rungs,
            "num_brackets": self.num_brackets,
            "repetitions": self.repetitions,
        }

    def capacity(self, rung: int) -> float:
        """How many configurations rung `rung` of a bracket holds (inf without repetitions)."""
        if self.repetitions is None:
            return math.inf
        return self.repetitions * self.rungs.eta ** (self.num_rungs - 1 - rung)

    def suggest(self, trials: Sequence[Trial], n: int) -> list[Suggestion]:
        rng = generator(self.seed, trials)
        groups = group_by(trials, ("bracket", "rung"))
        configs = {trial_config(self.space, t) for t in trials}
        out: list[Suggestion] = []
        while len(out) < n:
            suggestion = self._promote(groups, configs) or self._start(groups, configs, rng)
            if suggestion is None:
                break
            out.append(suggestion)
            key = (suggestion.meta["bracket"], suggestion.meta["rung"])
            groups.setdefault(key, []).append(_placeholder(suggestion))
        return out

    def _promote(
        self, groups: dict[tuple[int, ...], list[Trial]], configs: set[str]
    ) -> Suggestion | None:
        """The best promotable trial, from the highest rung down."""
        found: dict[tuple[int, int], Trial] = {}
        exhausted = exhausted_configs(self.space, configs)
        for bracket in range(self.num_brackets):
            # A rung is closed when it can no longer grow: the space has no new configuration,
            # and every rung below it has ended its trials and made its promotions.
            closed = exhausted
            for rung in range(bracket, self.num_rungs - 1):
                here = groups.get((bracket, rung), [])
                above = groups.get((bracket, rung + 1), [])
                closed = closed and not any_pending(here)
                finished = sum(not is_pending(t) for t in here)
                quota = (
                    short_quota(finished, self.rungs.eta) if closed else finished // self.rungs.eta
                )
                promoted = {trial_config(self.space, t) for t in above}
                todo = [
                    t
                    for t in ranked(here)[: int(quota)]
                    if trial_config(self.space, t) not in promoted
                ]
                if todo and len(above) < self.capacity(rung + 1):
                    found[(rung, bracket)] = todo[0]
                closed = closed and not todo
        if not found:
            return None
        rung, bracket = min(found, key=lambda key: (-key[0], key[1]))
        return promotion(
            self.space, self.rungs, found[(rung, bracket)], rung + 1, {"bracket": bracket}
        )

    def _start(
        self, groups: dict[tuple[int, ...], list[Trial]], configs: set[str], rng: Any
    ) -> Suggestion | None:
        """A new configuration in the base rung of the least filled bracket."""
        fill = []
        for bracket in range(self.num_brackets):
            count = len(groups.get((bracket, bracket), []))
            share = self.rungs.eta ** (self.num_rungs - 1 - bracket)
            if count < self.capacity(bracket):
                fill.append((count / share, bracket))
        if not fill:
            return None
        bracket = min(fill)[1]
        params = new_config(self.space, configs, rng, self.rungs.budgets[bracket])
        if params is None:
            return None
        return Suggestion(params, {"bracket": bracket, "rung": bracket})

    def is_done(self, trials: Sequence[Trial]) -> bool:
        return not any_pending(trials) and not self.suggest(trials, 1)


def _placeholder(suggestion: Suggestion) -> Trial:
    """A pending trial standing for a suggestion made in this call."""
    return Trial(id="", experiment="", params=suggestion.params, meta=suggestion.meta)
