"""A Gaussian process for Bayesian optimization: Matérn 5/2 with ARD, fitted by MAP.

Inputs live in the unit cube, except categorical columns, which hold a choice index and enter
the kernel through a Hamming distance (two choices are equally far apart whatever their
order). The hyperparameters are the inverse squared length scales, the signal variance and the
noise variance; they maximize the marginal likelihood times weak priors that keep length
scales near the size of the cube and the noise small. `warp` prepares the objective values.
Needs scipy (the `gp` extra).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from scipy.linalg import cho_solve, cholesky, solve_triangular
from scipy.linalg.lapack import dpotri
from scipy.optimize import minimize
from scipy.special import log_ndtr
from scipy.stats import yeojohnson, yeojohnson_normmax

_SQRT5 = math.sqrt(5.0)
_LOG_2PI = math.log(2.0 * math.pi)
_JITTER = 1e-9
_FANTASY_NOISE = 1e-4
# the noise variance never goes below this (the objective is standardized): deterministic
# objectives are interpolated almost exactly, yet the Cholesky factor stays well conditioned
MIN_NOISE = 1e-6
# priors on the inverse squared length scale lam: log p = -a (lam + 1 / lam), largest at a
# length scale of 1 (the side of the cube) and falling fast below 0.1 or above 10
_LAM_PRIOR = 0.1
# gamma priors (shape, rate) on the signal variance (mode 1) and the noise variance
_SIGNAL_PRIOR = (2.0, 1.0)
_NOISE_PRIOR = (1.1, 30.0)
# bounds of the log hyperparameters, far out of the priors' reach: only guards against overflow
_LOG_LAM = (math.log(1e-6), math.log(1e6))
_LOG_SIGNAL = (math.log(1e-3), math.log(1e3))
_LOG_NOISE = (math.log(1e-9), math.log(10.0))
# the hyperparameters are fitted on at most this many points
_FIT_POINTS = 150
# bound on the Yeo-Johnson power of the objective warp
_MAX_POWER = 4.0


def sq_diffs(a: np.ndarray, b: np.ndarray, categorical: np.ndarray) -> np.ndarray:
    """Per-dimension squared differences, shape (len(a), len(b), d); 0/1 for categoricals."""
    diff = a[:, None, :] - b[None, :, :]
    out: np.ndarray = diff * diff
    if categorical.any():
        out[..., categorical] = (out[..., categorical] > 0.0).astype(float)
    return out


def _matern(r2: np.ndarray, signal: float) -> tuple[np.ndarray, np.ndarray]:
    """k(r2) and dk/d(r2) of the Matérn 5/2 kernel, as functions of the squared distance."""
    r = np.sqrt(np.maximum(r2, 0.0))
    e = np.exp(-_SQRT5 * r)
    k = signal * (1.0 + _SQRT5 * r + 5.0 / 3.0 * r2) * e
    dk = -signal * 5.0 / 6.0 * (1.0 + _SQRT5 * r) * e
    return k, dk


def _scale_prior(log_lam: np.ndarray) -> tuple[float, np.ndarray]:
    lam = np.exp(log_lam)
    return -_LAM_PRIOR * float((lam + 1.0 / lam).sum()), _LAM_PRIOR * (1.0 / lam - lam)


def _log_prior(theta: np.ndarray, d: int) -> tuple[float, np.ndarray]:
    """Log prior of theta = (log lam_1..d, log signal, log(noise - MIN_NOISE)), and gradient."""
    signal, extra = math.exp(theta[d]), math.exp(theta[d + 1])
    noise = MIN_NOISE + extra
    (a_s, b_s), (a_n, b_n) = _SIGNAL_PRIOR, _NOISE_PRIOR
    value, grad = _scale_prior(theta[:d])
    value += (a_s - 1.0) * theta[d] - b_s * signal + (a_n - 1.0) * math.log(noise) - b_n * noise
    grad = np.concatenate([grad, [0.0, 0.0]])
    grad[d] = (a_s - 1.0) - b_s * signal
    grad[d + 1] = ((a_n - 1.0) / noise - b_n) * extra
    return value, grad


def neg_log_posterior(
    theta: np.ndarray, sq: np.ndarray, y: np.ndarray
) -> tuple[float, np.ndarray]:
    """Negative log marginal likelihood minus the log prior of the hyperparameters, and its
    gradient; `sq` holds the per-dimension squared differences of the inputs (n, n, d)."""
    n, _, d = sq.shape
    flat = sq.reshape(n * n, d)
    lam, signal, extra = np.exp(theta[:d]), math.exp(theta[d]), math.exp(theta[d + 1])
    k, dk = _matern((flat @ lam).reshape(n, n), signal)
    kn = k.copy()
    kn[np.diag_indices(n)] += MIN_NOISE + extra + _JITTER
    try:
        lower = cholesky(kn, lower=True, overwrite_a=True, check_finite=False)
    except np.linalg.LinAlgError:
        return 1e10, np.zeros_like(theta)
    alpha = cho_solve((lower, True), y, check_finite=False)
    nll = 0.5 * y @ alpha + np.log(np.diag(lower)).sum() + 0.5 * n * _LOG_2PI
    k_inv, info = dpotri(lower, lower=1, overwrite_c=1)  # its lower triangle only
    if info != 0:
        return 1e10, np.zeros_like(theta)
    # W = alpha alpha' - K^-1 is symmetric, like every dK: the sum of W * dK over the matrix
    # is that over the lower triangle with the off-diagonal terms counted twice
    w = (np.outer(alpha, alpha) - k_inv) * _lower_weights(n)
    grad = np.empty(d + 2)
    grad[:d] = -0.5 * lam * ((w * dk).reshape(-1) @ flat)
    grad[d] = -0.5 * float((w * k).sum())
    grad[d + 1] = -0.5 * extra * float(alpha @ alpha - np.trace(k_inv))
    prior, prior_grad = _log_prior(theta, d)
    return float(nll - prior), grad - prior_grad


@lru_cache(maxsize=4)
def _lower_weights(n: int) -> np.ndarray:
    """2 below the diagonal, 1 on it, 0 above: sums a symmetric matrix from its lower part."""
    weights = np.tri(n) * 2.0
    weights[np.diag_indices(n)] = 1.0
    weights.flags.writeable = False
    return weights


def _map_fit(x: np.ndarray, y: np.ndarray, categorical: np.ndarray, max_iter: int) -> np.ndarray:
    """The better of the local maxima of the hyperparameters' posterior found from two starts."""
    d = x.shape[1]
    sq = sq_diffs(x, x, categorical)
    bounds = [_LOG_LAM] * d + [_LOG_SIGNAL, _LOG_NOISE]
    starts = [np.array([0.0] * d + [0.0, log_noise]) for log_noise in (math.log(1e-3), 0.0)]
    best: tuple[float, np.ndarray] | None = None
    for theta0 in starts:
        result = minimize(
            neg_log_posterior,
            theta0,
            args=(sq, y),
            jac=True,
            method="L-BFGS-B",
            bounds=bounds,
            # stops once a step gains less than 1e-5 of the value (~0.001 nats here)
            options={"maxiter": max_iter, "gtol": 1e-3, "ftol": 1e-5},
        )
        ok = np.all(np.isfinite(result.x)) and np.isfinite(result.fun)
        if ok and (best is None or result.fun < best[0]):
            best = (float(result.fun), result.x)
    return best[1] if best is not None else starts[0]


