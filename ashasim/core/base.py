"""What every scheduler shares: argument checks, trial bookkeeping, new configs, report checks.

Subclasses decide *which* job comes next (``_next_job``) and what a report means for the rungs
(``_on_report``); this class makes sure the calls they receive are legal: the trial exists and is
running, the resource moves forward within the job and stays at or below its milestone, and the
trial's lifecycle moves only along ``ashasim.core.lifecycle``. It also owns the one random
generator, so a seed fixes every config and every bracket draw.

``suggest()`` returning None never changes state; a run can therefore be replayed call by call
from its journal (this is how the real executor resumes a crashed run).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from ashasim.checks import check_choice, check_int, check_optional_int, check_text
from ashasim.core.jobs import Decision, Job, TrialState
from ashasim.core.lifecycle import Move, next_state
from ashasim.space import check_config, check_space, sample

# Enum members looked up once: report() runs once per epoch, and each ``TrialState.RUNNING``
# costs a class-attribute lookup that is a fifth of its fast path on CPython 3.11.
_RUNNING, _STOP, _CONTINUE = TrialState.RUNNING, Decision.STOP, Decision.CONTINUE

__all__ = ["MODES", "SchedulerBase", "Trial"]

MODES = ("min", "max")


@dataclass
class Trial:
    """The scheduler's view of one trial."""

    trial_id: int
    config: dict[str, Any]
    state: TrialState
    resume_from: int  # start of the current (or last) job
    milestone: int  # end of the current (or last) job
    resource: int  # last resource reported in the current job (resume_from before any)
    bracket: int = 0
    recorded: int = 0  # highest rung level this trial has a result at (ASHA's bookkeeping)
    # The next resource whose report the scheduler must see (a rung level, or the milestone):
    # reports below it only move ``resource`` on (``report``'s fast path, once per epoch).
    next_rung: int = 0


