"""BOHB's model: a good and a bad kernel density per resource level, proposals by density ratio.

Falkner, Klein & Hutter, "BOHB: Robust and Efficient Hyperparameter Optimization at Scale", ICML
2018, §4 (a TPE-style model). At the highest resource level with enough results, the best results
form the *good* set and the rest the *bad* set; each gets a product kernel density l(x) and g(x).
A proposal draws ``num_samples`` candidates from l with widened bandwidths and keeps the one that
maximises l(x) / g(x), which orders configs as expected improvement does under the TPE model. A
fraction of proposals stays random, which keeps the model's blind spots explored. ashasim draws
24 candidates (TPE's number, Bergstra et al. 2011) where BOHB draws 64: see ``KDESearcher``.

The maths, kernel by kernel, is in the functions below; ``KDESearcher`` ties them to the
observations kept by ``ModelSearcher``.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ashasim.checks import check_fraction, check_int, check_number, check_optional_int
from ashasim.search._model import Level, ModelSearcher

__all__ = ["BOHB_NUM_SAMPLES", "KDESearcher", "bandwidths", "log_density"]

# Candidates per proposal in HpBandSter's BOHB and Syne Tune's KDE searcher: the façades keep
# their library's default (ashasim's own is 24: see KDESearcher).
BOHB_NUM_SAMPLES = 64

_LOG_SQRT_2PI = 0.5 * math.log(2 * math.pi)


def bandwidths(
    points: np.ndarray,
    cont: np.ndarray,
    cat: np.ndarray,
    n_options: np.ndarray,
    *,
    min_bandwidth: float,
) -> np.ndarray:
    """Per-coordinate bandwidths of a product kernel density on the rows of ``points``.

    Real and integer coordinates: the normal-reference rule h = 1.06 * sigma * m**(-1/(d+4)) for
    m points in d dimensions, sigma the population standard deviation (statsmodels'
    ``normal_reference``, which BOHB's reference implementation uses). It costs O(m d), where
    cross-validated bandwidths would cost O(m^2 d) on every refit.

    Categorical coordinates (Aitchison-Aitken kernel): lambda = G * m**(-1/(d+4)), where
    G = 1 - sum_k p_k^2 is the Gini-Simpson spread of the observed options (the categorical
    counterpart of a variance: 0 when all points agree, (c-1)/c when they are spread evenly), capped
    at (c-1)/c, where the kernel is uniform. Here ashasim departs from the reference code, which
    feeds the option codes to the same normal-reference formula: a code's standard deviation
    depends on the arbitrary order of the options, the Gini-Simpson spread does not.

    Floor: every bandwidth is at least ``min_bandwidth``, as in BOHB, and nothing more (an extra
    floor of 1/(m + 1) kept proposals broad and lost to Syne Tune's BOHB at 16 workers).
    """
    m, d = points.shape
    shrink = max(m, 1) ** (-1.0 / (d + 4))
    h = np.full(d, min_bandwidth)
    if len(cont) and m > 1:
        h[cont] = np.maximum(1.06 * points[:, cont].std(axis=0) * shrink, min_bandwidth)
    for j, c in zip(cat, n_options, strict=True):
        counts = np.bincount(points[:, j].astype(np.intp), minlength=c) if m else np.zeros(c)
        spread = 1.0 - float(np.sum((counts / max(m, 1)) ** 2)) if m else (c - 1) / c
        h[j] = min(max(spread * shrink, min_bandwidth), (c - 1) / c)
    return h


def log_density(
    candidates: np.ndarray,
    points: np.ndarray,
    h: np.ndarray,
    cont: np.ndarray,
    cat: np.ndarray,
    n_options: np.ndarray,
) -> np.ndarray:
    """log of the product kernel density on the rows of ``points`` at each candidate.

    Real and integer coordinates use a Gaussian kernel, categorical ones Aitchison-Aitken's:
    1 - lambda for the same option, lambda / (c - 1) for each other one. With no data the density
    is uniform (log 0 everywhere). As in BOHB, the Gaussian is not renormalised for the [0, 1]
    edges; that changes l/g only within a bandwidth of an edge, and for l and g alike.
    """
    if len(points) == 0:
        return np.zeros(len(candidates))
    logk = np.zeros((len(candidates), len(points)))
    if len(cont):
        z = (candidates[:, None, cont] - points[None, :, cont]) / h[cont]
        logk -= 0.5 * np.einsum("cmj,cmj->cm", z, z)
        logk -= np.sum(np.log(h[cont])) + len(cont) * _LOG_SQRT_2PI
    for j, c in zip(cat, n_options, strict=True):
        same = candidates[:, None, j] == points[None, :, j]
        logk += np.where(same, math.log1p(-h[j]), math.log(h[j] / (c - 1)))
    top = logk.max(axis=1)
    return top + np.log(np.exp(logk - top[:, None]).sum(axis=1)) - math.log(len(points))


class KDESearcher(ModelSearcher):
    """BOHB's config generator (see the module docstring); BOHB = SyncHyperband + this searcher.

    *min_points* (N, default d + 1, d = number of non-constant parameters): the fewest points in
    each density (HpBandSter's ``min_points_in_model``). *top_fraction* (γ, 0.15): the share of
    results in the good set. *num_samples* (24; BOHB: 64): candidates drawn from l per proposal.
    *bandwidth_factor* (3): widens l's bandwidths (real and integer coordinates) for drawing
    candidates, so proposals also land between the good points. *min_bandwidth* (1e-3): floor of
    every bandwidth. *random_fraction* (1/3): share of model-time proposals drawn at random
    instead. *max_points* (256): most points in each density (see below).

    Which level, and the split (BOHB's rule, Falkner et al. 2018, §4 and HpBandSter): of the n
    results at a level, n_good = max(N, floor(γ n)) are good and the rest bad; a level can be
    modelled once both sides hold at least N points (n >= 2N while γ n < N), and the model uses
    the highest such level. Counting results alone would let a top level with 7 results (6 good,
    1 bad) win over 150 results one rung below. NaN/inf metrics rank last, so they are bad.

    Pending trials (suggested, no result yet) join the bad set, and the chosen candidate is the
    best one whose config is not pending: concurrent workers get different configs. (The push
    apart through g is weak: g's bandwidths are as wide as the bad points' spread, so once the
    good set is tight, concurrent proposals still land close together; a 20-worker burst on a
    1-d problem measured the same spread with and without it.) Failed trials are dropped
    (their earlier results stay).

    Why 24 candidates, not BOHB's 64: the more candidates, the further into the tails the best
    ratio l/g reaches, since the ratio grows wherever g falls off faster than l. In asynchronous
    runs with few trials, where the good and the bad points at the model level are mostly
    survivors of the model's own earlier proposals, that picks extrapolations. Measured on the
    multi-fidelity Hartmann-3 (``experiments/searchers.py synthetic``, stopping-type ASHA, 4
    workers, 30 seeds): with 64 candidates 10% of model proposals sat within 0.02 of the cube's
    edge (6% of the good points did), their median true regret was 0.60 and the incumbent's
    0.19, worse than random search's 0.08 (20 seeds); with 24, 0.088 (16 workers: 0.044 -> 0.011;
    Hartmann-6, 4 workers: 0.41 -> 0.34; 16: 0.135 vs 0.151, within noise). Fewer still (8)
    helped Hartmann-3 more but exploits less: on a sequential 6-d bowl the median best regret
    after 60 results went from 5.4 (64) and 5.8 (24) to 6.9 (8; random search 12.6). 24 is
    the number hyperopt's and Optuna's TPE score.

    Where ashasim still differs from the reference implementation, and why: pending trials as
    bad points (the reference knows nothing of running trials, so asynchronous workers would get
    near-identical proposals); 24 candidates per proposal (above); the Gini-Simpson bandwidth of
    categoricals (see :func:`bandwidths`: independent of the options' order); the subsample below
    (a bounded cost per proposal at 10^4 results); and, on a finite candidate set (a table),
    candidates are the remaining configs scored by l/g rather than draws from l.

    Cost: with more than ``max_points`` results on a side, that side's density is built on
    ``max_points`` of them taken at evenly spaced ranks (a deterministic, stratified subsample
    with the same spread of quality), so one proposal costs O(num_samples * max_points * d)
    whatever the number of observations; the ranking behind the split is merged incrementally
    as results arrive (``Level.ranked``). Bandwidths: see :func:`bandwidths`.
    """

    def __init__(
        self,
        *,
        min_points: int | None = None,
        top_fraction: float = 0.15,
        num_samples: int = 24,
        bandwidth_factor: float = 3.0,
        min_bandwidth: float = 1e-3,
        random_fraction: float = 1 / 3,
        max_points: int = 256,
    ) -> None:
        self.min_points = check_optional_int("min_points", min_points, minimum=1)
        self.top_fraction = check_fraction(
            "top_fraction", top_fraction, open_low=True, open_high=True
        )
        self.num_samples = check_int("num_samples", num_samples, minimum=1)
        self.bandwidth_factor = check_number(
            "bandwidth_factor", bandwidth_factor, minimum=0, strict=True
        )
        self.min_bandwidth = check_number("min_bandwidth", min_bandwidth, minimum=0, strict=True)
        self.random_fraction = check_fraction("random_fraction", random_fraction)
        self.max_points = check_int("max_points", max_points, minimum=2)
        self._split: tuple[int | None, int, np.ndarray, np.ndarray] | None = None

    def describe(self) -> dict[str, Any]:
        names = ("min_points", "top_fraction", "num_samples", "bandwidth_factor")
        more = ("min_bandwidth", "random_fraction", "max_points")
        return {"name": type(self).__name__, **{n: getattr(self, n) for n in names + more}}

    def _propose(self, level: Level, random_config: dict[str, Any]) -> dict[str, Any] | None:
        if self.random_fraction > 0 and self.rng.random() < self.random_fraction:
            return None
        enc = self.encoding
        good, bad = self._good_and_bad(level)
        bad = np.vstack([bad, self.pending_rows()])
        args = (enc.cont, enc.cat, enc.n_options)
        h_good = bandwidths(good, *args, min_bandwidth=self.min_bandwidth)
        h_bad = bandwidths(bad, *args, min_bandwidth=self.min_bandwidth)
        pool = self.table_pool()
        candidates = enc.snap(self._draw(good, h_good)) if pool is None else pool
        ratio = log_density(candidates, good, h_good, *args) - log_density(
            candidates, bad, h_bad, *args
        )
        return self.first_free(candidates, np.argsort(-ratio, kind="stable"))

    def _n_good(self, n: int) -> int:
        """BOHB's good-set size for n results: max(N, floor(γ n)), at most n."""
        return min(max(self._min_points, math.floor(round(self.top_fraction * n, 9))), n)

    def _level_ready(self, level: Level) -> bool:
        """Both densities get at least N points (BOHB's rule for a level to be modelled)."""
        return level.n - self._n_good(level.n) >= self._min_points

    def _good_and_bad(self, level: Level) -> tuple[np.ndarray, np.ndarray]:
        """The good and bad points of ``level`` (subsampled to max_points); cached per version."""
        if self._split is not None and self._split[:2] == (self.model_level, level.version):
            return self._split[2], self._split[3]
        n_good = self._n_good(level.n)
        ranked = level.ranked()  # ties: first arrival first
        good = self.level_rows(level, _spread(ranked[:n_good], self.max_points))
        bad = self.level_rows(level, _spread(ranked[n_good:], self.max_points))
        self._split = (self.model_level, level.version, good, bad)
        return good, bad

    def _draw(self, good: np.ndarray, h: np.ndarray) -> np.ndarray:
        """``num_samples`` draws from the good density, real/integer bandwidths widened."""
        enc, n = self.encoding, self.num_samples
        centres = good[np.minimum((self.rng.random(n) * len(good)).astype(np.intp), len(good) - 1)]
        points = centres.copy()
        if len(enc.cont):
            from scipy.special import ndtr, ndtri  # on first use: `import ashasim` loads no scipy

            # Truncated to [0, 1] by inverting the normal CDF between the edges' quantiles.
            mu, s = centres[:, enc.cont], h[enc.cont] * self.bandwidth_factor
            lo, hi = ndtr(-mu / s), ndtr((1.0 - mu) / s)
            u = lo + self.rng.random(mu.shape) * (hi - lo)
            points[:, enc.cont] = np.clip(mu + s * ndtri(u), 0.0, 1.0)
        if len(enc.cat):
            # Aitchison-Aitken: keep the option w.p. 1 - lambda, else one of the c - 1 others.
            codes, c = centres[:, enc.cat], enc.n_options
            move = self.rng.random(codes.shape) < h[enc.cat]
            shift = 1 + np.floor(self.rng.random(codes.shape) * (c - 1))
            points[:, enc.cat] = np.where(move, (codes + shift) % c, codes)
        return points


def _spread(indices: np.ndarray, cap: int) -> np.ndarray:
    """``indices`` if there are at most ``cap``, else ``cap`` of them at evenly spaced positions."""
    if len(indices) <= cap:
        return indices
    return indices[np.round(np.linspace(0, len(indices) - 1, cap)).astype(np.intp)]
