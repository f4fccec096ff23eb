"""Benchmark: what one ``suggest()`` costs as a searcher's observations grow (10^2, 10^3, 10^4).

The worst case for a model-based searcher is measured: all observations at one resource level
(so the model is fitted on all of them, up to its cap), 63 other trials pending (a 64-worker run),
and one new result at the model level before every timed ``suggest`` (so the KDE re-sorts its
level and the GP refactors; every ``refit_every``-th result also refits the GP's
hyperparameters: the *mean* column includes those refits, the *median* column is a typical call).

``gp-mf`` is ``GPSearcher(fidelity=True)``, whose observations are every report: they are spread
over levels 1, 3 and 9 (one trial in three promoted, as in ASHA), so its training set mixes levels.

The observations are built through the protocol (suggest, on_result, on_end) with the model
switched off, so filling 10^4 of them does not time the model 10^4 times; random search's cost
is the reference. Two spaces: the chapter's LeNet space (learning_rate loguniform(1e-2, 1),
batch_size randint(32, 256)) and a 6-d mixed space (reals, log-reals, integers, a choice, a
grid_search).

Last, a whole asynchronous run: 64 workers, 10^4 trials, with the KDE searcher (the searcher's
share of a 64-worker BOHB-style simulation).

    python experiments/bench_searchers.py [--observations 100 1000 10000] [--calls 30] [--no-run]
        [--cpu]

``--cpu`` times with this process's CPU time instead of the wall clock: on shared, busy cores it
leaves out the time other processes take, so two versions compare.
"""

from __future__ import annotations

import argparse
import math
import statistics
import time

import numpy as np

from ashasim import space
from ashasim.search import GPSearcher, KDESearcher, RandomSearcher, Searcher

SPACES = {
    "lenet 2-d": {
        "learning_rate": space.loguniform(1e-2, 1.0),
        "batch_size": space.randint(32, 256),
        "max_epochs": 10,
    },
    "mixed 6-d": {
        "learning_rate": space.loguniform(1e-4, 1.0),
        "momentum": space.uniform(0.0, 0.99),
        "batch_size": space.randint(16, 512),
        "width": space.lograndint(8, 1024),
        "optimizer": space.choice(["sgd", "adam", "rmsprop"]),
        "activation": space.grid_search(["relu", "tanh"]),
        "max_epochs": 10,
    },
}
WORKERS = 64
_clock = time.perf_counter  # --cpu: time.process_time


def metric(config: dict) -> float:
    """A smooth synthetic validation error with an optimum inside the space."""
    value = (math.log10(config["learning_rate"]) + 1.5) ** 2
    value += ((config["batch_size"] - 96) / 100) ** 2
    if "optimizer" in config:
        value += 0.3 * (config["optimizer"] != "adam") + 0.1 * (config["activation"] == "tanh")
        value += (config["momentum"] - 0.9) ** 2 + (math.log2(config["width"]) - 7) ** 2 / 20
    return value


def _levels(trial_id: int, ladder: bool) -> tuple[int, ...]:
    """Levels a finished trial reports at: 1 alone, or (ladder) also 3 for one trial in three
    and 9 for one in nine, as promotions in an ASHA run would."""
    if not ladder:
        return (1,)
    return (1, 3, 9)[: 1 + (trial_id % 3 == 0) + (trial_id % 9 == 0)]


