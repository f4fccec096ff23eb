"""Workloads by name, for the command line: ``d2l``, ``synthetic``, ``story``, ``tabular:PATH``."""

from __future__ import annotations

from ashasim.sim.workloads import LearningCurves, Tabular, Workload

__all__ = ["WORKLOAD_NAMES", "make_workload"]

WORKLOAD_NAMES = ("d2l", "synthetic", "story", "tabular:PATH")


def make_workload(spec: str, *, max_epochs: int) -> Workload:
    """Build a workload from its command-line name.

    * ``d2l``: LeNet on FashionMNIST as in the chapter (calibrated learning curves and epoch times;
      learning_rate loguniform(1e-2, 1), batch_size randint(32, 256)).
    * ``synthetic``: the same curves with heavy-tailed epoch times and 20% stragglers.
    * ``story``: the chapter's schematic two-worker story (needs max_t <= 4).
    * ``tabular:PATH``: replay a CSV/JSON table, e.g. a recorded real run.
    """
    if spec == "d2l":
        return LearningCurves(max_epochs=max_epochs)
    if spec == "synthetic":
        return LearningCurves(
            max_epochs=max_epochs,
            time_jitter=0.3,
            trial_speed_spread=0.3,
            straggler_prob=0.2,
            straggler_factor=4.0,
        )
    if spec == "story":
        from ashasim.studies.chapter_story import SPACE, story_workload

        workload = story_workload()
        workload.config_space = dict(SPACE)
        workload.max_epochs = 4
        return workload
    if spec.startswith("tabular:") and len(spec) > len("tabular:"):
        return Tabular(spec[len("tabular:") :])
    raise ValueError(f"workload must be one of {', '.join(WORKLOAD_NAMES)}; got {spec!r}")
