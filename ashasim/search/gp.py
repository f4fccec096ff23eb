"""Bayesian optimisation with a Gaussian process and expected improvement.

The surrogate and its fitting live in ``_gp_model``; this module decides what the GP is trained on
(which resource level, which results, which pending trials), when its hyperparameters are refitted,
and where expected improvement is searched.
"""

from __future__ import annotations

import importlib
from types import ModuleType
from typing import TYPE_CHECKING, Any

import numpy as np

from ashasim.checks import check_int, check_optional_int
from ashasim.search._model import Level, ModelSearcher

if TYPE_CHECKING:
    from ashasim.search._gp_model import GP

__all__ = ["GPSearcher"]


def _gp_model() -> ModuleType:
    """The GP's numerics, imported on first use: they bring scipy and threadpoolctl, which
    ``import ashasim`` must not load for the many runs that never fit a GP."""
    return importlib.import_module("ashasim.search._gp_model")


_N_BEST = 8  # training points whose neighbourhoods are searched locally
_LOCAL_SCALE = 0.05  # sd of a local step, in units of the [0, 1] coordinates
_REFIT_GROWTH = 10  # also wait for the level's results to grow by 1/10 before refitting


class GPSearcher(ModelSearcher):
    """GP-based Bayesian optimisation: Matérn 5/2 ARD kernel, MAP hyperparameters, EI.

    *random_search_steps* (default max(4, d + 1), d = non-constant parameters): the first
    suggestions (points to evaluate included) are random. Fitting d + 2 hyperparameters needs
    some spread-out data: d + 1 points span every coordinate once, and 4 keeps low-dimensional
    fits from resting on two or three points.

    *min_points* (default d + 1): results a resource level needs before the GP is trained on it.

    Multi-fidelity (MOBSTER's simplest variant, Klein et al. 2020): the GP is trained on the
    results of the highest resource level with at least min_points of them, and nothing else.
    Taking the resource as an extra input would let cheap results inform the full-budget model,
    but it needs a kernel over resources (and its hyperparameters) and mixes levels whose metrics
    are on different scales (loss after 1 epoch vs after 81); the highest well-populated level is
    the most faithful to what is being optimised, and this choice keeps the GP's cost bounded by
    one level's results.

    Cost bound, for 10^4 observations: *max_points* (256) caps the training set at the best
    max_points // 2 results of the level plus the most recent ones up to max_points (the best keep
    the incumbent's neighbourhood sharp; the recent ones keep the model current where the search now
    is). Hyperparameters are refitted (L-BFGS-B, analytic gradients, two deterministic starts: the
    priors' means, and the previous fit or, at the first fit, short length scales) when the model
    level changes and then only after *refit_every* (10) new results at it, or a tenth more than it
    had at the last fit, whichever is more: so a level with 10^4 results has been refitted some
    fifty times, not a thousand (the hyperparameters of a well-populated level barely move). In
    between the previous ones are reused. The training set's Cholesky factor is reused until the
    level gets a result; pending trials are appended to it by a block update. So between refits a
    suggest costs O(n^2 (p + C) + n^3) for n <= max_points training points, p pending trials and C
    candidates, whatever the number of observations; a refit costs O(n^3) per L-BFGS step.

    Pending trials: constant liar with the worst observed value (CL-max of Ginsbourger et al.,
    2010): each pending config enters the GP as if it had scored as badly as the worst result,
    which flattens EI around running configs and pushes concurrent proposals apart; no proposal
    repeats a pending config. NaN/inf metrics count as the worst finite result of the level (all
    equal if none is finite). Failed trials are dropped (their earlier results stay).

    EI is maximised over *num_candidates* (256) uniform random configs plus *num_local* (64)
    Gaussian steps around the best training points (categoricals resampled with probability
    1/d), all snapped to real configs, so EI is judged where configs can actually be.
    """

    def __init__(
        self,
        *,
        random_search_steps: int | None = None,
        min_points: int | None = None,
        max_points: int = 256,
        refit_every: int = 10,
        num_candidates: int = 256,
        num_local: int = 64,
    ) -> None:
        self.random_search_steps = check_optional_int(
            "random_search_steps", random_search_steps, minimum=0
        )
        self.min_points = check_optional_int("min_points", min_points, minimum=1)
        self.max_points = check_int("max_points", max_points, minimum=2)
        self.refit_every = check_int("refit_every", refit_every, minimum=1)
        self.num_candidates = check_int("num_candidates", num_candidates, minimum=1)
        self.num_local = check_int("num_local", num_local, minimum=0)

    def describe(self) -> dict[str, Any]:
        names = ("random_search_steps", "min_points", "max_points", "refit_every")
        more = ("num_candidates", "num_local")
        return {"name": type(self).__name__, **{n: getattr(self, n) for n in names + more}}

    def _setup(self) -> None:
        super()._setup()
        d = self.encoding.d
        steps = self.random_search_steps
        self._random_steps = max(4, d + 1) if steps is None else steps
        self._theta: np.ndarray | None = None
        self._fitted_at: tuple[int | None, int] = (None, 0)  # (level, its results) at the fit
        self._cache: tuple[Any, ...] | None = None  # (level, version, gp, x, y)
        self.n_fits = 0

    def _propose(self, level: Level, random_config: dict[str, Any]) -> dict[str, Any] | None:
        if self.n_suggested < self._random_steps:
            return None
        with _gp_model().single_threaded_blas():
            return self._maximise_ei(level)

    def _maximise_ei(self, level: Level) -> dict[str, Any] | None:
        gp, x, y = self._trained(level)
        enc = self.encoding
        pending = self.pending_rows()
        model = gp.extended(enc.onehot(pending))
        targets = np.r_[y, np.full(len(pending), y.max())]  # constant liar: the worst value
        candidates = self._candidates(x, y)
        mean, sd = model.predict(targets, enc.onehot(candidates))
        score = _gp_model().log_expected_improvement(mean, sd, float(y.min()))
        return self.first_free(candidates, np.argsort(-score, kind="stable"))

    def _trained(self, level: Level) -> tuple[GP, np.ndarray, np.ndarray]:
        """The GP on the level's (capped) results, its inputs and standardised targets; cached."""
        if self._theta is not None and self._cache is not None:
            cached_level, version, gp, x, y = self._cache
            if (cached_level, version) == (self.model_level, level.version):
                return gp, x, y
        x, scores = self.level_data(level)
        keep = self._training_rows(scores)
        x, y = x[keep], _standardise(scores[keep])
        fit_level, fit_n = self._fitted_at
        if (
            self._theta is None
            or fit_level != self.model_level
            or level.n - fit_n >= max(self.refit_every, fit_n // _REFIT_GROWTH)
        ):
            inputs = self.encoding.onehot(x)
            start = _gp_model().default_theta(inputs.shape[1])
            short = np.r_[np.full(inputs.shape[1], np.log(0.1)), start[-2:]]
            starts = [start, short if self._theta is None else self._theta]
            self._theta = _gp_model().fit_theta(inputs, y, starts)
            self._fitted_at = (self.model_level, level.n)
            self.n_fits += 1
        gp = _gp_model().GP(self.encoding.onehot(x), self._theta)
        self._cache = (self.model_level, level.version, gp, x, y)
        return gp, x, y

    def _training_rows(self, scores: np.ndarray) -> np.ndarray:
        """All results, or the best max_points // 2 plus the most recent up to max_points."""
        n = len(scores)
        if n <= self.max_points:
            return np.arange(n)
        best = np.argsort(scores, kind="stable")[: self.max_points // 2]
        chosen = np.zeros(n, dtype=bool)
        chosen[best] = True
        recent = np.flatnonzero(~chosen)[-(self.max_points - len(best)) :]
        chosen[recent] = True
        return np.flatnonzero(chosen)

    def _candidates(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """Uniform random configs plus local steps around the best training points, snapped."""
        enc, rng = self.encoding, self.rng
        random = enc.uniform(rng, self.num_candidates)
        if self.num_local == 0:
            return random
        best = x[np.argsort(y, kind="stable")[:_N_BEST]]
        local = best[np.arange(self.num_local) % len(best)].copy()
        if len(enc.cont):
            steps = rng.standard_normal((self.num_local, len(enc.cont))) * _LOCAL_SCALE
            local[:, enc.cont] += steps
        if len(enc.cat):
            flip = rng.random((self.num_local, len(enc.cat))) < 1.0 / enc.d
            codes = np.floor(rng.random((self.num_local, len(enc.cat))) * enc.n_options)
            local[:, enc.cat] = np.where(flip, codes, local[:, enc.cat])
        return np.vstack([random, enc.snap(local)])


def _standardise(scores: np.ndarray) -> np.ndarray:
    """Scores with NaN/inf set to the worst finite one, shifted and scaled to mean 0, sd 1."""
    finite = np.isfinite(scores)
    worst = scores[finite].max() if finite.any() else 0.0
    values = np.where(finite, scores, worst)
    sd = values.std()
    return (values - values.mean()) / (sd if sd > 1e-12 else 1.0)
