"""Random search: independent samples of the prior, seeded, never repeating a stored point."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from orion_cli.core.algorithms._common import (
    check_seed,
    exhausted,
    generator,
    sample_unseen,
    seen_keys,
)
from orion_cli.core.algorithms.base import Suggestion
from orion_cli.core.space import Space
from orion_cli.core.trial import Trial
from orion_cli.core.trial import trial_id as _key

__all__ = ["Random", "generator", "point_key"]


def point_key(params: dict[str, Any]) -> str:
    """A stable string key of a whole params dict."""
    return _key("", params)


class Random:
    """Samples each dimension from its prior; the fidelity, if any, at its high value."""

    name = "random"

    def __init__(self, space: Space, *, seed: int | None = None) -> None:
        self.space = space
        self.seed = check_seed(seed)

    @property
    def options(self) -> dict[str, Any]:
        return {"seed": self.seed}

    def suggest(self, trials: Sequence[Trial], n: int) -> list[Suggestion]:
        rng = generator(self.seed, trials)
        seen = seen_keys(self.space, trials)
        return [Suggestion(p) for p in sample_unseen(self.space, seen, rng, n)]

    def is_done(self, trials: Sequence[Trial]) -> bool:
        return exhausted(self.space, trials)
