"""Synchronous successive halving (Jamieson & Talwalkar 2016; Li et al. 2018), with rung barriers.

A bracket starts n0 trials at its first rung level. Only when every job of rung k has reported (or
failed) are the top floor(n_k/eta) of the rung's n_k results promoted, together, best first, to rung
k+1. While a rung is unfinished the bracket has nothing to hand out: that barrier is what leaves
workers idle behind stragglers, and what ASHA removes.

When one bracket is done (or stuck at a barrier), ``overlap`` says whether a free worker may open
the next bracket:

* ``"none"``: never while a bracket is active (textbook SH: the worker waits);
* ``"top-rung"``: once the newest bracket's last rung (r_max) is under way, as in the chapter's
  figure, where Trial-4 of the next round starts beside Trial-0's final rung;
* ``"always"``: whenever the active brackets have nothing to hand out.

Older brackets always get the free worker first. ``resume=True`` continues a promoted trial from
the rung it paused at; ``resume=False`` retrains it from scratch up to the next rung (the chapter's
SH, and what an objective without checkpoints does anyway).

A failed trial is dropped from its bracket: the barrier no longer waits for it and it is not
promoted, so n_k counts the trials that reported at rung k and did not fail before it closed.

A bracket cut short (the trial budget or the searcher ran out before it started its n0 trials)
promotes floor(n_k/eta) of the n_k it has, like any other; with ``planned_quota=True`` it
promotes as many as the full bracket would have, floor(n0 / eta**(k+1)) from rung k, of those it
has, so its best trials still reach r_max, as Ray Tune's HyperBand trains them (Ray keeps the
planned ceil(n/eta) of a bracket however few trials joined it). A run of 4 trials in a bracket
planned for 9 (eta 3) then trains its best trial to r_max instead of stopping it at rung 1.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping, Sequence
from typing import Any

from ashasim.checks import check_choice, check_flag, check_int
from ashasim.core.base import SchedulerBase, SchedulerTrial
from ashasim.core.defaults import OVERLAP, OVERLAPS, REDUCTION_FACTOR
from ashasim.core.jobs import Decision
from ashasim.core.rungs import promotion_quota, score

__all__ = ["OVERLAPS", "ShBracket", "SyncSH"]


class ShBracket:
    """One bracket of synchronous SH: the current rung, its pending work and its results."""

    def __init__(self, index: int, levels: tuple[int, ...], n0: int) -> None:
        self.index = index
        self.levels = levels
        self.rung = 0
        self.n0 = n0
        self.to_start = n0  # new trials still to start at rung 0
        self.cut_short = False  # the budget ended before the bracket started its n0 trials
        self.queue: deque[int] = deque()  # promoted into the current rung, not yet handed out
        self.outstanding: set[int] = set()  # handed out, not yet reported at the milestone
        self.results: dict[int, float] = {}  # trial_id -> score at the current rung

    @property
    def at_top(self) -> bool:
        """The bracket's current rung is its last one (r_max)."""
        return self.rung == len(self.levels) - 1

    @property
    def barrier_open(self) -> bool:
        """Every job of the current rung has been handed out and has reported or failed."""
        return self.to_start == 0 and not self.queue and not self.outstanding

    def quota(self, reduction_factor: int, planned: bool) -> int:
        """How many of the current rung's results go on: floor(n_k/eta) (Li et al.); with
        *planned*, a bracket cut short promotes what the full bracket would have, of those it
        has (module docstring)."""
        if planned and self.cut_short:
            planned = self.n0 // reduction_factor ** (self.rung + 1)
            return min(len(self.results), planned)
        return promotion_quota(len(self.results), reduction_factor)

    def ranked(self) -> list[int]:
        """Trial ids of the current rung's results, best first (ties: lower trial_id)."""
        return [tid for _, tid in sorted((s, tid) for tid, s in self.results.items())]


