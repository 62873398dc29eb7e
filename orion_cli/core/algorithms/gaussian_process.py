"""A Gaussian process on the unit cube: Matérn 5/2 with ARD, fitted by marginal likelihood.

Needs scipy (the `gp` extra) for Cholesky solves, L-BFGS-B and the log normal CDF.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy.linalg import cho_solve, cholesky, solve_triangular
from scipy.linalg.lapack import dpotri
from scipy.optimize import minimize
from scipy.special import log_ndtr

_SQRT5 = math.sqrt(5.0)
_LOG_2PI = math.log(2.0 * math.pi)
_JITTER = 1e-8
_FANTASY_NOISE = 1e-4
# bounds of the log hyperparameters: length scales, signal variance, noise variance
_LOG_LS = (math.log(0.01), math.log(20.0))
_LOG_SIGNAL = (math.log(0.05), math.log(20.0))
_LOG_NOISE = (math.log(1e-6), math.log(1.0))
# weak log-normal priors (mean, sd) keeping the fit away from degenerate length scales
_PRIOR_LS = (math.log(0.5), 1.0)
_PRIOR_SIGNAL = (0.0, 1.0)
_PRIOR_NOISE = (math.log(0.03), 1.0)


def matern52(
    a: np.ndarray, b: np.ndarray, scales: np.ndarray, signal: float
) -> tuple[np.ndarray, np.ndarray]:
    """The kernel matrix k(a, b) and the common factor of its derivatives.

    Returns (k, g) with g = signal * 5/3 * (1 + sqrt(5) r) * exp(-sqrt(5) r), so that
    dk/d log(scale_d) = g * diff_d^2 / scale_d^2 and dk/da_d = -g * diff_d / scale_d^2.
    """
    diff = (a[:, None, :] - b[None, :, :]) / scales
    r = np.sqrt(np.maximum((diff * diff).sum(axis=2), 0.0))
    e = np.exp(-_SQRT5 * r)
    k = signal * (1.0 + _SQRT5 * r + 5.0 / 3.0 * r * r) * e
    g = signal * 5.0 / 3.0 * (1.0 + _SQRT5 * r) * e
    return k, g


def _log_prior(theta: np.ndarray, d: int) -> tuple[float, np.ndarray]:
    means = np.array([_PRIOR_LS[0]] * d + [_PRIOR_SIGNAL[0], _PRIOR_NOISE[0]])
    sds = np.array([_PRIOR_LS[1]] * d + [_PRIOR_SIGNAL[1], _PRIOR_NOISE[1]])
    z = (theta - means) / sds
    return float(-0.5 * (z * z).sum()), -z / sds


def neg_log_posterior(
    theta: np.ndarray, sq_diffs: np.ndarray, y: np.ndarray
) -> tuple[float, np.ndarray]:
    """Negative log marginal likelihood minus the log prior of the hyperparameters, and its
    gradient; `sq_diffs[j]` holds the squared differences of the inputs along dimension j."""
    d, n, _ = sq_diffs.shape
    scales, signal, noise = np.exp(theta[:d]), math.exp(theta[d]), math.exp(theta[d + 1])
    r = np.sqrt(np.tensordot(1.0 / scales**2, sq_diffs, axes=1))
    e = np.exp(-_SQRT5 * r)
    k = signal * (1.0 + _SQRT5 * r + 5.0 / 3.0 * r * r) * e
    g = signal * 5.0 / 3.0 * (1.0 + _SQRT5 * r) * e
    kn = k
    kn[np.diag_indices(n)] += noise + _JITTER
    try:
        lower = cholesky(kn, lower=True, check_finite=False)
    except np.linalg.LinAlgError:
        return 1e10, np.zeros_like(theta)
    alpha = cho_solve((lower, True), y, check_finite=False)
    nll = 0.5 * y @ alpha + np.log(np.diag(lower)).sum() + 0.5 * n * _LOG_2PI
    k_inv, info = dpotri(lower, lower=1)
    if info != 0:
        return 1e10, np.zeros_like(theta)
    k_inv = np.tril(k_inv) + np.tril(k_inv, -1).T
    w = np.outer(alpha, alpha) - k_inv
    grad = np.empty(d + 2)
    grad[:d] = -0.5 * np.tensordot(sq_diffs, w * g, axes=([1, 2], [0, 1])) / scales**2
    grad[d] = -0.5 * ((w * kn).sum() - (noise + _JITTER) * np.trace(w))
    grad[d + 1] = -0.5 * noise * np.trace(w)
    prior, prior_grad = _log_prior(theta, d)
    return float(nll - prior), grad - prior_grad


@dataclass(frozen=True)
class GP:
    """A fitted GP: training points, hyperparameters and the Cholesky factor of K."""

    x: np.ndarray
    y: np.ndarray
    scales: np.ndarray
    signal: float
    noise: np.ndarray  # noise variance of each training point
    lower: np.ndarray
    alpha: np.ndarray

    @classmethod
    def fit(cls, x: np.ndarray, y: np.ndarray, max_iter: int = 60) -> GP:
        """Hyperparameters by L-BFGS-B on the marginal likelihood (y already standardized)."""
        d = x.shape[1]
        theta0 = np.array([_PRIOR_LS[0]] * d + [0.0, math.log(1e-3)])
        bounds = [_LOG_LS] * d + [_LOG_SIGNAL, _LOG_NOISE]
        sq_diffs = (x.T[:, :, None] - x.T[:, None, :]) ** 2
        result = minimize(
            neg_log_posterior,
            theta0,
            args=(sq_diffs, y),
            jac=True,
            method="L-BFGS-B",
            bounds=bounds,
            options={"maxiter": max_iter},
        )
        theta = result.x if np.all(np.isfinite(result.x)) else theta0
        noise = np.full(len(x), math.exp(theta[d + 1]))
        return cls.build(x, y, np.exp(theta[:d]), math.exp(theta[d]), noise)

    @classmethod
    def build(
        cls, x: np.ndarray, y: np.ndarray, scales: np.ndarray, signal: float, noise: np.ndarray
    ) -> GP:
        """The GP with these hyperparameters (used to add fantasized pending points)."""
        k, _ = matern52(x, x, scales, signal)
        k[np.diag_indices(len(x))] += noise + _JITTER
        lower = cholesky(k, lower=True)
        alpha = cho_solve((lower, True), y)
        return cls(x, y, scales, signal, noise, lower, alpha)

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
                return GP.build(x, y, self.scales, self.signal, noise)
            except np.linalg.LinAlgError:
                continue
        return self

    def predict(self, xs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Posterior mean and standard deviation at the rows of `xs`."""
        ks, _ = matern52(xs, self.x, self.scales, self.signal)
        mean = ks @ self.alpha
        v = solve_triangular(self.lower, ks.T, lower=True)
        var = np.maximum(self.signal - (v * v).sum(axis=0), 1e-12)
        return mean, np.sqrt(var)

    def log_ei_and_grad(self, point: np.ndarray, best: float) -> tuple[float, np.ndarray]:
        """Log expected improvement below `best` at one point, and its gradient."""
        ks, g = matern52(point[None, :], self.x, self.scales, self.signal)
        ks, g = ks[0], g[0]
        dks = -g[:, None] * (point[None, :] - self.x) / self.scales**2  # (n, d)
        mean = float(ks @ self.alpha)
        u = cho_solve((self.lower, True), ks)
        var = max(self.signal - float(ks @ u), 1e-12)
        sd = math.sqrt(var)
        z = (best - mean) / sd
        log_h = float(log_h_ei(np.array([z]))[0])
        dmean = dks.T @ self.alpha
        dsd = -(dks.T @ u) / sd
        log_phi = -0.5 * z * z - 0.5 * _LOG_2PI
        grad = -math.exp(float(log_ndtr(z)) - log_h) * dmean + math.exp(log_phi - log_h) * dsd
        return math.log(sd) + log_h, grad / sd


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
