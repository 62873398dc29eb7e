"""Parzen estimators over the unit cube and categorical indices, for TPE (numpy only)."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

_SQRT2 = math.sqrt(2.0)
_LOG_SQRT_2PI = 0.5 * math.log(2.0 * math.pi)
_MAX_REJECTIONS = 20


def normal_cdf(z: np.ndarray) -> np.ndarray:
    """Standard normal CDF, vectorized (erf by Abramowitz-Stegun 7.1.26, error < 1.5e-7)."""
    x = np.abs(z) / _SQRT2
    t = 1.0 / (1.0 + 0.3275911 * x)
    poly = t * (
        0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429)))
    )
    erf = 1.0 - poly * np.exp(-x * x)
    return np.asarray(0.5 * (1.0 + np.sign(z) * erf), dtype=float)


def ramp_weights(m: int, equal_weight: bool, full_weight_num: int) -> np.ndarray:
    """Weights of m observations in history order: the most recent `full_weight_num` get 1,
    older ones a linear ramp from 1/m (Oríon's TPE); all 1 with `equal_weight`."""
    if equal_weight or m <= full_weight_num:
        return np.ones(m)
    ramp = np.linspace(1.0 / m, 1.0, num=m - full_weight_num)
    return np.concatenate([ramp, np.ones(full_weight_num)])


@dataclass(frozen=True)
class Parzen:
    """A mixture with one component per observation plus a broad prior component.

    Numeric dimensions use Gaussians truncated to [0, 1] with one bandwidth per dimension;
    categorical ones a per-observation distribution peaked on the observed choice.
    """

    mus: np.ndarray  # (m + 1, dn); the last row is the prior component
    sigmas: np.ndarray  # (m + 1, dn)
    cat_probs: tuple[np.ndarray, ...]  # one (m + 1, n_choices) table per categorical dimension
    log_weights: np.ndarray  # (m + 1,)
    log_norm: np.ndarray  # (m + 1, dn): log of the truncated mass in [0, 1]

    @classmethod
    def build(
        cls,
        num: np.ndarray,
        cat: np.ndarray,
        n_choices: list[int],
        weights: np.ndarray,
        prior_weight: float,
        bandwidth: np.ndarray,
    ) -> Parzen:
        """The estimator of m observations; `bandwidth` holds one kernel width per dimension."""
        m, dn = num.shape
        mus = np.vstack([num, np.full((1, dn), 0.5)])
        sigmas = np.vstack([np.broadcast_to(bandwidth, (m, dn)), np.ones((1, dn))])
        w = np.append(weights, prior_weight)
        log_weights = np.log(w / w.sum())
        hi = normal_cdf((1.0 - mus) / sigmas)
        lo = normal_cdf((0.0 - mus) / sigmas)
        log_norm = np.log(np.maximum(hi - lo, 1e-300))
        tables = []
        for j, k in enumerate(n_choices):
            table = np.full((m + 1, k), prior_weight / max(m, 1))
            table[np.arange(m), cat[:, j]] += 1.0
            table[m, :] = 1.0
            tables.append(table / table.sum(axis=1, keepdims=True))
        return cls(mus, sigmas, tuple(tables), log_weights, log_norm)

    def sample(self, rng: np.random.Generator, k: int) -> tuple[np.ndarray, np.ndarray]:
        """k points: (numeric part (k, dn) in [0, 1], categorical indices (k, dc))."""
        comp = rng.choice(len(self.log_weights), size=k, p=np.exp(self.log_weights))
        mus, sigmas = self.mus[comp], self.sigmas[comp]
        num = rng.normal(mus, sigmas)
        for _ in range(_MAX_REJECTIONS):
            bad = (num < 0.0) | (num > 1.0)
            if not bad.any():
                break
            num[bad] = rng.normal(mus[bad], sigmas[bad])
        num = np.clip(num, 0.0, 1.0)
        cat = np.empty((k, len(self.cat_probs)), dtype=int)
        for j, table in enumerate(self.cat_probs):
            cum = np.cumsum(table[comp], axis=1)
            draws = rng.random(k)[:, None]
            cat[:, j] = np.minimum((draws > cum).sum(axis=1), table.shape[1] - 1)
        return num, cat

    def log_pdf(self, num: np.ndarray, cat: np.ndarray) -> np.ndarray:
        """Log density of each of k points, shape (k,)."""
        z = (num[:, None, :] - self.mus[None, :, :]) / self.sigmas[None, :, :]
        per_dim = -0.5 * z * z - np.log(self.sigmas)[None] - _LOG_SQRT_2PI - self.log_norm[None]
        log_comp = per_dim.sum(axis=2) + self.log_weights[None, :]
        for j, table in enumerate(self.cat_probs):
            log_comp += np.log(table[:, cat[:, j]]).T
        top = log_comp.max(axis=1, keepdims=True)
        return np.asarray(top[:, 0] + np.log(np.exp(log_comp - top).sum(axis=1)), dtype=float)
