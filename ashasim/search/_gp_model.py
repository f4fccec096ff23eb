"""Gaussian-process regression for the GP searcher: Matérn 5/2 ARD kernel, type-II maximum
likelihood with priors (MAP) on the log hyperparameters, Cholesky posteriors, expected improvement.

Inputs live in [0, 1] per column (the searcher's encoding), targets are standardised, so fixed
bounds and priors on the hyperparameters are meaningful for every space. The hyperparameters are
theta = (log l_1, ..., log l_D, log signal variance, log noise variance).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from scipy.linalg import LinAlgError, cho_solve, cholesky, solve_triangular
from scipy.linalg.lapack import dpotri
from scipy.optimize import minimize
from scipy.spatial.distance import cdist
from scipy.special import ndtr
from threadpoolctl import ThreadpoolController

__all__ = [
    "GP",
    "fit_theta",
    "log_expected_improvement",
    "matern52",
    "neg_log_posterior",
    "single_threaded_blas",
]

_SQRT5 = math.sqrt(5.0)
_SQRT_2PI = math.sqrt(2.0 * math.pi)
# Bounds of the log hyperparameters: length scales from 1/100 to 10 of the unit cube, signal
# variance around the standardised targets' 1, noise from near-interpolation to half the signal.
_LOG_LENGTH = (math.log(0.01), math.log(10.0))
_LOG_SIGNAL = (math.log(0.05), math.log(20.0))
_LOG_NOISE = (math.log(1e-6), math.log(0.5))
# Weak Gaussian priors on the log hyperparameters (mean, sd): they keep a fit on a handful of
# points away from the degenerate corners (length scales that interpolate every wiggle, or noise
# that explains everything) and barely matter once data dominate.
_PRIOR_LENGTH = (math.log(0.3), 1.5)
_PRIOR_SIGNAL = (0.0, 1.5)
_PRIOR_NOISE = (math.log(1e-2), 2.0)
_JITTER = 1e-9


_controller: ThreadpoolController | None = None


def single_threaded_blas() -> Any:
    """A context in which BLAS/LAPACK (numpy's and scipy's) use one thread.

    The GP's matrices are small (a few hundred rows), where threads buy little; and with two
    cores, numpy and scipy each bringing their own OpenBLAS, or another busy process, the
    threads' spin-waits made the same 60-step search take from 0.6 s to 9 s. One thread takes
    0.6 s every time. The controller (which lists the loaded libraries) is built once.
    """
    global _controller
    if _controller is None:
        _controller = ThreadpoolController()
    return _controller.limit(limits=1, user_api="blas")


def default_theta(n_columns: int) -> np.ndarray:
    """The priors' means: the first start of every fit."""
    return np.array([_PRIOR_LENGTH[0]] * n_columns + [_PRIOR_SIGNAL[0], _PRIOR_NOISE[0]])


def theta_bounds(n_columns: int) -> list[tuple[float, float]]:
    return [_LOG_LENGTH] * n_columns + [_LOG_SIGNAL, _LOG_NOISE]


