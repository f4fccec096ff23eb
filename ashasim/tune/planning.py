"""What ``tune.run`` resolves from Ray Tune's arguments before anything runs: the flat space,
the metric, the trial budget, the seed, the per-result stop and the ashasim scheduler with its
searcher (``Plan``), every check made at the call."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from ashasim.search import Searcher
from ashasim.space import sample
from ashasim.tune.arguments import (
    check_config,
    choose_seed,
    metric_and_mode,
    trial_budget,
)
from ashasim.tune.checkpoints import KeepPolicy
from ashasim.tune.configs import flatten, trainable_name
from ashasim.tune.naming import TrialNaming, check_creator
from ashasim.tune.schedulers import FIFOScheduler, TrialScheduler
from ashasim.tune.search import SearchAlgorithm, resolve_search_alg
from ashasim.tune.stopping import TrialStop, compile_stop

__all__ = ["RAY_PENDING_TRIALS", "Plan", "make_plan", "unstarted_trials"]

#: Ray Tune 2.60's cap on the trials its BasicVariantGenerator creates ahead of resources
#: (``_get_max_pending_trials``: at least 200); a model-based searcher gets 1
RAY_PENDING_TRIALS = 200


@dataclass
class Plan:
    """What tune.run resolved from its arguments, before anything runs."""

    trainable: Callable[..., Any]
    prefix: str
    scheduler: TrialScheduler
    search: SearchAlgorithm
    flat: dict[str, Any]
    metric: str | None
    mode: str | None
    trials: int | None
    seed: int
    core: Any
    stop: TrialStop | None
    keep: KeepPolicy | None
    naming: TrialNaming
    limit: int | None  # trials at once at most (ConcurrencyLimiter, max_concurrent_trials)


def make_plan(
    trainable: Callable[..., Any],
    scheduler: TrialScheduler,
    search_alg: Any,
    config: Mapping[str, Any] | None,
    *,
    objective: tuple[str | None, str | None],
    num_samples: int,
    time_budget_s: float | None,
    seed: int | None,
    stop: Any,
    keep: KeepPolicy | None,
    creators: tuple[Any, Any] = (None, None),
    max_concurrent_trials: int | None = None,
) -> Plan:
    """Space, metric, trial budget, seed and the ashasim scheduler, checked at the call."""
    search = resolve_search_alg(search_alg)
    if search.space is not None and config:
        raise ValueError(
            f"the search space was given twice: to the {search.ray_name} and as config; give "
            f"it once"
        )
    flat = flatten(search.space if search.space is not None else config or {})
    metric, mode = metric_and_mode(*objective, scheduler, search)
    if metric is None and (not isinstance(scheduler, FIFOScheduler) or search.models):
        raise ValueError(
            f"{scheduler.ray_name} with {search.ray_name} needs a metric and a mode: give them "
            f"to the scheduler or to tune.run() (not both)"
        )
    trials = trial_budget(flat, num_samples, search, time_budget_s)
    seed = choose_seed(seed, search)
    check_config(sample(flat, np.random.default_rng(seed)))  # fails now, not in the run
    per_result, stop_t = compile_stop(stop, scheduler.time_attr)
    searcher = search.make(None if num_samples == -1 else num_samples)
    core = _build(scheduler, search, searcher, flat, (metric, mode), trials, seed, stop_t)
    names = (
        check_creator("trial_name_creator", creators[0]),
        check_creator("trial_dirname_creator", creators[1]),
    )
    limits = [n for n in (search.max_concurrent, max_concurrent_trials) if n is not None]
    return Plan(
        trainable,
        trainable_name(trainable),
        scheduler,
        search,
        flat,
        metric,
        mode,
        trials,
        seed,
        core,
        per_result,
        keep,
        TrialNaming(trainable_name(trainable), *names),
        min(limits) if limits else None,
    )


def unstarted_trials(plan: Plan, started: int, live: int) -> int:
    """How many trials Ray Tune would have created, and not started, when the time budget cut
    the run: what is left of the trial budget, up to its cap on pending trials (200 for the
    basic variant generator; for a model-based searcher 1, or the ConcurrencyLimiter's
    limit), and with a concurrency limit no more than it leaves beside the *live* (running or
    paused) trials (``_get_max_pending_trials`` and ``ConcurrencyLimiter`` in Ray Tune 2.60)."""
    left = RAY_PENDING_TRIALS if plan.trials is None else plan.trials - started
    cap = RAY_PENDING_TRIALS if not plan.search.models else plan.limit or 1
    if plan.limit is not None:
        cap = min(cap, plan.limit - live)
    return max(0, min(left, cap))


def _build(
    scheduler: TrialScheduler,
    search: SearchAlgorithm,
    searcher: Searcher,
    flat: dict[str, Any],
    objective: tuple[str | None, str | None],
    trials: int | None,
    seed: int,
    stop_t: int | None,
) -> Any:
    """The ashasim scheduler with its searcher; a searcher's refusal in Ray Tune's words."""
    metric, mode = objective
    points = [
        flatten(point, what=f"points_to_evaluate[{i}]")
        for i, point in enumerate(search.points_to_evaluate)
    ]
    try:
        return scheduler.build(
            flat,
            metric=metric or "training_iteration",  # FIFO + random search: nothing to optimize
            mode=mode or "max",
            max_trials=trials,
            seed=seed,
            searcher=searcher,
            points_to_evaluate=points,
            stop_t=stop_t,
        )
    except ValueError as error:
        text = str(error).replace("config_space parameter", "config parameter")
        text = text.replace(type(searcher).__name__, search.ray_name)
        raise ValueError(text.replace("a SampleFrom domain", "tune.sample_from")) from None
