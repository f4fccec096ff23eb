"""The real executor: the one driver on local worker processes, Ray actors or in-process threads.

Heavy dependencies (torch, ray) load only where they are used.
"""

from ashasim.driver import RunError
from ashasim.run import checkpoint
from ashasim.run.context import StopTrial, current_job
from ashasim.run.executor import Terminated
from ashasim.run.export import export_tabular, tabular_rows
from ashasim.run.lock import RunDirectoryBusyError
from ashasim.run.reporter import Reporter
from ashasim.run.resume import ResumeError
from ashasim.run.tuner import AllTrialsFailedError, StoppingCriterion, Tuner

__all__ = [
    "AllTrialsFailedError",
    "Reporter",
    "ResumeError",
    "RunDirectoryBusyError",
    "RunError",
    "StopTrial",
    "StoppingCriterion",
    "Terminated",
    "Tuner",
    "checkpoint",
    "current_job",
    "export_tabular",
    "tabular_rows",
]
