"""Schedulers by name, for the CLI and the comparison studies.

The names are the CLI's: ``asha`` (promotion type), ``asha-stopping``, ``sync-sh``,
``sync-hyperband``, ``async-hyperband`` and ``random``. Options a scheduler does not take (e.g.
``overlap`` for ASHA) are ignored, so one set of command-line flags serves every scheduler.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ashasim.core.asha import ASHA
from ashasim.core.base import SchedulerBase
from ashasim.core.defaults import GRACE_PERIOD, OVERLAP, REDUCTION_FACTOR
from ashasim.core.hyperband import AsyncHyperband, SyncHyperband
from ashasim.core.random_search import RandomSearch
from ashasim.core.sync_sh import SyncSH

__all__ = ["SCHEDULER_NAMES", "make_scheduler"]

SCHEDULER_NAMES = (
    "asha",
    "asha-stopping",
    "sync-sh",
    "sync-hyperband",
    "async-hyperband",
    "random",
)


def make_scheduler(
    name: str,
    config_space: Mapping[str, Any],
    *,
    max_t: int,
    grace_period: int = GRACE_PERIOD,
    reduction_factor: int = REDUCTION_FACTOR,
    overlap: str = OVERLAP,
    resume: bool = True,
    n0: int | None = None,
    brackets: int | None = None,
    **common: Any,
) -> SchedulerBase:
    """Build the scheduler called ``name``; ``common`` goes to every scheduler (mode, seed, ...)."""
    ladder = {"max_t": max_t, "grace_period": grace_period, "reduction_factor": reduction_factor}
    if name == "asha":
        return ASHA(config_space, type="promotion", **ladder, **common)
    if name == "asha-stopping":
        return ASHA(config_space, type="stopping", **ladder, **common)
    if name == "async-hyperband":
        return AsyncHyperband(config_space, type="promotion", brackets=brackets, **ladder, **common)
    if name == "sync-sh":
        return SyncSH(config_space, overlap=overlap, resume=resume, n0=n0, **ladder, **common)
    if name == "sync-hyperband":
        return SyncHyperband(
            config_space, overlap=overlap, resume=resume, brackets=brackets, **ladder, **common
        )
    if name == "random":
        return RandomSearch(config_space, max_t=max_t, **common)
    raise ValueError(f"scheduler must be one of {', '.join(SCHEDULER_NAMES)}; got {name!r}")
