"""Grid search: an even grid over every dimension, visited once, thinned to the trial budget."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from orion_cli.core.algorithms._common import (
    check_int,
    check_seed,
    params_key,
    seen_keys,
    with_fidelity,
)
from orion_cli.core.algorithms.base import Suggestion
from orion_cli.core.space import Categorical, Fidelity, Integer, Normal, Real, Space
from orion_cli.core.trial import Trial

DEFAULT_N_VALUES = 100


def _unique(values: list[Any]) -> list[Any]:
    out: list[Any] = []
    for value in values:
        if value not in out:
            out.append(value)
    return out


def grid_values(dim: Any, n: int) -> list[Any]:
    """`n` evenly spaced values of `dim` including both bounds (log-spaced for log priors).

    Categoricals give all their choices; integers all their values when there are at most `n`;
    a normal prior gives `n` evenly spaced quantiles; the fidelity its high value.
    """
    if isinstance(dim, Categorical):
        return list(dim.choices)
    if isinstance(dim, Fidelity):
        return [dim.high]
    if isinstance(dim, Normal):
        return _unique([dim.from_unit((i + 0.5) / n) for i in range(n)])
    if isinstance(dim, Integer) and dim.cardinality <= n:
        return list(range(dim.low, dim.high + 1))
    if n == 1:
        return [dim.from_unit(0.5)]
    if isinstance(dim, (Real, Integer)):
        spaced = np.geomspace if dim.log else np.linspace
        raw = spaced(dim.low, dim.high, n)
        if isinstance(dim, Integer):
            return _unique([dim.cast(round(float(v))) for v in raw])
        return _unique([dim.cast(float(v)) for v in raw])
    raise ValueError(f"gridsearch cannot build a grid for dimension {dim!r}")


def _shrinkable(dim: Any, values: list[Any]) -> bool:
    return isinstance(dim, (Real, Integer, Normal)) and len(values) > 2


class GridSearch:
    """Visits an even grid of the space once; the experiment ends when the grid is done.

    Options:
        n_values: values per dimension, an int or a mapping `{dimension: int}` (others: 100).
        max_trials: the trial budget; a larger grid is thinned evenly to fit it, first by
            taking fewer values on the numeric dimension that has the most, then (when only
            categoricals are left) by keeping evenly spaced grid points.
        seed: None visits the grid in lexicographic order; an integer visits it in a seeded
            order (a fixed permutation) so that a run stopped early still covers every axis.
    """

    name = "gridsearch"

    def __init__(
        self,
        space: Space,
        *,
        n_values: int | dict[str, int] = DEFAULT_N_VALUES,
        max_trials: int | None = None,
        seed: int | None = None,
    ) -> None:
        self.space = space
        self.n_values = self._check_n_values(n_values)
        self.max_trials = None if max_trials is None else check_int("max_trials", max_trials, 1)
        self.seed = check_seed(seed)
        self.columns = self._build_columns()
        self.size = self._grid_size()
        self._step, self._offset = self._visiting_order()

    @property
    def options(self) -> dict[str, Any]:
        return {"n_values": self.n_values, "max_trials": self.max_trials, "seed": self.seed}

    def _check_n_values(self, n_values: Any) -> int | dict[str, int]:
        if isinstance(n_values, dict):
            unknown = sorted(set(n_values) - set(self.space.names))
            if unknown:
                raise ValueError(
                    f"n_values names unknown dimensions {unknown}: use some of {self.space.names}"
                )
            return {str(k): check_int(f"n_values[{k}]", v, 1) for k, v in n_values.items()}
        return check_int("n_values", n_values, 1)

    def _n_for(self, name: str) -> int:
        if isinstance(self.n_values, dict):
            return self.n_values.get(name, DEFAULT_N_VALUES)
        return self.n_values

    def _build_columns(self) -> list[list[Any]]:
        dims = self.space.searched
        counts = [self._n_for(d.name) for d in dims]
        columns = [grid_values(d, n) for d, n in zip(dims, counts, strict=True)]
        while self.max_trials is not None and math.prod(map(len, columns)) > self.max_trials:
            options = [j for j, d in enumerate(dims) if _shrinkable(d, columns[j])]
            if not options:
                break
            j = max(options, key=lambda k: (len(columns[k]), -k))
            counts[j] = len(columns[j]) - 1
            columns[j] = grid_values(dims[j], counts[j])
        return columns

    def _grid_size(self) -> int:
        full = math.prod(len(c) for c in self.columns)
        if self.max_trials is not None:
            return min(full, self.max_trials)
        return full

    def _visiting_order(self) -> tuple[int, int]:
        """(step, offset) of the permutation `p -> (step * p + offset) % size` (seeded)."""
        if self.seed is None or self.size <= 1:
            return 1, 0
        rng = np.random.default_rng(self.seed)
        step = int(rng.integers(1, self.size))
        while math.gcd(step, self.size) != 1:
            step = step % (self.size - 1) + 1
        return step, int(rng.integers(0, self.size))

    def _full_index(self, position: int) -> int:
        """The index in the full grid of the `position`-th point to visit."""
        position = (self._step * position + self._offset) % self.size
        full = math.prod(len(c) for c in self.columns)
        if self.size < full:
            # evenly spaced points of the full grid when the budget is smaller than it
            return round(position * (full - 1) / max(self.size - 1, 1))
        return position

    def point(self, position: int) -> dict[str, Any]:
        """The params of the `position`-th point of the grid, in visiting order."""
        rest = self._full_index(position)
        params: dict[str, Any] = {}
        for dim, column in zip(reversed(self.space.searched), reversed(self.columns), strict=True):
            rest, digit = divmod(rest, len(column))
            params[dim.name] = column[digit]
        return with_fidelity(self.space, dict(sorted(params.items())))

    def suggest(self, trials: Sequence[Trial], n: int) -> list[Suggestion]:
        seen = seen_keys(self.space, trials)
        out: list[Suggestion] = []
        for position in range(self.size):
            if len(out) >= n:
                break
            params = self.point(position)
            key = params_key(params, self.space.names)
            if key not in seen:
                seen.add(key)
                out.append(Suggestion(params))
        return out

    def is_done(self, trials: Sequence[Trial]) -> bool:
        seen = seen_keys(self.space, trials)
        if len(seen) < self.size:
            return False
        names = self.space.names
        return all(params_key(self.point(p), names) in seen for p in range(self.size))
