"""Bayesian optimization with a Gaussian process (needs scipy: `pip install 'orion-cli[gp]'`)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
from scipy.optimize import minimize
from scipy.stats import qmc

from orion_cli.core.algorithms._common import (
    check_int,
    check_seed,
    completed,
    exhausted,
    generator,
    params_key,
    pending,
    sample_unseen,
    seen_keys,
    unit_matrix,
)
from orion_cli.core.algorithms.base import Suggestion
from orion_cli.core.algorithms.gaussian_process import GP, log_ei
from orion_cli.core.space import Space
from orion_cli.core.trial import Trial


class GaussianProcessBO:
    """GP-based Bayesian optimization in the unit cube of the space.

    Every searched dimension goes through the space's unit-cube mapping: log priors are
    modelled in log scale, integers and categoricals as bins of [0, 1] (a categorical is thus
    modelled with an order; fine for a few choices, weaker for many). The GP has a Matérn 5/2
    kernel with one length scale per dimension, fitted with its signal and noise variances by
    maximizing the marginal likelihood (weak log-normal priors) with L-BFGS-B. The first
    `n_initial_points` trials follow a scrambled Sobol sequence fixed by the seed. Each
    suggestion maximizes log expected improvement: `n_candidates` uniform random points are
    screened, then `n_restarts` starting points (the best trial, the best candidate, and
    candidates drawn with probability proportional to their EI) are refined with L-BFGS-B.
    Pending trials (and suggestions earlier in the same call) are handled by the kriging
    believer: they count as observed at the GP's mean, which removes the uncertainty there, so
    parallel workers get distinct, spread points. Meant for up to a few hundred
    trials (the fit is cubic in their number).

    Options:
        seed: seeds the Sobol design and the candidate points (with the number of trials).
        n_initial_points: completed trials before the GP is used.
        n_candidates: random points screened per suggestion.
        n_restarts: local optimizations of the acquisition per suggestion.
    """

    name = "gp"

    def __init__(
        self,
        space: Space,
        *,
        seed: int | None = None,
        n_initial_points: int = 10,
        n_candidates: int = 2000,
        n_restarts: int = 10,
    ) -> None:
        self.space = space
        self.seed = check_seed(seed)
        self.n_initial_points = check_int("n_initial_points", n_initial_points, 1)
        self.n_candidates = check_int("n_candidates", n_candidates, 1)
        self.n_restarts = check_int("n_restarts", n_restarts, 2)
        self.dims = len(space.searched)

    @property
    def options(self) -> dict[str, Any]:
        return {
            "seed": self.seed,
            "n_initial_points": self.n_initial_points,
            "n_candidates": self.n_candidates,
            "n_restarts": self.n_restarts,
        }

    def is_done(self, trials: Sequence[Trial]) -> bool:
        return exhausted(self.space, trials)

    def suggest(self, trials: Sequence[Trial], n: int) -> list[Suggestion]:
        rng = generator(self.seed, trials)
        seen = seen_keys(self.space, trials)
        done = completed(trials)
        if len(done) < self.n_initial_points or self.dims == 0:
            out = self._initial(len(trials), seen, rng, n)
        else:
            out = self._bayesian(done, pending(trials), seen, rng, n)
        return [Suggestion(p) for p in out]

    def _initial(
        self, count: int, seen: set[tuple[Any, ...]], rng: np.random.Generator, n: int
    ) -> list[dict[str, Any]]:
        """The next points of the seeded Sobol design, then prior samples past its end."""
        out: list[dict[str, Any]] = []
        if self.dims and count < self.n_initial_points:
            sobol = qmc.Sobol(self.dims, scramble=True, seed=self.seed)
            plan = sobol.random_base2(max(1, math.ceil(math.log2(self.n_initial_points))))
            for row in plan[count : self.n_initial_points]:
                if len(out) >= n:
                    break
                self._take(row, seen, out)
        return out + sample_unseen(self.space, seen, rng, n - len(out))

    def _take(self, point: np.ndarray, seen: set[tuple[Any, ...]], out: list[Any]) -> bool:
        params = self.space.from_unit(point)
        key = params_key(params, self.space.names)
        if key in seen:
            return False
        seen.add(key)
        out.append(params)
        return True

    def _bayesian(
        self,
        done: list[Trial],
        busy: list[Trial],
        seen: set[tuple[Any, ...]],
        rng: np.random.Generator,
        n: int,
    ) -> list[dict[str, Any]]:
        x = unit_matrix(self.space, done)
        y = np.array([t.objective for t in done], dtype=float)
        y = (y - y.mean()) / (y.std() if y.std() > 0 else 1.0)
        gp = GP.fit(x, y)
        if busy:
            gp = gp.with_points(unit_matrix(self.space, busy))
        out: list[dict[str, Any]] = []
        for _ in range(n):
            # the believed values of pending points count: improving on them is no gain
            best = float(gp.y.min())
            ranked = self._maximize(gp, best, gp.x[int(np.argmin(gp.y))], rng)
            chosen = next((p for p in ranked if self._take(p, seen, out)), None)
            if chosen is None:
                break
            gp = gp.with_points(chosen[None, :])
        return out + sample_unseen(self.space, seen, rng, n - len(out))

    def _maximize(
        self, gp: GP, best: float, incumbent: np.ndarray, rng: np.random.Generator
    ) -> list[np.ndarray]:
        """Points by decreasing log EI: refined starts first, then the screened candidates."""
        candidates = rng.random((self.n_candidates, self.dims))
        scores = log_ei(gp, candidates, best)
        order = np.argsort(-scores, kind="stable")
        starts = [incumbent, candidates[order[0]], *self._roulette(candidates, scores, rng)]
        refined = []
        for start in starts:
            result = minimize(
                lambda p: tuple(-v for v in gp.log_ei_and_grad(p, best)),
                start,
                jac=True,
                method="L-BFGS-B",
                bounds=[(0.0, 1.0)] * self.dims,
                options={"maxiter": 50},
            )
            value = float(-result.fun) if np.isfinite(result.fun) else -np.inf
            refined.append((value, np.clip(result.x, 0.0, 1.0)))
        refined.sort(key=lambda item: -item[0])
        return [p for _, p in refined] + [candidates[i] for i in order]

    def _roulette(
        self, candidates: np.ndarray, scores: np.ndarray, rng: np.random.Generator
    ) -> list[np.ndarray]:
        """Starting points drawn with probability proportional to EI (diverse, yet promising)."""
        weights = np.exp(scores - scores.max())
        weights[np.argmax(scores)] = 0.0
        count = min(self.n_restarts - 2, int(np.count_nonzero(weights > 0)))
        if count <= 0 or weights.sum() <= 0:
            return []
        picks = rng.choice(len(candidates), size=count, replace=False, p=weights / weights.sum())
        return [candidates[i] for i in picks]
