"""Benchmark: scheduler decisions per second as the number of trials grows.

A *decision* is one ``suggest()`` or ``report()`` call. ASHA (both types, eta = 3, grace 1,
max_t 81) is driven by 32 simulated workers that finish in a random order, on synthetic learning
curves, for 10^3, 10^4 and 10^5 trials. Beside it, a brute-force promotion rule that re-sorts the
rung on every call (what ``np.percentile``-per-report implementations cost) shows what O(n) per
decision looks like; it runs only up to 10^4 trials, because it is quadratic.

    python experiments/bench_core.py [--trials 1000 10000 100000] [--no-naive]
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from ashasim.core import ASHA, Decision
from ashasim.core.rungs import Rung

SPACE = {"x": 0}  # configs play no part in the cost of a decision


def curve(trial_id: int, epoch: int) -> float:
    """A synthetic learning curve: a trial-dependent floor plus a power-law decay."""
    rng = np.random.default_rng(trial_id)
    floor, scale = rng.uniform(0.05, 0.5), rng.uniform(0.2, 1.0)
    return floor + scale * epoch**-0.5


def drive(scheduler, n_workers: int = 32, seed: int = 0) -> tuple[int, float]:
    """Run until the scheduler is done; return (decisions, seconds spent inside the scheduler)."""
    rng = np.random.default_rng(seed)
    running: list[list[int]] = []  # [trial_id, resource, milestone]
    decisions = 0
    spent = 0.0
    while True:
        while len(running) < n_workers:
            start = time.perf_counter()
            job = scheduler.suggest()
            spent += time.perf_counter() - start
            decisions += 1
            if job is None:
                break
            running.append([job.trial_id, job.resume_from, job.milestone])
        if not running:
            return decisions, spent
        index = int(rng.integers(len(running)))
        entry = running[index]
        entry[1] += 1
        value = curve(entry[0], entry[1])
        start = time.perf_counter()
        decision = scheduler.report(entry[0], entry[1], value)
        spent += time.perf_counter() - start
        decisions += 1
        if decision is Decision.STOP or entry[1] == entry[2]:
            running[index] = running[-1]
            running.pop()


class NaiveRung(Rung):
    """The same rule computed the slow way: sort the whole rung at every check (O(n log n))."""

    def promotable(self) -> int | None:
        ranked = sorted(self._keys.values())
        quota = len(ranked) // self.reduction_factor
        candidates = set(self._candidates)
        return next((key[1] for key in ranked[:quota] if key in candidates), None)

    def add(self, trial_id: int, trial_score: float, *, candidate: bool) -> int:
        super().add(trial_id, trial_score, candidate=candidate)
        return sorted(self._keys.values()).index((trial_score, trial_id))


def make(kind: str, trials: int, naive: bool = False) -> ASHA:
    scheduler = ASHA(
        SPACE, type=kind, max_t=81, grace_period=1, reduction_factor=3, max_trials=trials
    )
    if naive:
        for bracket in scheduler._brackets:
            bracket.rungs = [NaiveRung(rung.level, rung.reduction_factor) for rung in bracket.rungs]
    return scheduler


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, nargs="+", default=[1000, 10_000, 100_000])
    parser.add_argument("--no-naive", action="store_true", help="skip the brute-force baseline")
    args = parser.parse_args()
    print(f"{'type':<10} {'trials':>8} {'decisions':>10} {'dec/s':>11} {'us/dec':>7}  naive us/dec")
    for kind in ("promotion", "stopping"):
        for trials in args.trials:
            decisions, spent = drive(make(kind, trials))
            naive = ""
            if not args.no_naive and trials <= 10_000:
                naive_decisions, naive_spent = drive(make(kind, trials, naive=True))
                assert naive_decisions == decisions  # same rule, same run
                naive = f"{1e6 * naive_spent / naive_decisions:12.1f}"
            print(
                f"{kind:<10} {trials:>8} {decisions:>10} {decisions / spent:>11,.0f} "
                f"{1e6 * spent / decisions:>7.2f}  {naive}"
            )


if __name__ == "__main__":
    main()
