"""Random search (FIFO): every trial trains to max_t; the baseline for every other scheduler."""

from __future__ import annotations

from ashasim.core.base import SchedulerBase, SchedulerTrial
from ashasim.core.jobs import Decision

__all__ = ["RandomSearch"]


class RandomSearch(SchedulerBase):
    """Start a new trial whenever a worker is free and run it to *max_t* (r_max); never stop one.

    Takes the options every scheduler shares (see ``SchedulerBase``): *max_t*, *mode*, *metric*,
    *resource_attr*, *points_to_evaluate*, *max_trials* (then ``done`` turns true once they have
    all finished) and *seed*.
    """

    _sees_every_report = False  # decides at milestones
    budget_shapes_decisions = False  # it only stops new trials coming (``raise_trials``)

    def _next_job(self) -> SchedulerTrial | None:
        return self._new_trial(self.max_t)

    def _on_report(self, trial: SchedulerTrial, resource: int, metric: float) -> Decision:
        return Decision.CONTINUE
