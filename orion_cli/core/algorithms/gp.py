"""Bayesian optimization with a Gaussian process (needs scipy: `pip install 'orion-cli[gp]'`)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
from scipy.stats import qmc

from orion_cli.core.algorithms._common import (
    check_int,
    params_key,
    sample_unseen,
)
from orion_cli.core.algorithms._gp_search import Encoding, maximize_log_ei
from orion_cli.core.algorithms._model_based import ModelBased
from orion_cli.core.algorithms.gaussian_process import GP, warp
from orion_cli.core.space import Space
from orion_cli.core.trial import Trial


class GaussianProcessBO(ModelBased):
    """GP-based Bayesian optimization.

    Reals (log ones in log scale) and integers are modelled in the unit cube through the
    space's unit mapping; an integer's values are the centres of its bins, and the search only
    proposes those. A categorical is modelled by its choice index with a Hamming distance in
    the kernel: every two choices are equally far apart, whatever their order. The objective is
    standardized and power-transformed (Yeo-Johnson) so that heavy tails do not swamp the fit.
    The GP has a Matérn 5/2 kernel with one length scale per dimension, fitted with its signal
    and noise variances by maximizing the marginal likelihood times weak priors (length scales
    near the side of the cube, a small noise; past 150 trials, on a strided subset of 150 of
    them). The first `n_initial_points` trials follow a scrambled
    Sobol sequence fixed by the seed. Each suggestion maximizes log expected improvement:
    `n_candidates` scrambled Sobol points are screened, then `n_restarts` starting points (the
    best trial, the best candidate, and candidates drawn with probability proportional to their
    EI) are refined by L-BFGS-B on the continuous coordinates, alternated with an exhaustive
    search over each categorical and integer dimension. Pending trials (and suggestions earlier
    in the same call) are handled by the kriging believer: they count as observed at the GP's
    mean, which removes the uncertainty there, so parallel workers get distinct, spread points.
    Meant for up to a few hundred trials (the fit is cubic in their number).

    Options:
        seed: seeds the Sobol design and the candidate points (with the number of trials).
        n_initial_points: completed trials before the GP is used.
        n_candidates: Sobol points screened per suggestion.
        n_restarts: local optimizations of the acquisition per suggestion.
    """

    name = "gp"
    OPTIONS = ("seed", "n_initial_points", "n_candidates", "n_restarts")

    def __init__(
        self,
        space: Space,
        *,
        seed: int | None = None,
        n_initial_points: int = 10,
        n_candidates: int = 2048,
        n_restarts: int = 10,
    ) -> None:
        super().__init__(space, seed, n_initial_points)
        self.n_candidates = check_int("n_candidates", n_candidates, 1)
        self.n_restarts = check_int("n_restarts", n_restarts, 2)
        self.dims = len(space.searched)
        self.encoding = Encoding.of(space)

    def _use_model(self, done: list[Trial]) -> bool:
        return self.dims > 0 and len(done) >= self.n_initial_points

    def _initial(
        self, trials: Sequence[Trial], seen: set[tuple[Any, ...]], rng: np.random.Generator, n: int
    ) -> list[dict[str, Any]]:
        """The next points of the seeded Sobol design, then prior samples past its end."""
        count = len(trials)
        out: list[dict[str, Any]] = []
        if self.dims and count < self.n_initial_points:
            sobol = qmc.Sobol(self.dims, scramble=True, seed=self.seed)
            plan = sobol.random_base2(max(1, math.ceil(math.log2(self.n_initial_points))))
            for row in plan[count : self.n_initial_points]:
                if len(out) >= n:
                    break
                self._take(self.space.from_unit(row), seen, out)
        return out + sample_unseen(self.space, seen, rng, n - len(out))

    def _take(
        self, params: dict[str, Any], seen: set[tuple[Any, ...]], out: list[dict[str, Any]]
    ) -> bool:
        key = params_key(params, self.space.names)
        if key in seen:
            return False
        seen.add(key)
        out.append(params)
        return True

    def _model(
        self,
        done: list[Trial],
        busy: list[Trial],
        seen: set[tuple[Any, ...]],
        rng: np.random.Generator,
        n: int,
    ) -> list[dict[str, Any]]:
        enc = self.encoding
        x = enc.encode(done)
        y = warp(np.array([t.objective for t in done], dtype=float))
        gp = GP.fit(x, y, enc.categorical)
        incumbent = x[int(np.argmin(y))]
        if busy:
            gp = gp.with_points(enc.encode(busy))
        out: list[dict[str, Any]] = []
        for _ in range(n):
            # the believed values of pending points count: improving on them is no gain
            best = float(gp.y.min())
            ranked = maximize_log_ei(
                gp, best, incumbent, enc, rng, self.n_candidates, self.n_restarts
            )
            chosen = next((p for p in ranked if self._take(enc.decode(p), seen, out)), None)
            if chosen is None:
                break
            gp = gp.with_points(chosen[None, :])
        return out + sample_unseen(self.space, seen, rng, n - len(out))
