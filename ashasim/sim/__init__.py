"""The SimPy clock and its cost models (ARCHITECTURE §4)."""

from ashasim.sim.costs import CostModel, CostModelError, Scripted
from ashasim.sim.learning_curves import LearningCurves
from ashasim.sim.simulation import BudgetWarning, run_simulation, simulate
from ashasim.sim.synthetic import MultiFidelityFunction
from ashasim.sim.tabular import Tabular

__all__ = [
    "BudgetWarning",
    "CostModel",
    "CostModelError",
    "LearningCurves",
    "MultiFidelityFunction",
    "Scripted",
    "Tabular",
    "run_simulation",
    "simulate",
]
