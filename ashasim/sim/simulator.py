"""The SimPy clock: replay cost-modeled trials on N simulated workers (ARCHITECTURE §4).

Theory of operation
-------------------
The loop itself is the one driver's (``ashasim.driver``): dispatch, reports, the held milestone
report, the stall check, cancellation and journaling all live there. This clock only says how a
job's levels happen in simulated time. Each worker waits for a job, trains the levels the cost
model's ``job_plan`` names (one ``timeout`` per level, the cost model says how long), hands each
report to the driver, and ends the job at its milestone or on STOP.

Jobs are handed out by a *dispatch* that runs after every event of the current instant has been
processed (a zero-delay timeout scheduled behind them). So when several workers become free at
once, all their reports reach the scheduler first, and the lowest-index free worker gets the first
job: the worker that just finished does not jump the queue, as in the chapter's figures, and a run
is a deterministic function of its seed. A free worker waits until a dispatch hands it a job
(through an event at that same instant); a dispatch is requested whenever the scheduler's state may
have changed (a report while some worker is free, a job end). Nothing polls.

Workers are state machines driven by SimPy event callbacks rather than SimPy processes: the same
events in the same order (so the same ties and the same traces), without a generator to resume per
epoch. Epochs are not batched into one timeout per job: SimPy orders simultaneous events by when
they were created, so a batch would reorder reports that tie in time with other workers' events
(every epoch of a constant workload does) and change seeded traces.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

import simpy
from simpy.events import NORMAL

from ashasim.core.jobs import Decision, Job
from ashasim.driver import Driver
from ashasim.progress import Progress
from ashasim.sim.costs import CostModel

__all__ = ["PROGRESS_LINE_SECONDS"]

#: seconds between progress lines when stderr is not a terminal
PROGRESS_LINE_SECONDS = 5.0


class _Clock:
    """One worker state machine per worker, driven by SimPy events, around the driver.

    A worker is not a SimPy process: each of its events carries the worker's next step as its
    callback (start a job, end a level), so an epoch costs one timeout and one plain call, without
    a generator to resume. The events are created in exactly the order a process per worker would
    create them (a dispatch hands a job over through an event at the same instant, as a process
    would be woken), so ties between workers break the same way and seeded traces do not change.
    """

    def __init__(self, driver: Driver, costs: CostModel, seed: int, progress: bool) -> None:
        self.env = simpy.Environment()
        self.driver = driver
        self.costs = costs
        self.epoch = costs.epoch_fn(seed)
        self.plan = costs.job_plan
        self.seed = seed
        self.drops = costs.drop_probability > 0  # fault model (``CostModel.drop_plan``)
        self.dispatch_pending = False
        # On a terminal a redrawn line; elsewhere (a log, CI) a plain line every few seconds.
        tty = sys.stderr.isatty()
        self.progress = Progress(
            "simulate",
            quiet=not progress,
            lines=not tty,
            interval=0.5 if tty else PROGRESS_LINE_SECONDS,
            wait_first=not tty,
        )
        self.max_time: float | None = None
        self.workers = [_Worker(self, worker) for worker in range(driver.n_workers)]
        self.loss = getattr(costs, "worker_loss", None)  # node loss (``ashasim.sim.faults``)
        if self.loss is not None:
            for worker in self.workers:
                self.arm_loss(worker)
        self.request_dispatch()

    def arm_loss(self, worker: _Worker) -> None:
        """The worker's next death, after an uptime drawn for its ``losses``-th return."""
        uptime = self.loss.uptime(self.seed, worker.worker, worker.losses)  # type: ignore[union-attr]
        self.env.timeout(uptime).callbacks.append(worker.lost)

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
            self.workers[worker].wake(job)
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


