"""The SimPy clock and its cost models (ARCHITECTURE §4)."""

from ashasim.sim.costs import CostModel, CostModelError, Scripted
from ashasim.sim.learning_curves import LearningCurves
from ashasim.sim.simulator import simulate
from ashasim.sim.tabular import Tabular

__all__ = [
    "CostModel",
    "CostModelError",
    "LearningCurves",
    "Scripted",
    "Tabular",
    "simulate",
]
