"""The 2-D quadratic the model-based algorithms' unit tests optimize, and histories of it."""

from __future__ import annotations

import numpy as np

from orion_cli.core.algorithms._common import observed, trial_of
from orion_cli.core.space import Real, Space
from orion_cli.core.trial import Trial

SPACE = Space((Real("x", -5.0, 5.0), Real("y", -5.0, 5.0)))


def quadratic(p: dict) -> float:
    return (p["x"] - 1.3) ** 2 + (p["y"] + 0.7) ** 2


def random_history(count: int, seed: int = 0) -> list[Trial]:
    """`count` completed trials at points drawn from SPACE's priors."""
    rng = np.random.default_rng(seed)
    points = [SPACE.sample(rng) for _ in range(count)]
    return [observed(trial_of(SPACE, params), quadratic(params)) for params in points]
