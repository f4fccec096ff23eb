"""Cost models for the SimPy clock: how long an epoch takes, and the metric it reaches.

A cost model answers ``epoch(trial_id, config, epoch) -> (seconds, metric)``. It must be a pure
function of its arguments and the run's seed, so that a trial retrained from scratch, or replayed
in another run, sees the same numbers; this is what makes simulated traces bit-for-bit
reproducible. The simulator asks for ``epoch_fn(seed)`` once and calls the returned function in
its hot loop.

Per-job overheads (``startup_seconds`` for a fresh start, ``restore_seconds`` to load a checkpoint
when a paused trial resumes, ``checkpoint_seconds`` to save one when a job pauses below max_t) are
charged by the simulator to the job's worker. The save happens before the milestone report: the
scheduler may resume the trial on another worker as soon as it hears of it.

* ``Scripted`` (here): explicit epoch times and metrics per trial (the chapter's figures).
* ``LearningCurves`` (``learning_curves``): synthetic, config-dependent curves and epoch times,
  calibrated to LeNet on FashionMNIST.
* ``Tabular`` (``tabular``): a table of (config, epoch) -> (seconds, metric), e.g. a recorded run.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from ashasim.checks import check_number

__all__ = ["CostModel", "CostModelError", "EpochFn", "Scripted"]

EpochFn = Callable[[int, dict, int], tuple[float, float]]


class CostModelError(ValueError):
    """The scheduler asked for something the workload cannot answer (an unscripted trial, ...)."""


class CostModel:
    """Base class: overheads, an optional default search space, and the epoch function."""

    #: the search space this workload is meant to be tuned over (None: any)
    config_space: dict[str, Any] | None = None
    #: the largest epoch the workload can answer (None: any)
    max_epochs: int | None = None

    def __init__(
        self,
        *,
        startup_seconds: float = 0.0,
        checkpoint_seconds: float = 0.0,
        restore_seconds: float = 0.0,
    ) -> None:
        self.startup_seconds = check_number("startup_seconds", startup_seconds, minimum=0)
        self.checkpoint_seconds = check_number("checkpoint_seconds", checkpoint_seconds, minimum=0)
        self.restore_seconds = check_number("restore_seconds", restore_seconds, minimum=0)

    def epoch_fn(self, seed: int) -> EpochFn:
        """The function the simulator calls per epoch, bound to the run's seed."""
        raise NotImplementedError

    def epoch(
        self, trial_id: int, config: dict, epoch: int, *, seed: int = 0
    ) -> tuple[float, float]:
        """(seconds, metric) of one epoch; convenience wrapper around ``epoch_fn``."""
        return self.epoch_fn(seed)(trial_id, config, epoch)

    def describe(self) -> dict[str, Any]:
        """Name and settings, JSON-able, for journal headers."""
        return {
            "name": type(self).__name__,
            "startup_seconds": self.startup_seconds,
            "checkpoint_seconds": self.checkpoint_seconds,
            "restore_seconds": self.restore_seconds,
        }


class Scripted(CostModel):
    """Explicit per-trial epoch times and metrics.

    *epoch_seconds*: ``epoch_seconds[trial_id]`` is one number (every epoch of that trial) or a
    sequence (per epoch). A sequence or a mapping keyed by trial id. *metrics*:
    ``metrics[trial_id][epoch - 1]``, or a callable ``(trial_id, epoch) -> float``.
    """

    def __init__(
        self,
        epoch_seconds: Sequence[float | Sequence[float]] | Mapping[int, float | Sequence[float]],
        metrics: Sequence[Sequence[float]]
        | Mapping[int, Sequence[float]]
        | Callable[[int, int], float],
        **overheads: float,
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

    def epoch_fn(self, seed: int) -> EpochFn:
        return self._epoch

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
