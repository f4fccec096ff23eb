"""The SimPy clock and its cost models (ARCHITECTURE §4)."""

from ashasim.sim.simulator import SimulationError, simulate
from ashasim.sim.workloads import LearningCurves, Scripted, Tabular, Workload, WorkloadError

__all__ = [
    "LearningCurves",
    "Scripted",
    "SimulationError",
    "Tabular",
    "Workload",
    "WorkloadError",
    "simulate",
]
