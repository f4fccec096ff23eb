"""Resume a real run from its journal: the saved scheduler catches up with the journal.

A scheduler is a pure state machine (same calls, same state), and the run directory keeps it as
it was before its first call. Making the journal's calls again, in order (a ``suggest`` per job that
started a trial's next stretch, a ``report`` per journaled report, a ``fail`` per failed job)
brings it back to where the run stopped; every suggested job and every decision is checked
against the journal on the way, so a journal that does not belong to the scheduler is refused.

Jobs the journal never saw end (the driver crashed) or saw ``cancelled`` (the budget, Ctrl-C)
left their trials running in the scheduler: they are re-dispatched first, each continuing from its
last journaled report.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from ashasim.core.jobs import Job, Scheduler
from ashasim.driver import RunError
from ashasim.events import Event, JobEnded, JobStarted, Reported

__all__ = ["ResumeError", "ResumePoint", "catch_up"]


class ResumeError(RunError):
    """A run directory cannot be resumed (no saved state, or a journal its scheduler disputes)."""


@dataclass
class ResumePoint:
    """Where a caught-up run stands."""

    requeue: list[Job] = field(default_factory=list)  # jobs to finish first, in trial order
    # jobs the journal never saw end: (worker, trial, reached, reason); the reason is what the
    # scheduler already knows (its last report ended the job) or "cancelled"
    open_jobs: list[tuple[int, int, int, str]] = field(default_factory=list)


def catch_up(scheduler: Scheduler, events: Sequence[Event]) -> ResumePoint:
    """Make the journal's calls on the fresh ``scheduler`` (its searcher included), checking each
    suggested job and decision against what the journal says the run got."""
    starts: dict[int, JobStarted] = {}  # trial -> its latest JobStarted
    reached: dict[int, int] = {}  # trial -> last journaled resource
    running: set[int] = set()  # trials the scheduler still thinks are running
    open_at_end: dict[int, int] = {}  # worker -> trial of its unfinished job
    ended: dict[int, str] = {}  # trial -> how its job ended, when a report ended it
    for number, event in enumerate(events, start=2):
        kind = type(event)
        if kind is JobStarted:
            if event.trial_id not in running:  # a new stretch; else a re-dispatch after resume
                job = scheduler.suggest()
                expected = (event.trial_id, event.resume_from, event.milestone)
                got = None if job is None else (job.trial_id, job.resume_from, job.milestone)
                if got != expected:
                    raise ResumeError(
                        f"journal line {number}: the run started (trial, resume_from, "
                        f"milestone) = {expected}, but the saved scheduler suggests {got}; "
                        f"the journal does not belong to this scheduler"
                    )
            starts[event.trial_id] = event
            reached[event.trial_id] = event.resume_from
            running.add(event.trial_id)
            ended.pop(event.trial_id, None)
            open_at_end[event.worker] = event.trial_id
        elif kind is Reported:
            decision = scheduler.report(event.trial_id, event.resource, event.metric)
            if decision.value != event.decision:
                raise ResumeError(
                    f"journal line {number}: trial {event.trial_id} got {event.decision!r} "
                    f"but the saved scheduler answers {decision.value!r}"
                )
            reached[event.trial_id] = event.resource
            if event.decision == "stop":
                ended[event.trial_id] = "stopped"
            elif event.resource >= starts[event.trial_id].milestone:
                ended[event.trial_id] = "milestone"
            if event.trial_id in ended:  # paused, completed or stopped: not running any more
                running.discard(event.trial_id)
        elif kind is JobEnded:
            open_at_end.pop(event.worker, None)
            if event.reason != "cancelled":  # milestone, stopped, failed: the scheduler knows
                running.discard(event.trial_id)
            if event.reason in ("failed", "returned"):  # the driver called fail() for both
                scheduler.fail(event.trial_id)
    point = ResumePoint()
    point.open_jobs = [
        (worker, trial_id, reached[trial_id], ended.get(trial_id, "cancelled"))
        for worker, trial_id in sorted(open_at_end.items())
    ]
    for trial_id in sorted(running):
        start = starts[trial_id]
        point.requeue.append(
            Job(trial_id, start.config, reached[trial_id], start.milestone, start.bracket)
        )
    return point
