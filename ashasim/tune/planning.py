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
from ashasim.tune.schedulers import FIFOScheduler, TrialScheduler
from ashasim.tune.search import SearchAlgorithm, resolve_search_alg
from ashasim.tune.stopping import TrialStop, compile_stop

__all__ = ["Plan", "make_plan"]


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
    )


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
