"""Resume a real run from its journal: the saved scheduler catches up with the journal.

A scheduler is a pure state machine (same calls, same state), and the run directory keeps it as
it was before its first call. Making the journal's calls again, in order (a ``suggest`` per job that
started a trial's next stretch, a ``report`` per journaled report, a ``fail`` per failed job)
brings it back to where the run stopped; every suggested job and every decision is checked
against the journal on the way, so a journal that does not belong to the scheduler is refused.

Jobs the journal never saw end (the driver crashed) or saw ``cancelled`` (the budget, Ctrl-C) or
``retried`` (the worker died; the driver had requeued the stretch) left their trials running in
the scheduler: they are re-dispatched first, each continuing from its
last journaled report (unless such a job had already run past the run's time limit per job: see
``ashasim.run.executor``).

A journal is refused (``ResumeError``, one line naming the journal line) when its calls do not
bring the saved scheduler to a consistent state: a damaged line, a duplicated or misplaced one,
a journal of another seed, space or scheduler. Nothing is written before that check passes.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass, field

from ashasim.core.jobs import Job, Scheduler
from ashasim.driver import RunError
from ashasim.events import REASONS, Event, JobEnded, JobStarted, Reported
from ashasim.events.records import json_default

__all__ = ["ResumeError", "ResumePoint", "catch_up"]


class ResumeError(RunError):
    """A run directory cannot be resumed (no saved state, or a journal its scheduler disputes)."""


@dataclass
class ResumePoint:
    """Where a caught-up run stands."""

    requeue: list[Job] = field(default_factory=list)  # jobs to finish first, by former worker
    # jobs the journal never saw end: (worker, trial, reached, reason); the reason is what the
    # scheduler already knows (its last report ended the job) or "cancelled"
    open_jobs: list[tuple[int, int, int, str]] = field(default_factory=list)
    # trial -> how long its interrupted job had run (run time), for the time limit on resume
    ran: dict[int, float] = field(default_factory=dict)
    # trial -> times it was retried (its worker died), so a resume does not reset the count
    retries: dict[int, int] = field(default_factory=dict)
    # trial -> resources it filed a checkpoint at (journaled with their reports), so a checkpoint
    # deleted since is an error on resume as it is during a run, not a silent restart
    saved: dict[int, list[int]] = field(default_factory=dict)


def catch_up(scheduler: Scheduler, events: Sequence[Event], n_workers: int) -> ResumePoint:
    """Make the journal's calls on the fresh ``scheduler`` (its searcher included), checking each
    suggested job, config and decision against what the journal says the run got, and the
    journal's own consistency (time order, one job per worker, reports and ends of the job the
    worker runs): a damaged journal or one of another run is refused (ResumeError) before
    anything is written."""
    replay = _Replay(scheduler, n_workers)
    for number, event in enumerate(events, start=2):
        try:
            replay.play(event)
        except ResumeError as error:
            raise ResumeError(f"journal line {number}: {error}") from None
        except Exception as error:  # the scheduler refuses a call: not this run's journal
            raise ResumeError(
                f"journal line {number}: the saved scheduler refuses it "
                f"({type(error).__name__}: {error}); the journal is damaged or belongs to "
                f"another run"
            ) from None
    return replay.point(events[-1].t if events else 0.0)


class _Replay:
    """The journal's calls made again, one event at a time."""

    def __init__(self, scheduler: Scheduler, n_workers: int) -> None:
        self.scheduler = scheduler
        self.n_workers = n_workers
        self.last_t = 0.0
        self.starts: dict[int, JobStarted] = {}  # trial -> its latest JobStarted
        self.reached: dict[int, int] = {}  # trial -> last journaled resource
        self.running: set[int] = set()  # trials the scheduler still thinks are running
        self.open_jobs: dict[int, int] = {}  # worker -> trial of its unfinished job
        self.ended: dict[int, str] = {}  # trial -> how its job ended, when a report ended it
        self.cut: dict[int, float] = {}  # trial -> when its cancelled job ended
        self.retries: dict[int, int] = {}  # trial -> jobs of it that ended "retried"
        self.saved: dict[int, list[int]] = {}  # trial -> resources it filed checkpoints at

    def play(self, event: Event) -> None:
        self.check_time(event)
        if not (_is_int(event.worker) and 0 <= event.worker < self.n_workers):
            raise ResumeError(f"worker {event.worker!r} is not one of the run's {self.n_workers}")
        if isinstance(event, JobStarted):
            self.started(event)
        elif isinstance(event, Reported):
            self.reported(event)
        else:
            self.job_ended(event)

    def check_time(self, event: Event) -> None:
        t = event.t
        if not isinstance(t, (int, float)) or isinstance(t, bool) or not math.isfinite(t):
            raise ResumeError(f"t = {t!r} is not a time")
        if t < self.last_t:
            raise ResumeError(f"t = {t} comes after t = {self.last_t}: events out of time order")
        self.last_t = t

    def started(self, event: JobStarted) -> None:
        trial_id = event.trial_id
        if event.worker in self.open_jobs:
            raise ResumeError(
                f"worker {event.worker} starts trial {trial_id} while it still runs trial "
                f"{self.open_jobs[event.worker]} (a duplicated or misplaced line)"
            )
        if trial_id in self.open_jobs.values():
            raise ResumeError(f"trial {trial_id} starts while it still runs on another worker")
        if trial_id not in self.running:  # a new stretch; else a re-dispatch after resume
            job = self.scheduler.suggest()
            expected = (trial_id, event.resume_from, event.milestone)
            got = None if job is None else (job.trial_id, job.resume_from, job.milestone)
            if got != expected:
                raise ResumeError(
                    f"the run started (trial, resume_from, milestone) = {expected}, but the "
                    f"saved scheduler suggests {got}; the journal does not belong to this "
                    f"scheduler"
                )
            if job is not None and _plain(job.config) != event.config:
                raise ResumeError(
                    f"trial {trial_id} ran with config {event.config}, but the saved scheduler "
                    f"gives it {_plain(job.config)}; the journal belongs to another run"
                )
        elif event.resume_from != self.reached[trial_id]:
            raise ResumeError(
                f"trial {trial_id} is re-dispatched from {event.resume_from}, but it reached "
                f"{self.reached[trial_id]}"
            )
        self.starts[trial_id] = event
        self.reached[trial_id] = event.resume_from
        self.running.add(trial_id)
        self.ended.pop(trial_id, None)
        self.cut.pop(trial_id, None)
        self.open_jobs[event.worker] = trial_id

    def reported(self, event: Reported) -> None:
        trial_id = event.trial_id
        self.check_job(event, "reports for")
        if not (_is_int(event.resource) and event.resource > self.reached[trial_id]):
            raise ResumeError(
                f"trial {trial_id} reports {event.resource!r} after {self.reached[trial_id]} "
                f"(a duplicated or misplaced line)"
            )
        if trial_id in self.ended:
            raise ResumeError(f"trial {trial_id} reports after its job ended")
        decision = self.scheduler.report(trial_id, event.resource, event.metric)
        if decision.value != event.decision:
            raise ResumeError(
                f"trial {trial_id} got {event.decision!r} but the saved scheduler answers "
                f"{decision.value!r}"
            )
        self.reached[trial_id] = event.resource
        if event.checkpoint:
            self.saved.setdefault(trial_id, []).append(event.resource)
        if event.decision == "stop":
            self.ended[trial_id] = "stopped"
        elif event.resource >= self.starts[trial_id].milestone:
            self.ended[trial_id] = "milestone"
        if trial_id in self.ended:  # paused, completed or stopped: not running any more
            self.running.discard(trial_id)

    def job_ended(self, event: JobEnded) -> None:
        trial_id = event.trial_id
        self.check_job(event, "ends")
        if event.reason not in REASONS:
            raise ResumeError(f"unknown job end {event.reason!r}")
        del self.open_jobs[event.worker]
        if event.reason == "cancelled":
            self.cut[trial_id] = event.t - self.starts[trial_id].t
        elif event.reason == "retried":
            if trial_id in self.ended:
                raise ResumeError(f"trial {trial_id} is retried after its job ended")
            self.retries[trial_id] = self.retries.get(trial_id, 0) + 1
        else:  # milestone, stopped, failed, returned: the scheduler knows
            self.running.discard(trial_id)
        if event.reason in ("failed", "returned"):  # the driver called fail() for both
            self.scheduler.fail(trial_id)

    def check_job(self, event: Reported | JobEnded, what: str) -> None:
        running = self.open_jobs.get(event.worker)
        if running != event.trial_id:
            doing = "runs no job" if running is None else f"runs trial {running}"
            raise ResumeError(
                f"worker {event.worker} {what} trial {event.trial_id} but {doing} (a duplicated "
                f"or misplaced line)"
            )

    def point(self, end: float) -> ResumePoint:
        point = ResumePoint(retries=dict(self.retries), saved=self.saved)
        point.open_jobs = [
            (worker, trial_id, self.reached[trial_id], self.ended.get(trial_id, "cancelled"))
            for worker, trial_id in sorted(self.open_jobs.items())
        ]
        for trial_id in self.open_jobs.values():
            if trial_id not in self.ended:
                self.cut[trial_id] = end - self.starts[trial_id].t
        # in the order of the workers they ran on: a resume hands them to the same workers when
        # every worker is free, so ties break as in a run never cut (ashasim.tie_order.tie_key)
        starts = self.starts
        for trial_id in sorted(self.running, key=lambda t: (starts[t].worker, t)):
            start = self.starts[trial_id]
            point.requeue.append(
                Job(trial_id, start.config, self.reached[trial_id], start.milestone, start.bracket)
            )
            point.ran[trial_id] = self.cut.get(trial_id, 0.0)
        return point


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _plain(config: dict) -> dict:
    """A config as the journal holds it (through JSON)."""
    return json.loads(json.dumps(config, default=json_default))