class SyncSH(SchedulerBase):
    """Synchronous successive halving; see the module docstring.

    *grace_period*: r_min (default 1). *reduction_factor*: eta >= 2. *max_t*: r_max.
    *rung_levels*: explicit rung levels instead of r_min * eta**k (as in ``ASHA``). *n0*: trials
    per bracket at r_min (default eta**K, K = number of rung levels above r_min). *overlap*: "none",
    "top-rung" (default) or "always". *resume*: continue promoted trials (True) or retrain them
    (False). *planned_quota*: a bracket cut short by the trial budget promotes its full size's
    quota (Ray Tune's rule; module docstring) instead of floor(n_k/eta) of what it has.
    Other options as in ``SchedulerBase``.
    """

    _sees_every_report = False  # decides at milestones

    def __init__(
        self,
        config_space: Mapping[str, Any],
        *,
        max_t: int,
        grace_period: int | None = None,
        reduction_factor: int = REDUCTION_FACTOR,
        rung_levels: Sequence[int] | None = None,
        n0: int | None = None,
        overlap: str = OVERLAP,
        resume: bool = True,
        planned_quota: bool = False,
        **common: Any,
    ) -> None:
        super().__init__(config_space, max_t=max_t, **common)
        self._levels = self._ladder(grace_period, reduction_factor, rung_levels)
        self.n0 = (
            self.reduction_factor ** (len(self._levels) - 1)
            if n0 is None
            else check_int("n0", n0, minimum=1)
        )
        self.overlap = check_choice("overlap", overlap, OVERLAPS)
        self.resume = check_flag("resume", resume)
        self.planned_quota = check_flag("planned_quota", planned_quota)
        self._active: dict[int, ShBracket] = {}  # insertion order = age
        self._n_brackets = 0

    @property
    def rung_levels(self) -> tuple[int, ...]:
        return self._levels

    @property
    def resumes_promoted(self) -> bool:
        return self.resume

    @property
    def active_brackets(self) -> list[ShBracket]:
        """Brackets still in progress, oldest first (read-only use)."""
        return list(self._active.values())

    def _bracket_plan(self, index: int) -> tuple[int, int]:
        """(index of the first rung level, n0) of bracket ``index``; Hyperband overrides this."""
        return 0, self.n0

    def _may_open_bracket(self) -> bool:
        if self.trials_exhausted:
            return False
        if not self._active or self.overlap == "always":
            return True
        return self.overlap == "top-rung" and next(reversed(self._active.values())).at_top

    def _next_job(self) -> SchedulerTrial | None:
        for bracket in self._active.values():
            trial = self._dispatch(bracket)
            if trial is not None:
                return trial
        if not self._may_open_bracket():
            return None
        start, n0 = self._bracket_plan(self._n_brackets)
        levels = self._levels[start:]
        trial = self._new_trial(levels[0], bracket=self._n_brackets)
        if trial is None:
            return None  # the searcher has no new config: no bracket is opened
        bracket = ShBracket(self._n_brackets, levels, n0)
        self._n_brackets += 1
        self._active[bracket.index] = bracket
        self._started(bracket, trial)
        return trial

    def _dispatch(self, bracket: ShBracket) -> SchedulerTrial | None:
        if bracket.queue:
            trial = self._trials[bracket.queue.popleft()]
            bracket.outstanding.add(trial.trial_id)
            resume_from = bracket.levels[bracket.rung - 1] if self.resume else 0
            return self._resume(trial, resume_from, bracket.levels[bracket.rung])
        if bracket.to_start == 0:
            return None
        new = self._new_trial(bracket.levels[0], bracket=bracket.index)
        if new is None:  # no trial budget or no config left: the bracket starts no more
            bracket.to_start, bracket.cut_short = 0, True
            self._close_rung_if_complete(bracket)
            return self._dispatch(bracket) if bracket.index in self._active else None
        self._started(bracket, new)
        return new

    def _started(self, bracket: ShBracket, trial: SchedulerTrial) -> None:
        bracket.outstanding.add(trial.trial_id)
        bracket.to_start -= 1
        if self.trials_exhausted and bracket.to_start > 0:
            bracket.to_start, bracket.cut_short = 0, True

    def _on_report(self, trial: SchedulerTrial, resource: int, metric: float) -> Decision:
        if resource == trial.milestone:
            bracket = self._active[trial.bracket]
            bracket.outstanding.discard(trial.trial_id)
            bracket.results[trial.trial_id] = score(metric, self.mode)
            self._close_rung_if_complete(bracket)
        return Decision.CONTINUE

    def _withdraw(self, trial: SchedulerTrial) -> None:
        bracket = self._active.get(trial.bracket)
        if bracket is None:
            return
        bracket.outstanding.discard(trial.trial_id)
        bracket.results.pop(trial.trial_id, None)
        if trial.trial_id in bracket.queue:
            bracket.queue.remove(trial.trial_id)
        self._close_rung_if_complete(bracket)

    def _close_rung_if_complete(self, bracket: ShBracket) -> None:
        """The barrier: once the rung is complete, promote its top floor(n/eta) together."""
        if not bracket.barrier_open:
            return
        quota = bracket.quota(self.reduction_factor, self.planned_quota)
        if bracket.at_top or quota == 0:
            del self._active[bracket.index]
            return
        bracket.queue.extend(bracket.ranked()[:quota])
        bracket.rung += 1
        bracket.results = {}

    def _has_pending_work(self) -> bool:
        return bool(self._active)
