"""What every scheduler shares: argument checks, trial bookkeeping, new configs, report checks.

Subclasses decide *which* job comes next (``_next_job``) and what a report means for the rungs
(``_on_report``); this class makes sure the calls they receive are legal: the trial exists and is
running, the resource moves forward within the job and stays at or below its milestone, and the
trial's lifecycle moves only along ``ashasim.core.lifecycle``. It also owns the one random
generator, so a seed fixes every config and every bracket draw, and the *searcher*
(``ashasim.search``) that chooses each new trial's config: it gets every report, failure and end.

``suggest()`` returning None never changes state (beyond remembering that the searcher has no
new config, which asking again would show anyway); so a crashed real run is resumed by making its
journal's calls again, one by one, on the scheduler saved before the first call.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ashasim.checks import (
    MODES,
    RecordsArguments,
    check_choice,
    check_int,
    check_known_arguments,
    check_optional_int,
    check_rung_levels,
    check_text,
)
from ashasim.core.defaults import GRACE_PERIOD
from ashasim.core.jobs import Decision, Job, TrialState
from ashasim.core.lifecycle import Move, next_state
from ashasim.core.rungs import rung_levels
from ashasim.search import RandomSearcher, Searcher, make_searcher
from ashasim.space import check_space

# Enum members looked up once: report() runs once per epoch, and each ``TrialState.RUNNING``
# costs a class-attribute lookup that is a fifth of its fast path on CPython 3.11.
_RUNNING, _STOP, _CONTINUE = TrialState.RUNNING, Decision.STOP, Decision.CONTINUE
_PAUSED = TrialState.PAUSED
# where the hot paths' moves lead, read from the lifecycle table once
_STOPPED = next_state(-1, _RUNNING, Move.STOP)
_COMPLETED = next_state(-1, _RUNNING, Move.COMPLETE)
_PAUSED_AT_MILESTONE = next_state(-1, _RUNNING, Move.PAUSE)
_RESUMED = next_state(-1, _PAUSED, Move.RESUME)
_make_job = Job._make

__all__ = ["SchedulerBase", "SchedulerTrial"]


@dataclass(slots=True)
class SchedulerTrial:
    """The scheduler's view of one trial (internal; not ``ashasim.tune.Trial``, the Ray Tune
    façade's record of a finished run's trial, nor ``ashasim.training.trial.LeNetTrial``, the
    model being trained). Slots: one is made per new trial and read per report."""

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


class SchedulerBase(RecordsArguments):
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
        searcher: str | Searcher = "random",
        **unknown: Any,
    ) -> None:
        check_known_arguments(type(self), unknown)
        self.config_space = check_space(config_space)
        self.max_t = check_int("max_t", max_t, minimum=1)
        self.mode = check_choice("mode", mode, MODES)
        self.metric = check_text("metric", metric)
        self.resource_attr = check_text("resource_attr", resource_attr)
        self.max_trials = check_optional_int("max_trials", max_trials, minimum=1)
        self.seed = check_int("seed", seed, minimum=0)
        self._rng = np.random.default_rng(self.seed)
        # The searcher draws from the scheduler's own generator: one seed fixes configs, bracket
        # draws and model proposals alike (and RandomSearcher keeps seeded traces unchanged).
        self.searcher = make_searcher(searcher)
        self.searcher.configure(
            self.config_space,
            mode=self.mode,
            rng=self._rng,
            points_to_evaluate=() if points_to_evaluate is None else list(points_to_evaluate),
        )
        if self.searcher.max_configs is not None:  # a finite searcher bounds the trial budget
            self.max_trials = min(
                self.max_trials or self.searcher.max_configs, self.searcher.max_configs
            )
        learns = type(self.searcher).on_result is not Searcher.on_result
        self._observe = self.searcher.on_result if learns else None  # skipped when a no-op
        ends = type(self.searcher).on_end is not Searcher.on_end
        self._on_end = self.searcher.on_end if ends else None  # likewise
        self._searcher_exhausted = False
        self._trials: dict[int, SchedulerTrial] = {}
        self._n_running = 0

    # -- the protocol ---------------------------------------------------------------------------

    def suggest(self) -> Job | None:
        """Work for a free worker, or None when there is nothing to do now."""
        trial = self._next_job()
        if trial is None:
            return None
        milestone = trial.milestone
        return _make_job(
            trial.trial_id,
            dict(trial.config),
            trial.resume_from,
            milestone,
            trial.bracket,
            milestone < self.max_t and self.resumes_promoted,
            None if self._sees_every_report else self._decision_points(trial),
        )

    def report(self, trial_id: int, resource: int, metric: float) -> Decision:
        """Record ``metric`` at ``resource`` for a running trial; CONTINUE or STOP.

        The job ends when this returns STOP or when ``resource`` is the job's milestone.
        """
        trial = self._trials.get(trial_id)
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
        if self._observe is not None:
            self._observe(trial_id, resource, metric)
        if resource < trial.next_rung:
            return _CONTINUE  # below the trial's next decision point: nothing to record or decide
        decision = self._on_report(trial, resource, metric)
        # The trial is running (checked above), so these moves are legal: their targets come
        # from the lifecycle table, looked up once at import.
        if decision is _STOP:
            trial.state = _STOPPED
            self._n_running -= 1
            if self._on_end is not None:
                self._on_end(trial_id)
        elif resource == trial.milestone:
            self._n_running -= 1
            if resource >= self.max_t:
                trial.state = _COMPLETED
                if self._on_end is not None:
                    self._on_end(trial_id)
            else:
                trial.state = _PAUSED_AT_MILESTONE
        return decision

    def fail(self, trial_id: int) -> None:
        """The trial crashed: it is never suggested again and nothing waits for it."""
        trial = self._trial(trial_id)
        self._move(trial, Move.FAIL)
        self.searcher.on_failure(trial_id)
        self._withdraw(trial)

    def end(self, trial_id: int) -> None:
        """The running trial's objective returned before the job's milestone (Ray Tune's function
        trainables end a trial that way): the trial is over, as if stopped, and its reports stand
        in the searcher. It will not reach its milestone, so what waits for it there (a rung
        slot, a bracket's barrier) lets it go exactly as after a failure."""
        trial = self._running_trial(trial_id, "end")
        self._move(trial, Move.STOP)
        self.searcher.on_end(trial_id)
        self._withdraw(trial)

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
        """True once max_trials trials have been created, or the searcher has no new config (a
        grid used up); never otherwise."""
        return self._searcher_exhausted or (
            self.max_trials is not None and len(self._trials) >= self.max_trials
        )

    def limit_trials(self, max_trials: int) -> None:
        """Lower the trial budget (a driver's stopping criterion); never raises it."""
        max_trials = check_int("max_trials", max_trials, minimum=1)
        if self.max_trials is None or max_trials < self.max_trials:
            self.max_trials = max_trials

    #: whether the trial budget shapes decisions other than "no new trial" (synchronous brackets
    #: are sized and cut short by it), so that a run cannot be given a larger one later
    budget_shapes_decisions = True

    def raise_trials(self, max_trials: int) -> None:
        """Raise the trial budget (a resume asked for more trials; up to what a finite searcher
        has), for a scheduler whose budget only decides when new trials stop coming: its
        decisions so far are the ones the larger budget would have made. A ValueError otherwise."""
        max_trials = check_int("max_trials", max_trials, minimum=1)
        if self.max_trials is None or max_trials <= self.max_trials:
            return
        if self.budget_shapes_decisions:
            raise ValueError(
                f"{type(self).__name__} sizes its brackets by its trial budget "
                f"({self.max_trials}), so a resume cannot raise it"
            )
        configs = self.searcher.max_configs
        self.max_trials = max_trials if configs is None else min(max_trials, configs)

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
        if type(self.searcher) is not RandomSearcher:  # the default is left out, so journals
            settings["searcher"] = self.searcher.describe()  # of random search read as before
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
    #: (or, like ASHA, at rung levels it tracks in ``SchedulerTrial.next_rung``) says False,
    #: and reports below ``next_rung`` take ``report``'s fast path.
    _sees_every_report = True

    def _next_job(self) -> SchedulerTrial | None:
        raise NotImplementedError

    def _on_report(self, trial: SchedulerTrial, resource: int, metric: float) -> Decision:
        raise NotImplementedError

    def _withdraw(self, trial: SchedulerTrial) -> None:
        """The trial will never reach its milestone (it failed or ended): release what waits for
        it (a barrier, a rung slot); default: nothing to do."""

    def _has_pending_work(self) -> bool:
        """Work that could still be suggested without creating a trial."""
        return False

    def _decision_points(self, trial: SchedulerTrial) -> tuple[int, ...]:
        """``Job.decision_points`` of the trial's next job, for a scheduler that does not see
        every report: by default only the milestone (where the job pauses or completes)."""
        return (trial.milestone,)

    def _new_trial(self, milestone: int, bracket: int = 0) -> SchedulerTrial | None:
        """Create a trial with the searcher's next config, to train up to ``milestone``; None
        when the trial budget is spent or the searcher has no new config."""
        trials = self._trials
        n = len(trials)
        if self._searcher_exhausted or (self.max_trials is not None and n >= self.max_trials):
            return None  # (``trials_exhausted``, inlined: once per new trial)
        config = self.searcher.suggest(n)
        if config is None:
            self._searcher_exhausted = True
            return None
        next_rung = 0 if self._sees_every_report else milestone
        trial = trials[n] = SchedulerTrial(
            n, config, _RUNNING, 0, milestone, 0, bracket, 0, next_rung
        )
        self._n_running += 1
        return trial

    def _resume(self, trial: SchedulerTrial, resume_from: int, milestone: int) -> SchedulerTrial:
        """Start the next job of a paused trial."""
        if trial.state is _PAUSED:
            trial.state = _RESUMED
            self._n_running += 1
        else:
            self._move(trial, Move.RESUME)  # raises: only a paused trial resumes
        trial.resume_from, trial.resource, trial.milestone = resume_from, resume_from, milestone
        if not self._sees_every_report:
            trial.next_rung = milestone
        return trial

    def _trial(self, trial_id: int) -> SchedulerTrial:
        try:
            return self._trials[trial_id]
        except (KeyError, TypeError):
            raise KeyError(
                f"unknown trial_id {trial_id!r}; trials are 0..{len(self._trials) - 1}"
            ) from None

    def _running_trial(self, trial_id: int, action: str) -> SchedulerTrial:
        trial = self._trial(trial_id)
        if trial.state is not TrialState.RUNNING:
            raise ValueError(
                f"cannot {action} trial {trial_id}: it is {trial.state.value}, not running"
            )
        return trial

    def _move(self, trial: SchedulerTrial, move: Move) -> None:
        was_running = trial.state is TrialState.RUNNING
        trial.state = next_state(trial.trial_id, trial.state, move)
        self._n_running += int(trial.state is TrialState.RUNNING) - int(was_running)

    def _ladder(
        self,
        grace_period: int | None,
        reduction_factor: int,
        levels: Sequence[int] | None,
    ) -> tuple[int, ...]:
        """Check the ladder's settings; set ``grace_period`` and ``reduction_factor``; return the
        rung levels, max_t last: r_min * eta**k below max_t, or the explicit *levels*."""
        if levels is None:
            grace_period = GRACE_PERIOD if grace_period is None else grace_period
            self.grace_period = check_int("grace_period", grace_period, minimum=1)
            self.reduction_factor = check_int("reduction_factor", reduction_factor, minimum=2)
            if self.grace_period >= self.max_t:
                raise ValueError(
                    f"grace_period must be < max_t (={self.max_t}), got {self.grace_period}"
                )
            return rung_levels(self.grace_period, self.max_t, self.reduction_factor)
        self.reduction_factor = check_int("reduction_factor", reduction_factor, minimum=2)
        ladder = check_rung_levels("rung_levels", levels, maximum=self.max_t)
        if grace_period is not None and grace_period != ladder[0]:
            raise ValueError(
                f"grace_period must be the first of rung_levels ({ladder[0]}) or left out, "
                f"got {grace_period!r}"
            )
        self.grace_period = ladder[0]
        return ladder if ladder[-1] == self.max_t else (*ladder, self.max_t)

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(max_t={self.max_t}, mode={self.mode!r}, "
            f"trials={len(self._trials)}, running={self._n_running})"
        )
