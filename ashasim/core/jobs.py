"""The vocabulary every driver and scheduler shares: jobs, decisions, the scheduler protocol.

A *trial* is one sampled config; a *job* is one stretch of training of a trial on one worker, from
``resume_from`` (resource already trained, 0 for a fresh start) up to ``milestone``. Resource is
an integer: epochs, or the 1-based index of a level of a table whose fidelities are not epochs
(training-set sizes, fractions); the cost model and the trace carry the real fidelity value, the
core only counts levels. The one driver (``ashasim.driver``) loops: a free worker gets
``suggest()``, trains epochs ``resume_from + 1 .. milestone`` with a ``report()`` after each, and
ends the job early on STOP.

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
    *decision_points*: the resources in (resume_from, milestone] at which the scheduler may act on
    a report (stop the trial, record it at a rung, pause it), ascending, the milestone last; None
    (the default, and what a scheduler that looks at every report says) means every resource.
    Reports in between still go to the scheduler (its searcher sees them); the points tell a clock
    what it may skip: the SimPy clock under ``cost="restart"`` trains only these levels (a learner
    refit from scratch at each). Advice derived from the scheduler's rules, not part of what the
    job is: two jobs that differ only here compare equal.
    """

    trial_id: int
    config: dict[str, Any] = field(hash=False)
    resume_from: int
    milestone: int
    bracket: int = 0
    save_checkpoint: bool = True
    decision_points: tuple[int, ...] | None = field(default=None, compare=False)

    @property
    def is_fresh(self) -> bool:
        """True when the job starts training from scratch (a new trial, or a retrain)."""
        return self.resume_from == 0

    @classmethod
    def _make(
        cls,
        trial_id: int,
        config: dict[str, Any],
        resume_from: int,
        milestone: int,
        bracket: int,
        save_checkpoint: bool,
        decision_points: tuple[int, ...] | None,
    ) -> Job:
        """A Job without the frozen dataclass's checks, for schedulers' hot paths (one per job):
        the generated ``__init__`` sets each field through ``object.__setattr__``, which cost
        more than the rest of a decision. Arguments are trusted: pass every field, in order."""
        job = _new_object(cls)
        fields = job.__dict__
        fields["trial_id"] = trial_id
        fields["config"] = config
        fields["resume_from"] = resume_from
        fields["milestone"] = milestone
        fields["bracket"] = bracket
        fields["save_checkpoint"] = save_checkpoint
        fields["decision_points"] = decision_points
        return job


_new_object = object.__new__


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
    report key that counts resource, e.g. "epoch"), *max_t* (the largest resource a job may
    reach: what a cost model or a table must be able to answer), *rung_levels* (where trials
    are compared, max_t last: for checks and plots), *max_trials* (the trial budget, None for
    none) and *n_trials* (trials created so far). Drivers read these members, never the
    ``describe()`` dict, which is for the journal's header only.
    """

    @property
    def config_space(self) -> Mapping[str, Any]:
        """The space configs come from (read-only here, so any mapping type satisfies it)."""
        ...

    metric: str
    mode: str
    resource_attr: str
    max_t: int

    @property
    def rung_levels(self) -> tuple[int, ...]:
        """Increasing resource levels at which trials are compared; the last is max_t."""
        ...

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

    def end(self, trial_id: int) -> None:
        """The running trial's objective returned before its job's milestone, ending the trial
        (not a failure: its reports stand): never suggest it again, never wait for it."""
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
