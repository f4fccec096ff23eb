"""What the driver and its workers say to each other, whatever carries it (pipe, Ray, threads).

Every backend carries these same messages, so the real-time loop (``ashasim.run.executor``)
handles one vocabulary::

    driver -> worker   RunJob(spec) | Exit()          and, answering a Report, CONTINUE | STOP
                       Probe(location, token)         check the checkpoint location (start-up)
    worker -> driver   Ready()                        loaded the objective, waiting for jobs
                       Fatal(error, where, summary)   could not load the objective
                       Started(trial_id)              the objective of the job starts now
                       Report(trial_id, values, saved, final)
                                                      one report (saved: a checkpoint was filed
                                                      for it); blocks for CONTINUE or STOP,
                                                      unless final (the job's milestone: the
                                                      job ends, no answer is sent)
                       Probed(error, name)            answer to Probe: the checkpoint location
                                                      seen as the driver sees it (error None)
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
    "Probe",
    "Probed",
    "Ready",
    "Report",
    "Returned",
    "RunJob",
    "Started",
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
    error: str  # the traceback
    where: str = ""  # the worker's host (and Ray node)
    summary: str = ""  # what went wrong in one line


class Probe(NamedTuple):
    location: str
    token: str


class Probed(NamedTuple):
    error: str | None
    name: str  # what the worker wrote, for the driver to read back


class Started(NamedTuple):
    trial_id: int


class Report(NamedTuple):
    trial_id: int
    values: dict[str, Any]
    saved: bool = False  # a checkpoint was filed for this report's resource
    final: bool = False  # at the job's milestone: the worker lets go at once, waits for no answer


class Returned(NamedTuple):
    trial_id: int


class Stopped(NamedTuple):
    trial_id: int


class Failed(NamedTuple):
    trial_id: int
    error: str


class Died(NamedTuple):
    detail: int | str | None  # an exit code (negative: killed by that signal) or a reason
