"""Random search: independent samples of the prior, seeded, never repeating a stored point."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from orion_cli.core.algorithms.base import Suggestion
from orion_cli.core.space import Space
from orion_cli.core.trial import Trial
from orion_cli.core.trial import trial_id as _key

_MAX_TRIES = 100


def generator(seed: int | None, trials: Sequence[Trial]) -> np.random.Generator:
    """A generator that depends only on the seed and how many trials exist (no hidden state)."""
    return np.random.default_rng(None if seed is None else [seed, len(trials)])


def point_key(params: dict[str, Any]) -> str:
    return _key("", params)


class Random:
    """Samples each dimension from its prior."""

    name = "random"

    def __init__(self, space: Space, *, seed: int | None = None) -> None:
        self.space = space
        self.seed = seed

    @property
    def options(self) -> dict[str, Any]:
        return {"seed": self.seed}

    def suggest(self, trials: Sequence[Trial], n: int) -> list[Suggestion]:
        rng = generator(self.seed, trials)
        seen = {point_key(t.params) for t in trials}
        out: list[Suggestion] = []
        misses = 0
        while len(out) < n and misses < _MAX_TRIES and len(seen) < self.space.cardinality:
            params = self.space.sample(rng)
            key = point_key(params)
            if key in seen:
                misses += 1
                continue
            seen.add(key)
            out.append(Suggestion(params))
        return out

    def is_done(self, trials: Sequence[Trial]) -> bool:
        return len({point_key(t.params) for t in trials}) >= self.space.cardinality
