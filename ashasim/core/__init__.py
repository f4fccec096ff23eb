"""The scheduler core: pure state machines with no clock and no I/O (ARCHITECTURE §2)."""

from ashasim.core.asha import ASHA, ASHA_TYPES
from ashasim.core.base import SchedulerBase
from ashasim.core.defaults import OVERLAPS
from ashasim.core.factory import SCHEDULER_NAMES, make_scheduler
from ashasim.core.hyperband import (
    BOHB,
    AsyncBOHB,
    AsyncHyperband,
    SyncHyperband,
    hyperband_brackets,
)
from ashasim.core.jobs import Decision, Job, Scheduler, TrialState
from ashasim.core.random_search import RandomSearch
from ashasim.core.rungs import rung_levels
from ashasim.core.sync_sh import SyncSH

__all__ = [
    "ASHA",
    "ASHA_TYPES",
    "BOHB",
    "OVERLAPS",
    "SCHEDULER_NAMES",
    "AsyncBOHB",
    "AsyncHyperband",
    "Decision",
    "Job",
    "RandomSearch",
    "Scheduler",
    "SchedulerBase",
    "SyncHyperband",
    "SyncSH",
    "TrialState",
    "hyperband_brackets",
    "make_scheduler",
    "rung_levels",
]
