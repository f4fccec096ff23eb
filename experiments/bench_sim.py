"""Benchmark: simulated epochs per second, beside bare SimPy timeouts (the floor), in one run.

Two scenarios, each for 4, 64 and 1024 workers:

* ``clock``: random search on a constant workload (1 s per epoch, long jobs): what the SimPy
  clock itself costs per epoch (a worker process step, a report, an event record) on top of a
  bare ``env.timeout``. The goal is a rate >= half the floor's.
* ``asha``: ASHA (promotion type, eta = 3, grace 1, max_t 81) on the LeNet-calibrated
  ``LearningCurves`` workload: a realistic run, where most jobs last one or two epochs, so the
  scheduler's O(log n) rung bookkeeping and the per-job events weigh in too.

The floor is the same number of bare timeouts spread over as many SimPy processes, timed in the
same run. "journal" repeats the run writing every event to ``journal.jsonl`` as it happens.

    python experiments/bench_sim.py [--epochs 100000 1000000] [--workers 4 64 1024]
"""

from __future__ import annotations

import argparse
import tempfile
import time

import simpy

from ashasim.core import ASHA, RandomSearch
from ashasim.sim import LearningCurves, simulate
from ashasim.sim.costs import CostModel, EpochFn


class Constant(CostModel):
    """Every epoch takes one second and reaches the same metric: no workload cost at all."""

    def epoch_fn(self, seed: int) -> EpochFn:
        return lambda trial_id, config, epoch: (1.0, 0.5)


def bare_simpy(n_workers: int, n_timeouts: int) -> float:
    """Seconds for n_timeouts zero-work timeouts over n_workers processes."""
    env = simpy.Environment()
    per_worker = n_timeouts // n_workers

    def process(env: simpy.Environment):
        for _ in range(per_worker):
            yield env.timeout(1.0)

    for _ in range(n_workers):
        env.process(process(env))
    start = time.perf_counter()
    env.run()
    return time.perf_counter() - start


def scenario(name: str, n_workers: int, n_epochs: int):
    """(scheduler, workload, max_time) that simulate about n_epochs epochs."""
    if name == "clock":
        return RandomSearch({"x": 0}, max_t=1000), Constant(), n_epochs / n_workers + 0.5
    workload = LearningCurves(max_epochs=81)

    def asha() -> ASHA:
        return ASHA(
            workload.config_space, type="promotion", max_t=81, grace_period=1, reduction_factor=3
        )

    probe = simulate(asha(), workload, n_workers, max_time=100.0)
    rate = len(probe.results) / 100.0  # epochs per simulated second, all workers together
    return asha(), workload, n_epochs / rate


def timed(name: str, n_workers: int, n_epochs: int, journal: bool) -> tuple[int, float]:
    scheduler, workload, max_time = scenario(name, n_workers, n_epochs)
    with tempfile.TemporaryDirectory() as directory:
        start = time.perf_counter()
        path = directory if journal else None
        trace = simulate(scheduler, workload, n_workers, max_time=max_time, journal=path)
        seconds = time.perf_counter() - start
    return len(trace.results), seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--workers", type=int, nargs="+", default=[4, 64, 1024])
    parser.add_argument("--scenarios", nargs="+", default=["clock", "asha"])
    parser.add_argument("--no-journal", action="store_true", help="skip the journaled runs")
    args = parser.parse_args()
    print(
        f"{'scenario':<8} {'workers':>7} {'epochs':>9} {'floor ep/s':>11} {'sim ep/s':>10} "
        f"{'ratio':>6} {'sim s':>6} {'journal ep/s':>13} {'ratio':>6}"
    )
    for n_epochs in args.epochs:
        for name in args.scenarios:
            for n_workers in args.workers:
                floor_rate = n_epochs / bare_simpy(n_workers, n_epochs)
                done, seconds = timed(name, n_workers, n_epochs, journal=False)
                line = (
                    f"{name:<8} {n_workers:>7} {done:>9,} {floor_rate:>11,.0f} "
                    f"{done / seconds:>10,.0f} {done / seconds / floor_rate:>6.2f} {seconds:>6.1f}"
                )
                if not args.no_journal:
                    done_j, seconds_j = timed(name, n_workers, n_epochs, journal=True)
                    rate_j = done_j / seconds_j
                    line += f" {rate_j:>13,.0f} {rate_j / floor_rate:>6.2f}"
                print(line, flush=True)


if __name__ == "__main__":
    main()
