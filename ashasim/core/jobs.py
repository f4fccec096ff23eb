"""The vocabulary every driver and scheduler shares: jobs, decisions, the scheduler protocol.

A *trial* is one sampled config; a *job* is one stretch of training of a trial on one worker, from
``resume_from`` (resource already trained, 0 for a fresh start) up to ``milestone``. Resource is
counted in epochs. The one driver (``ashasim.driver``) loops: a free worker gets ``suggest()``,
trains epochs ``resume_from + 1 .. milestone`` with a ``report()`` after each, and ends the job
early on STOP.

``Scheduler`` is the whole contract between a driver and a scheduler: drivers use these members
and nothing else, so a scheduler written against it (not necessarily a ``SchedulerBase``) runs on
the SimPy clock and on the real executor alike.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import Enum
from typing import Any, Protocol, runtime_checkable

__all__ = ["Decision", "Job", "Scheduler", "TrialState"]


@dataclass(frozen=True)
class Job:
    """Work for one worker: train ``trial_id`` from ``resume_from`` up to ``milestone``.

    *bracket*: the scheduler's bracket (Hyperband), journaled so plots can draw per-bracket rungs.
    *save_checkpoint*: the trial may later resume from this job's milestone, so the job must save
    a checkpoint before its milestone report (a scheduler that retrains promoted trials, or a job
    that ends at max_t, says False and spares the save).
    """

    trial_id: int
    config: dict[str, Any] = field(hash=False)
    resume_from: int
    milestone: int
    bracket: int = 0
    save_checkpoint: bool = True

    @property
    def is_fresh(self) -> bool:
        """True when the job starts training from scratch (a new trial, or a retrain)."""
        return self.resume_from == 0


class Decision(Enum):
    """The scheduler's answer to a report."""

    CONTINUE = "continue"
    STOP = "stop"


class TrialState(Enum):
    """Where a trial is in its life; see ``ashasim.core.lifecycle`` for the legal moves."""

    RUNNING = "running"
    PAUSED = "paused"
    STOPPED = "stopped"
    COMPLETED = "completed"
    FAILED = "failed"


@runtime_checkable
class Scheduler(Protocol):
    """What both clocks drive. Pure: no clock, no threads, no I/O.

    Attributes a driver reads: *config_space* (the space configs come from), *metric* and *mode*
    (what the run optimizes, for the journal and the objective's reports), *resource_attr* (the
    report key that counts resource, e.g. "epoch"), *max_trials* (the trial budget, None for
    none) and *n_trials* (trials created so far).
    """

    config_space: Mapping[str, Any]
    metric: str
    mode: str
    resource_attr: str

    @property
    def max_trials(self) -> int | None: ...

    @property
    def n_trials(self) -> int: ...

    def suggest(self) -> Job | None:
        """Work for a free worker, or None when there is nothing to do *now*. A None must not
        change the scheduler's state (a resumed run makes its journal's calls again, one by one)."""
        ...

    def report(self, trial_id: int, resource: int, metric: float) -> Decision:
        """Record the metric a running trial reached at ``resource``; CONTINUE or STOP."""
        ...

    def fail(self, trial_id: int) -> None:
        """The trial crashed: never suggest it again, never wait for it."""
        ...

    @property
    def done(self) -> bool:
        """True once no job will ever be suggested again."""
        ...

    def limit_trials(self, max_trials: int) -> None:
        """Lower the trial budget to ``max_trials`` (a driver's stopping criterion)."""
        ...

    def describe(self) -> dict[str, Any]:
        """Name and settings, JSON-able, for the journal's header."""
        ...
