"""The vocabulary every driver and scheduler shares: jobs, decisions, the scheduler protocol.

A *trial* is one sampled config; a *job* is one stretch of training of a trial on one worker, from
``resume_from`` (resource already trained, 0 for a fresh start) up to ``milestone``. Resource is
counted in epochs. A driver loops: a free worker calls ``suggest()``, trains epochs
``resume_from + 1 .. milestone`` calling ``report()`` after each, and ends the job early on STOP.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import Any, Protocol, runtime_checkable

__all__ = ["Decision", "Job", "Scheduler", "TrialState"]


@dataclass(frozen=True)
class Job:
    """Work for one worker: train ``trial_id`` from ``resume_from`` up to ``milestone``."""

    trial_id: int
    config: dict[str, Any] = field(hash=False)
    resume_from: int
    milestone: int

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
    """What both clocks drive. Pure: no clock, no threads, no I/O."""

    def suggest(self) -> Job | None:
        """Work for a free worker, or None when there is nothing to do *now*."""
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