class _Worker:
    """One simulated worker: waits for a job, trains its levels, hands each report to the driver,
    ends the job at its milestone or on STOP (the driver's loop, in callbacks).

    Its timed waits reuse one SimPy event (``tick``), re-armed with ``Environment.schedule`` each
    time it fires: the same queue entry a fresh ``Timeout`` would make, without building one.
    """

    __slots__ = (
        "clock",
        "config",
        "driver",
        "drop_at",
        "drop_fraction",
        "due",
        "env",
        "epoch",
        "generation",
        "levels",
        "losses",
        "metric",
        "n_levels",
        "next_index",
        "on_dropped",
        "on_set_up",
        "on_trained",
        "resource",
        "save",
        "schedule",
        "tick",
        "trial_id",
        "worker",
    )

    def __init__(self, clock: _Clock, worker: int) -> None:
        self.clock, self.worker = clock, worker
        self.env, self.driver, self.epoch = clock.env, clock.driver, clock.epoch
        self.schedule = clock.env.schedule
        # Triggered once here (it fires at t=0 with nothing to call, before the first dispatch),
        # then re-armed: callbacks set, ``schedule`` called, as often as the worker waits.
        self.tick = clock.env.event().succeed()
        self.on_trained, self.on_set_up = [self._trained], [self._set_up]
        self.on_dropped = [self._dropped]
        self.drop_at, self.drop_fraction = -1, 0.0  # index of the level the job dies in
        self.trial_id, self.config = 0, {}
        self.levels: Sequence[int] = ()
        self.n_levels = self.next_index = self.resource = 0
        self.metric = self.save = self.due = 0.0
        self.generation = self.losses = 0  # deaths so far (node loss): stale wake-ups ignored

    def wake(self, job: Job) -> None:
        """The dispatch gave this worker a job: it starts at this instant, after the events already
        due now (as a process woken by an event would)."""
        event = self.env.event()
        event.callbacks.append(self._woken)
        event.succeed((job, self.generation))

    def _woken(self, event: simpy.Event) -> None:
        job, generation = event.value
        if generation == self.generation:  # else the worker died since: the driver knows
            self.start(job)

    def lost(self, _: simpy.Event) -> None:
        """The worker dies now (node loss): its pending step is cancelled, its job goes to the
        driver (retried or failed), and it comes back after the downtime."""
        clock, driver, env = self.clock, self.driver, self.env
        if driver.finished:
            return
        self.generation += 1
        self.losses += 1
        self.tick.callbacks = []  # a pending step fires with nothing to do
        self.tick = env.event().succeed()  # a fresh one for the worker's next life
        loss = clock.loss
        why = f"lost: the simulated worker died (worker_loss mtbf={loss.mtbf:g} s)"
        driver.lose_worker(self.worker, env.now, why)
        clock.request_dispatch()  # a retried job waits first in the queue
        env.timeout(loss.downtime).callbacks.append(self._back)

    def _back(self, _: simpy.Event) -> None:
        if self.driver.finished:
            return
        self.driver.add_worker(self.worker)
        self.clock.request_dispatch()
        self.clock.arm_loss(self)

    def start(self, job: Job) -> None:
        self.trial_id, self.config = job.trial_id, job.config
        clock = self.clock
        setup, self.save, levels = clock.plan(job)
        self.levels, self.n_levels, self.next_index = levels, len(levels), 0
        drop = clock.costs.drop_plan(clock.seed, job, len(levels)) if clock.drops else None
        self.drop_at, self.drop_fraction = (-1, 0.0) if drop is None else drop
        if setup:
            self.tick.callbacks = self.on_set_up[:]
            self.schedule(self.tick, _NORMAL, setup)
        else:
            self._train_next()

    def _set_up(self, _: simpy.Event) -> None:
        self._train_next()

    def _train_next(self) -> None:
        """Start the next level: ask the cost model, wait its seconds (and the checkpoint save
        with the last one)."""
        index = self.next_index
        resource = self.resource = self.levels[index]
        self.next_index = index + 1
        seconds, self.metric = self.epoch(self.trial_id, self.config, resource)
        if index == self.drop_at:
            self._die_after(seconds * self.drop_fraction)
            return
        if index + 1 == self.n_levels:
            seconds += self.save
        self.tick.callbacks = self.on_trained[:]
        self.due = self.env.now + seconds  # what ``schedule`` computes: the time it fires
        self.schedule(self.tick, _NORMAL, seconds)

    def _trained(self, _: simpy.Event) -> None:
        driver = self.driver
        if driver.report(self.worker, self.due, self.resource, self.metric) is not _STOP:
            if driver.idle:  # the scheduler's state changed and a worker is waiting
                self.clock.request_dispatch()
            index = self.next_index
            if index == self.drop_at:
                self._train_next()  # the level the job dies in
                return
            if index < self.n_levels:  # the next level (``_train_next``, inlined: once per epoch)
                resource = self.resource = self.levels[index]
                self.next_index = index + 1
                seconds, self.metric = self.epoch(self.trial_id, self.config, resource)
                if index + 1 == self.n_levels:
                    seconds += self.save
                self.tick.callbacks = self.on_trained[:]
                self.due += seconds
                self.schedule(self.tick, _NORMAL, seconds)
                return
        self._end()

    def _die_after(self, seconds: float) -> None:
        self.tick.callbacks = self.on_dropped[:]
        self.schedule(self.tick, _NORMAL, seconds)

    def _dropped(self, _: simpy.Event) -> None:
        p = self.clock.costs.drop_probability
        self._end(f"dropped: the simulated job died (drop_probability={p:g})")

    def _end(self, error: str | None = None) -> None:
        clock, driver, env = self.clock, self.driver, self.env
        alone = not driver.idle
        driver.end_job(self.worker, env.now, error=error)
        if clock.progress.enabled:  # (throttled) jobs end even when no deferred dispatch runs
            clock.show_progress()
        # The only free worker, and nothing else happens at this instant: the deferred dispatch
        # would run next and give this worker exactly this job. Asking now saves two SimPy
        # events per job on the common path.
        if alone and not clock.dispatch_pending and env.peek() > env.now:
            assignment = driver.dispatch_one(env.now)
            if assignment is not None:
                self.start(assignment[1])
        else:
            clock.request_dispatch()


_STOP = Decision.STOP
_NORMAL = NORMAL
