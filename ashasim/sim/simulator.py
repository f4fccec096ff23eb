"""The SimPy clock: replay cost-modeled trials on N simulated workers (ARCHITECTURE §4).

Theory of operation
-------------------
The loop itself is the one driver's (``ashasim.driver``): dispatch, reports, the held milestone
report, the stall check, cancellation and journaling all live there. This clock only says how a
job's epochs happen in simulated time. Each worker is a SimPy process: it waits for a job, trains
its epochs (one ``timeout`` per epoch, the cost model says how long), hands each report to the
driver, and ends the job at its milestone or on STOP.

Jobs are handed out by a *dispatch* that runs after every event of the current instant has been
processed (a zero-delay timeout scheduled behind them). So when several workers become free at
once, all their reports reach the scheduler first, and the lowest-index free worker gets the first
job: the worker that just finished does not jump the queue, as in the chapter's figures, and a run
is a deterministic function of its seed. A free worker waits on its own SimPy event, which only a
dispatch triggers; a dispatch is requested whenever the scheduler's state may have changed (a
report while some worker is free, a job end). Nothing polls.
"""

from __future__ import annotations

import contextlib
import gc
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import simpy

from ashasim.checks import check_int, check_number
from ashasim.core.jobs import Decision, Job, Scheduler
from ashasim.driver import Driver, check_bounded, check_scheduler, run_header
from ashasim.events import JOURNAL, Trace
from ashasim.progress import Progress
from ashasim.sim.costs import CostModel

__all__ = ["simulate"]


def simulate(
    scheduler: Scheduler,
    costs: CostModel,
    n_workers: int,
    *,
    max_time: float | None = None,
    max_trials: int | None = None,
    seed: int = 0,
    journal: str | os.PathLike[str] | None = None,
    progress: bool = False,
) -> Trace:
    """Run ``scheduler`` on ``n_workers`` simulated workers whose epochs ``costs`` models.

    *max_time*: stop at this simulated time; jobs still running are cancelled (their partial
    epoch is lost). *max_trials*: start at most this many trials (lowers the scheduler's budget).
    The run also ends when the scheduler is done; one of the three must bound it. *seed* seeds the
    cost model's noise (the scheduler has its own seed). *journal*: an experiment directory (or a
    ``.jsonl`` path) to journal every event to as it happens. *progress*: a status line on stderr.
    """
    check_scheduler(scheduler)
    check_int("n_workers", n_workers, minimum=1)
    if max_time is not None:
        check_number("max_time", max_time, minimum=0, strict=True)
    check_int("seed", seed, minimum=0)
    if not isinstance(costs, CostModel):
        raise ValueError(f"costs must be an ashasim.sim CostModel, got {costs!r}")
    if max_trials is not None:
        scheduler.limit_trials(check_int("max_trials", max_trials, minimum=1))
    check_bounded(scheduler, time_limit=max_time, what="max_time")
    extra = {
        "workload": costs.describe(),
        "seed": seed,
        "max_time": max_time,
        "max_trials": scheduler.max_trials,
    }
    header = run_header(scheduler, n_workers, "simulated", extra)
    trace = Trace(header, journal=_journal_path(journal))
    try:
        with _cyclic_gc_paused():
            _Clock(Driver(scheduler, trace, n_workers), costs, seed, progress).run(max_time)
    finally:
        trace.close()
    return trace


@contextlib.contextmanager
def _cyclic_gc_paused() -> Iterator[None]:
    """Pause Python's cycle collector while the clock runs (reference counting still frees
    everything that is not a cycle).

    Why: each full collection walks every event the trace holds, so on long runs it took 35-60%
    of the time (10^6 epochs, ``experiments/bench_sim.py``). Nothing is lost by pausing it: a
    simulation makes no cycles per epoch or job (measured: the same few thousand objects, the
    SimPy environment's own, are collected after a run whether the collector ran or not).
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _journal_path(journal: str | os.PathLike[str] | None) -> Path | None:
    if journal is None:
        return None
    path = Path(journal)
    return path if path.suffix == ".jsonl" else path / JOURNAL


class _Clock:
    """SimPy processes, one per worker, around the driver."""

    def __init__(self, driver: Driver, costs: CostModel, seed: int, progress: bool) -> None:
        self.env = simpy.Environment()
        self.driver = driver
        self.costs = costs
        self.epoch = costs.epoch_fn(seed)
        self.wakeups: list[Any] = [None] * driver.n_workers
        self.dispatch_pending = False
        self.progress = Progress("simulate", quiet=not progress)
        self.max_time: float | None = None
        for worker in range(driver.n_workers):
            self.env.process(self.work(worker))
        self.request_dispatch()

    def run(self, max_time: float | None) -> None:
        self.max_time = max_time
        try:
            self.env.run(until=max_time)
        finally:
            self.progress.close()
        self.driver.cancel(self.env.now if max_time is None else max_time)

    def request_dispatch(self) -> None:
        if not self.dispatch_pending:
            self.dispatch_pending = True
            self.env.timeout(0).callbacks.append(self.dispatch)

    def dispatch(self, _: simpy.Event) -> None:
        self.dispatch_pending = False
        for worker, job in self.driver.dispatch(self.env.now):
            self.wakeups[worker].succeed(job)
        if self.progress.enabled:
            self.show_progress()

    def show_progress(self) -> None:
        now, scheduler = self.env.now, self.driver.scheduler
        fraction = now / self.max_time if self.max_time else None
        trials, budget = scheduler.n_trials, scheduler.max_trials
        if fraction is None and budget:
            fraction = trials / budget
        events = len(self.driver.trace)
        self.progress.update(fraction, f"t={now:,.0f}s trials={trials} events={events}")

    def work(self, worker: int):  # a SimPy process
        env, epoch, costs, driver = self.env, self.epoch, self.costs, self.driver
        timeout, report, idle = env.timeout, driver.report, driver.idle
        stop = Decision.STOP
        job: Job | None = None
        while True:
            if job is None:
                wakeup = self.wakeups[worker] = env.event()
                job = yield wakeup
            trial_id, config = job.trial_id, job.config
            resource, milestone = job.resume_from, job.milestone
            overhead = costs.startup_seconds if resource == 0 else costs.restore_seconds
            if overhead:
                yield timeout(overhead)
            # A pausing job saves its checkpoint before its milestone report: the scheduler may
            # resume the trial elsewhere as soon as it hears of it, so the checkpoint must exist.
            save = costs.checkpoint_seconds if job.save_checkpoint else 0.0
            while resource < milestone:
                resource += 1
                seconds, metric = epoch(trial_id, config, resource)
                yield timeout(seconds + save if resource == milestone else seconds)
                if report(worker, env.now, resource, metric) is stop:
                    break
                if idle:  # the scheduler's state changed and a worker is waiting
                    self.request_dispatch()
            alone = not idle
            driver.end_job(worker, env.now)
            # The only free worker, and nothing else happens at this instant: the deferred
            # dispatch would run next and give this worker exactly this job. Asking now saves two
            # SimPy events per job on the common path.
            if alone and not self.dispatch_pending and env.peek() > env.now:
                assignment = driver.dispatch_one(env.now)
                job = None if assignment is None else assignment[1]
            else:
                job = None
                self.request_dispatch()
