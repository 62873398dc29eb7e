"""How `gp` models a space, and how it maximizes log expected improvement over it."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.optimize import minimize
from scipy.stats import qmc

from orion_cli.core.algorithms._common import unit_matrix
from orion_cli.core.algorithms.gaussian_process import GP, log_ei
from orion_cli.core.space import Categorical, Integer, Space
from orion_cli.core.trial import Trial

# integers with more values than this are searched as continuous (the space rounds them)
_MAX_GRID = 256
# rounds of (continuous step, discrete sweep) in one local search
_MAX_ROUNDS = 8


@dataclass(frozen=True)
class Encoding:
    """Model coordinates of a space's searched dimensions.

    A categorical column holds the choice index (0, 1, ...), compared by Hamming distance. Any
    other column holds the unit-cube value; an integer's allowed values are the centres of its
    bins (`grids[j]`, the values the search may propose), a real's are all of [0, 1].
    """

    space: Space
    categorical: np.ndarray  # bool per column
    grids: tuple[np.ndarray | None, ...]  # the allowed values of each discrete column

    @classmethod
    def of(cls, space: Space) -> Encoding:
        dims = space.searched
        grids: list[np.ndarray | None] = []
        for dim in dims:
            if isinstance(dim, Categorical):
                grids.append(np.arange(len(dim.choices), dtype=float))
            elif isinstance(dim, Integer) and dim.cardinality <= _MAX_GRID:
                values = range(dim.low, dim.high + 1)
                grids.append(np.unique([dim.to_unit(v) for v in values]))
            else:
                grids.append(None)
        categorical = np.array([isinstance(d, Categorical) for d in dims], dtype=bool)
        return cls(space, categorical, tuple(grids))

    @property
    def continuous(self) -> np.ndarray:
        return np.array([g is None for g in self.grids], dtype=bool)

    def encode(self, trials: Sequence[Trial]) -> np.ndarray:
        x = unit_matrix(self.space, trials)
        for j in np.flatnonzero(self.categorical):
            k = len(self.grids[j])  # type: ignore[arg-type]
            x[:, j] = np.minimum(np.floor(x[:, j] * k), k - 1)
        return x

    def decode(self, row: np.ndarray) -> dict[str, Any]:
        unit = np.clip(np.array(row, dtype=float), 0.0, 1.0)
        for j in np.flatnonzero(self.categorical):
            k = len(self.grids[j])  # type: ignore[arg-type]
            unit[j] = (row[j] + 0.5) / k
        return self.space.from_unit(unit)

    def from_cube(self, u: np.ndarray) -> np.ndarray:
        """Points of the unit cube (rows) to model coordinates on the allowed values."""
        x: np.ndarray = u.copy()
        for j, grid in enumerate(self.grids):
            if grid is None:
                continue
            if self.categorical[j]:
                x[:, j] = np.minimum(np.floor(u[:, j] * len(grid)), len(grid) - 1)
            else:
                x[:, j] = grid[np.abs(u[:, j, None] - grid[None, :]).argmin(axis=1)]
        return x


def maximize_log_ei(
    gp: GP,
    best: float,
    incumbent: np.ndarray,
    enc: Encoding,
    rng: np.random.Generator,
    n_candidates: int,
    n_restarts: int,
) -> list[np.ndarray]:
    """Points by decreasing log EI: the refined starts first, then the screened candidates."""
    d = len(enc.grids)
    sobol = qmc.Sobol(d, scramble=True, seed=rng)
    candidates = enc.from_cube(sobol.random_base2(max(0, math.ceil(math.log2(n_candidates)))))
    candidates = candidates[:n_candidates]
    scores = _values(gp, candidates, best)
    order = np.argsort(-scores, kind="stable")
    starts = [incumbent, candidates[order[0]], *_roulette(candidates, scores, rng, n_restarts)]
    refined = [_local_search(gp, best, enc, start) for start in starts]
    refined.sort(key=lambda item: -item[0])
    return [p for _, p in refined] + [candidates[i] for i in order]


def _values(gp: GP, xs: np.ndarray, best: float) -> np.ndarray:
    values = log_ei(gp, xs, best)
    return np.where(np.isfinite(values), values, -np.inf)


def _roulette(
    candidates: np.ndarray, scores: np.ndarray, rng: np.random.Generator, n_restarts: int
) -> list[np.ndarray]:
    """Starting points drawn with probability proportional to EI (diverse, yet promising)."""
    weights = np.exp(scores - scores.max())
    weights[np.argmax(scores)] = 0.0
    weights = np.where(np.isfinite(weights), weights, 0.0)
    count = min(n_restarts - 2, int(np.count_nonzero(weights > 0)))
    if count <= 0 or weights.sum() <= 0:
        return []
    picks = rng.choice(len(candidates), size=count, replace=False, p=weights / weights.sum())
    return [candidates[i] for i in picks]


def _local_search(
    gp: GP, best: float, enc: Encoding, start: np.ndarray
) -> tuple[float, np.ndarray]:
    """Alternate L-BFGS-B on the continuous coordinates and exhaustive sweeps over each
    discrete one, until a sweep changes nothing."""
    x = start.copy()
    value = float(_values(gp, x[None, :], best)[0])
    cont = np.flatnonzero(enc.continuous)
    discrete = [j for j, g in enumerate(enc.grids) if g is not None and len(g) > 1]
    for _ in range(_MAX_ROUNDS):
        if len(cont):
            x, value = _continuous_step(gp, best, x, value, cont)
        changed = False
        for j in discrete:
            grid = enc.grids[j]
            assert grid is not None
            trial = np.repeat(x[None, :], len(grid), axis=0)
            trial[:, j] = grid
            values = _values(gp, trial, best)
            i = int(np.argmax(values))
            if values[i] > value and grid[i] != x[j]:
                x, value, changed = trial[i], float(values[i]), True
        if not changed:
            break
    return value, x


def _continuous_step(
    gp: GP, best: float, x: np.ndarray, value: float, cont: np.ndarray
) -> tuple[np.ndarray, float]:
    """L-BFGS-B on the continuous coordinates, in units of their length scales (which makes
    the problem about equally curved along each), the others fixed."""
    scales = gp.scales[cont]

    def objective(z: np.ndarray) -> tuple[float, np.ndarray]:
        point = x.copy()
        point[cont] = z * scales
        v, g = gp.log_ei_and_grad(point[None, :], best)
        if not np.isfinite(v[0]):
            return 1e300, np.zeros_like(z)
        return -float(v[0]), -g[0, cont] * scales

    result = minimize(
        objective,
        x[cont] / scales,
        jac=True,
        method="L-BFGS-B",
        bounds=[(0.0, 1.0 / s) for s in scales],
        options={"maxiter": 100, "gtol": 1e-4},
    )
    found = -float(result.fun)
    if not np.isfinite(found) or found <= value:
        return x, value
    out = x.copy()
    out[cont] = np.clip(result.x * scales, 0.0, 1.0)
    return out, found
