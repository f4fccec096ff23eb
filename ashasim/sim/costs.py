"""Cost models for the SimPy clock: how long a level (an epoch) takes, and the metric it reaches.

A cost model answers ``epoch(trial_id, config, level) -> (seconds, metric)``: level k's own time and
the metric the trial reaches there. It must be a pure function of its arguments and the run's
*noise seed*, so that a trial retrained from scratch, or replayed in another run, sees the same
numbers; this is what makes simulated traces bit-for-bit reproducible. The simulator asks for
``epoch_fn(noise_seed)`` once and calls the returned function in its hot loop.

Two seeds, two jobs: the *scheduler's* seed (``ASHA(..., seed=)``) draws configs and brackets;
the *noise seed* draws what the simulated world does (epoch times, metric noise, dropped jobs,
lost workers). Holding one and varying the other separates "another search" from "another
world".

What a *job* costs (``job_plan``) depends on where it starts, the model's ``cost``:

* ``cost="resume"`` (every built-in's default): a job from level j to k continues from a
  checkpoint and pays levels j+1..k, reporting each: epochs of a network.
* ``cost="restart"``: a learner refit from scratch at each fidelity (trained on n samples, ...):
  reaching level k costs level k's time alone, whatever was done before. A job trains and reports
  only the levels where its scheduler may decide (``Job.decision_points``: the milestone, and for
  stopping-type ASHA the rung levels on the way); the levels in between are never trained.

Per-job overheads: ``startup_seconds`` for a fresh start, ``restore_seconds`` to load a checkpoint
when a paused trial resumes, ``checkpoint_seconds`` to save one when a job pauses below max_t; the
simulator charges them to the job's worker. The save happens before the milestone report: the
scheduler may resume the trial on another worker as soon as it hears of it. A restarted job
neither saves nor loads a checkpoint: it pays ``startup_seconds`` every time.

Built-in models: ``Scripted`` (here: explicit times and metrics per trial, the chapter's figures),
``LearningCurves`` (``learning_curves``: synthetic LeNet curves; under ``"restart"`` level k costs
the k epochs retrained from scratch) and ``Tabular`` (``tabular``: a table replayed; its seconds
column is each level's own time under both models). All default to ``"resume"``.

Faults (``drop_probability`` = p): each job dies with probability p at a random point of its
work: during one of its levels (each equally likely), after a random fraction of that level's
time. Reports before that point count; the job ends ``failed`` with the reason in the journal, and
the scheduler is told (``fail``), as when a real worker dies. What a failure means is the
scheduler's: synchronous SH drops the trial from its rung (the barrier closes without it and
promotes from the survivors, rather than waiting for a re-run), ASHA keeps its earlier results and
never resumes it. Draws are counter-based (a hash of noise seed, trial and job), so p > 0 is as
deterministic under the noise seed as the rest, and p = 0 leaves traces exactly as they were.

Node loss (*worker_loss*, an ``ashasim.sim.faults.WorkerLoss``): workers die at a rate and
come back, their trials retried; see that module. None (the default) draws nothing.

Extending: a subclass changes what one level costs through ``epoch_fn``, and what a job does
through ``job_plan`` (overheads, the levels it trains); a clock calls nothing else besides
``drop_plan``, which a subclass may also replace (e.g. faults that depend on the config).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from ashasim.checks import check_choice, check_fraction, check_number
from ashasim.core.jobs import Job
from ashasim.sim.faults import WorkerLoss
from ashasim.sim.randomness import key_of, uniforms

__all__ = ["COSTS", "CostModel", "CostModelError", "EpochFn", "JobPlan", "Scripted"]

EpochFn = Callable[[int, dict, int], tuple[float, float]]
#: (seconds before the first level, seconds added to the milestone level, the levels trained)
JobPlan = tuple[float, float, Sequence[int]]
COSTS = ("resume", "restart")


class CostModelError(ValueError):
    """The scheduler asked for something the workload cannot answer (an unscripted trial, ...)."""


class CostModel:
    """Base class: the cost model (*cost*: "resume" or "restart", see the module docstring),
    overheads, an optional default search space, and the epoch function."""

    #: the search space this workload is meant to be tuned over (None: any)
    config_space: dict[str, Any] | None = None
    #: the largest level (epoch) the workload can answer (None: any)
    max_epochs: int | None = None
    #: name and value of each level 1..L when levels are not epochs (a table's training-set
    #: sizes, ...): the trace and the plots show these; None when level k is epoch k
    fidelity_name: str | None = None
    fidelity_values: tuple[float, ...] | None = None
    #: config keys that name a config in plots (a table's hyperparameters or its label column);
    #: None: plots say "Trial-k"
    config_label: tuple[str, ...] | None = None

    def __init__(
        self,
        *,
        cost: str = "resume",
        startup_seconds: float = 0.0,
        checkpoint_seconds: float = 0.0,
        restore_seconds: float = 0.0,
        drop_probability: float = 0.0,
        worker_loss: WorkerLoss | None = None,
    ) -> None:
        self.cost = check_choice("cost", cost, COSTS)
        if worker_loss is not None and not isinstance(worker_loss, WorkerLoss):
            raise ValueError(f"worker_loss must be a WorkerLoss or None, got {worker_loss!r}")
        self.worker_loss = worker_loss
        self.drop_probability = check_fraction("drop_probability", drop_probability)
        self.startup_seconds = check_number("startup_seconds", startup_seconds, minimum=0)
        self.checkpoint_seconds = check_number("checkpoint_seconds", checkpoint_seconds, minimum=0)
        self.restore_seconds = check_number("restore_seconds", restore_seconds, minimum=0)

    def epoch_fn(self, noise_seed: int) -> EpochFn:
        """The function the simulator calls per level, bound to the run's noise seed."""
        raise NotImplementedError

    def job_plan(self, job: Job) -> JobPlan:
        """What ``job`` costs besides its levels, and which levels it trains, in order:
        ``(setup seconds, seconds to save a checkpoint with the milestone, levels)``.

        Resume: a fresh job pays ``startup_seconds`` and a resumed one ``restore_seconds``; one
        that may be resumed later saves a checkpoint; it trains resume_from+1..milestone. Restart:
        ``startup_seconds`` every time, no checkpoint, and only the job's decision points.
        """
        if self.cost == "restart":
            points: Sequence[int] | None = job.decision_points
            if points is None:
                points = range(job.resume_from + 1, job.milestone + 1)
            return self.startup_seconds, 0.0, points
        setup = self.startup_seconds if job.resume_from == 0 else self.restore_seconds
        save = self.checkpoint_seconds if job.save_checkpoint else 0.0
        return setup, save, range(job.resume_from + 1, job.milestone + 1)

    def drop_plan(self, noise_seed: int, job: Job, n_levels: int) -> tuple[int, float] | None:
        """Where ``job`` dies, if it does: (index of the level among the ``n_levels`` it trains,
        fraction of that level's seconds); None for a job that runs to its end."""
        p = self.drop_probability
        if not p or n_levels == 0:
            return None
        key = key_of(noise_seed, job.trial_id, job.resume_from, job.milestone)
        dies, where = uniforms(key, 0)
        if dies >= p:
            return None
        fraction, _ = uniforms(key, 1)
        return min(int(where * n_levels), n_levels - 1), fraction

    def check_reach(self, max_t: int, rung_levels: Sequence[int]) -> None:
        """Refuse, before the run rather than in its middle, a scheduler whose largest level
        (*max_t*, reached through *rung_levels*) this cost model cannot answer."""
        if self.max_epochs is not None and max_t > self.max_epochs:
            raise CostModelError(
                f"the scheduler's max_t={max_t} (rung levels {list(rung_levels)}) exceeds what the "
                f"workload {type(self).__name__} has (max_epochs={self.max_epochs}): lower max_t "
                f"or choose rung levels within the workload's"
            )

    def seconds_hint(self) -> float | None:
        """A typical time of the cheapest job (one level at the bottom of a ladder), to tell how
        many trials a time budget could start; None when the model cannot say."""
        return None

    def epoch(
        self, trial_id: int, config: dict, epoch: int, *, noise_seed: int = 0
    ) -> tuple[float, float]:
        """(seconds, metric) of one epoch; convenience wrapper around ``epoch_fn``."""
        return self.epoch_fn(noise_seed)(trial_id, config, epoch)

    def describe(self) -> dict[str, Any]:
        """Name and settings, JSON-able, for journal headers (the cost model only when it is not
        the default, so journals of resumed-cost runs read as they always did)."""
        described: dict[str, Any] = {
            "name": type(self).__name__,
            "startup_seconds": self.startup_seconds,
            "checkpoint_seconds": self.checkpoint_seconds,
            "restore_seconds": self.restore_seconds,
        }
        if self.cost != "resume":
            described["cost"] = self.cost
        if self.drop_probability:
            described["drop_probability"] = self.drop_probability
        if self.worker_loss is not None:
            described["worker_loss"] = self.worker_loss.describe()
        return described


