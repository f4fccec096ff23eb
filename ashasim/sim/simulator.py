"""The SimPy clock: replay cost-modeled trials on N simulated workers (ARCHITECTURE §4).

Theory of operation
-------------------
Each worker is a SimPy process running the driver loop every clock shares: wait for a job, train
its epochs (one ``timeout`` per epoch, the workload says how long), ``report()`` after each, end
the job at its milestone or on STOP. Workers never ask the scheduler themselves. A *dispatch*
hands jobs to free workers, in worker-index order, and runs after every event of the current
instant has been processed (it is a zero-delay timeout scheduled behind them). So when several
workers become free at once, all their reports reach the scheduler first, and the lowest-index
free worker gets the first job: the worker that just finished does not jump the queue, as in the
chapter's figures, and a run is a deterministic function of its seed.

A free worker waits on its own SimPy event, which only a dispatch triggers; a dispatch is requested
whenever the scheduler's state may have changed (a report while some worker is free, a job end).
Nothing polls. When nothing runs and the scheduler has no job, the scheduler must be done, or the
run has stalled (a scheduler bug), which is an error rather than an endless loop.
"""

from __future__ import annotations

import contextlib
import gc
import heapq
import math
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import simpy

from ashasim.core.jobs import Decision, Job, Scheduler
from ashasim.events import JOURNAL, JobEnded, JobStarted, Reported, Trace
from ashasim.progress import Progress
from ashasim.sim.workloads import Workload

__all__ = ["SimulationError", "simulate"]


class SimulationError(RuntimeError):
    """The simulated run cannot go on (e.g. the scheduler stalls: no job, nothing running)."""


def simulate(
    scheduler: Scheduler,
    workload: Workload,
    n_workers: int,
    *,
    max_time: float | None = None,
    max_trials: int | None = None,
    seed: int = 0,
    journal: str | os.PathLike[str] | None = None,
    progress: bool = False,
) -> Trace:
    """Run ``scheduler`` on ``n_workers`` simulated workers; return the Trace.

    *max_time*: stop at this simulated time; jobs still running are cancelled (their partial
    epoch is lost). *max_trials*: start at most this many trials (lowers the scheduler's budget).
    The run also ends when the scheduler is done; one of the three must bound it. *seed* seeds the
    workload's noise (the scheduler has its own seed). *journal*: an experiment directory (or a
    ``.jsonl`` path) to journal every event to as it happens. *progress*: a status line on stderr.
    """
    if isinstance(n_workers, bool) or not isinstance(n_workers, int) or n_workers < 1:
        raise ValueError(f"n_workers must be an integer >= 1, got {n_workers!r}")
    if max_time is not None and (
        isinstance(max_time, bool)
        or not isinstance(max_time, (int, float))
        or not math.isfinite(max_time)
        or max_time <= 0
    ):
        raise ValueError(f"max_time must be a finite number > 0 (seconds), got {max_time!r}")
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ValueError(f"seed must be an integer >= 0, got {seed!r}")
    if not isinstance(workload, Workload):
        raise ValueError(f"workload must be an ashasim.sim Workload, got {workload!r}")
    if max_trials is not None:
        limit = getattr(scheduler, "limit_trials", None)
        if limit is None:
            raise ValueError("max_trials needs a scheduler with limit_trials(); cap it there")
        limit(max_trials)
    if max_time is None and getattr(scheduler, "max_trials", None) is None:
        raise ValueError(
            "give max_time or max_trials (or a scheduler with max_trials): "
            "otherwise the simulation never ends"
        )
    info: dict[str, Any] = {
        "n_workers": n_workers,
        "clock": "simulated",
        "metric": getattr(scheduler, "metric", "metric"),
        "mode": getattr(scheduler, "mode", "min"),
        "resource_attr": getattr(scheduler, "resource_attr", "epoch"),
        "scheduler": _describe(scheduler),
        "workload": workload.describe(),
        "seed": seed,
        "max_time": max_time,
        "max_trials": getattr(scheduler, "max_trials", None),
    }
    trace = Trace(info, journal=_journal_path(journal))
    try:
        with _cyclic_gc_paused():
            _Simulation(scheduler, workload, n_workers, trace, seed, progress).run(max_time)
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


def _describe(scheduler: Scheduler) -> dict[str, Any]:
    describe = getattr(scheduler, "describe", None)
    return describe() if describe is not None else {"name": type(scheduler).__name__}