def _scaled_distance(a: np.ndarray, b: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """Euclidean distances between the rows of a and b, each column divided by its length
    scale. ``cdist`` loops in C over the few columns: 2x faster than expanding |a|^2 + |b|^2 -
    2 a.b with numpy temporaries at a few hundred rows, and exact (no negative rounding)."""
    return cdist(a / lengths, b / lengths)


def matern52(a: np.ndarray, b: np.ndarray, theta: np.ndarray) -> np.ndarray:
    """Signal part of the kernel: s^2 (1 + sqrt5 r + 5 r^2 / 3) exp(-sqrt5 r), r scaled by l.

    In place on one distance matrix (with t = sqrt5 r: (1 + t + t^2 / 3) exp(-t)): the
    kernels between training rows and candidates are most of a suggestion's elementwise work."""
    t = _scaled_distance(a, b, np.exp(theta[:-2]))
    t *= _SQRT5
    k = np.exp(-t)
    poly = t * t
    poly *= 1.0 / 3.0
    poly += t
    poly += 1.0
    k *= poly
    k *= math.exp(theta[-2])
    return k


def _log_prior(theta: np.ndarray) -> tuple[float, np.ndarray]:
    means = np.r_[np.full(len(theta) - 2, _PRIOR_LENGTH[0]), _PRIOR_SIGNAL[0], _PRIOR_NOISE[0]]
    sds = np.r_[np.full(len(theta) - 2, _PRIOR_LENGTH[1]), _PRIOR_SIGNAL[1], _PRIOR_NOISE[1]]
    z = (theta - means) / sds
    return -0.5 * float(z @ z), -z / sds


def neg_log_posterior(theta: np.ndarray, x: np.ndarray, y: np.ndarray) -> tuple[float, np.ndarray]:
    """-(log marginal likelihood + log prior) and its gradient in theta (analytic).

    With K = s^2 M + noise I: d/dtheta_k of -log p(y) is -1/2 tr((alpha alpha^T - K^-1) dK_k).
    For a length scale, dK/dlog l_j = s^2 (5/3)(1 + sqrt5 r) exp(-sqrt5 r) (x_j - x'_j)^2 / l_j^2.
    """
    n = len(y)
    lengths, signal, noise = np.exp(theta[:-2]), math.exp(theta[-2]), math.exp(theta[-1])
    r = _scaled_distance(x, x, lengths)
    sqrt5_r = _SQRT5 * r
    decay = np.exp(-sqrt5_r)
    decay_poly = (1.0 + sqrt5_r) * decay
    signal_k = signal * (decay_poly + (5.0 / 3.0) * r * r * decay)
    k = signal_k.copy()
    k.flat[:: n + 1] += noise + _JITTER
    try:
        chol = cholesky(k, lower=True, overwrite_a=True, check_finite=False)
    except LinAlgError:
        return 1e25, np.zeros_like(theta)
    alpha = cho_solve((chol, True), y, check_finite=False)
    value = (
        0.5 * float(y @ alpha)
        + float(np.sum(np.log(np.diag(chol))))
        + 0.5 * n * math.log(2 * math.pi)
    )
    lower_inverse = dpotri(chol, lower=1)[0]  # K^-1 in the lower triangle, from the factor
    w = lower_inverse + np.tril(lower_inverse, -1).T - np.outer(alpha, alpha)
    grad = np.empty_like(theta)
    # sum_ab A_ab (x_aj - x_bj)^2 = 2 sum_a x_aj^2 rowsum(A)_a - 2 x_j^T A x_j  (A symmetric)
    a = w * ((signal * 5.0 / 3.0) * decay_poly)
    sq_terms = 2.0 * (a.sum(axis=1) @ (x * x)) - 2.0 * np.sum(x * (a @ x), axis=0)
    grad[:-2] = 0.5 * sq_terms / (lengths * lengths)
    grad[-2] = 0.5 * float(np.sum(w * signal_k))
    grad[-1] = 0.5 * noise * float(np.trace(w))
    prior, prior_grad = _log_prior(theta)
    return value - prior, grad - prior_grad


def fit_theta(
    x: np.ndarray, y: np.ndarray, starts: list[np.ndarray], max_iter: int = 50
) -> np.ndarray:
    """MAP hyperparameters by L-BFGS-B from each start (deterministic); the best end point wins."""
    bounds = theta_bounds(x.shape[1])
    best, best_value = starts[0], math.inf
    for start in starts:
        start = np.clip(start, [b[0] for b in bounds], [b[1] for b in bounds])
        result = minimize(
            neg_log_posterior,
            start,
            args=(x, y),
            jac=True,
            method="L-BFGS-B",
            bounds=bounds,
            options={"maxiter": max_iter},
        )
        if np.isfinite(result.fun) and result.fun < best_value:
            best, best_value = result.x, float(result.fun)
    return np.asarray(best, dtype=float)


class GP:
    """A factored GP posterior on inputs ``x`` (targets are given to ``predict`` per call).

    ``extended`` appends rows (the pending trials) by a block Cholesky update, reusing this
    factor: O(n^2 p + p^3) instead of O((n + p)^3).
    """

    def __init__(self, x: np.ndarray, theta: np.ndarray, chol: np.ndarray | None = None) -> None:
        self.x, self.theta = x, theta
        self.noise = math.exp(theta[-1]) + _JITTER
        if chol is None:
            chol = _cholesky(matern52(x, x, theta) + self.noise * np.eye(len(x)))
        self.chol = chol

    def extended(self, rows: np.ndarray) -> GP:
        if len(rows) == 0:
            return self
        k12 = matern52(self.x, rows, self.theta)
        k22 = matern52(rows, rows, self.theta) + self.noise * np.eye(len(rows))
        l21 = solve_triangular(self.chol, k12, lower=True).T
        l22 = _cholesky(k22 - l21 @ l21.T)
        n, p = len(self.x), len(rows)
        chol = np.block([[self.chol, np.zeros((n, p))], [l21, l22]])
        return GP(np.vstack([self.x, rows]), self.theta, chol)

    def predict(self, y: np.ndarray, candidates: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Posterior mean and standard deviation of the latent function at ``candidates``."""
        mean, cross = self.mean(y, candidates)
        return mean, self.sd(cross)

    def mean(self, y: np.ndarray, candidates: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Posterior mean at ``candidates`` (O(n C)) and the kernel between training rows and
        candidates, from which ``sd`` gets the standard deviations of any of them."""
        alpha = cho_solve((self.chol, True), y)
        cross = matern52(self.x, candidates, self.theta)
        return cross.T @ alpha, cross

    def sd(self, cross: np.ndarray) -> np.ndarray:
        """Posterior standard deviation at the candidates of ``cross`` (columns of the kernel
        with the training rows): O(n^2) per candidate, the costly half of a prediction."""
        v = solve_triangular(self.chol, cross, lower=True)
        var = self.prior_sd**2 - np.sum(v * v, axis=0)
        return np.sqrt(np.maximum(var, 1e-12))

    @property
    def prior_sd(self) -> float:
        """The latent function's prior standard deviation: no posterior sd exceeds it."""
        return math.exp(0.5 * self.theta[-2])

    def sd_bound(self, cross: np.ndarray) -> np.ndarray:
        """An upper bound of ``sd`` at O(n) per candidate: the posterior given the nearest
        training row alone (in kernel terms), s^2 - k^2 / (s^2 + noise), since conditioning on
        more rows never raises the variance."""
        signal = self.prior_sd**2
        nearest = np.max(cross, axis=0) if len(cross) else np.zeros(cross.shape[1])
        return np.sqrt(np.maximum(signal - nearest * nearest / (signal + self.noise), 1e-12))


def _cholesky(k: np.ndarray) -> np.ndarray:
    """Lower Cholesky factor, adding jitter if rounding made ``k`` indefinite."""
    jitter = 0.0
    for _ in range(6):
        try:
            return cholesky(k + jitter * np.eye(len(k)), lower=True)
        except LinAlgError:
            jitter = max(10 * jitter, 1e-8 * float(np.mean(np.diag(k))))
    raise LinAlgError("kernel matrix is not positive definite even with jitter")


def log_expected_improvement(mean: np.ndarray, sd: np.ndarray, best: float) -> np.ndarray:
    """log EI for minimisation below ``best``; stable far in the tail, where EI itself is 0.

    EI = sd * h(z), z = (best - mean) / sd, h(z) = z Phi(z) + phi(z). For z < -6, h(z) is
    computed from its asymptotic form phi(z) / z^2 (relative error < 1/z^2 ~ 3%), which keeps
    candidates comparable where EI underflows.
    """
    z = (best - mean) / sd
    safe = np.maximum(z, -6.0)
    direct = np.log(np.maximum(safe * ndtr(safe) + np.exp(-0.5 * safe * safe) / _SQRT_2PI, 1e-300))
    tail = -0.5 * z * z - math.log(_SQRT_2PI) - 2.0 * np.log(np.maximum(-z, 1.0))
    return np.log(sd) + np.where(z < -6.0, tail, direct)
