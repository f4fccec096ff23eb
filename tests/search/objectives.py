"""Synthetic objectives and the sequential loop the model-vs-random tests share."""

from __future__ import annotations

from typing import Any

import numpy as np

from ashasim import space
from ashasim.search import Searcher

BOWL_SPACE = {"x": space.uniform(-5.0, 5.0), "y": space.uniform(-5.0, 5.0), "epochs": 1}


def bowl(config: dict) -> float:
    """A quadratic bowl with its minimum 0 at (1, -2): the regret is the value itself."""
    return (config["x"] - 1.0) ** 2 + (config["y"] + 2.0) ** 2


BOWL6_SPACE = {f"x{i}": space.uniform(-5.0, 5.0) for i in range(6)}


def bowl6(config: dict) -> float:
    """A 6-d quadratic bowl with its minimum 0 at (1, ..., 1)."""
    return sum((config[f"x{i}"] - 1.0) ** 2 for i in range(6))


def best_after(
    searcher: Searcher, seed: int, n: int = 60, *, config_space=BOWL_SPACE, objective=bowl
) -> float:
    """Sequential search: suggest, report at one resource level, end; the best value seen."""
    searcher.configure(config_space, mode="min", rng=np.random.default_rng(seed))
    best = np.inf
    for trial_id in range(n):
        value = objective(searcher.suggest(trial_id))
        searcher.on_result(trial_id, 1, value)
        searcher.on_end(trial_id)
        best = min(best, value)
    return best


TWO_LEVEL_SPACE = {"x": space.uniform(0.0, 1.0), "y": space.uniform(0.0, 1.0)}


def two_levels(searcher: Searcher, n_top: int) -> list[dict]:
    """30 results at level 1 that favour (0.2, 0.2), then n_top of those trials at level 3 where
    (0.8, 0.8) wins (a config that looks good early is not the one that wins at the full budget);
    returns 20 model proposals made after that, each withdrawn (failed) so none stays pending."""
    searcher.configure(TWO_LEVEL_SPACE, mode="min", rng=np.random.default_rng(5))
    configs = [searcher.suggest(t) for t in range(30)]
    for trial_id, c in enumerate(configs):
        searcher.on_result(trial_id, 1, (c["x"] - 0.2) ** 2 + (c["y"] - 0.2) ** 2)
    for trial_id, c in enumerate(configs[:n_top]):
        searcher.on_result(trial_id, 3, (c["x"] - 0.8) ** 2 + (c["y"] - 0.8) ** 2)
    proposals = []
    for trial_id in range(100, 120):
        proposals.append(searcher.suggest(trial_id))
        searcher.on_failure(trial_id)
    return proposals


def hartmann3_asha(searcher: Searcher, seed: int, budget: float) -> tuple[Any, Any]:
    """(the benchmark, the trace) of a 4-worker stopping-type ASHA run (grace period 1, eta 3,
    max_t 27) on the multi-fidelity Hartmann-3 for ``budget`` simulated seconds, as
    experiments/searchers.py runs it."""
    from ashasim.core import make_scheduler
    from ashasim.sim import simulate
    from ashasim.sim.synthetic import MultiFidelityFunction

    bench = MultiFidelityFunction("hartmann3")
    scheduler = make_scheduler(
        "asha-stopping",
        bench.config_space,
        max_t=27,
        grace_period=1,
        reduction_factor=3,
        seed=seed,
        searcher=searcher,
    )
    return bench, simulate(scheduler, bench, 4, max_time=budget, seed=seed)