class _Simulation:
    def __init__(
        self,
        scheduler: Scheduler,
        workload: Workload,
        n_workers: int,
        trace: Trace,
        seed: int,
        progress: bool,
    ) -> None:
        self.env = simpy.Environment()
        self.scheduler = scheduler
        self.workload = workload
        self.trace = trace
        self.epoch = workload.epoch_fn(seed)
        self.bracket_of = getattr(scheduler, "trial_bracket", lambda trial_id: 0)
        self.max_t = getattr(scheduler, "max_t", None)
        # Saving a checkpoint at a pause only pays off when promoted trials resume from it.
        self.saves_checkpoints = getattr(scheduler, "resume", True)
        self.free = list(range(n_workers))  # a heap: the lowest free worker gets the next job
        self.wakeups: list[simpy.Event | None] = [None] * n_workers
        self.current: dict[int, list[int]] = {}  # worker -> [trial_id, resource reached]
        self.dispatch_pending = False
        self.progress = Progress("simulate", quiet=not progress)
        for worker in range(n_workers):
            self.env.process(self.work(worker))
        self.request_dispatch()

    def run(self, max_time: float | None) -> None:
        self.max_time = max_time
        try:
            self.env.run(until=max_time)
        finally:
            self.progress.close()
        stop = self.env.now if max_time is None else max_time
        for worker in sorted(self.current):
            trial_id, resource = self.current[worker]
            self.trace.record(JobEnded(stop, worker, trial_id, resource, "cancelled"))
        self.current.clear()

    def request_dispatch(self) -> None:
        if not self.dispatch_pending:
            self.dispatch_pending = True
            self.env.timeout(0).callbacks.append(self.dispatch)

    def dispatch(self, _: simpy.Event) -> None:
        self.dispatch_pending = False
        free = self.free
        while free:
            job = self.scheduler.suggest()
            if job is None:
                break
            worker = heapq.heappop(free)
            self.current[worker] = [job.trial_id, job.resume_from]
            self.wakeups[worker].succeed(job)  # type: ignore[union-attr]
        self._check_not_stalled()

    def next_job_inline(self, worker: int) -> Job | None:
        """The job a deferred dispatch would give ``worker``, asked for right away.

        Only valid when ``worker`` would be the only free one and nothing else happens at this
        instant: then the deferred dispatch would run next and make exactly this call. It saves
        two SimPy events per job on the common path.
        """
        job = self.scheduler.suggest()
        if job is not None:
            self.current[worker] = [job.trial_id, job.resume_from]
        else:
            self._check_not_stalled()
        return job

    def _check_not_stalled(self) -> None:
        if not self.current and not self.scheduler.done:
            raise SimulationError(
                f"stalled at t={self.env.now}: no job is running and the scheduler "
                f"{type(self.scheduler).__name__} suggests none, yet it is not done"
            )
        if self.progress.enabled:
            self._show_progress()

    def _show_progress(self) -> None:
        now = self.env.now
        fraction = now / self.max_time if self.max_time else None
        trials = getattr(self.scheduler, "n_trials", 0)
        budget = getattr(self.scheduler, "max_trials", None)
        if fraction is None and budget:
            fraction = trials / budget
        self.progress.update(fraction, f"t={now:,.0f}s trials={trials} events={len(self.trace)}")

    def work(self, worker: int):  # a SimPy process
        env, record, report, epoch = self.env, self.trace.record, self.scheduler.report, self.epoch
        timeout, stop = env.timeout, Decision.STOP
        stop_text, continue_text = Decision.STOP.value, Decision.CONTINUE.value
        # The hot path builds one Reported per epoch; tuple.__new__ skips NamedTuple's Python-level
        # __new__ (half the cost of the event).
        new_event = tuple.__new__
        workload, free, current = self.workload, self.free, self.current
        job = None
        while True:
            if job is None:
                wakeup = self.wakeups[worker] = env.event()
                job = yield wakeup
            trial_id, config = job.trial_id, job.config
            resource, milestone = job.resume_from, job.milestone
            reached = current[worker]
            record(
                JobStarted(
                    env.now,
                    worker,
                    trial_id,
                    config,
                    resource,
                    milestone,
                    self.bracket_of(trial_id),
                )
            )
            overhead = workload.startup_seconds if resource == 0 else workload.restore_seconds
            if overhead:
                yield timeout(overhead)
            # A pausing job saves its checkpoint before its milestone report: the scheduler may
            # resume the trial elsewhere as soon as it hears of it, so the checkpoint must exist.
            save = (
                workload.checkpoint_seconds
                if self.saves_checkpoints and (self.max_t is None or milestone < self.max_t)
                else 0.0
            )
            reason = "milestone"
            while resource < milestone:
                resource += 1
                seconds, metric = epoch(trial_id, config, resource)
                yield timeout(seconds + save if resource == milestone else seconds)
                decision = report(trial_id, resource, metric)
                reached[1] = resource
                text = stop_text if decision is stop else continue_text
                record(new_event(Reported, (env.now, worker, trial_id, resource, metric, text)))
                if decision is stop:
                    reason = "stopped"
                    break
                if free:  # the scheduler's state changed and a worker is waiting
                    self.request_dispatch()
            record(JobEnded(env.now, worker, trial_id, resource, reason))
            del current[worker]
            if not free and not self.dispatch_pending and env.peek() > env.now:
                job = self.next_job_inline(worker)
                if job is None:
                    heapq.heappush(free, worker)
            else:
                job = None
                heapq.heappush(free, worker)
                self.request_dispatch()
