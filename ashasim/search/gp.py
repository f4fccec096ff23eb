"""Bayesian optimisation with a Gaussian process and expected improvement.

The surrogate and its fitting live in ``_gp_model``; this module decides what the GP is trained on
(which resource level, which results, which pending trials), when its hyperparameters are refitted,
and where expected improvement is searched.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from types import ModuleType
from typing import TYPE_CHECKING, Any

import numpy as np

from ashasim.checks import check_int, check_optional_int
from ashasim.search._model import Level, ModelSearcher
from ashasim.search._reports import Reports

if TYPE_CHECKING:
    from ashasim.search._gp_model import GP

__all__ = ["GPSearcher", "best_free"]


def _gp_model() -> ModuleType:
    """The GP's numerics, imported on first use: they bring scipy and threadpoolctl, which
    ``import ashasim`` must not load for the many runs that never fit a GP."""
    return importlib.import_module("ashasim.search._gp_model")


_N_BEST = 8  # training points whose neighbourhoods are searched locally
_LOCAL_SCALE = 0.05  # sd of a local step, in units of the [0, 1] coordinates
_REFIT_GROWTH = 10  # also wait for the level's results to grow by 1/10 before refitting
_SD_BATCH = 32  # candidates whose posterior sd is computed first; then 64, 128... (best_free)


class GPSearcher(ModelSearcher):
    """GP-based Bayesian optimisation: Matérn 5/2 ARD kernel, MAP hyperparameters, EI.

    *random_search_steps* (default max(4, d + 1), d = non-constant parameters): the first
    suggestions (points to evaluate included) are random. Fitting d + 2 hyperparameters needs
    some spread-out data: d + 1 points span every coordinate once, and 4 keeps low-dimensional
    fits from resting on two or three points.

    *min_points* (default d + 1): results a resource level needs before the GP is trained on it.

    Multi-fidelity, default (MOBSTER's simplest variant, Klein et al. 2020): the GP is trained
    on the results of the highest resource level with at least min_points of them, and nothing
    else; the GP's cost is bounded by one level's results.

    *fidelity=True*: every report is data. The resource is one more input of the Matérn ARD
    kernel (log r / log of the highest resource seen, so a geometric ladder's rungs are equally
    spaced and its length scale says how far rankings carry across rungs), and all scores are
    standardised together, as MOBSTER does: the model learns how scores move with the resource.
    (Standardising each level on its own was tried and is wrong: the trials that reach a high
    level are the survivors, so their mean, the prior mean there, is a good score; the GP then
    predicted any unexplored config as good as an average survivor, with a large sd, and EI sent
    most proposals to the far corners of the space. Traced on mf-Hartmann-3 at 4 workers, 400
    simulated s: after the first 30 trials most proposals had true regret 3.5 to 3.86, the flat
    part of the function; with one standardisation the best proposal of each of 8 seeds was
    within 0.02 of the optimum.) EI is judged at the model level, against its best result, and
    pending trials lie there. Past *max_points* reports, the training set is the
    level's best max_points // 4 and the most recent reports of any level. Refits follow the
    same schedule counted in trials that reported (a trial reports at every level, and counting
    reports refitted at nearly every suggest of a stopping-type run), and also come when a
    higher resource appears.
    Measured (bench_searchers.py, 10^3 reports, 63 pending, CPU time of the process on 2
    loaded cores): median 5.3 to 5.5 ms per suggest on the 6-d space, 6.9 to 7.5 ms on the
    2-d one, where most candidates must be scored (the kernel by ``cdist``, in place).

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
    Only the candidates that can win get their posterior sd (the O(n^2)-per-candidate part):
    see :func:`best_free`.
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
        fidelity: bool = False,
    ) -> None:
        self.random_search_steps = check_optional_int(
            "random_search_steps", random_search_steps, minimum=0
        )
        self.min_points = check_optional_int("min_points", min_points, minimum=1)
        self.max_points = check_int("max_points", max_points, minimum=2)
        self.refit_every = check_int("refit_every", refit_every, minimum=1)
        self.num_candidates = check_int("num_candidates", num_candidates, minimum=1)
        self.num_local = check_int("num_local", num_local, minimum=0)
        if not isinstance(fidelity, bool):
            raise ValueError(f"fidelity must be True or False, got {fidelity!r}")
        self.fidelity = fidelity

    def describe(self) -> dict[str, Any]:
        names = ("random_search_steps", "min_points", "max_points", "refit_every")
        more = ("num_candidates", "num_local") + (("fidelity",) if self.fidelity else ())
        return {"name": type(self).__name__, **{n: getattr(self, n) for n in names + more}}

    def _setup(self) -> None:
        super()._setup()
        d = self.encoding.d
        steps = self.random_search_steps
        self._random_steps = max(4, d + 1) if steps is None else steps
        self._theta: np.ndarray | None = None
        # (model level, or with fidelity the top resource seen; the data's size) at the last fit
        self._fitted_at: tuple[int | None, int] = (None, 0)
        self._cache: tuple[Any, ...] | None = None  # ((level, version), gp, x, y, at_level)
        self._reports = Reports()
        self.n_fits = 0

    def on_result(self, trial_id: int, resource: int, metric: float) -> None:
        super().on_result(trial_id, resource, metric)
        if self.fidelity:
            score = float(metric) if self.mode == "min" else -float(metric)
            self._reports.add(self._row[trial_id], int(resource), score)

    def _propose(self, level: Level, random_config: dict[str, Any]) -> dict[str, Any] | None:
        if self.n_suggested < self._random_steps:
            return None
        with _gp_model().single_threaded_blas():
            return self._maximise_ei(level)

    def _maximise_ei(self, level: Level) -> dict[str, Any] | None:
        gp, x, y, at_level = self._trained(level)
        pending = self.pending_rows()
        model = gp.extended(self._features(pending))
        # constant liar: a pending trial scores the worst value at the level EI targets
        targets = np.r_[y, np.full(len(pending), y[at_level].max())]
        pool = self.table_pool()
        candidates = self._candidates(x[at_level], y[at_level]) if pool is None else pool
        mean, cross = model.mean(targets, self._features(candidates))
        if pool is not None:  # a table's remaining rows: none is pending
            free: Callable[[int], bool] = lambda index: True  # noqa: E731
        else:
            free = lambda index: self.is_free(candidates[index])  # noqa: E731
        index = best_free(model, mean, cross, float(y[at_level].min()), free)
        return None if index is None else self.first_free(candidates, np.array([index]))

    def _features(self, x: np.ndarray, resources: np.ndarray | None = None) -> np.ndarray:
        """GP inputs of encoded configs: one-hot categoricals, then (fidelity) the resource
        column, at ``resources`` or, by default, at the model level (where EI is judged)."""
        columns = self.encoding.onehot(x)
        if not self.fidelity:
            return columns
        if resources is None:
            resources = np.full(len(x), self.model_level, dtype=float)
        return np.hstack([columns, self._reports.resource_column(resources)[:, None]])

    def _trained(self, level: Level) -> tuple[GP, np.ndarray, np.ndarray, np.ndarray]:
        """The GP on the (capped) training set; its configs, standardised targets, and which of
        them are results at the model level (the incumbent's and the liar's level); cached."""
        version = self._reports.version if self.fidelity else level.version
        if self._theta is not None and self._cache is not None:
            key, gp, x, y, at_level = self._cache
            if key == (self.model_level, version):
                return gp, x, y, at_level
        scale: int | None
        if self.fidelity:
            x, resources, scores = self._reports.data(self._x)
            at_level = resources == self.model_level
            keep = self._reports.training_rows(scores, at_level, self.max_points)
            x, resources, at_level = x[keep], resources[keep], at_level[keep]
            inputs, scale = self._features(x, resources), self._reports.top
            n_data = self._reports.n_trials  # a trial reports at many levels: count trials
            y = _standardise(scores[keep])
        else:
            x, scores = self.level_data(level)
            keep = self._training_rows(scores)
            x, at_level = x[keep], np.ones(len(keep), dtype=bool)
            inputs, n_data, scale = self._features(x), level.n, self.model_level
            y = _standardise(scores[keep])
        fit_scale, fit_n = self._fitted_at
        if (
            self._theta is None
            or fit_scale != scale
            or n_data - fit_n >= max(self.refit_every, fit_n // _REFIT_GROWTH)
        ):
            start = _gp_model().default_theta(inputs.shape[1])
            short = np.r_[np.full(inputs.shape[1], np.log(0.1)), start[-2:]]
            starts = [start, short if self._theta is None else self._theta]
            self._theta = _gp_model().fit_theta(inputs, y, starts)
            self._fitted_at = (scale, n_data)
            self.n_fits += 1
        gp = _gp_model().GP(inputs, self._theta)
        self._cache = ((self.model_level, version), gp, x, y, at_level)
        return gp, x, y, at_level

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


def best_free(
    model: GP, mean: np.ndarray, cross: np.ndarray, best: float, free: Callable[[int], bool]
) -> int | None:
    """The candidate of highest expected improvement among the ``free`` ones (None if none is),
    ties to the one first in the order below; ``mean`` and ``cross`` are ``model.mean``'s.

    EI grows with the sd, so EI at an upper bound of the sd (``GP.sd_bound``: given the nearest
    training row alone) bounds a candidate's EI from above. Candidates are scored exactly in
    the order of that bound, 32 then 64, 128... at a time, until the best free one scored beats
    every bound left: the choice of scoring all, at the cost of the sd (O(n^2) each) of the
    few that could win. With many results in few dimensions the bound is loose and most are
    scored; measured at 10^3 reports, 32 of 320 scored on the 6-d space of bench_searchers.py.
    """
    log_ei = _gp_model().log_expected_improvement
    bound = log_ei(mean, model.sd_bound(cross), best)
    order = np.argsort(-bound, kind="stable")
    score = np.full(len(mean), -np.inf)
    done, size = 0, _SD_BATCH
    while done < len(order):
        batch, size = order[done : done + size], 2 * size
        score[batch] = log_ei(mean[batch], model.sd(cross[:, batch]), best)
        done += len(batch)
        ceiling = bound[order[done]] if done < len(order) else -np.inf
        for index in order[:done][np.argsort(-score[order[:done]], kind="stable")]:
            if score[index] < ceiling:
                break  # an unscored candidate might beat it: score more
            if free(int(index)):
                return int(index)
    return None


def _standardise(scores: np.ndarray) -> np.ndarray:
    """Scores with NaN/inf set to the worst finite one, shifted and scaled to mean 0, sd 1."""
    finite = np.isfinite(scores)
    worst = scores[finite].max() if finite.any() else 0.0
    values = np.where(finite, scores, worst)
    sd = values.std()
    return (values - values.mean()) / (sd if sd > 1e-12 else 1.0)
