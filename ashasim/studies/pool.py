"""Run a study's independent simulations, in this process or in a pool of processes.

Every study is a list of tasks (a workload, a scheduler, a seed, ...) whose runs share nothing,
so they parallelize over processes; the results come back in the tasks' order whatever the
pool size, so a study's tables do not depend on how many processes made them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from concurrent.futures import ProcessPoolExecutor
from functools import partial
from typing import TypeVar

from ashasim._gc import cyclic_gc_paused

__all__ = ["run_all"]

Task = TypeVar("Task")
Result = TypeVar("Result")


def run_all(
    run_one: Callable[[Task], Result],
    tasks: Iterable[Task],
    *,
    processes: int | None = None,
    on_result: Callable[[Result], None] | None = None,
) -> list[Result]:
    """``run_one`` of every task, in order. *processes*: pool size (None: one per CPU; 1: in
    this process, which is what a debugger or a profiler wants). *on_result* is called with each
    result as it arrives (a progress line), in the tasks' order."""
    results: list[Result] = []
    paused = partial(_paused, run_one)
    if processes == 1:
        for task in tasks:
            results.append(paused(task))
            if on_result is not None:
                on_result(results[-1])
        return results
    with ProcessPoolExecutor(max_workers=processes) as pool:
        for result in pool.map(paused, tasks, chunksize=1):
            results.append(result)
            if on_result is not None:
                on_result(result)
    return results


def _paused(run_one: Callable[[Task], Result], task: Task) -> Result:
    """One task with the cycle collector paused: a run and its measures make no reference
    cycles (the SimPy clock breaks its own at the end: ``_Clock.release``), and with the
    collector on, the measures that read a long trace pay for passes over its 10^5-10^6 events
    (about 20 % of the sync-vs-async study's heaviest runs). The trace is freed by reference
    counting when the task returns."""
    with cyclic_gc_paused():
        return run_one(task)
