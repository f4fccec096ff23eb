"""The one driver: the loop every clock runs around a scheduler (ARCHITECTURE §3b).

Theory of operation
-------------------
A run is workers, a scheduler and a trace. The ``Driver`` owns everything between them, written
once for every clock:

* **dispatch**: free workers get jobs in worker-index order (``dispatch``), each job journaled as
  ``JobStarted``; jobs a resumed run must finish first (``requeue``) go before new suggestions;
* **reports**: each report goes to the scheduler and is journaled with its decision before the
  clock answers the worker. The report at a job's milestone ends the job whatever the scheduler
  says, so it is *held* (its worker waits for no answer) and given to the scheduler and the
  journal once the worker has let go of the trial (``end_job``, ``lose_worker``, ``cancel``): a
  scheduler may promote a paused trial at once, and a trial must never run in two places (a
  clock that lets go as it reports calls ``finish_job``). A report after the job was told to
  end (``told_to_end``) is the objective's error;
* **faults**: a report the scheduler refuses, an objective that returns early or raises, a worker
  that dies or runs past its time limit: the job ends ``failed``. The scheduler hears of it
  (``scheduler.fail``) when the job's end is journaled, not when the driver decides: every call
  the scheduler gets is then journaled in the order it got it, which is what lets a resumed run
  catch up with its journal. Too many failures in a row, or in all, stop the run;
* **retries** (*max_retries*): a job whose worker *died* (node lost, OOM kill, preemption; an
  exception of the objective only with *retry_on_error*) ends ``retried`` instead, and the same
  stretch of the trial goes first in the queue, continuing from its last journaled report (with
  the trial's checkpoint). The scheduler is not told, as for ``cancelled``: to it the trial
  simply runs longer; it hears ``fail`` only once the trial's retries have run out. A retry is
  not a failure (it does not count towards *max_failures*);
* **the stall check**: nothing runs, every worker is free, the scheduler suggests nothing and is
  not done: a scheduler bug, reported as an error rather than an endless wait;
* **cancellation** at the budget: open jobs end ``cancelled`` (the scheduler is not told, so a
  resumed run continues them).

The tie order of events at one instant is stated (``ashasim.tie_order``). A clock supplies only
time and the workers: the SimPy clock (``ashasim.sim``) calls ``report`` after each simulated epoch
and ``finish_job`` or ``end_job`` when a job is over; the real-time loop (``ashasim.run.executor``)
turns worker messages into the same calls. The driver never waits, sleeps or reads a clock: every
call takes ``now``; its only contract with the scheduler is ``ashasim.core.Scheduler``.
"""

from __future__ import annotations

import dataclasses
import heapq
from collections import deque
from collections.abc import Iterable, Mapping
from typing import Any

from ashasim.checks import check_report
from ashasim.core.jobs import Decision, Job, Scheduler
from ashasim.errors import last_line
from ashasim.events import JobEnded, JobStarted, Reported, Trace

__all__ = ["Driver", "RunError"]

_STOP, _CONTINUE = Decision.STOP, Decision.CONTINUE
_STOP_TEXT, _CONTINUE_TEXT = _STOP.value, _CONTINUE.value
_new = tuple.__new__


class RunError(RuntimeError):
    """The run cannot go on: the scheduler stalls, jobs keep failing, workers keep dying, ..."""


class _Active:
    """A job a worker runs, as the driver sees it."""

    __slots__ = ("ending", "error", "held", "job", "milestone", "resource", "trial_id")

    def __init__(self, job: Job) -> None:
        self.job = job
        self.trial_id, self.milestone = job.trial_id, job.milestone  # read once per epoch
        self.resource = job.resume_from  # last resource the scheduler heard of in this job
        self.ending: str | None = None  # "milestone" | "stopped" | "failed" once decided
        self.error: str | None = None
        self.held: tuple[int, float, bool] | None = None  # (resource, metric, checkpoint) held