class SchedulerBase:
    """Shared machinery of all schedulers; see the module docstring."""

    def __init__(
        self,
        config_space: Mapping[str, Any],
        *,
        max_t: int,
        mode: str = "min",
        metric: str = "metric",
        resource_attr: str = "epoch",
        points_to_evaluate: Iterable[Mapping[str, Any]] | None = None,
        max_trials: int | None = None,
        seed: int = 0,
    ) -> None:
        self.config_space = check_space(config_space)
        self.max_t = check_int("max_t", max_t, minimum=1)
        self.mode = check_choice("mode", mode, MODES)
        self.metric = check_text("metric", metric)
        self.resource_attr = check_text("resource_attr", resource_attr)
        self.max_trials = check_optional_int("max_trials", max_trials, minimum=1)
        self.seed = check_int("seed", seed, minimum=0)
        self._rng = np.random.default_rng(self.seed)
        points = [] if points_to_evaluate is None else list(points_to_evaluate)
        for index, point in enumerate(points):
            if not isinstance(point, Mapping):
                raise ValueError(f"points_to_evaluate[{index}] must be a dict, got {point!r}")
            check_config(self.config_space, point, what=f"points_to_evaluate[{index}]")
        self._points: deque[dict[str, Any]] = deque(dict(point) for point in points)
        self._trials: dict[int, Trial] = {}
        self._n_running = 0

    # -- the protocol ---------------------------------------------------------------------------

    def suggest(self) -> Job | None:
        """Work for a free worker, or None when there is nothing to do now."""
        trial = self._next_job()
        if trial is None:
            return None
        milestone = trial.milestone
        return Job(
            trial.trial_id,
            dict(trial.config),
            trial.resume_from,
            milestone,
            trial.bracket,
            milestone < self.max_t and self.resumes_promoted,
        )

    def report(self, trial_id: int, resource: int, metric: float) -> Decision:
        """Record ``metric`` at ``resource`` for a running trial; CONTINUE or STOP.

        The job ends when this returns STOP or when ``resource`` is the job's milestone.
        """
        trial = self._trials.get(trial_id)  # type: ignore[arg-type]
        if trial is None or trial.state is not _RUNNING:
            trial = self._running_trial(trial_id, "report")  # raises the precise error
        if type(resource) is not int:  # fast path for the common case; np.integer is fine too
            if isinstance(resource, bool) or not isinstance(resource, (int, np.integer)):
                raise ValueError(f"resource must be an integer (epochs), got {resource!r}")
            resource = int(resource)
        if not trial.resource < resource <= trial.milestone:
            raise ValueError(
                f"trial {trial_id}: resource must be in ({trial.resource}, {trial.milestone}] "
                f"(after its last report, up to the job's milestone), got {resource}"
            )
        if type(metric) is not float:
            try:
                metric = float(metric)
            except (TypeError, ValueError):
                raise ValueError(f"metric must be a number, got {metric!r}") from None
        trial.resource = resource
        if resource < trial.next_rung:
            return _CONTINUE  # below the trial's next decision point: nothing to record or decide
        decision = self._on_report(trial, resource, metric)
        if decision is _STOP:
            self._move(trial, Move.STOP)
        elif resource == trial.milestone:
            self._move(trial, Move.COMPLETE if resource >= self.max_t else Move.PAUSE)
        return decision

    def fail(self, trial_id: int) -> None:
        """The trial crashed: it is never suggested again and nothing waits for it."""
        trial = self._trial(trial_id)
        self._move(trial, Move.FAIL)
        self._on_fail(trial)

    @property
    def done(self) -> bool:
        """No job will ever be suggested again."""
        return self.trials_exhausted and self._n_running == 0 and not self._has_pending_work()

    # -- queries --------------------------------------------------------------------------------

    @property
    def n_trials(self) -> int:
        """Trials created so far."""
        return len(self._trials)

    @property
    def trials_exhausted(self) -> bool:
        """True once max_trials trials have been created (never without a max_trials)."""
        return self.max_trials is not None and len(self._trials) >= self.max_trials

    def limit_trials(self, max_trials: int) -> None:
        """Lower the trial budget (a driver's stopping criterion); never raises it."""
        max_trials = check_int("max_trials", max_trials, minimum=1)
        if self.max_trials is None or max_trials < self.max_trials:
            self.max_trials = max_trials

    _SETTINGS = (
        "type",
        "max_t",
        "grace_period",
        "reduction_factor",
        "n0",
        "overlap",
        "resume",
        "brackets",
        "mode",
        "metric",
        "resource_attr",
        "max_trials",
        "seed",
    )

    def describe(self) -> dict[str, Any]:
        """Name and settings, JSON-able, for journals and summaries."""
        settings: dict[str, Any] = {"name": type(self).__name__}
        for name in self._SETTINGS:
            if hasattr(self, name):
                settings[name] = getattr(self, name)
        settings["rung_levels"] = list(self.rung_levels)
        return settings

    @property
    def resumes_promoted(self) -> bool:
        """Promoted trials continue from their checkpoint (False: they are retrained)."""
        return True

    def trial_state(self, trial_id: int) -> TrialState:
        return self._trial(trial_id).state

    def trial_bracket(self, trial_id: int) -> int:
        """The bracket a trial belongs to (0 for single-bracket schedulers)."""
        return self._trial(trial_id).bracket

    @property
    def rung_levels(self) -> tuple[int, ...]:
        """Resource levels at which this scheduler compares trials (max_t last)."""
        return (self.max_t,)

    # -- for subclasses -------------------------------------------------------------------------

    #: ``_on_report`` sees every report. A scheduler that decides only at a job's milestone
    #: (or, like ASHA, at rung levels it tracks in ``Trial.next_rung``) says False, and reports
    #: below ``next_rung`` take ``report``'s fast path.
    _sees_every_report = True

    def _next_job(self) -> Trial | None:
        raise NotImplementedError

    def _on_report(self, trial: Trial, resource: int, metric: float) -> Decision:
        raise NotImplementedError

    def _on_fail(self, trial: Trial) -> None:
        """React to a failure (e.g. release a barrier); default: nothing to do."""

    def _has_pending_work(self) -> bool:
        """Work that could still be suggested without creating a trial."""
        return False

    def _new_trial(self, milestone: int, bracket: int = 0) -> Trial | None:
        """Create a trial (next point to evaluate, else a sample) to train up to ``milestone``."""
        if self.trials_exhausted:
            return None
        # Sample even when a point is given: the generator's stream must not depend on the points.
        config = sample(self.config_space, self._rng)
        if self._points:
            config.update(self._points.popleft())
        trial = Trial(len(self._trials), config, TrialState.RUNNING, 0, milestone, 0, bracket)
        if not self._sees_every_report:
            trial.next_rung = milestone
        self._trials[trial.trial_id] = trial
        self._n_running += 1
        return trial

    def _resume(self, trial: Trial, resume_from: int, milestone: int) -> Trial:
        """Start the next job of a paused trial."""
        self._move(trial, Move.RESUME)
        trial.resume_from, trial.resource, trial.milestone = resume_from, resume_from, milestone
        if not self._sees_every_report:
            trial.next_rung = milestone
        return trial

    def _trial(self, trial_id: int) -> Trial:
        try:
            return self._trials[trial_id]
        except (KeyError, TypeError):
            raise KeyError(
                f"unknown trial_id {trial_id!r}; trials are 0..{len(self._trials) - 1}"
            ) from None

    def _running_trial(self, trial_id: int, action: str) -> Trial:
        trial = self._trial(trial_id)
        if trial.state is not TrialState.RUNNING:
            raise ValueError(
                f"cannot {action} trial {trial_id}: it is {trial.state.value}, not running"
            )
        return trial

    def _move(self, trial: Trial, move: Move) -> None:
        was_running = trial.state is TrialState.RUNNING
        trial.state = next_state(trial.trial_id, trial.state, move)
        self._n_running += int(trial.state is TrialState.RUNNING) - int(was_running)

    def _check_ladder(self, grace_period: int, reduction_factor: int) -> tuple[int, int]:
        grace_period = check_int("grace_period", grace_period, minimum=1)
        reduction_factor = check_int("reduction_factor", reduction_factor, minimum=2)
        if grace_period >= self.max_t:
            raise ValueError(f"grace_period must be < max_t (={self.max_t}), got {grace_period}")
        return grace_period, reduction_factor

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(max_t={self.max_t}, mode={self.mode!r}, "
            f"trials={len(self._trials)}, running={self._n_running})"
        )
