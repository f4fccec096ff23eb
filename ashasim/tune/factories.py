"""Ray Tune's ``tune.create_scheduler(name, **kwargs)`` and ``tune.create_searcher(name, ...)``:
the same names as Ray Tune's tables; a name whose class ashasim refuses gives that refusal's
reason, in one line."""

from __future__ import annotations

from typing import Any

from ashasim.tune.refusals import NOT_PROVIDED, REFUSED_MODULES
from ashasim.tune.schedulers import (
    AsyncHyperBandScheduler,
    FIFOScheduler,
    HyperBandForBOHB,
    HyperBandScheduler,
)
from ashasim.tune.search import BasicVariantGenerator, BayesOptSearch, TuneBOHB

__all__ = ["create_scheduler", "create_searcher"]

_SCHEDULERS: dict[str, Any] = {
    "fifo": FIFOScheduler,
    "async_hyperband": AsyncHyperBandScheduler,
    "asynchyperband": AsyncHyperBandScheduler,
    "hyperband": HyperBandScheduler,
    "hb_bohb": HyperBandForBOHB,
}
_REFUSED_SCHEDULERS = {
    "median_stopping_rule": NOT_PROVIDED["MedianStoppingRule"],
    "medianstopping": NOT_PROVIDED["MedianStoppingRule"],
    "pbt": NOT_PROVIDED["PopulationBasedTraining"],
    "pbt_replay": NOT_PROVIDED["PopulationBasedTraining"],
    "pb2": NOT_PROVIDED["PB2"],
    "resource_changing": "changing a trial's resources while it runs is not provided",
}
_SEARCHERS: dict[str, Any] = {
    "variant_generator": BasicVariantGenerator,
    "random": BasicVariantGenerator,
    "bayesopt": BayesOptSearch,
    "bohb": TuneBOHB,
}
_REFUSED_SEARCHERS = {
    name: REFUSED_MODULES[f"search.{name}"]
    for name in ("ax", "hyperopt", "nevergrad", "optuna", "zoopt", "hebo")
}


def create_scheduler(scheduler: str, **kwargs: Any) -> Any:
    """The scheduler Ray Tune's ``create_scheduler`` names (case-insensitive), with *kwargs*."""
    return _create("scheduler", scheduler, _SCHEDULERS, _REFUSED_SCHEDULERS, kwargs)


def create_searcher(search_alg: str, **kwargs: Any) -> Any:
    """The search algorithm Ray Tune's ``create_searcher`` names (case-insensitive)."""
    return _create("search_alg", search_alg, _SEARCHERS, _REFUSED_SEARCHERS, kwargs)


def _create(
    what: str, name: Any, table: dict[str, Any], refused: dict[str, str], kwargs: dict[str, Any]
) -> Any:
    key = name.lower() if isinstance(name, str) else name
    if key in refused:
        raise ValueError(f"{what}={name!r} is not provided: {refused[key]}")
    if key not in table:
        raise ValueError(f"{what} must be one of {sorted(table)}, got {name!r}")
    return table[key](**kwargs)
