"""The SimPy clock: replay cost-modeled trials on N simulated workers (ARCHITECTURE §4).

Theory of operation
-------------------
The loop itself is the one driver's (``ashasim.driver``): dispatch, reports, the held milestone
report, the stall check, cancellation and journaling all live there. This clock only says how a
job's levels happen in simulated time. Each worker trains the levels the cost model's
``job_plan`` names (the cost model says how long each takes), hands each report to the driver,
and ends the job at its milestone or on STOP.

Every event is scheduled with the run's tie order (``ashasim.tie_order.tie_key`` as its
SimPy priority): at one instant, the workers' epochs in worker order, then deaths, then returns,
then the dispatch. So a run is a deterministic function of its seed whatever the order in which its
events were created. The dispatch runs after everything else of its instant: when several workers
become free at once, all their reports reach the scheduler first, and the lowest-index free worker
gets the first job (the worker that just finished does not jump the queue, as in the chapter's
figures). A dispatch is requested whenever the scheduler's state may have changed (a decision
while some worker is free, a job end); the job starts at once. Nothing polls.

**Batched epochs.** A job's epochs between two of its decision points (``Job.decision_points``:
where the scheduler may stop, record or pause the trial) take one SimPy timeout, to the next
decision point. The reports in between are not events: the worker keeps them in a list, and its
next one waits in a heap of pending reports (one entry per worker, as SimPy's queue would hold one
event per worker) keyed like an event (its time, then ``EPOCH`` and its worker); every event first
delivers the pending reports that come before it in the tie order. So the driver, the scheduler
and the journal see the very calls, in the very order, of one timeout per epoch (a property test
compares both), with one SimPy event per stretch instead of one per epoch. What a report between
decision points may not do, by the meaning of decision points, is stop the job: a scheduler that
does so anyway is an error (``RunError``). A scheduler without decision points (None: it may act
on every report) gets one event per epoch.
"""

from __future__ import annotations

import heapq
import sys
from collections.abc import Callable, Sequence
from numbers import Real
from typing import Any

import simpy
from simpy.events import URGENT, EventPriority

from ashasim.core.jobs import Decision, Job
from ashasim.driver import Driver, RunError
from ashasim.progress import Progress
from ashasim.sim.costs import CostModel
from ashasim.tie_order import DISPATCH, EPOCH, LOSS, RETURN, tie_key

__all__ = ["PROGRESS_LINE_SECONDS"]

#: seconds between progress lines when stderr is not a terminal
PROGRESS_LINE_SECONDS = 5.0

# A worker's next pending report: (its time, the worker's tie key, the worker, the worker's life
# it belongs to); the worker's ``batch[batch_index]`` holds it.
_Pending = tuple[float, int, "_Worker", int]