class Driver:
    """Drive ``scheduler`` on ``n_workers`` workers, journaling into ``trace``.

    *max_failures*: stop the run (``RunError``) after this many jobs failed in a row without one
    good report in between (None: never); a systematic error would otherwise burn every trial.
    *max_failed_trials*: stop it once more than this many jobs (so trials) failed in all (None:
    never; Syne Tune's ``Tuner(max_failures=...)``, whose default is 1).
    *idle*: the workers free at the start (all of them unless a clock starts its workers later).
    *return_ends_trial*: an objective that returns by itself before its job's milestone, once its
    trial has reported, has ended its trial (Ray Tune's function trainables end by returning):
    the job ends ``returned``, the scheduler hears ``end`` (never suggest it again, wait for
    nothing from it; its results still count), no failure is counted. Without it (the default)
    such a job fails, as a missed milestone usually means a bug; so does a trial never reported.
    *max_retries*: how many times a trial may be retried after its worker died (0: never; see
    the module docstring). *retry_on_error*: an exception raised by the objective is retried
    too (by default it fails the job: a bug does not go away on a second try). *allow_nan*: an
    objective's NaN or infinite metric is a result, ranked last (Ray Tune's way), not a failure.
    """

    def __init__(
        self,
        scheduler: Scheduler,
        trace: Trace,
        n_workers: int,
        *,
        max_failures: int | None = None,
        max_failed_trials: int | None = None,
        idle: Iterable[int] | None = None,
        return_ends_trial: bool = False,
        max_retries: int = 0,
        retry_on_error: bool = False,
        allow_nan: bool = False,
    ) -> None:
        self.scheduler = scheduler
        self.allow_nan = allow_nan
        self.max_retries = max_retries
        self.retry_on_error = retry_on_error
        self.retries: dict[int, int] = {}  # trial -> times it was retried (a resume sets it)
        self.return_ends_trial = return_ends_trial
        self.trace = trace
        self.n_workers = n_workers
        self.max_failures, self.max_failed_trials = max_failures, max_failed_trials
        self.metric_name = scheduler.metric
        self.resource_attr = scheduler.resource_attr
        self.idle: list[int] = sorted(range(n_workers) if idle is None else idle)  # a heap
        self.jobs: list[_Active | None] = [None] * n_workers
        self.n_running = 0
        self.requeued: deque[Job] = deque()
        self.failed_jobs = 0
        self.failures_in_a_row = 0
        self._record = trace.record
        self._report = scheduler.report

    # -- workers --------------------------------------------------------------------------------

    def add_worker(self, worker: int) -> None:
        """A worker is ready for jobs (started, or restarted after a death)."""
        if worker not in self.idle:
            heapq.heappush(self.idle, worker)

    def requeue(self, jobs: Iterable[Job]) -> None:
        """Jobs to hand out before any new suggestion (a resumed run's interrupted jobs)."""
        self.requeued.extend(jobs)

    # -- dispatch -------------------------------------------------------------------------------

    def dispatch_one(self, now: float) -> tuple[int, Job] | None:
        """Give the lowest free worker a job, journaled; None when there is none to give."""
        if not self.idle:
            return None
        job = self.requeued.popleft() if self.requeued else self.scheduler.suggest()
        if job is None:
            self.check_not_stalled(now)
            return None
        worker = heapq.heappop(self.idle)
        self.jobs[worker] = _Active(job)
        self.n_running += 1
        fields = (now, worker, job.trial_id, job.config, job.resume_from, job.milestone)
        self._record(_new(JobStarted, (*fields, job.bracket)))
        return worker, job

    def dispatch(self, now: float) -> list[tuple[int, Job]]:
        """Jobs for the free workers, lowest worker first, until the scheduler has none."""
        assignments = []
        while self.idle:
            assignment = self.dispatch_one(now)
            if assignment is None:
                break
            assignments.append(assignment)
        return assignments

    def check_not_stalled(self, now: float) -> None:
        """A scheduler that suggests nothing while nothing runs and every worker waits, yet is
        not done, would keep the run waiting for ever."""
        if (
            self.n_running == 0
            and not self.requeued
            and len(self.idle) == self.n_workers
            and not self.scheduler.done
        ):
            raise RunError(
                f"stalled at t={now:g}: no job is running and the scheduler "
                f"{type(self.scheduler).__name__} suggests none, yet it is not done"
            )

    @property
    def finished(self) -> bool:
        """Nothing runs, nothing is left to hand out, and the scheduler is done."""
        return self.n_running == 0 and not self.requeued and self.scheduler.done

    # -- reports --------------------------------------------------------------------------------

    def report(
        self, worker: int, now: float, resource: int, metric: float, checkpoint: bool = False
    ) -> Decision:
        """A report of the job ``worker`` runs; STOP when the job must end here.

        The first report at the milestone is held until the worker lets go of the trial (the job
        ends there in any case); ``_settle`` then delivers it through here. Any other report goes
        to the scheduler and the journal at once. *checkpoint*: the objective filed a checkpoint
        with it (journaled, for a resume). This runs once per simulated epoch, hence the flat code.
        """
        active: _Active = self.jobs[worker]  # type: ignore[assignment]
        if resource >= active.milestone and active.ending is None:
            active.held = (resource, metric, checkpoint)
            active.ending = "milestone"
            return _STOP
        trial_id = active.trial_id
        try:
            decision = self._report(trial_id, resource, metric)
        except (ValueError, KeyError) as error:
            self._fail(
                active,
                f"the scheduler refused report({self.resource_attr}={resource}, "
                f"{self.metric_name}={metric!r}): {error}",
            )
            return _STOP
        active.resource = resource
        self.failures_in_a_row = 0
        if decision is _STOP:
            active.ending = "stopped"
            text = _STOP_TEXT
        else:
            if resource >= active.milestone:
                active.ending = "milestone"
            text = _CONTINUE_TEXT
        # tuple.__new__ skips NamedTuple's Python-level __new__ (half the cost of the event)
        self._record(_new(Reported, (now, worker, trial_id, resource, metric, text, checkpoint)))
        return decision

    def report_values(
        self, worker: int, now: float, values: Mapping[str, Any], checkpoint: bool = False
    ) -> bool:
        """A report as an objective makes it (``{resource_attr: ..., metric: ..., ...}``), checked
        at the boundary (``check_report``: a bad one fails the job); True when the job goes on.
        Reports at or below ``resume_from`` are ignored: an objective without checkpoints retrains
        a promoted trial from scratch, and the scheduler already has those results."""
        active = self.jobs[worker]
        if active is None:
            return False
        if active.ending is not None:
            self._ignored_stop(active, values.get(self.resource_attr))
            return False
        try:
            resource, metric = check_report(
                values, self.resource_attr, self.metric_name, allow_nan=self.allow_nan
            )
        except ValueError as problem:
            self._fail(active, str(problem))
            return False
        if resource <= active.job.resume_from:
            return True
        return self.report(worker, now, resource, metric, checkpoint) is not _STOP

    def told_to_end(self, worker: int) -> bool:
        """The job ``worker`` runs was told to end: a report now means it ignored the stop."""
        active = self.jobs[worker]
        return active is not None and active.ending is not None

    def _ignored_stop(self, active: _Active, resource: Any) -> None:
        """The objective caught ``StopTrial`` (a bare ``except:``) and reported again: the job
        fails, its held milestone report dropped (the scheduler could resume the trial while it
        still runs here); a trial the scheduler stopped stays stopped, with the error."""
        if active.ending == "failed" or active.error is not None:  # the first error stands
            return
        active.error = (
            f"the objective ignored a stop: it reported {self.resource_attr}={resource!r} after "
            f"its job was told to end (does a bare `except:` or `except BaseException:` swallow "
            f"StopTrial? let it propagate)"
        )
        if active.ending != "stopped":
            active.held = None
            self._fail(active, active.error)

    def _settle(self, worker: int, active: _Active, now: float) -> None:
        """The worker has let go of the trial: the held milestone report reaches the scheduler."""
        if active.held is not None:
            held, active.held = active.held, None
            self.report(worker, now, *held)  # delivered, not held

    def _fail(self, active: _Active, error: str) -> None:
        """Decide that the job fails; the scheduler is told when the end is journaled
        (``_close``), so that the journal holds the scheduler's calls in the order it got them."""
        active.ending, active.error = "failed", error
        self.failures_in_a_row += 1

    # -- job ends -------------------------------------------------------------------------------

    def end_job(
        self, worker: int, now: float, *, returned: bool = False, error: str | None = None
    ) -> None:
        """The worker let go of its job's trial: the objective stopped when told to, returned by
        itself (*returned*), or raised (*error*, the traceback). The worker is free again."""
        active: _Active = self.jobs[worker]  # type: ignore[assignment]
        if active.held is not None:
            self._settle(worker, active, now)
        ending = active.ending
        if ending is None and returned and self.return_ends_trial and active.resource > 0:
            active.ending = ending = "returned"  # ended by itself: nothing more will come
        if ending is None and error is not None and self.retry_on_error:
            if self._retry(worker, active, now, f"the objective raised: {last_line(error)}"):
                heapq.heappush(self.idle, worker)
                return
            error = self._after_retries(active.trial_id, error)
        if ending is None:
            if returned:
                error = (
                    f"the objective returned after {self.resource_attr}={active.resource}, "
                    f"before the job's milestone {active.milestone} (does it report every "
                    f"{self.resource_attr} up to the config's maximum?)"
                )
            self._fail(active, error or "the job ended without reaching its milestone")
            ending = "failed"
        elif error is not None and active.error is None:
            active.error = error  # raised while unwinding after its last report; the result stands
        self._close(worker, active, now, ending, active.error)
        heapq.heappush(self.idle, worker)
        if ending == "failed":
            self._check_failures(active)

    def finish_job(self, worker: int, now: float, resource: int, metric: float) -> None:
        """The report at the job's milestone and the job's end at once, nothing held: for a
        clock whose worker lets go of the trial as it reports (the SimPy clock)."""
        self.jobs[worker].ending = "milestone"  # type: ignore[union-attr]  # delivered, not held
        self.report(worker, now, resource, metric)
        self.end_job(worker, now)

    def lose_worker(self, worker: int, now: float, why: str, *, retry: bool = True) -> None:
        """The worker died (killed, out of memory, node lost): its job is retried while the trial
        has retries left (*retry* False: never, e.g. past its time limit), else fails, unless it
        reached its end before the death. The worker is not free until ``add_worker``."""
        if worker in self.idle:
            self.idle.remove(worker)
            heapq.heapify(self.idle)
        active = self.jobs[worker]
        if active is None:
            return
        self._settle(worker, active, now)  # a result reported before the death stands
        if active.ending is None:
            if retry and self._retry(worker, active, now, why):
                return
            self._fail(active, self._after_retries(active.trial_id, why) if retry else why)
        self._close(worker, active, now, active.ending or "failed", active.error)
        if active.ending == "failed":
            self._check_failures(active)

    def _retry(self, worker: int, active: _Active, now: float, why: str) -> bool:
        """End the job ``retried`` and put its stretch first in the queue, from the last
        report the scheduler heard; False when the trial has no retries left."""
        trial_id = active.trial_id
        done = self.retries.get(trial_id, 0)
        if done >= self.max_retries:
            return False
        self.retries[trial_id] = done + 1
        self.jobs[worker] = None
        self.n_running -= 1
        error = f"retry {done + 1} of {self.max_retries}: {why}"
        self._record(_new(JobEnded, (now, worker, trial_id, active.resource, "retried", error)))
        self.requeued.appendleft(dataclasses.replace(active.job, resume_from=active.resource))
        return True

    def _after_retries(self, trial_id: int, why: str) -> str:
        done = self.retries.get(trial_id, 0)
        return f"{why} (after {done} retr{'y' if done == 1 else 'ies'})" if done else why

    def cancel(self, now: float, why: str | None = None) -> list[int]:
        """End every running job at ``now`` (the budget ran out, or the run stops); return their
        workers. Undecided jobs end ``cancelled`` (the scheduler is not told: a resumed run
        continues them); decided ones keep their reason, which the scheduler already acted on."""
        cancelled = []
        for worker, active in enumerate(self.jobs):
            if active is None:
                continue
            self._settle(worker, active, now)  # a milestone reached before the stop counts
            at = max(now, self.trace.makespan)
            self._close(worker, active, at, active.ending or "cancelled", active.error or why)
            cancelled.append(worker)
        return cancelled

    def _close(
        self, worker: int, active: _Active, now: float, reason: str, error: str | None
    ) -> None:
        self.jobs[worker] = None
        self.n_running -= 1
        # told now, so that the journal keeps the scheduler's calls in the order it got them
        if reason == "failed":
            self.scheduler.fail(active.trial_id)
            self.failed_jobs += 1
        elif reason == "returned":
            self.scheduler.end(active.trial_id)
        self._record(_new(JobEnded, (now, worker, active.trial_id, active.resource, reason, error)))

    def _check_failures(self, active: _Active) -> None:
        limit, total = self.max_failures, self.max_failed_trials
        if limit is not None and self.failures_in_a_row >= limit:
            why = f"{self.failures_in_a_row} jobs failed in a row without a single good report"
            why += f"; giving up (a systematic error? max_failures={limit})"
        elif total is not None and self.failed_jobs > total:
            why = f"{self.failed_jobs} trials failed, more than max_failed_trials={total} allows"
        else:
            return
        raise RunError(f"{why}. The last error:\n{active.error}")
