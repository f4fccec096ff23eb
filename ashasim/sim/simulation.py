"""Run a framed experiment on the SimPy clock (``ashasim.sim.simulator``): the checks that only
a simulation needs (its cost model, a time budget that would start absurdly many trials), the
simulated run's own header fields, and ``simulate``, the call that came before
``ashasim.Experiment``.
"""

from __future__ import annotations

import math
import os
import warnings
from pathlib import Path
from typing import Any

from ashasim._gc import cyclic_gc_paused
from ashasim.checks import check_int, check_number, check_optional_int
from ashasim.core.jobs import Scheduler
from ashasim.driver import Driver
from ashasim.events import Trace
from ashasim.frame import Frame, Stop
from ashasim.sim.costs import CostModel
from ashasim.sim.simulator import _Clock
from ashasim.stop_rules import StopRules

__all__ = ["MANY_TRIALS", "BudgetWarning", "run_simulation", "simulate"]


def simulate(
    scheduler: Scheduler,
    costs: CostModel,
    n_workers: int,
    *,
    max_time: float | None = None,
    max_trials: int | None = None,
    seed: int = 0,
    journal: str | os.PathLike[str] | None = None,
    progress: bool = False,
) -> Trace:
    """Run ``scheduler`` on ``n_workers`` simulated workers whose epochs ``costs`` models: a
    ``Frame`` (``ashasim.frame``: ``Stop(time=max_time, trials=max_trials)``, journaled in the
    directory *journal*) run by ``run_simulation``. Kept for the code written before
    ``ashasim.Experiment``; *journal* may also name a ``.jsonl`` file. Writes no result files.
    """
    if max_time is not None:  # named as the caller spelled them, before Stop's own checks
        check_number("max_time", max_time, minimum=0, strict=True)
    check_optional_int("max_trials", max_trials, minimum=1)
    path = None if journal is None else Path(journal)
    named = path is not None and path.suffix == ".jsonl"
    frame = Frame(
        scheduler,
        n_workers,
        stop=Stop(time=max_time, trials=max_trials),
        directory=path.parent if named else path,  # type: ignore[union-attr]
        outputs=False,
    )
    return run_simulation(
        frame, costs, seed=seed, progress=progress, journal=path if named else None
    )


def run_simulation(
    frame: Frame,
    costs: CostModel,
    *,
    seed: int = 0,
    progress: bool = False,
    journal: Path | None = None,
) -> Trace:
    """Run *frame* on the SimPy clock, its epochs modeled by *costs*.

    *seed* seeds the cost model's noise (the scheduler has its own seed). *progress*: a status
    line on stderr (redrawn on a terminal; elsewhere a line every ``PROGRESS_LINE_SECONDS``).
    *journal*: a journal path other than the frame's. Jobs still running at ``stop.time`` are
    cancelled (their partial epoch is lost).

    Before the run: the scheduler's max_t must be a level the workload has (``CostModelError``),
    and a time budget that could start more than ``MANY_TRIALS`` trials (no trial budget, very
    short jobs) gives a warning. Levels that are not epochs (``costs.fidelity_values``) and the
    config keys that name a config (``costs.config_label``) go into the journal's header.
    """
    check_int("seed", seed, minimum=0)
    if not isinstance(costs, CostModel):
        raise ValueError(f"costs must be an ashasim.sim CostModel, got {costs!r}")
    scheduler, n_workers, max_time = frame.scheduler, frame.n_workers, frame.stop.time
    frame.limit_trials()
    costs.check_reach(scheduler.max_t, scheduler.rung_levels)
    _warn_if_absurd(scheduler, costs, n_workers, max_time)
    extra: dict[str, Any] = {
        "workload": costs.describe(),
        "seed": seed,
        "max_time": max_time,
        "max_trials": scheduler.max_trials,
    }
    if costs.fidelity_values is not None:  # levels are not epochs: say what they are
        extra["fidelity"] = {"name": costs.fidelity_name, "values": list(costs.fidelity_values)}
    if costs.config_label is not None:
        extra["config_label"] = list(costs.config_label)
    loss = getattr(costs, "worker_loss", None)
    retries = frame.faults.max_retries if loss is None else loss.max_retries
    trace = Trace(frame.header("simulated", extra), journal=journal or frame.journal)
    rules = StopRules.attach(frame.stop, trace, scheduler.max_t)
    try:
        with cyclic_gc_paused():  # a simulation makes no cycles; see ashasim._gc
            driver = Driver(scheduler, trace, n_workers, max_retries=retries)
            clock = _Clock(driver, costs, seed, progress)
            if rules is not None:
                rules.on_met = clock.stop_now
            clock.run(max_time)
    finally:
        if rules is not None:
            rules.on_met = None  # (the rules -> clock -> driver -> rules cycle: _Clock.release)
        trace.close()
    frame.write_outputs(trace)
    return trace


#: a time budget that could start more trials than this is probably a mistake (a warning says so)
MANY_TRIALS = 10**7


class BudgetWarning(UserWarning):
    """A time budget that could start absurdly many trials (the command line refuses it)."""


def _warn_if_absurd(
    scheduler: Scheduler, costs: CostModel, n_workers: int, max_time: float | None
) -> None:
    """Millisecond jobs on a budget of hours start hundreds of millions of trials (and fill the
    memory with their trace): say so before the run, with what to change."""
    if max_time is None or scheduler.max_trials is not None:
        return
    hint = costs.seconds_hint()
    if hint is None:
        return
    could = math.inf if hint <= 0 else n_workers * max_time / hint
    if could > MANY_TRIALS:
        shown = "unboundedly many" if math.isinf(could) else f"about {could:.2g}"
        warnings.warn(
            f"max_time={max_time:g} s on {n_workers} workers with jobs of ~{hint:.3g} s "
            f"({type(costs).__name__}) could start {shown} trials; give max_trials (or a finite "
            f"searcher, e.g. a table's) or a smaller max_time",
            BudgetWarning,
            stacklevel=3,
        )
