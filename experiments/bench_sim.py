"""Benchmark: simulated epochs per second beside bare SimPy timeouts (the floor), in one run.

Scenarios, each for 4, 64 and 1024 workers:

* ``clock``: random search on a constant workload (1 s per epoch, jobs of 1000 epochs): what the
  SimPy clock itself costs per epoch (a worker step, a report, an event record) on top of a bare
  ``env.timeout``. The goal is a rate >= 0.5 of the floor's.
* ``asha``: ASHA (promotion type, eta = 3, grace 1, max_t 81) on a simple curve workload (epoch
  times and metrics from a hash of the trial: ``experiments.peers.work``), where most jobs last
  1-2 epochs, so trial creation, the rung store and the per-job events weigh in. Goal: >= 0.35.
* ``asha-lc``: the same ASHA on the LeNet-calibrated ``LearningCurves`` workload (whose own
  per-epoch and per-trial arithmetic is part of the time).

The floor is the same number of bare timeouts spread over as many SimPy processes, timed in the
same run. Times are CPU time of this process (``time.process_time``): the machines these run on
are shared, and wall-clock time would count the other processes' load. ``--journal`` repeats each
run writing every event to ``journal.jsonl`` as it happens.

``--scale`` adds, for 10^4 and 10^5 trials (``--scale-trials 10000 100000 1000000`` for 10^6)
on 64 and 1,024 workers, the CPU time and the memory of a whole ASHA run (promotion type, the
``asha`` scenario's work, until the trials have finished), each in a fresh process: the peak of
Python memory during the run (``tracemalloc``, in a second, untimed run), per event journaled
and per trial, and the process's peak resident memory after the timed run (interpreter and
imports included).

``--peers`` adds simulators side by side on the same work (``experiments/peers.py``, skipped with a
message when not installed): trials per CPU second until 10^4 trials have finished, ashasim's ASHA
(both types), Syne Tune's simulator backend with its ASHA (stopping type) and mfhpo-simulator
(ashasim's ASHA as its optimizer), on 4 and 64 workers.

    python experiments/bench_sim.py [--epochs 100000 1000000] [--workers 4 64 1024] [--scale]
                                    [--peers]
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
import tracemalloc
from typing import Any

import simpy

from ashasim._gc import cyclic_gc_paused
from ashasim.core import ASHA, RandomSearch
from ashasim.events import JobStarted, Reported, Trace
from ashasim.sim import LearningCurves, simulate
from ashasim.sim.costs import CostModel, EpochFn

# run as a script, experiments/ is on the path and the repository root may not be
try:
    from experiments import peers
except ModuleNotFoundError:
    import peers  # type: ignore[no-redef]

MAX_T = 81
_CALLS = (JobStarted, Reported)  # the events that are scheduler calls in a fault-free run


class Constant(CostModel):
    """Every epoch takes one second and reaches the same metric: no workload cost at all."""

    def epoch_fn(self, seed: int) -> EpochFn:
        return lambda trial_id, config, epoch: (1.0, 0.5)


class Work(CostModel):
    """``experiments.peers.work``: the simple curves every simulator in the peer table runs."""

    def epoch_fn(self, seed: int) -> EpochFn:
        return lambda trial_id, config, epoch: peers.work(trial_id, epoch)


def bare_simpy(n_workers: int, n_timeouts: int) -> float:
    """CPU seconds for n_timeouts zero-work timeouts over n_workers processes."""
    env = simpy.Environment()
    per_worker = n_timeouts // n_workers

    def process(env: simpy.Environment):
        for _ in range(per_worker):
            yield env.timeout(1.0)

    for _ in range(n_workers):
        env.process(process(env))
    start = time.process_time()
    env.run()
    return time.process_time() - start


def asha(space: dict[str, Any], kind: str = "promotion", **options: Any) -> ASHA:
    return ASHA(space, type=kind, max_t=MAX_T, grace_period=1, reduction_factor=3, **options)


def scenario(name: str, n_workers: int, n_epochs: int) -> tuple[Any, CostModel, float]:
    """(scheduler, workload, max_time) that simulate about n_epochs epochs."""
    if name == "clock":
        return RandomSearch({"x": 0}, max_t=1000), Constant(), n_epochs / n_workers + 0.5
    workload = LearningCurves(max_epochs=MAX_T) if name == "asha-lc" else Work()
    space = workload.config_space or {"x": 0}
    probe = simulate(asha(space), workload, n_workers, max_time=100.0)
    rate = len(probe.results) / 100.0  # epochs per simulated second, all workers together
    return asha(space), workload, n_epochs / rate


def timed(name: str, n_workers: int, n_epochs: int, journal: bool) -> tuple[int, float]:
    scheduler, workload, max_time = scenario(name, n_workers, n_epochs)
    with tempfile.TemporaryDirectory() as directory:
        start = time.process_time()
        path = directory if journal else None
        trace = simulate(scheduler, workload, n_workers, max_time=max_time, journal=path)
        seconds = time.process_time() - start
    return len(trace.results), seconds


def budget_table(workers: list[int], n_epochs: int) -> None:
    """Where the ``asha`` scenario's CPU time goes, per simulated epoch: the run, then its parts
    replayed alone from its trace (the scheduler answering the same calls, the workload computing
    the same epochs, a fresh trace recording the same events), the rest being the clock and the
    driver. The ceiling is the ratio to bare SimPy the simulator would reach if the clock and the
    driver cost nothing beyond one bare timeout per job."""
    print(
        f"\n{'asha':<8} {'workers':>7} {'epochs':>8} {'jobs':>7} {'run':>6} {'sched':>6} "
        f"{'work':>6} {'trace':>6} {'rest':>6} {'floor':>6} {'ratio':>6} {'ceiling':>7}"
        "   (us per epoch, CPU)"
    )
    for n_workers in workers:
        scheduler, workload, max_time = scenario("asha", n_workers, n_epochs)
        start = time.process_time()
        trace = simulate(scheduler, workload, n_workers, max_time=max_time)
        run = time.process_time() - start
        epochs, jobs = len(trace.results), sum(type(e) is JobStarted for e in trace.events)
        parts = [replay_seconds(trace, part, workload) for part in ("sched", "work", "trace")]
        floor = bare_simpy(n_workers, epochs) / epochs  # seconds per bare timeout
        us = [1e6 * x / epochs for x in (run, *parts, run - sum(parts))]
        ceiling = epochs * floor / (sum(parts) + jobs * floor)
        print(
            f"{'':<8} {n_workers:>7} {epochs:>8,} {jobs:>7,} "
            + " ".join(f"{x:>6.2f}" for x in (*us, 1e6 * floor))
            + f" {epochs * floor / run:>6.2f} {ceiling:>7.2f}",
            flush=True,
        )


def replay_seconds(trace: Trace, part: str, workload: CostModel) -> float:
    """CPU seconds of one part of a simulated ASHA run, replayed alone from its trace (with the
    cycle collector paused, as during the run)."""
    events = trace.events
    configs = {e.trial_id: e.config for e in events if type(e) is JobStarted}
    with cyclic_gc_paused():
        if part == "sched":  # the journal holds the scheduler's calls in the order it got them
            fresh = asha({"x": 0})
            suggest, report = fresh.suggest, fresh.report
            calls = [None if type(e) is JobStarted else e[2:5] for e in events if type(e) in _CALLS]
            start = time.process_time()
            for call in calls:
                suggest() if call is None else report(*call)
        elif part == "work":
            epoch = workload.epoch_fn(0)
            levels = [
                (e.trial_id, configs[e.trial_id], e.resource) for e in events if type(e) is Reported
            ]
            start = time.process_time()
            for level in levels:
                epoch(*level)
        else:
            record = Trace(trace.info).record
            start = time.process_time()
            for event in events:
                record(event)
        return time.process_time() - start


def peer_table(n_trials: int, workers: list[int]) -> None:

    header = "simulator (the same work, until the trials finish)"
    print(f"\n{header:<52} {'workers':>7} {'trials':>7} {'trials/s':>9}")
    rows = [
        ("ashasim ASHA (stopping)", lambda w: ashasim_trials_per_second("stopping", w, n_trials)),
        ("ashasim ASHA (promotion)", lambda w: ashasim_trials_per_second("promotion", w, n_trials)),
        (
            "Syne Tune simulator backend, its ASHA (stopping)",
            lambda w: peers.syne_tune_trials_per_second(n_trials, w, max_t=MAX_T),
        ),
        (
            "mfhpo-simulator, ashasim ASHA (promotion)",
            lambda w: peers.mfhpo_trials_per_second(n_trials, w, max_t=MAX_T),
        ),
    ]
    for n_workers in workers:
        for label, measure in rows:
            try:
                rate = measure(n_workers)
            except peers.PeerMissingError as missing:
                print(f"{label:<52} {n_workers:>7} {n_trials:>7}  skipped: {missing}")
                continue
            print(f"{label:<52} {n_workers:>7} {n_trials:>7} {rate:>9,.0f}", flush=True)


def ashasim_trials_per_second(kind: str, n_workers: int, n_trials: int) -> float:
    """ashasim until n_trials trials have finished: trials per CPU second."""
    scheduler = asha({"x": 0}, kind, max_trials=n_trials)
    start = time.process_time()
    trace = simulate(scheduler, Work(), n_workers)
    return len(trace.trial_ids) / (time.process_time() - start)


def scale_cell(n_trials: int, n_workers: int) -> dict[str, float]:
    """One ASHA run to n_trials trials, in this process: CPU seconds, events and the process's
    peak RSS after it; then the same run again under ``tracemalloc``, for its peak of Python
    memory (tracemalloc's own bookkeeping would inflate the RSS, hence the order)."""
    simulate(asha({"x": 0}, max_trials=50), Work(), 4)  # warm-up: imports, caches
    start = time.process_time()
    trace = simulate(asha({"x": 0}, max_trials=n_trials), Work(), n_workers)
    seconds, events = time.process_time() - start, len(trace)
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # KiB on Linux
    del trace
    tracemalloc.start()
    simulate(asha({"x": 0}, max_trials=n_trials), Work(), n_workers)
    _, traced = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return {"seconds": seconds, "events": events, "bytes": traced, "peak": rss}


def scale_table(trial_counts: list[int], workers: list[int]) -> None:
    print(
        f"\n{'ASHA run':<8} {'trials':>9} {'workers':>7} {'events':>10} {'CPU s':>7} "
        f"{'peak MB':>8} {'RSS MB':>7} {'B/event':>8} {'B/trial':>8}"
    )
    for n_trials in trial_counts:
        for n_workers in workers:
            command = [sys.executable, __file__, "--scale-cell", str(n_trials), str(n_workers)]
            cell = json.loads(subprocess.run(command, capture_output=True, check=True).stdout)
            print(
                f"{'':<8} {n_trials:>9,} {n_workers:>7} {cell['events']:>10,} "
                f"{cell['seconds']:>7.1f} {cell['bytes'] / 2**20:>8.0f} "
                f"{cell['peak'] / 2**20:>7.0f} "
                f"{cell['bytes'] / cell['events']:>8.0f} {cell['bytes'] / n_trials:>8.0f}",
                flush=True,
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--workers", type=int, nargs="+", default=[4, 64, 1024])
    parser.add_argument("--scenarios", nargs="+", default=["clock", "asha", "asha-lc"])
    parser.add_argument("--journal", action="store_true", help="also time journaled runs")
    parser.add_argument("--peers", action="store_true", help="Syne Tune and mfhpo-simulator")
    parser.add_argument("--peer-trials", type=int, default=10_000)
    parser.add_argument("--peer-workers", type=int, nargs="+", default=[4, 64])
    parser.add_argument("--budget", action="store_true", help="where an ASHA epoch's time goes")
    parser.add_argument("--scale", action="store_true", help="time and memory at scale")
    parser.add_argument("--scale-trials", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--scale-workers", type=int, nargs="+", default=[64, 1024])
    parser.add_argument("--scale-cell", type=int, nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.scale_cell:
        print(json.dumps(scale_cell(*args.scale_cell)))
        return
    line = (
        f"{'scenario':<8} {'workers':>7} {'epochs':>9} {'floor ep/s':>11} {'sim ep/s':>10} "
        f"{'ratio':>6} {'sim s':>6}"
    )
    print(line + (f" {'journal ep/s':>13} {'ratio':>6}" if args.journal else ""))
    for n_epochs in args.epochs:
        for name in args.scenarios:
            for n_workers in args.workers:
                done, seconds = timed(name, n_workers, n_epochs, journal=False)
                floor_rate = done / bare_simpy(n_workers, done)
                line = (
                    f"{name:<8} {n_workers:>7} {done:>9,} {floor_rate:>11,.0f} "
                    f"{done / seconds:>10,.0f} {done / seconds / floor_rate:>6.2f} {seconds:>6.1f}"
                )
                if args.journal:
                    done_j, seconds_j = timed(name, n_workers, n_epochs, journal=True)
                    rate_j = done_j / seconds_j
                    line += f" {rate_j:>13,.0f} {rate_j / floor_rate:>6.2f}"
                print(line, flush=True)
    if args.budget:
        budget_table(args.workers, args.epochs[0])
    if args.scale:
        scale_table(args.scale_trials, args.scale_workers)
    if args.peers:
        peer_table(args.peer_trials, args.peer_workers)


if __name__ == "__main__":
    main()
