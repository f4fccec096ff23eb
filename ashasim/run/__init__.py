"""The real executor: the scheduler core driving real training on local processes or Ray.

Heavy dependencies (torch, ray) load only where they are used.
"""

from ashasim.run import checkpoint
from ashasim.run.context import StopTrial, current_job
from ashasim.run.replay import export_tabular, tabular_rows
from ashasim.run.reporter import Reporter
from ashasim.run.tuner import ResumeError, StoppingCriterion, Tuner, TunerError

__all__ = [
    "Reporter",
    "ResumeError",
    "StopTrial",
    "StoppingCriterion",
    "Tuner",
    "TunerError",
    "checkpoint",
    "current_job",
    "export_tabular",
    "tabular_rows",
]