def measure(
    searcher: Searcher, config_space: dict, n_obs: int, calls: int, *, ladder: bool = False
) -> tuple:
    """(median ms, mean ms) per suggest and mean µs per on_result, at n_obs observations
    (reports: with ``ladder``, spread over levels 1, 3 and 9, for the multi-fidelity GP, whose
    training set is every report)."""
    searcher.configure(config_space, mode="min", rng=np.random.default_rng(0))
    model_off = hasattr(searcher, "_propose")
    if model_off:
        searcher._propose = lambda level, config: None  # fill with random proposals
    trial_id = reports = 0
    while reports < n_obs:
        value = metric(searcher.suggest(trial_id))
        for level in _levels(trial_id, ladder)[: n_obs - reports]:
            searcher.on_result(trial_id, level, value / level)
            reports += 1
        searcher.on_end(trial_id)
        trial_id += 1
    running = []
    for _ in range(WORKERS - 1):  # the other workers' trials, pending
        running.append((trial_id, searcher.suggest(trial_id)))
        trial_id += 1
    if model_off:
        del searcher._propose
    suggest_ms, result_us = [], []
    for _ in range(calls):
        done, config = running.pop(0)
        start = _clock()
        searcher.on_result(done, 1, metric(config))
        result_us.append((_clock() - start) * 1e6)
        searcher.on_end(done)
        start = _clock()
        config = searcher.suggest(trial_id)
        suggest_ms.append((_clock() - start) * 1e3)
        running.append((trial_id, config))
        trial_id += 1
    return statistics.median(suggest_ms), statistics.fmean(suggest_ms), statistics.median(result_us)


def asynchronous_run(searcher: Searcher, config_space: dict, n_trials: int) -> float:
    """Seconds spent inside the searcher over a 64-worker run of n_trials trials.

    Each finished trial reports at level 1; one in three also at level 3 and one in nine at
    level 9 (as if promoted), so the model climbs levels as an ASHA run's would.
    """
    searcher.configure(config_space, mode="min", rng=np.random.default_rng(0))
    spent, running, trial_id = 0.0, [], 0
    start = _clock()
    while trial_id < WORKERS:
        running.append((trial_id, searcher.suggest(trial_id)))
        trial_id += 1
    spent += _clock() - start
    while running:
        done, config = running.pop(0)
        value = metric(config)
        start = _clock()
        for level in (1, 3, 9)[: 1 + (done % 3 == 0) + (done % 9 == 0)]:
            searcher.on_result(done, level, value / level)
        searcher.on_end(done)
        if trial_id < n_trials:
            running.append((trial_id, searcher.suggest(trial_id)))
            trial_id += 1
        spent += _clock() - start
    return spent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--observations", type=int, nargs="+", default=[100, 1000, 10000])
    parser.add_argument("--calls", type=int, default=30, help="timed suggest calls per cell")
    parser.add_argument("--run-trials", type=int, default=10000, help="trials in the KDE run")
    parser.add_argument("--no-run", action="store_true", help="skip the 64-worker KDE run")
    parser.add_argument("--cpu", action="store_true", help="time with process CPU time")
    args = parser.parse_args()
    global _clock
    _clock = time.process_time if args.cpu else time.perf_counter
    searchers = {
        "random": RandomSearcher,
        "kde": KDESearcher,
        "gp": GPSearcher,
        "gp-mf": lambda: GPSearcher(fidelity=True),
    }
    header = (
        f"{'space':<10} {'searcher':<7} {'observations':>12} "
        f"{'suggest median ms':>18} {'suggest mean ms':>16} {'on_result median us':>20}"
    )
    print(header)
    print("-" * len(header))
    for space_name, config_space in SPACES.items():
        for name, cls in searchers.items():
            for n_obs in args.observations:
                ladder = name == "gp-mf"
                cell = measure(cls(), config_space, n_obs, args.calls, ladder=ladder)
                median, mean, result = cell
                print(
                    f"{space_name:<10} {name:<7} {n_obs:>12} "
                    f"{median:>18.3f} {mean:>16.3f} {result:>20.1f}"
                )
    if not args.no_run:
        for space_name, config_space in SPACES.items():
            seconds = asynchronous_run(KDESearcher(), config_space, args.run_trials)
            print(
                f"KDE, {WORKERS} workers, {args.run_trials} trials, {space_name}: "
                f"{seconds:.1f} s inside the searcher"
            )


if __name__ == "__main__":
    main()
