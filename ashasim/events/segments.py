"""Jobs as Gantt segments: one per job, from a run's events (``Trace.segments``).

A segment is what a Gantt chart draws and what the idle-time and study measures add up: a job's
worker, trial, start, end, why it ended and how far it got. Built in one pass over the starts and
ends, because a long simulation's trace has 10^5-10^6 events and every study run reads them.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple

from ashasim.events.records import Event, JobEnded, JobStarted, Reported

__all__ = ["Segment", "build_segments"]

_new = tuple.__new__  # builds a NamedTuple without its Python-level __new__ (once per job)


class Segment(NamedTuple):
    """One job on one worker, for Gantt charts: ``resource`` is the last resource it reached."""

    worker: int
    trial_id: int
    resume_from: int
    resource: int
    start: float
    end: float
    reason: str  # one of REASONS, or "running" for a job the journal never saw end
    milestone: int = 0  # where the job was meant to end
    bracket: int = 0


def build_segments(events: Sequence[Event], makespan: float) -> list[Segment]:
    """One segment per job of *events* (in time order), in start order; a job the events never
    end is ``running`` until *makespan*. A worker that starts a job while it runs one, or ends a
    job it does not run, is a ValueError (the events are not one run's).

    Reports are skipped: only a job still open at the end needs its last report, looked up
    then. A job's segment takes the slot its start reserved, so no sort is needed.
    """
    slots: list[Any] = []
    open_jobs: dict[int, tuple[int, int, JobStarted]] = {}  # worker -> (slot, index, start)
    for index, event in enumerate(events):
        if type(event) is Reported:
            continue
        if type(event) is JobStarted:
            worker = event[1]
            if worker in open_jobs:
                raise ValueError(
                    f"worker {worker} starts trial {event.trial_id} at t={event.t} "
                    f"while it still runs trial {open_jobs[worker][2].trial_id}"
                )
            open_jobs[worker] = (len(slots), index, event)
            slots.append(None)
        elif type(event) is JobEnded:
            job = open_jobs.pop(event[1], None)
            if job is None:
                raise ValueError(
                    f"worker {event.worker} ends trial {event.trial_id} at t={event.t} "
                    f"but runs no job"
                )
            slots[job[0]] = _segment(job[2], event.t, event.reason, event.resource)
    reached = _last_reports(events, {start.worker: index for _, index, start in open_jobs.values()})
    for slot, _, start in open_jobs.values():
        resource = reached.get(start.worker, start.resume_from)
        slots[slot] = _segment(start, makespan, "running", resource)
    return slots


def _last_reports(events: Sequence[Event], started_at: dict[int, int]) -> dict[int, int]:
    """worker -> the last resource it reported after the event index *started_at* gives it
    (workers with no report since are left out): one backward pass, however many jobs."""
    found: dict[int, int] = {}
    never = len(events)
    for index in range(len(events) - 1, min(started_at.values(), default=never), -1):
        event = events[index]
        worker = event[1]
        if (
            type(event) is Reported
            and worker not in found
            and index > started_at.get(worker, never)  # (a worker with no open job: never)
        ):
            found[worker] = event.resource
            if len(found) == len(started_at):
                break
    return found


def _segment(start: JobStarted, end: float, reason: str, resource: int) -> Segment:
    """The segment of the job that *start* began, ended at *end* for *reason*."""
    fields = (start.worker, start.trial_id, start.resume_from, resource, start.t, end, reason)
    return _new(Segment, (*fields, start.milestone, start.bracket))
