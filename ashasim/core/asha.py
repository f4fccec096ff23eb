"""ASHA: asynchronous successive halving (Li et al., "A System for Massively Parallel
Hyperparameter Tuning", MLSys 2020), promotion and stopping types, one or several brackets.

Promotion type (the paper's Algorithm 2, ``get_job``): when a worker is free, scan the rungs from
the top; at the highest rung that has one, promote a paused trial that is among the top floor(n/eta)
of the n results of that rung and was not promoted from it yet (the best such trial). Otherwise
start a new trial at r_min. Nothing ever waits for a rung to fill, so no worker idles while new
trials may be started.

Stopping type: every trial is started towards max_t; at each rung level it reports, it continues
only if it is in the top 1/eta of the results that rung has seen so far (``continues_at_rung``).

Where ashasim differs from the libraries users compare it with:

* **The paper's quota, exactly**: a rung of n results admits floor(n/eta). Syne Tune's promotion
  rung system computes its cutoff from a quantile of the recorded values, which admits a trial
  earlier (with eta = 3, two results already promote the better one); ashasim waits for the third.
* **Ray Tune's AsyncHyperBandScheduler** stops a trial when it falls below a percentile cutoff of
  the rung; with no earlier result at the rung every first arrival passes. ashasim's stopping type
  is rank-based with the small-sample policy of ``continues_at_rung``: the first arrival passes too,
  but with fewer than eta results only the best so far continues.
* **The rule can promote more than floor(n/eta) trials from a rung over time**, as the paper's can:
  a late result that outranks an already promoted trial enters the top floor(n/eta) and is promoted
  as well. What holds is that each promotion was in the top floor(n/eta) when it happened, and a
  trial with fewer than eta - 1 worse results is never promoted, so promotions <= n - eta + 1.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from ashasim.checks import check_choice, check_int
from ashasim.core.base import SchedulerBase, SchedulerTrial
from ashasim.core.defaults import REDUCTION_FACTOR
from ashasim.core.jobs import Decision
from ashasim.core.rungs import Rung

_STOP, _CONTINUE = Decision.STOP, Decision.CONTINUE
_INFINITE = (math.inf, -math.inf)

__all__ = ["ASHA", "ASHA_TYPES", "AshaBracket", "check_brackets"]

ASHA_TYPES = ("promotion", "stopping")


def check_brackets(brackets: int | None, n_levels: int) -> int:
    """Number of brackets: None means one per rung level (full Hyperband)."""
    if brackets is None:
        return n_levels
    brackets = check_int("brackets", brackets, minimum=1)
    if brackets > n_levels:
        raise ValueError(f"brackets must be in 1..{n_levels} (one per rung level), got {brackets}")
    return brackets


class AshaBracket:
    """The rungs of one ASHA bracket: ``levels[0]`` is where its trials are first judged."""

    def __init__(self, levels: tuple[int, ...], reduction_factor: int) -> None:
        self.levels = levels
        self.rungs = [Rung(level, reduction_factor) for level in levels[:-1]]
        # level -> (its rung, the next level): a report at a rung level is found without a scan
        self.at_level = {
            rung.level: (rung, levels[index + 1]) for index, rung in enumerate(self.rungs)
        }


class _AsyncSuccessiveHalving(SchedulerBase):
    """ASHA over ``brackets`` brackets (None: one per rung level).

    Bracket b judges its trials from rung level b upwards; ASHA is the one-bracket case.
    """

    _sees_every_report = False  # decides at milestones and rung levels
    budget_shapes_decisions = False  # it only stops new trials coming (``raise_trials``)

    def __init__(
        self,
        config_space: Mapping[str, Any],
        *,
        type: str,  # noqa: A002 - the name users know from Syne Tune and the chapter
        max_t: int,
        grace_period: int | None = None,
        reduction_factor: int = REDUCTION_FACTOR,
        rung_levels: Sequence[int] | None = None,
        brackets: int | None = None,
        **common: Any,
    ) -> None:
        check_choice("type", type, ASHA_TYPES)
        super().__init__(config_space, max_t=max_t, **common)
        self.type = type
        self._levels = self._ladder(grace_period, reduction_factor, rung_levels)
        self._brackets = [
            AshaBracket(self._levels[b:], self.reduction_factor)
            for b in range(check_brackets(brackets, len(self._levels)))
        ]
        # Hyperband's weights: bracket b (s = s_max - b rungs above its start) gets a share of the
        # new trials proportional to the trials synchronous Hyperband starts in it, eta**s/(s+1).
        s_max = len(self._levels) - 1
        weights = [
            self.reduction_factor ** (s_max - b) / (s_max - b + 1)
            for b in range(len(self._brackets))
        ]
        self.bracket_probabilities = np.array(weights) / sum(weights)
        # What Generator.choice(n, p=...) computes before it draws: its cumulative weights,
        # normalised. One uniform from the same generator, placed among them, is the same draw
        # (same bracket, same stream) at a tenth of the cost (once per new trial).
        cumulative = self.bracket_probabilities.cumsum()
        self._bracket_cdf: list[float] = (cumulative / cumulative[-1]).tolist()
        self._minimize = self.mode == "min"
        self._promotes, self._stops = self.type == "promotion", self.type == "stopping"
        self._points: dict[tuple[int, int, int], tuple[int, ...]] = {}
        self._fresh_points: list[tuple[int, ...] | None] = [None] * len(self._brackets)

    @property
    def rung_levels(self) -> tuple[int, ...]:
        return self._levels

    def rung_trials(self, level: int, bracket: int = 0) -> list[int]:
        """Trial ids with a result at rung ``level`` of ``bracket``, best first (for inspection)."""
        for rung in self._brackets[bracket].rungs:
            if rung.level == level:
                return rung.trial_ids()
        raise ValueError(f"level must be one of {self._brackets[bracket].levels[:-1]}, got {level}")

    def _choose_bracket(self) -> int:
        if len(self._brackets) == 1:
            return 0  # no draw: ASHA's configs do not depend on a bracket stream
        return bisect.bisect_right(self._bracket_cdf, self._rng.random())

    def _next_rung_after(self, bracket: int, level: int) -> int:
        """The next rung level above ``level`` in the bracket (max_t when there is none)."""
        for rung in self._brackets[bracket].rungs:
            if rung.level > level:
                return rung.level
        return self.max_t

    def _find_promotable(self) -> tuple[SchedulerTrial, AshaBracket, int] | None:
        """Scan rung levels from the top (across brackets); first promotable trial wins."""
        if len(self._brackets) == 1:  # ASHA: one bracket, its rungs from the top
            bracket = self._brackets[0]
            rungs = bracket.rungs
            for k in range(len(rungs) - 1, -1, -1):
                trial_id = rungs[k].promotable()
                if trial_id is not None:
                    return self._trials[trial_id], bracket, k
            return None
        for level_index in reversed(range(len(self._levels) - 1)):
            for bracket in self._brackets[: level_index + 1]:
                rung_index = level_index - (len(self._levels) - len(bracket.levels))
                if rung_index < 0:
                    continue
                trial_id = bracket.rungs[rung_index].promotable()
                if trial_id is not None:
                    return self._trials[trial_id], bracket, rung_index
        return None

    def _next_job(self) -> SchedulerTrial | None:
        if self._promotes:
            found = self._find_promotable()
            if found is not None:
                trial, bracket, k = found
                bracket.rungs[k].withdraw(trial.trial_id)
                return self._resume(trial, bracket.levels[k], bracket.levels[k + 1])
        if self.trials_exhausted:
            return None
        b = self._choose_bracket()
        levels = self._brackets[b].levels
        new = self._new_trial(levels[0] if self._promotes else self.max_t, bracket=b)
        if new is not None:
            new.next_rung = levels[0]
        return new

    def _on_report(self, trial: SchedulerTrial, resource: int, metric: float) -> Decision:
        # (``report`` calls this only at or past ``trial.next_rung``: a rung level or the milestone)
        bracket = self._brackets[trial.bracket]
        trial_score = metric if self._minimize else -metric
        if trial_score != trial_score or trial_score in _INFINITE:
            trial_score = math.inf  # NaN and +-inf rank last (``score``)
        found = bracket.at_level.get(resource)
        if found is not None and resource == trial.next_rung:
            # the common case: a report exactly at the trial's next rung level
            rung, after = found
            continues = rung.add(
                trial.trial_id,
                trial_score,
                candidate=self._promotes and resource == trial.milestone,
            )
            trial.recorded = resource
            trial.next_rung = after
            return _STOP if self._stops and not continues else _CONTINUE
        decision = _CONTINUE
        pauses_here = self._promotes and resource == trial.milestone
        for rung in bracket.rungs:  # a report that passed one rung level or more unreported
            if trial.recorded < rung.level <= resource:
                continues = rung.add(trial.trial_id, trial_score, candidate=pauses_here)
                trial.recorded = rung.level
                trial.next_rung = self._next_rung_after(trial.bracket, rung.level)
                if self._stops and not continues:
                    decision = _STOP
        return decision

    def _decision_points(self, trial: SchedulerTrial) -> tuple[int, ...]:
        """The stopping type judges a job at every rung level it passes, the promotion type only
        at its milestone (which is a rung level, or max_t)."""
        if self._promotes:
            return (trial.milestone,)
        if trial.resume_from == 0 and trial.milestone == self.max_t:  # a new trial: by bracket
            points = self._fresh_points[trial.bracket]
            if points is not None:
                return points
        key = (trial.bracket, trial.resume_from, trial.milestone)
        points = self._points.get(key)
        if points is None:
            levels = self._brackets[trial.bracket].levels
            inside = [lv for lv in levels if trial.resume_from < lv < trial.milestone]
            points = self._points[key] = (*inside, trial.milestone)
            if trial.resume_from == 0 and trial.milestone == self.max_t:
                self._fresh_points[trial.bracket] = points
        return points

    def _withdraw(self, trial: SchedulerTrial) -> None:
        for rung in self._brackets[trial.bracket].rungs:
            rung.withdraw(trial.trial_id)

    def _has_pending_work(self) -> bool:
        return self.type == "promotion" and self._find_promotable() is not None


class ASHA(_AsyncSuccessiveHalving):
    """Asynchronous successive halving; see the module docstring for the rules.

    *type*: ``"promotion"`` (pause at each rung, promote later) or ``"stopping"`` (run towards
    max_t, stop at a rung when outside the top 1/eta). Required, here and in ``ashasim.ASHA``
    (the same class): the two behave very differently. Only the Syne Tune façade,
    ``ashasim.chapter.ASHA``, defaults to ``"stopping"``, as Syne Tune does.
    *grace_period*: r_min, the first rung level (default 1). *reduction_factor*: eta >= 2.
    *max_t*: r_max. *rung_levels*: explicit rung levels instead of r_min * eta**k (increasing
    integers below max_t, e.g. the levels of a table whose fidelities are not epochs; eta still sets
    the quota, floor(n/eta)). Other options as in ``SchedulerBase`` (mode, metric, resource_attr,
    points_to_evaluate, max_trials, seed).
    """

    def __init__(
        self,
        config_space: Mapping[str, Any],
        *,
        type: str,  # noqa: A002
        max_t: int,
        grace_period: int | None = None,
        reduction_factor: int = REDUCTION_FACTOR,
        rung_levels: Sequence[int] | None = None,
        **common: Any,
    ) -> None:
        super().__init__(
            config_space,
            type=type,
            max_t=max_t,
            grace_period=grace_period,
            reduction_factor=reduction_factor,
            rung_levels=rung_levels,
            brackets=1,
            **common,
        )
