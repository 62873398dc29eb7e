"""What the model-based algorithms (tpe, gp) share: an initial design, then a model."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

import numpy as np

from orion_cli.core.algorithms._common import (
    check_int,
    check_seed,
    completed,
    exhausted,
    generator,
    pending,
    seen_keys,
)
from orion_cli.core.algorithms.base import Suggestion
from orion_cli.core.space import Space
from orion_cli.core.trial import Trial

Point = dict[str, Any]
Seen = set[tuple[Any, ...]]


class ModelBased:
    """Suggests from an initial design until `n_initial_points` trials completed, then from a
    model of the completed trials that knows the pending ones. Subclasses list their options
    in OPTIONS (attribute names) and write `_initial` and `_model`."""

    OPTIONS: ClassVar[tuple[str, ...]]

    def __init__(self, space: Space, seed: int | None, n_initial_points: int) -> None:
        self.space = space
        self.seed = check_seed(seed)
        self.n_initial_points = check_int("n_initial_points", n_initial_points, 1)

    @property
    def options(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.OPTIONS}

    def is_done(self, trials: Sequence[Trial]) -> bool:
        return exhausted(self.space, trials)

    def suggest(self, trials: Sequence[Trial], n: int) -> list[Suggestion]:
        rng = generator(self.seed, trials)
        seen = seen_keys(self.space, trials)
        done = completed(trials)
        if self._use_model(done):
            out = self._model(done, pending(trials), seen, rng, n)
        else:
            out = self._initial(trials, seen, rng, n)
        return [Suggestion(p) for p in out]

    def _use_model(self, done: list[Trial]) -> bool:
        return len(done) >= self.n_initial_points

    def _initial(
        self, trials: Sequence[Trial], seen: Seen, rng: np.random.Generator, n: int
    ) -> list[Point]:
        raise NotImplementedError

    def _model(
        self,
        done: list[Trial],
        busy: list[Trial],
        seen: Seen,
        rng: np.random.Generator,
        n: int,
    ) -> list[Point]:
        raise NotImplementedError
