"""Schedulers by name, for the CLI and the comparison studies.

The names are the CLI's: ``asha`` (promotion type), ``asha-stopping``, ``sync-sh``,
``sync-hyperband``, ``async-hyperband`` and ``random``, and three named combinations with a
model-based searcher: ``bohb`` (synchronous Hyperband + KDE, Falkner et al. 2018), ``async-bohb``
(asynchronous Hyperband + KDE) and ``asha-bo`` (ASHA + Gaussian-process BO). Options a scheduler
does not take (e.g. ``overlap`` for ASHA) are ignored, so one set of command-line flags serves
every scheduler. *searcher* (a name or a ``Searcher``) goes to every scheduler; a named
combination fixes its own and refuses another.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from ashasim.core.asha import ASHA
from ashasim.core.base import SchedulerBase
from ashasim.core.defaults import OVERLAP, REDUCTION_FACTOR
from ashasim.core.hyperband import AsyncHyperband, SyncHyperband
from ashasim.core.random_search import RandomSearch
from ashasim.core.sync_sh import SyncSH
from ashasim.search import Searcher

__all__ = ["COMBINATIONS", "SCHEDULER_NAMES", "make_scheduler"]

SCHEDULER_NAMES = (
    "asha",
    "asha-stopping",
    "sync-sh",
    "sync-hyperband",
    "async-hyperband",
    "random",
    "bohb",
    "async-bohb",
    "asha-bo",
)
# the searcher each named combination stands for
COMBINATIONS = {"bohb": "kde", "async-bohb": "kde", "asha-bo": "gp"}


def make_scheduler(
    name: str,
    config_space: Mapping[str, Any] | None,
    *,
    max_t: int,
    grace_period: int | None = None,
    reduction_factor: int = REDUCTION_FACTOR,
    rung_levels: Sequence[int] | None = None,
    overlap: str = OVERLAP,
    resume: bool = True,
    n0: int | None = None,
    brackets: int | None = None,
    searcher: str | Searcher | None = None,
    **common: Any,
) -> SchedulerBase:
    """Build the scheduler called ``name``; ``common`` goes to every scheduler (mode, seed, ...).

    *grace_period* (default 1) or explicit *rung_levels* set the ladder of the schedulers that
    have one; random search has none and ignores both. *config_space* None (a cost model that
    has none, such as a ``Scripted`` workload) is refused: a scheduler must draw its configs."""
    if config_space is None:
        raise ValueError("config_space: the workload has no config space; give the space to search")
    if name in COMBINATIONS:
        fixed = COMBINATIONS[name]
        if searcher is not None and searcher != fixed:
            raise ValueError(
                f"searcher: scheduler {name!r} comes with the {fixed!r} searcher; for another, "
                f"name the scheduler and the searcher separately"
            )
        searcher = fixed
        name = {"bohb": "sync-hyperband", "async-bohb": "async-hyperband", "asha-bo": "asha"}[name]
    common["searcher"] = "random" if searcher is None else searcher
    ladder: dict[str, Any] = {
        "max_t": max_t,
        "grace_period": grace_period,
        "reduction_factor": reduction_factor,
        "rung_levels": rung_levels,
    }
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
        return RandomSearch(config_space, max_t=max_t, **common)  # no rungs: no ladder
    raise ValueError(f"scheduler must be one of {', '.join(SCHEDULER_NAMES)}; got {name!r}")