class Scripted(CostModel):
    """Explicit per-trial epoch times and metrics.

    *epoch_seconds*: ``epoch_seconds[trial_id]`` is one number (every epoch of that trial) or a
    sequence (per epoch). A sequence or a mapping keyed by trial id. *metrics*:
    ``metrics[trial_id][epoch - 1]``, or a callable ``(trial_id, epoch) -> float``. Under
    ``cost="restart"`` a level's time is what the script gives for it.
    """

    def __init__(
        self,
        epoch_seconds: Sequence[float | Sequence[float]] | Mapping[int, float | Sequence[float]],
        metrics: Sequence[Sequence[float]]
        | Mapping[int, Sequence[float]]
        | Callable[[int, int], float],
        **overheads: Any,
    ) -> None:
        super().__init__(**overheads)
        self._seconds = dict(
            epoch_seconds.items()
            if isinstance(epoch_seconds, Mapping)
            else enumerate(epoch_seconds)
        )
        for trial_id, seconds in self._seconds.items():
            for value in [seconds] if isinstance(seconds, (int, float)) else seconds:
                check_number(f"epoch_seconds[{trial_id}]", value, minimum=0)
        if callable(metrics):
            self._metric_fn: Callable[[int, int], float] | None = metrics
            self._metrics: dict[int, Sequence[float]] = {}
        else:
            self._metric_fn = None
            self._metrics = dict(
                metrics.items() if isinstance(metrics, Mapping) else enumerate(metrics)
            )

    @property
    def trial_ids(self) -> list[int]:
        return sorted(self._seconds)

    def seconds_hint(self) -> float | None:
        firsts = [v if isinstance(v, (int, float)) else v[0] for v in self._seconds.values() if v]
        return min(firsts) if firsts else None

    def epoch_fn(self, noise_seed: int) -> EpochFn:
        return self._epoch  # scripted: no noise

    def _epoch(self, trial_id: int, config: dict, epoch: int) -> tuple[float, float]:
        if epoch < 1:
            raise CostModelError(f"Scripted workload: epochs start at 1, got {epoch}")
        seconds = self._seconds.get(trial_id)
        if seconds is None:
            raise CostModelError(
                f"Scripted workload has no trial {trial_id} (it scripts trials "
                f"{self.trial_ids}); script more trials or cap max_trials at {len(self._seconds)}"
            )
        if not isinstance(seconds, (int, float)):
            if epoch > len(seconds):
                raise CostModelError(
                    f"Scripted workload: trial {trial_id} has epoch times for epochs "
                    f"1..{len(seconds)}, the scheduler asked for epoch {epoch}"
                )
            seconds = seconds[epoch - 1]
        if self._metric_fn is not None:
            return float(seconds), float(self._metric_fn(trial_id, epoch))
        curve = self._metrics.get(trial_id)
        if curve is None or epoch > len(curve):
            known = 0 if curve is None else len(curve)
            raise CostModelError(
                f"Scripted workload: trial {trial_id} has metrics for epochs 1..{known}, "
                f"the scheduler asked for epoch {epoch}"
            )
        return float(seconds), float(curve[epoch - 1])
