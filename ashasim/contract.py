"""What a run checks and writes before its first job, whatever its clock: the scheduler has the
whole ``ashasim.core.Scheduler`` protocol, the run will end, and the journal's header.

Checked up front so that a missing member or an endless run is one line naming what to change,
not an AttributeError in the middle of a run or a run that never stops.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ashasim.core.jobs import Scheduler

__all__ = ["check_bounded", "check_scheduler", "run_header"]

_CONTRACT = (
    "config_space",
    "metric",
    "mode",
    "resource_attr",
    "max_t",
    "rung_levels",
    "max_trials",
    "n_trials",
    "suggest",
    "report",
    "fail",
    "end",
    "done",
    "limit_trials",
    "describe",
)


def check_scheduler(scheduler: Any) -> Scheduler:
    """``scheduler`` if it has every member of ``ashasim.core.Scheduler``; else a ValueError that
    names the missing ones (rather than an AttributeError in the middle of a run)."""
    missing = [name for name in _CONTRACT if not hasattr(scheduler, name)]
    if missing:
        raise ValueError(
            f"scheduler must implement ashasim.core.Scheduler; {type(scheduler).__name__} lacks "
            f"{', '.join(missing)}"
        )
    return scheduler


def check_bounded(scheduler: Scheduler, *, time_limit: float | None, what: str) -> None:
    """Refuse a run that would never end: no time limit and no trial budget.

    *what* names the time limit the way the caller's user spells it (``max_time``, ...).
    """
    if time_limit is None and scheduler.max_trials is None:
        raise ValueError(
            f"give {what} or max_trials (or a scheduler with max_trials): otherwise the run "
            f"never ends"
        )


def run_header(
    scheduler: Scheduler, n_workers: int, clock: str, extra: Mapping[str, Any]
) -> dict[str, Any]:
    """The journal's first line: what is needed to read the rest alone, then the clock's own."""
    return {
        "n_workers": n_workers,
        "clock": clock,
        "metric": scheduler.metric,
        "mode": scheduler.mode,
        "resource_attr": scheduler.resource_attr,
        "scheduler": scheduler.describe(),
        **extra,
    }