class _Clock:
    """One worker state machine per worker, driven by SimPy events, around the driver.

    A worker is not a SimPy process: each of its events carries the worker's next step as its
    callback, so a stretch of epochs costs one timeout and one plain call, without a generator
    to resume. *batch* False gives every epoch its own event (the reference batching is tested
    against).
    """

    def __init__(
        self, driver: Driver, costs: CostModel, seed: int, progress: bool, *, batch: bool = True
    ) -> None:
        self.env = simpy.Environment()
        self.driver = driver
        self.costs = costs
        self.epoch = costs.epoch_fn(seed)
        self.plan = costs.job_plan
        self.seed = seed
        self.batch = batch
        self.drops = costs.drop_probability > 0  # fault model (``CostModel.drop_plan``)
        self.dispatch_pending = False
        self.pending: list[_Pending] = []  # reports between decision points, not yet delivered
        self.dispatch_key = tie_key(DISPATCH)
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
        self.stopped: str | None = None  # why a stop rule ended the run (``stop_now``), when
        self.stopped_at = 0.0
        self.workers = [_Worker(self, worker) for worker in range(driver.n_workers)]
        self.loss = getattr(costs, "worker_loss", None)  # node loss (``ashasim.sim.faults``)
        if self.loss is not None:
            for worker in self.workers:
                self.arm_loss(worker)
        self.request_dispatch()

    def at(
        self, seconds: float, kind: int, worker: int, callback: Callable[[simpy.Event], None]
    ) -> None:
        """A one-off event *seconds* from now, in the tie order's place for (*kind*, *worker*)."""
        event = simpy.Event(self.env)
        event.callbacks.append(callback)
        event._ok, event._value = True, None
        self.env.schedule(event, EventPriority(tie_key(kind, worker)), seconds)

    def arm_loss(self, worker: _Worker) -> None:
        """The worker's next death, after an uptime drawn for its ``losses``-th return."""
        uptime = self.loss.uptime(self.seed, worker.worker, worker.losses)  # type: ignore[union-attr]
        self.at(uptime, LOSS, worker.worker, worker.lost)

    def run(self, max_time: float | None) -> None:
        self.max_time = max_time
        try:
            self.env.run(until=max_time)  # (the limit comes first at its instant: URGENT)
            if self.stopped is None and max_time is not None:
                self.deliver(max_time, 0)  # reports due before the limit; the others are lost
            if self.stopped is not None:  # a stop rule was met (``stop_now``; by that flush too)
                self.driver.cancel(self.stopped_at, self.stopped)
            else:
                self.driver.cancel(self.env.now if max_time is None else max_time)
        finally:
            self.progress.close()
            self.release()

    def release(self) -> None:
        """Break the clock's reference cycles (workers, their callbacks, SimPy's queue): a dropped
        trace is then freed at once, not by a collection that walks its events (``_gc``)."""
        for worker in self.workers:
            worker.tick.callbacks = []
            worker.on_trained = worker.on_dropped = []
        self.workers = []
        self.pending.clear()
        self.env._queue.clear()

    def stop_now(self, reason: str, t: float) -> None:
        """End the run at *t*, the time of the event that met a stop rule
        (``ashasim.stop_rules``), once the event being handled is done: nothing after that
        event is delivered (a batched report may meet the rule at a time before the clock's),
        and the running jobs are cancelled at *t*."""
        if self.stopped is None:
            self.stopped, self.stopped_at = reason, t
            event = simpy.Event(self.env)
            event.callbacks.append(simpy.core.StopSimulation.callback)
            event._ok, event._value = True, None
            self.env.schedule(event, URGENT, 0)

    def deliver(self, now: float, key: int) -> None:
        """Hand the driver the pending reports that come before (*now*, *key*) in the tie order:
        what every event does first."""
        pending, report = self.pending, self.driver.report
        while pending and self.stopped is None:
            due, its_key, worker, life = pending[0]
            if due > now or (due == now and its_key >= key):
                return
            if life != worker.generation:
                _pop(pending)  # the worker died before this epoch ended
                continue
            batch, index = worker.batch, worker.batch_index
            _, resource, metric = batch[index]
            index = worker.batch_index = index + 1
            if index < len(batch):  # the worker's next report takes this one's place
                _replace(pending, (batch[index][0], its_key, worker, life))
            else:
                _pop(pending)
            if report(worker.worker, due, resource, metric) is _STOP:
                raise RunError(
                    f"the scheduler stopped trial {worker.trial_id} at resource {resource}, "
                    f"which is not one of its job's decision_points {worker.stops}"
                )

    def request_dispatch(self) -> None:
        if not self.dispatch_pending:
            self.dispatch_pending = True
            self.at(0, DISPATCH, 0, self.dispatch)

    def dispatch(self, _: simpy.Event) -> None:
        now = self.env.now
        if self.pending:
            self.deliver(now, self.dispatch_key)
        if self.stopped is not None:
            return
        self.dispatch_pending = False
        workers = self.workers
        for worker, job in self.driver.dispatch(now):
            workers[worker].start(job)
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
    """One simulated worker: trains its job's levels, hands each report to the driver, ends the
    job at its milestone or on STOP (the driver's loop, in callbacks).

    Its timed waits reuse one SimPy event (``tick``), re-armed into SimPy's queue each
    time it fires: the same queue entry a fresh ``Timeout`` would make, without building one. A
    wait ends at the job's next decision point (or its end, or the epoch it dies in); the epochs
    before it go to the clock's pending reports.
    """

    __slots__ = (
        "batch",
        "batch_index",
        "clock",
        "config",
        "driver",
        "drop_at",
        "drop_fraction",
        "due",
        "eid",
        "env",
        "epoch",
        "generation",
        "key",
        "levels",
        "losses",
        "metric",
        "n_levels",
        "next_index",
        "on_dropped",
        "on_trained",
        "queue",
        "resource",
        "save",
        "stops",
        "tick",
        "trial_id",
        "worker",
    )

    def __init__(self, clock: _Clock, worker: int) -> None:
        self.clock, self.worker = clock, worker
        self.env, self.driver, self.epoch = clock.env, clock.driver, clock.epoch
        # Waits go straight into SimPy's queue at their absolute time (``Environment.schedule``
        # takes a delay, and now + (due - now) may miss ``due`` by a rounding error: a tie lost).
        self.queue, self.eid = clock.env._queue, clock.env._eid
        self.key = tie_key(EPOCH, worker)
        # Triggered once here (it fires at t=0 with nothing to call, before the first dispatch),
        # then re-armed: callbacks set, queued again, as often as the worker waits.
        self.tick = clock.env.event().succeed()
        self.on_trained, self.on_dropped = [self._trained], [self._dropped]
        self.drop_at, self.drop_fraction = -1, 0.0  # index of the level the job dies in
        self.trial_id, self.config = 0, dict[str, Any]()
        self.levels: Sequence[int] = ()
        self.batch: list[tuple[float, int, float]] = []  # (time, resource, metric) to report
        self.batch_index = 0
        self.stops: Sequence[int] | None = None  # the job's decision points (None: every level)
        self.n_levels = self.next_index = self.resource = 0
        self.metric = self.save = self.due = 0.0
        self.generation = self.losses = 0  # deaths so far (node loss): stale events ignored

    def lost(self, _: simpy.Event) -> None:
        """The worker dies now (node loss): its pending step is cancelled, its job goes to the
        driver (retried or failed), and it comes back after the downtime."""
        clock, driver, env = self.clock, self.driver, self.env
        clock.deliver(env.now, tie_key(LOSS, self.worker))
        if driver.finished or clock.stopped is not None:
            return
        self.generation += 1  # its reports still pending are void
        self.losses += 1
        self.tick.callbacks = []  # a pending step fires with nothing to do
        self.tick = env.event().succeed()  # a fresh one for the worker's next life
        loss: Any = clock.loss  # (set: only a clock with a WorkerLoss arms deaths)
        why = f"lost: the simulated worker died (worker_loss mtbf={loss.mtbf:g} s)"
        driver.lose_worker(self.worker, env.now, why)
        clock.request_dispatch()  # a retried job waits first in the queue
        clock.at(loss.downtime, RETURN, self.worker, self._back)

    def _back(self, _: simpy.Event) -> None:
        clock = self.clock
        clock.deliver(self.env.now, tie_key(RETURN, self.worker))
        if self.driver.finished or clock.stopped is not None:
            return
        self.driver.add_worker(self.worker)
        clock.request_dispatch()
        clock.arm_loss(self)

    def start(self, job: Job) -> None:
        """The dispatch gave this worker a job: it starts now (its setup, then its levels)."""
        self.trial_id, self.config = job.trial_id, job.config
        clock = self.clock
        setup, self.save, levels = clock.plan(job)
        self.levels, self.n_levels, self.next_index = levels, len(levels), 0
        self.stops = job.decision_points if clock.batch else None
        drop = clock.costs.drop_plan(clock.seed, job, len(levels)) if clock.drops else None
        self.drop_at, self.drop_fraction = (-1, 0.0) if drop is None else drop
        self.due = self.env.now + setup
        self._train()

    def _train(self) -> None:
        """Train on to the next level where the scheduler may decide (or the job ends, or dies):
        one wait; the reports of the levels before it are pending in the clock."""
        levels, n_levels, stops, epoch = self.levels, self.n_levels, self.stops, self.epoch
        trial_id, config, index, due = self.trial_id, self.config, self.next_index, self.due
        batch = []  # (time, resource, metric) of the reports before the wait's end
        while True:
            resource = levels[index]
            seconds, metric = epoch(trial_id, config, resource)
            if index == self.drop_at:  # the job dies in this level: the wait ends there
                self.next_index, callbacks = index, self.on_dropped
                due += seconds * self.drop_fraction
                break
            index += 1
            due += seconds
            if index == n_levels:
                due += self.save
            elif (
                stops is not None
                and resource not in stops
                and (type(metric) is float or isinstance(metric, Real))
            ):  # (a metric the scheduler might refuse is delivered by its own event)
                batch.append((due, resource, metric))
                continue
            self.resource, self.metric, self.next_index = resource, metric, index
            callbacks = self.on_trained
            break
        self.due = due
        if batch:
            self.batch, self.batch_index = batch, 0
            _push(self.clock.pending, (batch[0][0], self.key, self, self.generation))
        self.tick.callbacks = callbacks[:]  # type: ignore[assignment]
        self.wait_until(due)

    def wait_until(self, due: float) -> None:
        """Fire ``tick`` at *due*, in the tie order's place for this worker's epochs."""
        _push(self.queue, (due, self.key, next(self.eid), self.tick))  # type: ignore[misc]

    def _trained(self, _: simpy.Event) -> None:
        clock, driver = self.clock, self.driver
        if clock.pending:
            clock.deliver(self.due, self.key)
            if clock.stopped is not None:  # a stop rule was met by a report before this one
                return
        if self.next_index == self.n_levels:  # the milestone: its report ends the job
            alone = not driver.idle
            driver.finish_job(self.worker, self.due, self.resource, self.metric)
            self._next(alone)
        elif driver.report(self.worker, self.due, self.resource, self.metric) is not _STOP:
            if driver.idle:  # the scheduler's state changed and a worker is waiting
                clock.request_dispatch()
            self._train()
        else:
            self._end()

    def _dropped(self, _: simpy.Event) -> None:
        clock = self.clock
        if clock.pending:
            clock.deliver(self.env.now, self.key)
        if clock.stopped is not None:
            return
        p = clock.costs.drop_probability
        self._end(f"dropped: the simulated job died (drop_probability={p:g})")

    def _end(self, error: str | None = None) -> None:
        alone = not self.driver.idle
        self.driver.end_job(self.worker, self.env.now, error=error)
        self._next(alone)

    def _next(self, alone: bool) -> None:
        """The worker's job has ended: its next job, now or at this instant's dispatch. *alone*:
        no other worker was free when the job ended."""
        clock, driver, env = self.clock, self.driver, self.env
        if clock.stopped is not None:  # the job's end met a stop rule: no new job
            return
        now = env.now
        if clock.progress.enabled:  # (throttled) jobs end even when no deferred dispatch runs
            clock.show_progress()
        # The only free worker, and nothing else happens at this instant: the deferred dispatch
        # would run next and give this worker exactly this job. Asking now saves an event per job
        # on the common path.
        pending = clock.pending
        if (
            alone
            and not clock.dispatch_pending
            and env.peek() > now
            and (not pending or pending[0][0] > now)
        ):
            assignment = driver.dispatch_one(now)
            if assignment is not None:
                self.start(assignment[1])
        else:
            clock.request_dispatch()


_STOP = Decision.STOP
_push, _pop, _replace = heapq.heappush, heapq.heappop, heapq.heapreplace
