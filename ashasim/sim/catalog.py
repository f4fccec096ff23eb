"""Cost models by name, for the command line: ``d2l``, ``synthetic``, ``story``, ``mf-NAME``,
``tabular:PATH``.

The chapter's schematic story lives here too (``story_costs``): it is a cost model like the others,
and ``ashasim.studies.chapter_story`` tells it with both schedulers.
"""

from __future__ import annotations

from typing import Any

from ashasim.sim.costs import CostModel, Scripted
from ashasim.sim.learning_curves import LearningCurves
from ashasim.sim.synthetic import BENCHMARKS, MultiFidelityFunction
from ashasim.sim.tabular import Tabular
from ashasim.space import uniform

__all__ = [
    "STORY_EPOCH_SECONDS",
    "STORY_METRICS",
    "STORY_SPACE",
    "WORKLOAD_NAMES",
    "make_workload",
    "story_costs",
]

WORKLOAD_NAMES = (
    "d2l",
    "synthetic",
    "story",
    *(f"mf-{name}" for name in BENCHMARKS),
    "tabular:PATH",
)

# The chapter's two-worker story (eta = 2, r_min = 1, r_max = 4): seconds per epoch of each
# trial (Trial-2 is the straggler, Trial-3 slower than Trial-0) and the validation error after
# epochs 1..4 (Trial-0 best, Trial-3 second).
STORY_EPOCH_SECONDS = {0: 1.0, 1: 1.2, 2: 3.5, 3: 1.5, 4: 1.0, 5: 2.4}
STORY_METRICS = {
    0: [0.40, 0.25, 0.20, 0.18],
    1: [0.60, 0.50, 0.45, 0.42],
    2: [0.90, 0.80, 0.75, 0.72],
    3: [0.45, 0.35, 0.30, 0.28],
    4: [0.70, 0.60, 0.55, 0.52],
    5: [0.80, 0.70, 0.65, 0.62],
}
STORY_SPACE = {"x": uniform(0.0, 1.0), "max_epochs": 4}


def story_costs(**model: Any) -> Scripted:
    """The chapter's schematic story as a cost model (its space: ``STORY_SPACE``); *model*: the
    cost model and overheads, as in ``CostModel``."""
    costs = Scripted(STORY_EPOCH_SECONDS, STORY_METRICS, **model)
    costs.config_space = dict(STORY_SPACE)
    costs.max_epochs = 4
    return costs


def make_workload(spec: str, *, max_epochs: int, **model: Any) -> CostModel:
    """Build a cost model from its command-line name; *model* (``cost`` and the overheads) goes
    to the cost model's constructor.

    * ``d2l``: LeNet on FashionMNIST as in the chapter (calibrated learning curves and epoch times;
      learning_rate loguniform(1e-2, 1), batch_size randint(32, 256)).
    * ``synthetic``: the same curves with heavy-tailed epoch times and 20% stragglers.
    * ``story``: the chapter's schematic two-worker story (needs max_t <= 4).
    * ``mf-branin``, ``mf-currin``, ``mf-hartmann3``, ``mf-hartmann6``: the multi-fidelity
      functions of Kandasamy et al. 2017 with their cost model (``ashasim.sim.synthetic``).
    * ``tabular:PATH``: replay a CSV/JSON table of epochs, e.g. a recorded real run (any other
      table: ``Tabular`` with its column roles, or ``ashasim simulate --table``).
    """
    if spec == "d2l":
        return LearningCurves(max_epochs=max_epochs, **model)
    if spec == "synthetic":
        return LearningCurves(
            max_epochs=max_epochs,
            time_jitter=0.3,
            trial_speed_spread=0.3,
            straggler_prob=0.2,
            straggler_factor=4.0,
            **model,
        )
    if spec == "story":
        return story_costs(**model)
    if spec.startswith("mf-") and spec[3:] in BENCHMARKS:
        return MultiFidelityFunction(spec[3:], max_epochs=max_epochs, **model)
    if spec.startswith("tabular:") and len(spec) > len("tabular:"):
        return Tabular(spec[len("tabular:") :], **model)
    raise ValueError(f"workload must be one of {', '.join(WORKLOAD_NAMES)}; got {spec!r}")
