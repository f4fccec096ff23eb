"""What the driver and its workers say to each other, whatever carries it (pipe, Ray, threads).

Every backend carries these same messages, so the real-time loop (``ashasim.run.executor``)
handles one vocabulary::

    driver -> worker   RunJob(spec) | Exit()          and, answering a Report, CONTINUE | STOP
    worker -> driver   Ready()                        loaded the objective, waiting for jobs
                       Fatal(error)                   could not load the objective
                       Report(trial_id, values)       one report; blocks for CONTINUE or STOP
                       Returned(trial_id)             the objective returned by itself
                       Stopped(trial_id)              it stopped when told to (StopTrial)
                       Failed(trial_id, error)        it raised (the traceback)
    backend -> driver  Died(detail)                   the worker is gone (exit code, reason)

NamedTuples: cheap to build and to pickle, and matched by type, never by a string tag.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from ashasim.run.context import JobSpec

__all__ = [
    "CONTINUE",
    "STOP",
    "Died",
    "Exit",
    "Failed",
    "Fatal",
    "Ready",
    "Report",
    "Returned",
    "RunJob",
    "Stopped",
]

CONTINUE = "continue"
STOP = "stop"


class RunJob(NamedTuple):
    spec: JobSpec


class Exit(NamedTuple):
    pass


class Ready(NamedTuple):
    pass


class Fatal(NamedTuple):
    error: str


class Report(NamedTuple):
    trial_id: int
    values: dict[str, Any]


class Returned(NamedTuple):
    trial_id: int


class Stopped(NamedTuple):
    trial_id: int


class Failed(NamedTuple):
    trial_id: int
    error: str


class Died(NamedTuple):
    detail: int | str | None  # an exit code (negative: killed by that signal) or a reason