@dataclass(frozen=True)
class GP:
    """A fitted GP: training points, hyperparameters and the Cholesky factor of K + noise."""

    x: np.ndarray
    y: np.ndarray
    categorical: np.ndarray  # bool per column: a choice index compared by Hamming distance
    lam: np.ndarray  # inverse squared length scales
    signal: float
    noise: np.ndarray  # noise variance of each training point
    lower: np.ndarray
    alpha: np.ndarray

    @property
    def scales(self) -> np.ndarray:
        """The length scales (1 / sqrt(lam))."""
        return np.asarray(1.0 / np.sqrt(self.lam))

    @classmethod
    def fit(
        cls,
        x: np.ndarray,
        y: np.ndarray,
        categorical: np.ndarray | None = None,
        max_iter: int = 200,
    ) -> GP:
        """MAP hyperparameters by L-BFGS-B (y already standardized), from two starts: unit
        length scales with a small noise, and with a large one; the better posterior wins.

        Past `_FIT_POINTS` points, the hyperparameters are fitted on an evenly strided subset
        of that size (the fit costs n^3 per step, and they change slowly with more points);
        the GP itself conditions on every point.
        """
        n, d = x.shape
        categorical = np.zeros(d, dtype=bool) if categorical is None else categorical
        rows = np.linspace(0, n - 1, min(n, _FIT_POINTS)).round().astype(int)
        theta = _map_fit(x[rows], y[rows], categorical, max_iter)
        noise = np.full(n, MIN_NOISE + math.exp(theta[d + 1]))
        return cls.build(x, y, categorical, np.exp(theta[:d]), math.exp(theta[d]), noise)

    @classmethod
    def build(
        cls,
        x: np.ndarray,
        y: np.ndarray,
        categorical: np.ndarray,
        lam: np.ndarray,
        signal: float,
        noise: np.ndarray,
    ) -> GP:
        """The GP with these hyperparameters (also used to add fantasized pending points)."""
        k, _ = _matern(sq_diffs(x, x, categorical) @ lam, signal)
        k[np.diag_indices(len(x))] += noise + _JITTER
        lower = cholesky(k, lower=True, check_finite=False)
        alpha = cho_solve((lower, True), y, check_finite=False)
        return cls(x, y, categorical, lam, signal, noise, lower, alpha)

    def with_points(self, x_new: np.ndarray) -> GP:
        """Kriging believer: the GP that also 'observed' its own mean at `x_new`.

        The fantasized observations are nearly noise-free, so that the uncertainty (and with it
        the expected improvement) vanishes there even when the fitted noise is large.
        """
        mean, _ = self.predict(x_new)
        x = np.vstack([self.x, x_new])
        y = np.concatenate([self.y, mean])
        for fantasy_noise in (_FANTASY_NOISE, float(self.noise.max())):
            noise = np.concatenate([self.noise, np.full(len(x_new), fantasy_noise)])
            try:
                return GP.build(x, y, self.categorical, self.lam, self.signal, noise)
            except np.linalg.LinAlgError:
                continue
        return self

    def predict(self, xs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Posterior mean and standard deviation at the rows of `xs`."""
        ks, _ = _matern(sq_diffs(xs, self.x, self.categorical) @ self.lam, self.signal)
        mean = ks @ self.alpha
        v = solve_triangular(self.lower, ks.T, lower=True, check_finite=False)
        var = np.maximum(self.signal - np.einsum("ij,ij->j", v, v), 1e-12)
        return mean, np.sqrt(var)

    def log_ei_and_grad(self, xs: np.ndarray, best: float) -> tuple[np.ndarray, np.ndarray]:
        """Log expected improvement below `best` at the rows of `xs`, and its gradient with
        respect to the (non-categorical) coordinates; shape (m,) and (m, d)."""
        diff = xs[:, None, :] - self.x[None, :, :]
        sq = diff * diff
        cat = self.categorical
        if cat.any():
            sq[..., cat] = (sq[..., cat] > 0.0).astype(float)
        ks, dk = _matern(sq @ self.lam, self.signal)  # (m, n)
        u = cho_solve((self.lower, True), ks.T, check_finite=False).T  # (m, n)
        mean = ks @ self.alpha
        var = np.maximum(self.signal - (ks * u).sum(axis=1), 1e-12)
        sd = np.sqrt(var)
        z = (best - mean) / sd
        log_h = log_h_ei(z)
        # dks/dx = dk * 2 lam diff (zero along categorical columns)
        lam2 = np.where(cat, 0.0, 2.0 * self.lam)
        dmean = np.einsum("mn,mnd->md", dk * self.alpha[None, :], diff) * lam2
        dvar = -2.0 * np.einsum("mn,mnd->md", dk * u, diff) * lam2
        dsd = dvar / (2.0 * sd[:, None])
        # d log h / dz = Phi(z) / h(z); dz = (-dmean - z dsd) / sd; plus d log sd
        ratio = np.exp(log_ndtr(z) - log_h)[:, None]
        dz = (-dmean - z[:, None] * dsd) / sd[:, None]
        grad = ratio * dz + dsd / sd[:, None]
        return np.log(sd) + log_h, grad


def warp(y: np.ndarray) -> np.ndarray:
    """The objective values as the GP models them: standardized, then passed through the
    Yeo-Johnson power transform that makes them most normal (maximum likelihood), then
    standardized again. It is monotone, so the best value stays the best, and it tames heavy
    tails (a few huge values, or a few very deep ones) that a stationary GP fits badly."""
    z = _standardize(np.asarray(y, dtype=float))
    if len(z) < 3 or not z.any():
        return z
    with np.errstate(all="ignore"):
        try:
            lmbda = float(np.clip(yeojohnson_normmax(z), -_MAX_POWER, _MAX_POWER))
            t = yeojohnson(z, lmbda)
        except (ValueError, FloatingPointError, RuntimeError):
            return z
    return _standardize(t) if np.all(np.isfinite(t)) else z


def _standardize(y: np.ndarray) -> np.ndarray:
    sd = float(y.std())
    return np.asarray((y - y.mean()) / (sd if sd > 0 else 1.0), dtype=float)


def log_h_ei(z: np.ndarray) -> np.ndarray:
    """log(phi(z) + z Phi(z)), accurate far into the negative tail (log EI of Ament et al.)."""
    z = np.asarray(z, dtype=float)
    out = np.empty_like(z)
    log_phi = -0.5 * z * z - 0.5 * _LOG_2PI
    mid = z > -1.0
    phi = np.exp(log_phi[mid])
    cdf = np.exp(log_ndtr(z[mid]))
    out[mid] = np.log(np.maximum(phi + z[mid] * cdf, 1e-300))
    tail = ~mid
    zt = np.maximum(z[tail], -1e6)
    ratio = np.exp(log_ndtr(zt) - (-0.5 * zt * zt - 0.5 * _LOG_2PI))  # Phi / phi, stable
    out[tail] = log_phi[tail] + np.log1p(np.maximum(zt * ratio, -1.0 + 1e-300))
    return out


def log_ei(gp: GP, xs: np.ndarray, best: float) -> np.ndarray:
    """Log expected improvement below `best` at the rows of `xs` (vectorized)."""
    mean, sd = gp.predict(xs)
    return np.asarray(np.log(sd) + log_h_ei((best - mean) / sd), dtype=float)
